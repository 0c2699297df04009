// Exposes the SDK's TextTable, decimal() and encodeUtf8() to test/sdk/texts.test.ts: the same lines as a literal (which the build's
// transform stores as UTF-8 static data) and as a string built at run time (kept as a string).
export * from "proxy-wasm-as-sdk/abi/http";
import { decimal } from "proxy-wasm-as-sdk/decimal";
import { TextTable } from "proxy-wasm-as-sdk/texts";
import { encodeUtf8 } from "proxy-wasm-as-sdk/utf8";

const LITERAL = new TextTable(`first
café → ünïcödé 😀

last`);
// Not a literal, so the transform leaves it alone and the table keeps the string (joined from the
// literal table's lines, so the module holds no UTF-16 copy of the text).
const BUILT = new TextTable([LITERAL.get(0), LITERAL.get(1), LITERAL.get(2), LITERAL.get(3)].join("\n"));

let result = new ArrayBuffer(0);

/** line stores line `index` of the literal table (`built` 0) or of the built one (`built` 1) as UTF-8; returns its size. */
export function line(built: i32, index: i32): i32 {
  result = String.UTF8.encode((built != 0 ? BUILT : LITERAL).get(index));
  return result.byteLength;
}

/**
 * decodedLine stores line `index` of `lines(count)` of the literal (`built` 0) or built (`built` 1)
 * table as UTF-8; returns its size, or -1 when `index` is past the `count` strings returned.
 */
export function decodedLine(built: i32, count: i32, index: i32): i32 {
  const lines = (built != 0 ? BUILT : LITERAL).lines(count);
  if (index >= lines.length) return -1;
  result = String.UTF8.encode(lines[index]);
  return result.byteLength;
}

/** resultPtr returns the address of the last line. */
export function resultPtr(): usize {
  return changetype<usize>(result);
}

/** formatted stores decimal(`n`) as UTF-8 (read with resultPtr) and tells whether it equals n.toString(); returns its size. */
export function formatted(n: i32): i32 {
  const text = decimal(n);
  result = String.UTF8.encode(text);
  return text == n.toString() ? result.byteLength : -1;
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (load<u8>(changetype<usize>(a) + <usize>i) != load<u8>(changetype<usize>(b) + <usize>i)) return false;
  return true;
}

/**
 * encodingMismatches encodes `count` pseudo-random strings (seeded; code units drawn mostly from the
 * boundaries: ASCII, 2- and 3-byte ranges, lone and paired surrogates) with encodeUtf8 and with
 * String.UTF8.encode; returns how many differ.
 */
export function encodingMismatches(count: i32, seed: u32): i32 {
  const picks: StaticArray<u32> = [0x0, 0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xd7ff, 0xd800, 0xd83d, 0xdbff, 0xdc00, 0xde00, 0xdfff, 0xe000, 0xfffd, 0xffff];
  let state = seed | 1;
  let mismatches = 0;
  for (let k = 0; k < count; k++) {
    state = state * 1103515245 + 12345;
    const length = <i32>((state >> 16) % 12);
    const text = changetype<string>(__new(<usize>length << 1, idof<string>()));
    for (let i = 0; i < length; i++) {
      state = state * 1103515245 + 12345;
      const r = state >> 8;
      const unit = (r & 3) == 0 ? r >> 8 & 0xffff : unchecked(picks[<i32>((r >> 2) % <u32>picks.length)]);
      store<u16>(changetype<usize>(text) + (<usize>i << 1), <u16>unit);
    }
    if (!sameBytes(encodeUtf8(text), String.UTF8.encode(text))) mismatches++;
  }
  return mismatches;
}
