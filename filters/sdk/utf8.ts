// UTF-8 decoding for what the host hands over (header values, bodies, properties). Header bytes are
// not guaranteed to be UTF-8; AssemblyScript's String.UTF8.decode turns invalid input into lone
// surrogates without a word, so the SDK decodes with the WHATWG rule instead: every maximal invalid
// subpart becomes one U+FFFD. Valid input (the common case) still goes through String.UTF8.decode.

/** The replacement character that stands for bytes that are not UTF-8 in decoded strings. */
export const REPLACEMENT_CHARACTER: string = "\uFFFD";

// Length of the well-formed sequence at ptr+i, or minus the length of its maximal invalid subpart.
function sequenceAt(ptr: usize, i: usize, end: usize): i32 {
  const b = <u32>load<u8>(ptr + i);
  if (b < 0x80) return 1;
  let need: i32;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b == 0xe0) {
    need = 2;
    lo = 0xa0;
  } else if (b == 0xed) {
    need = 2;
    hi = 0x9f;
  } else if (b >= 0xe1 && b <= 0xef) need = 2;
  else if (b == 0xf0) {
    need = 3;
    lo = 0x90;
  } else if (b == 0xf4) {
    need = 3;
    hi = 0x8f;
  } else if (b >= 0xf1 && b <= 0xf3) need = 3;
  else return -1;
  for (let k = 1; k <= need; k++) {
    if (i + <usize>k >= end) return -k;
    const c = <u32>load<u8>(ptr + i + <usize>k);
    if (c < lo || c > hi) return -k;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/** isValidUtf8 tells whether `bytes` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF). */
export function isValidUtf8(bytes: ArrayBuffer): bool {
  const ptr = changetype<usize>(bytes);
  const end = <usize>bytes.byteLength;
  let i: usize = 0;
  while (i < end) {
    if (load<u8>(ptr + i) < 0x80) {
      i++;
      continue;
    }
    const n = sequenceAt(ptr, i, end);
    if (n < 0) return false;
    i += <usize>n;
  }
  return true;
}

/**
 * decodeUtf8 decodes `bytes` as UTF-8; each maximal invalid subpart becomes one U+FFFD
 * (REPLACEMENT_CHARACTER), so `FF 85 C3 28` reads as "\uFFFD\uFFFD\uFFFD(". Never fails. When the
 * exact bytes matter, use the `…Bytes` getters instead of decoding.
 */
export function decodeUtf8(bytes: ArrayBuffer): string {
  if (isValidUtf8(bytes)) return String.UTF8.decode(bytes);
  const ptr = changetype<usize>(bytes);
  const end = <usize>bytes.byteLength;
  // Each input byte yields at most one UTF-16 unit (a 4-byte sequence yields two).
  const units = new ArrayBuffer(<i32>end << 1);
  const out = changetype<usize>(units);
  let o: usize = 0;
  let i: usize = 0;
  while (i < end) {
    const n = sequenceAt(ptr, i, end);
    if (n < 0) {
      store<u16>(out + (o << 1), 0xfffd);
      o++;
      i += <usize>-n;
      continue;
    }
    const b = <u32>load<u8>(ptr + i);
    let cp: u32;
    if (n == 1) cp = b;
    else if (n == 2) cp = ((b & 0x1f) << 6) | (<u32>load<u8>(ptr + i + 1) & 0x3f);
    else if (n == 3) cp = ((b & 0x0f) << 12) | ((<u32>load<u8>(ptr + i + 1) & 0x3f) << 6) | (<u32>load<u8>(ptr + i + 2) & 0x3f);
    else cp = ((b & 0x07) << 18) | ((<u32>load<u8>(ptr + i + 1) & 0x3f) << 12) | ((<u32>load<u8>(ptr + i + 2) & 0x3f) << 6) | (<u32>load<u8>(ptr + i + 3) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(out + (o << 1), <u16>(0xd800 | (cp >> 10)));
      store<u16>(out + ((o + 1) << 1), <u16>(0xdc00 | (cp & 0x3ff)));
      o += 2;
    } else {
      store<u16>(out + (o << 1), <u16>cp);
      o++;
    }
    i += <usize>n;
  }
  return String.UTF16.decodeUnsafe(out, o << 1);
}
