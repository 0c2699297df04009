// Fixed texts kept in ONE literal, as UTF-8: a filter's log reasons and messages, looked up by number.
// Every string literal in a module is its own object in the data section (a 20-byte header, alignment
// and a segment entry, ≈ 21 bytes, on top of 2 bytes per UTF-16 character), and every use site names
// it by a 3-byte address. A table is one block of UTF-8 (the SDK's compiler transform,
// texts-transform.mjs, encodes the literal at build time), and a use site passes a 1-byte index:
// token-auth's 33 refusal reasons take ≈ 1.2 KiB less (filters/sdk/PERFORMANCE.md). Meant for texts
// that are only logged or sent, on cold paths: `get` decodes the text on every call.
//
//   const enum Reason { EmptyToken, TooLong }
//   const REASONS = new TextTable(`empty token
//   token longer than maxTokenLength`);        // one text per line, in the enum's order
//   logDebug("refused: " + REASONS.get(Reason.TooLong));
import { decodeUtf8At, encodeUtf8 } from "./utf8";

/**
 * TextTable holds texts separated by "\n"; text `i` is the i-th line. Write `new TextTable(literal)`:
 * the build turns the literal into UTF-8 static data and passes it as `utf8`/`utf8Length` (without
 * the transform the string is encoded once here, with the same results).
 */
export class TextTable {
  private readonly utf8: usize;
  private readonly utf8Length: i32;
  /** Keeps the UTF-8 alive when it was encoded at run time (the collector never moves objects). */
  private readonly encoded: ArrayBuffer | null;

  /** `lines` is every text in order, one per line; `utf8`/`utf8Length` are set by the build instead. */
  constructor(lines: string, utf8: usize = 0, utf8Length: i32 = 0) {
    let encoded: ArrayBuffer | null = null;
    if (utf8 == 0) {
      encoded = encodeUtf8(lines);
      utf8 = changetype<usize>(encoded);
      utf8Length = encoded.byteLength;
    }
    this.encoded = encoded;
    this.utf8 = utf8;
    this.utf8Length = utf8Length;
  }

  /** get returns text `index` (a new string), or "" when the table has no such line. */
  get(index: i32): string {
    const start = this.lineStart(index);
    if (start < 0) return "";
    return decodeUtf8At(this.utf8 + <usize>start, <usize>(this.lineEnd(start) - start));
  }

  /**
   * bytes returns text `index` as UTF-8 (a new buffer, nothing decoded), or an empty buffer when the
   * table has no such line: for texts passed on as bytes (logBytes, addBytes, a response body).
   */
  bytes(index: i32): ArrayBuffer {
    let start = this.lineStart(index);
    if (start < 0) start = this.utf8Length;
    const size = <usize>(this.lineEnd(start) - start);
    const out = changetype<ArrayBuffer>(__new(size, idof<ArrayBuffer>()));
    memory.copy(changetype<usize>(out), this.utf8 + <usize>start, size);
    return out;
  }

  /**
   * lines returns the first `count` texts as strings (a missing line reads as ""). Call it once, for a
   * module-level constant of names used on the request path, where `get` (a decode per call) would
   * cost time; index the result with `unchecked`. The strings live on the heap from then on.
   */
  lines(count: i32): StaticArray<string> {
    const out = new StaticArray<string>(count);
    for (let i = 0; i < count; i++) unchecked((out[i] = this.get(i)));
    return out;
  }

  // The offset where line `index` starts, or -1 when the table has no such line.
  private lineStart(index: i32): i32 {
    if (index < 0) return -1;
    const base = this.utf8;
    const length = this.utf8Length;
    let start = 0;
    for (let line = 0; line < index; start++) {
      if (start >= length) return -1;
      if (load<u8>(base + <usize>start) == 0x0a) line++;
    }
    return start;
  }

  // The offset of the end of the line that starts at `start` (its "\n" or the end of the table).
  private lineEnd(start: i32): i32 {
    let end = start;
    while (end < this.utf8Length && load<u8>(this.utf8 + <usize>end) != 0x0a) end++;
    return end;
  }
}
