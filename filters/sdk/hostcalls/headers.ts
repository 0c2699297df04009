// Header maps (request/response headers and trailers, callout response maps, gRPC metadata).
// Names are lowercased by the host. Getters return null when the key is absent or the map is not
// available in the current callback; lastResult() tells NotFound from BadArgument.
import {
  proxy_add_header_map_value,
  proxy_get_header_map_pairs,
  proxy_get_header_map_size,
  proxy_get_header_map_value,
  proxy_remove_header_map_value,
  proxy_replace_header_map_value,
  proxy_set_header_map_pairs,
} from "../abi/imports";
import { clearRet, retPtr, takeResult } from "../abi/malloc";
import { deserializePairs, Pair, serializePairs } from "../pairs";
import { MapType, WasmResult } from "../types";
import { asciiLower, decodeUtf8, encodeUtf8, utf8 } from "../utf8";
import { callbackGeneration } from "./callback";
import { HeaderSnapshot } from "./snapshot";
import { setLastResult } from "./status";
export { HeaderSnapshot } from "./snapshot";

/** HeaderPair is one header as UTF-8 decoded strings (bytes that are not UTF-8 read as U+FFFD; use pairsBytes for raw bytes). */
export class HeaderPair {
  constructor(public name: string, public value: string) {}
}

/** toPairs converts string headers to raw pairs; never fails. */
export function toPairs(headers: Array<HeaderPair>): Array<Pair> {
  const out = new Array<Pair>(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    unchecked((out[i] = new Pair(encodeUtf8(h.name), encodeUtf8(h.value))));
  }
  return out;
}

/** fromPairs converts raw pairs to string headers; never fails. */
export function fromPairs(pairs: Array<Pair>): Array<HeaderPair> {
  const out = new Array<HeaderPair>(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const p = unchecked(pairs[i]);
    unchecked((out[i] = new HeaderPair(decodeUtf8(p.key), decodeUtf8(p.value))));
  }
  return out;
}

/** HeaderMap wraps one of the host's header maps; use the exported instances (requestHeaders, ...). */
export class HeaderMap {
  /** Built on the first snapshot(): a module that never takes one allocates (and links) none. */
  private snap: HeaderSnapshot | null = null;
  /** The callback generation the snapshot was read in; 0 when none is current. */
  private snapGeneration: u32 = 0;

  constructor(readonly type: MapType) {}

  /**
   * snapshot returns the whole map read with one hostcall, shared by every caller in the current
   * callback and kept in step with replace/remove made through this HeaderMap. Use it when a callback
   * (or a composition of filters) reads more than one header: each get() is otherwise a hostcall of
   * its own. When the map is not available, or the host's answer is malformed, snapshot().ok() is
   * false and every read returns null (lastResult() says why).
   */
  snapshot(): HeaderSnapshot {
    let snap = this.snap;
    if (snap === null) this.snap = snap = new HeaderSnapshot();
    else if (this.snapGeneration == callbackGeneration()) return snap;
    clearRet();
    const r = setLastResult(proxy_get_header_map_pairs(<u32>this.type, retPtr(), retPtr() + 4));
    const raw = r == WasmResult.Ok ? takeResult() : new ArrayBuffer(0);
    if (!snap.load(raw, r == WasmResult.Ok)) setLastResult(WasmResult.SerializationFailure);
    this.snapGeneration = callbackGeneration();
    return snap;
  }

  /** Applies an accepted write to a current snapshot, or drops the snapshot when the write failed. */
  private track(result: WasmResult, name: ArrayBuffer, value: ArrayBuffer | null): WasmResult {
    if (this.snapGeneration == callbackGeneration()) {
      if (result == WasmResult.Ok) changetype<HeaderSnapshot>(this.snap).wrote(name, value);
      else this.snapGeneration = 0;
    }
    return result;
  }

  /** getBytes returns the first value of `name` as raw bytes, or null (absent → NotFound, unavailable map → BadArgument). */
  getBytes(name: string): ArrayBuffer | null {
    const key = utf8(name);
    clearRet();
    const r = setLastResult(
      proxy_get_header_map_value(<u32>this.type, changetype<usize>(key), <usize>key.byteLength, retPtr(), retPtr() + 4),
    );
    if (r != WasmResult.Ok) return null;
    return takeResult();
  }

  /**
   * get returns the first value of `name` decoded as UTF-8, or null (see getBytes). Lossy: bytes that
   * are not UTF-8 read as U+FFFD (REPLACEMENT_CHARACTER); use getBytes when the exact bytes matter.
   */
  get(name: string): string | null {
    const bytes = this.getBytes(name);
    return bytes === null ? null : decodeUtf8(bytes);
  }

  /** getAll returns every value of `name` in map order (empty when absent or unavailable). */
  getAll(name: string): Array<string> {
    const wanted = asciiLower(name);
    const out = new Array<string>();
    const all = this.pairs();
    for (let i = 0; i < all.length; i++) {
      const h = unchecked(all[i]);
      if (asciiLower(h.name) == wanted) out.push(h.value);
    }
    return out;
  }

  /** has tells whether `name` is present. */
  has(name: string): bool {
    return this.getBytes(name) !== null;
  }

  /** add appends a value for `name` (Envoy joins inline headers with ","); BadArgument if the map is unavailable or read-only. */
  add(name: string, value: string): WasmResult {
    return this.addBytes(utf8(name), utf8(value));
  }

  /** addBytes is add with pre-encoded name and value; encode once in onConfigure to keep streams allocation-free. */
  addBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    // Whether the host joins or appends depends on the header; the next snapshot() reads it back.
    this.snapGeneration = 0;
    return <WasmResult>(
      proxy_add_header_map_value(
        <u32>this.type,
        changetype<usize>(name),
        <usize>name.byteLength,
        changetype<usize>(value),
        <usize>value.byteLength,
      )
    );
  }

  /** replace sets `name` to exactly one value, adding it if absent; BadArgument if the map is unavailable. */
  replace(name: string, value: string): WasmResult {
    const key = utf8(name);
    const r = this.replaceEncoded(key, utf8(value));
    if (r == WasmResult.Ok && this.snapGeneration == callbackGeneration()) changetype<HeaderSnapshot>(this.snap).wroteString(key, value);
    return r;
  }

  /** replaceBytes is replace with pre-encoded name and value. */
  replaceBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    // A current snapshot keeps a copy: the caller may reuse its buffer.
    return this.replaceEncoded(name, this.snapGeneration == callbackGeneration() ? value.slice(0) : value);
  }

  private replaceEncoded(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    const r = <WasmResult>(
      proxy_replace_header_map_value(
        <u32>this.type,
        changetype<usize>(name),
        <usize>name.byteLength,
        changetype<usize>(value),
        <usize>value.byteLength,
      )
    );
    return this.track(r, name, value);
  }

  /** remove deletes every value of `name`; Ok when absent, BadArgument if the map is unavailable. */
  remove(name: string): WasmResult {
    const key = utf8(name);
    const r = <WasmResult>proxy_remove_header_map_value(<u32>this.type, changetype<usize>(key), <usize>key.byteLength);
    return this.track(r, key, null);
  }

  /** pairsBytes returns all entries as raw pairs in host order (pseudo-headers first); empty when unavailable. */
  pairsBytes(): Array<Pair> {
    clearRet();
    const r = setLastResult(proxy_get_header_map_pairs(<u32>this.type, retPtr(), retPtr() + 4));
    if (r != WasmResult.Ok) return new Array<Pair>();
    const decoded = deserializePairs(takeResult());
    if (decoded === null) {
      setLastResult(WasmResult.SerializationFailure);
      return new Array<Pair>();
    }
    return decoded;
  }

  /** pairs returns all entries as strings in host order; empty when unavailable. */
  pairs(): Array<HeaderPair> {
    return fromPairs(this.pairsBytes());
  }

  /** setPairs replaces the whole map (pseudo-headers included) with `headers`. */
  setPairs(headers: Array<HeaderPair>): WasmResult {
    return this.setPairsBytes(toPairs(headers));
  }

  /** setPairsBytes replaces the whole map with raw pairs. */
  setPairsBytes(pairs: Array<Pair>): WasmResult {
    this.snapGeneration = 0;
    const data = serializePairs(pairs);
    return <WasmResult>proxy_set_header_map_pairs(<u32>this.type, changetype<usize>(data), <usize>data.byteLength);
  }

  /** byteSize returns the host's size for the map (Envoy: total bytes of names and values), or 0 with lastResult set. */
  byteSize(): u32 {
    store<u32>(retPtr(), 0);
    const r = setLastResult(proxy_get_header_map_size(<u32>this.type, retPtr()));
    return r == WasmResult.Ok ? load<u32>(retPtr()) : 0;
  }
}

// The header maps are @lazy: only those a module uses are allocated at start-up and visited by the collector.
/** requestHeaders: readable and writable in onRequestHeaders (and readable in onLog). */
// @ts-ignore: decorator
@lazy export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
/** requestTrailers: available in onRequestTrailers; can be created in the last onRequestBody. */
// @ts-ignore: decorator
@lazy export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
/** responseHeaders: readable and writable in onResponseHeaders (and readable in onLog). */
// @ts-ignore: decorator
@lazy export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
/** responseTrailers: available in onResponseTrailers; can be created in the last onResponseBody. */
// @ts-ignore: decorator
@lazy export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);
/** httpCallResponseHeaders: read-only, inside onHttpCallResponse. */
// @ts-ignore: decorator
@lazy export const httpCallResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
/** httpCallResponseTrailers: read-only, inside onHttpCallResponse. */
// @ts-ignore: decorator
@lazy export const httpCallResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);
/** grpcReceiveInitialMetadata: read-only, inside onGrpcReceiveInitialMetadata. */
// @ts-ignore: decorator
@lazy export const grpcReceiveInitialMetadata = new HeaderMap(MapType.GrpcReceiveInitialMetadata);
/** grpcReceiveTrailingMetadata: read-only, inside onGrpcReceiveTrailingMetadata. */
// @ts-ignore: decorator
@lazy export const grpcReceiveTrailingMetadata = new HeaderMap(MapType.GrpcReceiveTrailingMetadata);
