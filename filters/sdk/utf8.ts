// Text helpers for the hot path. UTF-8 of string literals, encoded once. Header names and most header values a filter passes are
// literals ("authorization", ":path"); encoding them on every call was an allocation and a UTF-16
// to UTF-8 pass per hostcall. A literal lives in the module's static data (below __heap_base) for
// the module's lifetime, so its address identifies it for good; any other string is encoded on
// every call, since after a collection its address may hold a different string.

const SLOTS: i32 = 64;
const addresses = new StaticArray<usize>(SLOTS);
const encoded = new StaticArray<ArrayBuffer | null>(SLOTS);

/**
 * utf8 returns the UTF-8 bytes of `text`, cached when `text` is a literal (a direct-mapped cache of
 * 64 entries, so its memory is bounded). Callers must treat the result as read-only. Never fails.
 */
export function utf8(text: string): ArrayBuffer {
  const address = changetype<usize>(text);
  if (address >= __heap_base) return String.UTF8.encode(text);
  const slot = <i32>((address >> 3) & <usize>(SLOTS - 1));
  if (unchecked(addresses[slot]) == address) {
    const hit = unchecked(encoded[slot]);
    if (hit !== null) return hit;
  }
  const bytes = String.UTF8.encode(text);
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
