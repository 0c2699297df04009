// base64url (RFC 4648 §5) without padding, as JWS compact serialization uses it (RFC 7515 §2).
// Decoding is strict: padding, characters outside the alphabet, an impossible length and non-zero
// leftover bits are all refused, so each byte string has exactly one accepted encoding.

// Lazy: a module-level string is kept (and visited by the collector) even where only decoding is used.
// @ts-ignore: decorator
@lazy const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The value of one base64url character, or 0xff outside the alphabet. Computed rather than looked
// up: a reverse table needs the alphabet as a string literal and start-up code to fill it, ≈ 0.3 KiB
// in every module that only decodes.
function sextet(code: i32): i32 {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52;
  if (code == 0x2d) return 62;
  return code == 0x5f ? 63 : 0xff;
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
  if (base64UrlDecodedLength(end - start) < 0) return -1;
  // Six bits per character into an accumulator, a byte out whenever eight are there: one short loop
  // instead of an unrolled group of four plus two tails. Raw UTF-16 loads after the range check
  // above: charCodeAt is a bounds-checked call per character.
  const chars = changetype<usize>(text);
  let o: usize = 0;
  let bits: u32 = 0;
  let pending = 0;
  for (let i = start; i < end; i++) {
    const value = sextet(<i32>load<u16>(chars + (<usize>i << 1)));
    if (value > 63) return -1;
    bits = (bits << 6) | <u32>value;
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      store<u8>(out + o++, <u8>(bits >> <u32>pending));
    }
  }
  // Strict: the 2 or 4 bits left over by a final group of 3 or 2 characters must be zero.
  if ((bits & ((1 << <u32>pending) - 1)) != 0) return -1;
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
