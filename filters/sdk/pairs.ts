// The proxy-wasm header-map pair serialization, byte for byte:
//   u32 LE count N, then N × (u32 LE key length, u32 LE value length), then for each pair
//   key bytes, 0x00, value bytes, 0x00.
// Used by header maps, local-response headers, callout headers/trailers and map-valued properties.

/** Pair is one raw header or metadata entry; bytes are kept as-is (no UTF-8 assumption). */
export class Pair {
  constructor(public key: ArrayBuffer, public value: ArrayBuffer) {}
}

/** serializePairs encodes pairs in the ABI format; an empty list encodes as 4 zero bytes (count 0). */
export function serializePairs(pairs: Array<Pair>): ArrayBuffer {
  let size = 4;
  for (let i = 0; i < pairs.length; i++) {
    const p = unchecked(pairs[i]);
    size += 10 + p.key.byteLength + p.value.byteLength;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>pairs.length);
  let lengths = base + 4;
  let data = base + 4 + 8 * <usize>pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    const p = unchecked(pairs[i]);
    const k = <usize>p.key.byteLength;
    const v = <usize>p.value.byteLength;
    store<u32>(lengths, <u32>k);
    store<u32>(lengths, <u32>v, 4);
    lengths += 8;
    memory.copy(data, changetype<usize>(p.key), k);
    store<u8>(data + k, 0);
    data += k + 1;
    memory.copy(data, changetype<usize>(p.value), v);
    store<u8>(data + v, 0);
    data += v + 1;
  }
  return out;
}

/**
 * deserializePairs decodes the ABI pair format. Fewer than 4 bytes is an empty list (Envoy sends
 * nothing for an empty map). Returns null when the data is malformed: lengths past the end, a missing
 * 0x00 terminator, or trailing bytes.
 */
export function deserializePairs(data: ArrayBuffer): Array<Pair> | null {
  const size = <usize>data.byteLength;
  const out = new Array<Pair>();
  if (size < 4) return out;
  const base = changetype<usize>(data);
  const count = <usize>load<u32>(base);
  // Each pair needs at least 10 bytes; checking first keeps a hostile count from driving a long loop.
  if (count > (size - 4) / 10) return null;
  let lengths = base + 4;
  let pos: usize = 4 + 8 * count;
  for (let i: usize = 0; i < count; i++) {
    const k = <usize>load<u32>(lengths);
    const v = <usize>load<u32>(lengths, 4);
    lengths += 8;
    if (k > size || v > size || pos + k + v + 2 > size) return null;
    if (load<u8>(base + pos + k) != 0 || load<u8>(base + pos + k + 1 + v) != 0) return null;
    const key = data.slice(<i32>pos, <i32>(pos + k));
    const value = data.slice(<i32>(pos + k + 1), <i32>(pos + k + 1 + v));
    out.push(new Pair(key, value));
    pos += k + v + 2;
  }
  if (pos != size) return null;
  return out;
}
