// Properties (proxy_get_property / proxy_set_property). A path is a list of segments, joined with \0
// for the host: ["request", "headers", "x-id"], not "request.headers.x-id".
import { proxy_get_property, proxy_set_property } from "../abi/imports";
import { clearRet, retPtr, takeResult } from "../abi/malloc";
import { deserializePairs, Pair } from "../pairs";
import { WasmResult } from "../types";
import { setLastResult } from "./status";
import { decodeUtf8, encodeUtf8 } from "../utf8";

/** encodePropertyPath joins UTF-8 segments with \0 (no trailing \0, as the Go and Rust SDKs send). */
export function encodePropertyPath(path: Array<string>): ArrayBuffer {
  let size = 0;
  const parts = new Array<ArrayBuffer>(path.length);
  for (let i = 0; i < path.length; i++) {
    const b = encodeUtf8(unchecked(path[i]));
    unchecked((parts[i] = b));
    size += b.byteLength + (i > 0 ? 1 : 0);
  }
  const out = new ArrayBuffer(size);
  let at = changetype<usize>(out);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) {
      store<u8>(at, 0);
      at++;
    }
    const b = unchecked(parts[i]);
    memory.copy(at, changetype<usize>(b), <usize>b.byteLength);
    at += <usize>b.byteLength;
  }
  return out;
}

/** getProperty returns the raw value at `path`, or null (NotFound, SerializationFailure, ... in lastResult()). */
export function getProperty(path: Array<string>): ArrayBuffer | null {
  const encoded = encodePropertyPath(path);
  clearRet();
  const r = setLastResult(proxy_get_property(changetype<usize>(encoded), <usize>encoded.byteLength, retPtr(), retPtr() + 4));
  if (r != WasmResult.Ok) return null;
  return takeResult();
}

/** getPropertyString returns a string property (request.path, plugin_root_id, ...), or null. */
export function getPropertyString(path: Array<string>): string | null {
  const bytes = getProperty(path);
  return bytes === null ? null : decodeUtf8(bytes);
}

/**
 * getPropertyInt decodes an 8-byte little-endian integer property (response.code, connection.id,
 * request.time as ns, ...). Returns `fallback` when absent or not 8 bytes (lastResult() is
 * SerializationFailure for a wrong size).
 */
export function getPropertyInt(path: Array<string>, fallback: i64 = 0): i64 {
  const bytes = getProperty(path);
  if (bytes === null) return fallback;
  if (bytes.byteLength != 8) {
    setLastResult(WasmResult.SerializationFailure);
    return fallback;
  }
  return load<i64>(changetype<usize>(bytes));
}

/** getPropertyBool decodes a 1-byte boolean property (connection.mtls); `fallback` when absent or malformed. */
export function getPropertyBool(path: Array<string>, fallback: bool = false): bool {
  const bytes = getProperty(path);
  if (bytes === null) return fallback;
  if (bytes.byteLength != 1) {
    setLastResult(WasmResult.SerializationFailure);
    return fallback;
  }
  return load<u8>(changetype<usize>(bytes)) != 0;
}

/** getPropertyMap decodes a map-valued property (request.headers) into raw pairs; null when absent or malformed. */
export function getPropertyMap(path: Array<string>): Array<Pair> | null {
  const bytes = getProperty(path);
  if (bytes === null) return null;
  const pairs = deserializePairs(bytes);
  if (pairs === null) setLastResult(WasmResult.SerializationFailure);
  return pairs;
}

/** setProperty stores `value` under `path` for this stream (Envoy filter state wasm.<path>); NotFound in a root context. */
export function setProperty(path: Array<string>, value: ArrayBuffer): WasmResult {
  const encoded = encodePropertyPath(path);
  return <WasmResult>(
    proxy_set_property(changetype<usize>(encoded), <usize>encoded.byteLength, changetype<usize>(value), <usize>value.byteLength)
  );
}

/** setPropertyString is setProperty with a UTF-8 value. */
export function setPropertyString(path: Array<string>, value: string): WasmResult {
  return setProperty(path, encodeUtf8(value));
}
