// Exposes the SDK's TextTable and decimal() to test/sdk/texts.test.ts: the same lines as a literal (which the build's
// transform stores as UTF-8 static data) and as a string built at run time (kept as a string).
export * from "proxy-wasm-as-sdk/abi/http";
import { decimal } from "proxy-wasm-as-sdk/decimal";
import { TextTable } from "proxy-wasm-as-sdk/texts";

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
