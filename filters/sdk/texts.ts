// Fixed texts kept in ONE string: a filter's log reasons and messages, looked up by number. Every
// string literal in a module is its own object in the data section (a 20-byte header, alignment and
// a segment entry, ≈ 21 bytes, on top of 2 bytes per UTF-16 character), and every use site names it
// by a 3-byte address; a table holds all of them as one literal, and a use site passes a 1-byte index.
// token-auth's 33 refusal reasons cost ≈ 0.7 KiB less this way (filters/sdk/PERFORMANCE.md). Meant for
// texts that are only logged or sent, on cold paths: `get` copies the text out on every call.
//
//   const enum Reason { EmptyToken, TooLong }
//   const REASONS = new TextTable(`empty token
//   token longer than maxTokenLength`);        // one text per line, in the enum's order
//   logDebug("refused: " + REASONS.get(Reason.TooLong));

/** TextTable holds texts separated by "\n" in one string; text `i` is the i-th line. */
export class TextTable {
  /** `lines` is every text in order, one per line (no trailing newline needed). */
  constructor(private readonly lines: string) {}

  /** get returns text `index` (a copy), or "" when the table has no such line. */
  get(index: i32): string {
    const lines = this.lines;
    if (index < 0) return "";
    let start = 0;
    for (let i = 0; i < index; i++) {
      const newline = lines.indexOf("\n", start);
      if (newline < 0) return "";
      start = newline + 1;
    }
    let end = lines.indexOf("\n", start);
    if (end < 0) end = lines.length;
    return lines.substring(start, end);
  }
}
