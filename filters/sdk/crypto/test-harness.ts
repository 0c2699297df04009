// Test-only module: exposes the crypto functions over a byte-buffer interface so
// test/sdk-crypto/crypto.test.ts can compare them with node:crypto. Not part of any filter.
import { sha256, hmacSha256, HmacSha256, base64UrlEncode, base64UrlDecode, Sha256 } from "./index";

let input = new Uint8Array(0);
let key = new Uint8Array(0);
let output = new Uint8Array(0);

/** allocInput replaces the input buffer with `length` zero bytes and returns its address. */
export function allocInput(length: i32): usize {
  input = new Uint8Array(length);
  return input.dataStart;
}

/** allocKey replaces the key buffer with `length` zero bytes and returns its address. */
export function allocKey(length: i32): usize {
  key = new Uint8Array(length);
  return key.dataStart;
}

/** outputPointer returns the address of the last result. */
export function outputPointer(): usize {
  return output.dataStart;
}

/** outputLength returns the byte length of the last result. */
export function outputLength(): i32 {
  return output.length;
}

/** runSha256 hashes the input in one call. */
export function runSha256(): void {
  output = sha256(input);
}

/** runSha256Chunked hashes the input fed in pieces of `chunk` bytes, to exercise block carry-over. */
export function runSha256Chunked(chunk: i32): void {
  const hash = new Sha256();
  for (let offset = 0; offset < input.length; offset += chunk) {
    hash.updatePointer(input.dataStart + <usize>offset, min(chunk, input.length - offset));
  }
  output = hash.finish();
}

/** runHmac computes HMAC-SHA256(key, input), twice through one state to prove the state restores. */
export function runHmac(): void {
  const mac = new HmacSha256(key);
  mac.mac(input);
  output = mac.mac(input);
  const direct = hmacSha256(key, input);
  for (let i = 0; i < 32; i++) if (direct[i] != output[i]) unreachable();
}

/** runBase64UrlEncode encodes the input; the result is the UTF-8 text. */
export function runBase64UrlEncode(): void {
  output = Uint8Array.wrap(String.UTF8.encode(base64UrlEncode(input)));
}

/** runBase64UrlDecode decodes the input read as UTF-8 text; returns 0 when refused. */
export function runBase64UrlDecode(): i32 {
  const decoded = base64UrlDecode(String.UTF8.decodeUnsafe(input.dataStart, <usize>input.length));
  if (decoded === null) return 0;
  output = decoded;
  return 1;
}
