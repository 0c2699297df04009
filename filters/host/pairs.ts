/**
 * Header-pair codec, byte-exact with Envoy's PairsUtil (proxy-wasm-host.md §3).
 * Hand-written: the format is tiny and its failure rules (empty list, no error) are Envoy-specific.
 */

/** A header or property pair as raw bytes. */
export type BytePair = [Uint8Array, Uint8Array];

/** Envoy's PAIRS_MAX_COUNT: more pairs than this decode to an empty list. */
export const pairsMaxCount = 1024;
/** Envoy's PROXY_WASM_HOST_PAIRS_MAX_BYTES: a larger buffer decodes to an empty list. */
export const pairsMaxBytes = 1024 * 1024;

/** serializePairs encodes pairs (any bytes) in the proxy-wasm wire format; it never fails. */
export function serializePairs(pairs: readonly BytePair[]): Uint8Array {
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length, true);
  let pos = 4 + 8 * pairs.length;
  pairs.forEach(([k, v], i) => {
    view.setUint32(4 + 8 * i, k.length, true);
    view.setUint32(8 + 8 * i, v.length, true);
    out.set(k, pos);
    pos += k.length + 1;
    out.set(v, pos);
    pos += v.length + 1;
  });
  return out;
}

/**
 * parsePairs decodes the wire format like Envoy's `toPairs`: any malformation (fewer than 4 bytes,
 * more than 1024 pairs or 1 MiB, a missing NUL, trailing bytes) yields an empty list, never an error.
 */
export function parsePairs(bytes: Uint8Array): BytePair[] {
  if (bytes.length < 4 || bytes.length > pairsMaxBytes) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count > pairsMaxCount || 4 + 8 * count > bytes.length) return [];
  const pairs: BytePair[] = [];
  let pos = 4 + 8 * count;
  for (let i = 0; i < count; i++) {
    const keyLength = view.getUint32(4 + 8 * i, true);
    const valueLength = view.getUint32(8 + 8 * i, true);
    if (pos + keyLength + 1 > bytes.length || bytes[pos + keyLength] !== 0) return [];
    const key = bytes.slice(pos, pos + keyLength);
    pos += keyLength + 1;
    if (pos + valueLength + 1 > bytes.length || bytes[pos + valueLength] !== 0) return [];
    const value = bytes.slice(pos, pos + valueLength);
    pos += valueLength + 1;
    pairs.push([key, value]);
  }
  return pos === bytes.length ? pairs : [];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** toBytePairs converts string pairs to UTF-8 byte pairs. */
export function toBytePairs(pairs: readonly (readonly [string, string])[]): BytePair[] {
  return pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)]);
}

/** toStringPairs converts byte pairs to strings (invalid UTF-8 becomes U+FFFD). */
export function toStringPairs(pairs: readonly BytePair[]): [string, string][] {
  return pairs.map(([k, v]) => [decoder.decode(k), decoder.decode(v)]);
}
