// Exposes the SDK's header-pair codec to the shared-vector test (test/sdk/pairs.test.ts).
// decode(ptr, len) → pair count or -1 (malformed); then key/value pointers and lengths by index.
// encodeReset/encodeAdd/encodeFinish build a list and serialize it; encodedPtr() gives the bytes.
export * from "proxy-wasm-as-sdk/abi/exports";
import { deserializePairs, Pair, serializePairs } from "proxy-wasm-as-sdk";

let decoded = new Array<Pair>();
let building = new Array<Pair>();
let encoded = new ArrayBuffer(0);

function copyIn(ptr: usize, len: usize): ArrayBuffer {
  const out = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(out), ptr, len);
  return out;
}

/** decode decodes `len` bytes at `ptr`; returns the pair count, or -1 when malformed. */
export function decode(ptr: usize, len: usize): i32 {
  const result = deserializePairs(copyIn(ptr, len));
  if (result === null) return -1;
  decoded = result;
  return result.length;
}

/** keyPtr returns the address of decoded key `i`. */
export function keyPtr(i: i32): usize {
  return changetype<usize>(decoded[i].key);
}
/** keyLen returns the length of decoded key `i`. */
export function keyLen(i: i32): i32 {
  return decoded[i].key.byteLength;
}
/** valuePtr returns the address of decoded value `i`. */
export function valuePtr(i: i32): usize {
  return changetype<usize>(decoded[i].value);
}
/** valueLen returns the length of decoded value `i`. */
export function valueLen(i: i32): i32 {
  return decoded[i].value.byteLength;
}

/** encodeReset starts a new list to encode. */
export function encodeReset(): void {
  building = new Array<Pair>();
}
/** encodeAdd appends a pair copied from guest memory. */
export function encodeAdd(keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize): void {
  building.push(new Pair(copyIn(keyPtr, keyLen), copyIn(valuePtr, valueLen)));
}
/** encodeFinish serializes the list; returns its size in bytes. */
export function encodeFinish(): i32 {
  encoded = serializePairs(building);
  return encoded.byteLength;
}
/** encodedPtr returns the address of the serialized list. */
export function encodedPtr(): usize {
  return changetype<usize>(encoded);
}
