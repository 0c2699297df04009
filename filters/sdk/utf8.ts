// UTF-8 decoding for what the host hands over (header values, bodies, properties). Header bytes are
// not guaranteed to be UTF-8; AssemblyScript's String.UTF8.decode turns invalid input into lone
// surrogates without a word, so the SDK decodes with the WHATWG rule instead: every maximal invalid
// subpart becomes one U+FFFD, in one pass (decodeUtf8).

/** The replacement character that stands for bytes that are not UTF-8 in decoded strings. */
// @ts-ignore: decorator
@lazy export const REPLACEMENT_CHARACTER: string = "\uFFFD";

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
  return decodeUtf8At(changetype<usize>(bytes), <usize>bytes.byteLength);
}

/** decodeUtf8At decodes the `length` bytes at `ptr` like decodeUtf8: for bytes inside a larger buffer, without a copy. */
export function decodeUtf8At(ptr: usize, end: usize): string {
  // One pass straight into the string, without String.UTF8.decode: that would be a second decoder in
  // every module (≈ 0.4 KiB) and a second pass to validate first. Each input byte yields at most one
  // UTF-16 unit (a 4-byte sequence yields two), so n bytes fit in n units; the rest is trimmed.
  if (end == 0) return "";
  const out = changetype<usize>(__new(end << 1, idof<string>()));
  let o: usize = 0;
  let i: usize = 0;
  while (i < end) {
    const b = <u32>load<u8>(ptr + i);
    if (b < 0x80) {
      store<u16>(out + (o << 1), <u16>b);
      o++;
      i++;
      continue;
    }
    const n = sequenceAt(ptr, i, end);
    if (n < 0) {
      store<u16>(out + (o << 1), 0xfffd);
      o++;
      i += <usize>-n;
      continue;
    }
    let cp: u32;
    if (n == 2) cp = ((b & 0x1f) << 6) | (<u32>load<u8>(ptr + i + 1) & 0x3f);
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
  return changetype<string>(o == end ? out : __renew(out, o << 1));
}

// Writes the UTF-8 of the `n` UTF-16 units at `src` to `out`, or only counts the bytes when `out` is 0;
// returns the byte count. Lone surrogates become 3-byte sequences (WTF-8), as String.UTF8.encode does.
function encodeInto(src: usize, n: usize, out: usize): usize {
  let o: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u16>(src + (i << 1));
    let size: usize = 3;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if ((c & 0xfc00) == 0xd800 && i + 1 < n) {
      const low = <u32>load<u16>(src + ((i + 1) << 1));
      if ((low & 0xfc00) == 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        size = 4;
        i++;
      }
    }
    if (out != 0) {
      const at = out + o;
      if (size == 1) store<u8>(at, <u8>c);
      else {
        // The lead byte: the length marker (110, 1110 or 11110) and the highest bits.
        store<u8>(at, <u8>((0xf00 >> <u32>size) | (c >> (6 * (<u32>size - 1)))));
        for (let k: usize = 1; k < size; k++) store<u8>(at + k, <u8>(0x80 | ((c >> (6 * <u32>(size - 1 - k))) & 0x3f)));
      }
    }
    o += size;
  }
  return o;
}

/**
 * encodeUtf8 returns the UTF-8 bytes of `text` (a new buffer), the same bytes as String.UTF8.encode:
 * one encoder, about a third of the standard library's size, in every module. Never fails.
 */
export function encodeUtf8(text: string): ArrayBuffer {
  const src = changetype<usize>(text);
  const n = <usize>text.length;
  const out = changetype<usize>(__new(encodeInto(src, n, 0), idof<ArrayBuffer>()));
  encodeInto(src, n, out);
  return changetype<ArrayBuffer>(out);
}

// UTF-8 of string literals, encoded once for the hot path. Header names and most header values a filter passes are
// literals ("authorization", ":path"); encoding them on every call was an allocation and a UTF-16
// to UTF-8 pass per hostcall. A literal lives in the module's static data (below __heap_base) for
// the module's lifetime, so its address identifies it for good; any other string is encoded on
// every call, since after a collection its address may hold a different string.

const SLOTS: i32 = 64;
// Lazy: a module that never passes a string to a hostcall allocates no cache.
// @ts-ignore: decorator
@lazy const addresses = new StaticArray<usize>(SLOTS);
// @ts-ignore: decorator
@lazy const encoded = new StaticArray<ArrayBuffer | null>(SLOTS);

/**
 * utf8 returns the UTF-8 bytes of `text`, cached when `text` is a literal (a direct-mapped cache of
 * 64 entries, so its memory is bounded). Callers must treat the result as read-only. Never fails.
 */
export function utf8(text: string): ArrayBuffer {
  const address = changetype<usize>(text);
  if (address >= __heap_base) return encodeUtf8(text);
  const slot = <i32>((address >> 3) & <usize>(SLOTS - 1));
  if (unchecked(addresses[slot]) == address) {
    const hit = unchecked(encoded[slot]);
    if (hit !== null) return hit;
  }
  const bytes = encodeUtf8(text);
  unchecked((addresses[slot] = address));
  unchecked((encoded[slot] = bytes));
  return bytes;
}

/**
 * asciiLower returns `text` with A-Z mapped to a-z and every other character kept. HTTP names and
 * schemes are ASCII, and String#toLowerCase would link the whole Unicode case table (~6 KiB) into
 * every module that compares a header name. Never fails.
 */
export function asciiLower(text: string): string {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
    i++;
  }
  if (i == n) return text;
  const out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const src = changetype<usize>(text);
  const dst = changetype<usize>(out);
  for (let j = 0; j < n; j++) {
    const c = load<u16>(src + (<usize>j << 1));
    store<u16>(dst + (<usize>j << 1), c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return out;
}
