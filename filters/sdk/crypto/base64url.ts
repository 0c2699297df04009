// base64url (RFC 4648 §5) without padding, as JWS compact serialization uses it (RFC 7515 §2).
// Decoding is strict: padding, characters outside the alphabet, an impossible length and non-zero
// leftover bits are all refused, so each byte string has exactly one accepted encoding.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Reverse lookup for the 128 ASCII codes; 0xff marks a character outside the alphabet. */
const DECODE: usize = memory.data(128);
memory.fill(DECODE, 0xff, 128);
for (let i = 0; i < 64; i++) store<u8>(DECODE + <usize>ALPHABET.charCodeAt(i), <u8>i);

// @ts-ignore: decorator
@inline function sextet(code: i32): i32 {
  return code < 128 ? <i32>load<u8>(DECODE + <usize>code) : 0xff;
}

/** base64UrlEncode returns the unpadded base64url text of `data`; it never fails. */
export function base64UrlEncode(data: Uint8Array): string {
  const length = data.length;
  const outLength = (length / 3) * 4 + (length % 3 == 0 ? 0 : (length % 3) + 1);
  const out = new Uint8Array(outLength);
  let o = 0;
  let i = 0;
  for (; i + 3 <= length; i += 3) {
    const v = (<u32>data[i] << 16) | (<u32>data[i + 1] << 8) | <u32>data[i + 2];
    out[o++] = <u8>ALPHABET.charCodeAt(v >> 18);
    out[o++] = <u8>ALPHABET.charCodeAt((v >> 12) & 63);
    out[o++] = <u8>ALPHABET.charCodeAt((v >> 6) & 63);
    out[o++] = <u8>ALPHABET.charCodeAt(v & 63);
  }
  const rest = length - i;
  if (rest == 1) {
    const v = <u32>data[i] << 16;
    out[o++] = <u8>ALPHABET.charCodeAt(v >> 18);
    out[o++] = <u8>ALPHABET.charCodeAt((v >> 12) & 63);
  } else if (rest == 2) {
    const v = (<u32>data[i] << 16) | (<u32>data[i + 1] << 8);
    out[o++] = <u8>ALPHABET.charCodeAt(v >> 18);
    out[o++] = <u8>ALPHABET.charCodeAt((v >> 12) & 63);
    out[o++] = <u8>ALPHABET.charCodeAt((v >> 6) & 63);
  }
  return String.UTF8.decodeUnsafe(out.dataStart, <usize>outLength);
}

/**
 * base64UrlDecodedLength returns how many bytes `textLength` base64url characters decode to, or -1
 * when no unpadded base64url text has that length (length % 4 == 1).
 */
export function base64UrlDecodedLength(textLength: i32): i32 {
  if (textLength < 0 || textLength % 4 == 1) return -1;
  return (textLength / 4) * 3 + (textLength % 4 == 0 ? 0 : (textLength % 4) - 1);
}

/**
 * base64UrlDecodeRange decodes the characters of `text` in [start, end) into `out` (which must hold
 * base64UrlDecodedLength(end - start) bytes). Returns the number of bytes written, or -1 when the
 * range is not strict unpadded base64url; `out` may then hold partial output.
 */
export function base64UrlDecodeRange(text: string, start: i32, end: i32, out: usize): i32 {
  if (start < 0 || end > text.length || start > end) return -1;
  const total = base64UrlDecodedLength(end - start);
  if (total < 0) return -1;
  let o: usize = 0;
  let i = start;
  // Raw UTF-16 loads after the range check above: charCodeAt is a bounds-checked call per character.
  const chars = changetype<usize>(text);
  for (; i + 4 <= end; i += 4) {
    const at = chars + (<usize>i << 1);
    const a = sextet(<i32>load<u16>(at)), b = sextet(<i32>load<u16>(at, 2));
    const c = sextet(<i32>load<u16>(at, 4)), d = sextet(<i32>load<u16>(at, 6));
    if ((a | b | c | d) > 63) return -1;
    const v = (<u32>a << 18) | (<u32>b << 12) | (<u32>c << 6) | <u32>d;
    store<u8>(out + o, <u8>(v >> 16));
    store<u8>(out + o + 1, <u8>(v >> 8));
    store<u8>(out + o + 2, <u8>v);
    o += 3;
  }
  const rest = end - i;
  if (rest == 2) {
    const a = sextet(text.charCodeAt(i)), b = sextet(text.charCodeAt(i + 1));
    if ((a | b) > 63 || (b & 15) != 0) return -1;
    store<u8>(out + o, <u8>((a << 2) | (b >> 4)));
    o += 1;
  } else if (rest == 3) {
    const a = sextet(text.charCodeAt(i)), b = sextet(text.charCodeAt(i + 1)), c = sextet(text.charCodeAt(i + 2));
    if ((a | b | c) > 63 || (c & 3) != 0) return -1;
    const v = (<u32>a << 12) | (<u32>b << 6) | <u32>c;
    store<u8>(out + o, <u8>(v >> 10));
    store<u8>(out + o + 1, <u8>(v >> 2));
    o += 2;
  }
  return <i32>o;
}

/** base64UrlDecode returns the bytes of strict unpadded base64url `text`, or null when it is not that. */
export function base64UrlDecode(text: string): Uint8Array | null {
  const length = base64UrlDecodedLength(text.length);
  if (length < 0) return null;
  const out = new Uint8Array(length);
  if (base64UrlDecodeRange(text, 0, text.length, out.dataStart) != length) return null;
  return out;
}
