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
import { asciiLower, utf8 } from "../utf8";
import { setLastResult } from "./status";
import { decodeUtf8 } from "../utf8";

/** HeaderPair is one header as UTF-8 decoded strings (bytes that are not UTF-8 read as U+FFFD; use pairsBytes for raw bytes). */
export class HeaderPair {
  constructor(public name: string, public value: string) {}
}

/** toPairs converts string headers to raw pairs; never fails. */
export function toPairs(headers: Array<HeaderPair>): Array<Pair> {
  const out = new Array<Pair>(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    unchecked((out[i] = new Pair(String.UTF8.encode(h.name), String.UTF8.encode(h.value))));
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
  constructor(readonly type: MapType) {}

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
    return this.replaceBytes(utf8(name), utf8(value));
  }

  /** replaceBytes is replace with pre-encoded name and value. */
  replaceBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    return <WasmResult>(
      proxy_replace_header_map_value(
        <u32>this.type,
        changetype<usize>(name),
        <usize>name.byteLength,
        changetype<usize>(value),
        <usize>value.byteLength,
      )
    );
  }

  /** remove deletes every value of `name`; Ok when absent, BadArgument if the map is unavailable. */
  remove(name: string): WasmResult {
    const key = utf8(name);
    return <WasmResult>proxy_remove_header_map_value(<u32>this.type, changetype<usize>(key), <usize>key.byteLength);
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

/** requestHeaders: readable and writable in onRequestHeaders (and readable in onLog). */
export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
/** requestTrailers: available in onRequestTrailers; can be created in the last onRequestBody. */
export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
/** responseHeaders: readable and writable in onResponseHeaders (and readable in onLog). */
export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
/** responseTrailers: available in onResponseTrailers; can be created in the last onResponseBody. */
export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);
/** httpCallResponseHeaders: read-only, inside onHttpCallResponse. */
export const httpCallResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
/** httpCallResponseTrailers: read-only, inside onHttpCallResponse. */
export const httpCallResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);
/** grpcReceiveInitialMetadata: read-only, inside onGrpcReceiveInitialMetadata. */
export const grpcReceiveInitialMetadata = new HeaderMap(MapType.GrpcReceiveInitialMetadata);
/** grpcReceiveTrailingMetadata: read-only, inside onGrpcReceiveTrailingMetadata. */
export const grpcReceiveTrailingMetadata = new HeaderMap(MapType.GrpcReceiveTrailingMetadata);
