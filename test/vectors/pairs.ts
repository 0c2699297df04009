/**
 * Shared header-pair test vectors (proxy-wasm-host.md §3).
 *
 * Both the AssemblyScript SDK codec (filters/sdk) and the host emulator codec (filters/host) are
 * tested against these bytes, so they can never silently disagree. The small cases are written out
 * in hex by hand on purpose: they must not be produced by either codec under test.
 */

/** A list of header pairs as raw bytes (keys and values may be any bytes, including empty). */
export type PairList = [Uint8Array, Uint8Array][];

/** One well-formed vector: `pairs` serializes to exactly `serialized`, and back. */
export interface PairVector {
  name: string;
  pairs: PairList;
  serialized: Uint8Array;
}

/**
 * One malformed serialization. Envoy's `toPairs` turns each of these into an empty list, with no
 * error code. `hostLimit` marks cases rejected only by the host's size limits (N > 1024, > 1 MiB),
 * which a guest-side decoder reading host output need not enforce.
 */
export interface MalformedPairs {
  name: string;
  bytes: Uint8Array;
  hostLimit: boolean;
}

/** Decodes a hex string, ignoring whitespace; throws on odd length or a non-hex digit. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`hex: malformed input "${text}"`);
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const pair = (k: string, v: string): [Uint8Array, Uint8Array] => [utf8(k), utf8(v)];

/**
 * Builds the 1,000-header vector by laying out the wire format field by field (count, length
 * table, NUL-terminated data). Written independently of both codecs under test.
 */
function generatedVector(count: number): PairVector {
  const pairs: PairList = [];
  for (let i = 0; i < count; i++) {
    // Vary lengths (including an empty value every 7th header) so offsets are exercised.
    const key = `x-gen-${i.toString().padStart(4, "0")}`;
    const value = i % 7 === 0 ? "" : `value-${i}-${"v".repeat(i % 13)}`;
    pairs.push(pair(key, value));
  }
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  pairs.forEach(([k, v], i) => {
    view.setUint32(4 + 8 * i, k.length, true);
    view.setUint32(8 + 8 * i, v.length, true);
  });
  let pos = 4 + 8 * count;
  for (const [k, v] of pairs) {
    out.set(k, pos);
    pos += k.length + 1;
    out.set(v, pos);
    pos += v.length + 1;
  }
  return { name: "1,000 generated headers", pairs, serialized: out };
}

/** Well-formed vectors: every codec must encode `pairs` to `serialized` and decode it back. */
export const pairVectors: PairVector[] = [
  {
    // The example from proxy-wasm-host.md §3 (the spec's own example is wrong).
    name: 'spec example {"a":"1","b":"22"} (29 bytes)',
    pairs: [pair("a", "1"), pair("b", "22")],
    serialized: hex(`
      02000000
      01000000 01000000
      01000000 02000000
      61 00 31 00 62 00 32 32 00`),
  },
  {
    name: "empty map",
    pairs: [],
    serialized: hex("00000000"),
  },
  {
    name: "empty value",
    pairs: [pair("x-empty", "")],
    serialized: hex(`
      01000000
      07000000 00000000
      782d656d707479 00 00`),
  },
  {
    name: "empty key and empty value",
    pairs: [pair("", "")],
    serialized: hex(`
      01000000
      00000000 00000000
      00 00`),
  },
  {
    name: "pseudo-headers",
    pairs: [pair(":method", "GET"), pair(":path", "/")],
    serialized: hex(`
      02000000
      07000000 03000000
      05000000 01000000
      3a6d6574686f64 00 474554 00
      3a70617468 00 2f 00`),
  },
  {
    // "grüße ✓": ü = c3bc, ß = c39f, ✓ = e29c93; lengths count bytes, not characters.
    name: "non-ASCII UTF-8 value",
    pairs: [pair("x-greeting", "grüße ✓")],
    serialized: hex(`
      01000000
      0a000000 0b000000
      782d6772656574696e67 00
      6772c3bcc39f6520e29c93 00`),
  },
  {
    name: "repeated keys stay separate entries in order",
    pairs: [pair("set-cookie", "a=1"), pair("set-cookie", "b=2")],
    serialized: hex(`
      02000000
      0a000000 03000000
      0a000000 03000000
      7365742d636f6f6b6965 00 613d31 00
      7365742d636f6f6b6965 00 623d32 00`),
  },
  generatedVector(1000),
];

/** A well-formed serialization of `count` pairs with empty keys and values (2 bytes each). */
function emptyPairs(count: number): Uint8Array {
  const out = new Uint8Array(4 + 10 * count);
  new DataView(out.buffer).setUint32(0, count, true);
  return out;
}

/** A single pair whose value is `valueLength` bytes of "v". */
function onePair(valueLength: number): Uint8Array {
  const out = new Uint8Array(4 + 8 + 2 + valueLength + 2);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, valueLength, true);
  out[12] = 0x6b; // "k"
  out.fill(0x76, 14, 14 + valueLength);
  return out;
}

/** Malformed serializations: each must decode to an empty list (and a host must report OK). */
export const malformedPairs: MalformedPairs[] = [
  { name: "fewer than 4 bytes", bytes: hex("020000"), hostLimit: false },
  { name: "a single 0x00 byte (the spec's empty map)", bytes: hex("00"), hostLimit: false },
  { name: "missing NUL after key", bytes: hex("01000000 01000000 01000000 61 58 31 00"), hostLimit: false },
  { name: "missing NUL after value", bytes: hex("01000000 01000000 01000000 61 00 31 58"), hostLimit: false },
  {
    name: "trailing bytes after the last pair",
    bytes: hex("02000000 01000000 01000000 01000000 02000000 6100 3100 6200 323200 00"),
    hostLimit: false,
  },
  { name: "length table larger than the buffer", bytes: hex("02000000 01000000 01000000"), hostLimit: false },
  { name: "data shorter than the lengths say", bytes: hex("01000000 05000000 01000000 61 00 31 00"), hostLimit: false },
  { name: "N = 1025 (> PAIRS_MAX_COUNT 1024)", bytes: emptyPairs(1025), hostLimit: true },
  { name: "more than 1 MiB", bytes: onePair(1024 * 1024), hostLimit: true },
];

/** A well-formed list of exactly 1024 pairs: the largest count Envoy accepts. */
export const maxCountPairs: Uint8Array = emptyPairs(1024);
