// Fixed names that a request compares against or builds with (route keywords, token members), kept as
// strings decoded once at start-up from one UTF-8 TextTable (../texts.ts) instead of a UTF-16
// literal each. A literal costs its UTF-16 text plus ≈ 21 bytes of object header and data-segment
// entries; a line of a table costs its UTF-8 bytes and a newline, and a use is one array load. Meant
// for names used on the request path, where TextTable#get (a decode per call) would cost time.
import { TextTable } from "../texts";

/**
 * decodeLines returns the first `count` lines of `table` as strings (a missing line reads as "").
 * Call it once, for a module-level constant; index the result with `unchecked`.
 */
export function decodeLines(table: TextTable, count: i32): StaticArray<string> {
  const lines = new StaticArray<string>(count);
  for (let i = 0; i < count; i++) unchecked((lines[i] = table.get(i)));
  return lines;
}
