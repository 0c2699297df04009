// Parsers for the values plan-enforcement reads from request headers: the x-hub-access grant list
// and the byte counts of Content-Length / Content-Range. All total: any input gives an answer.
import { ACTION_DELETE, ACTION_PULL, ACTION_PUSH } from "proxy-wasm-as-sdk/registry/routes";

/**
 * regionIs tells whether text[start, end) is exactly `word`, compared in place: the grant list is
 * read on every request, and a substring per entry and per action was an allocation each.
 */
function regionIs(text: string, start: i32, end: i32, word: string): bool {
  return end - start == word.length && memory.compare(changetype<usize>(text) + (<usize>start << 1), changetype<usize>(word), <usize>word.length << 1) == 0;
}

/**
 * grantedActions returns the action bits `access` (CONTRACT.md x-hub-access:
 * "repository:<name>:<a,b> ...") grants on `repository`, merging repeated entries; 0 when none.
 */
export function grantedActions(access: string, repository: string): i32 {
  let bits = 0;
  let start = 0;
  const length = access.length;
  while (start < length) {
    let end = access.indexOf(" ", start);
    if (end < 0) end = length;
    // Entry shape: "repository:" + name + ":" + actions; names never contain ":".
    const nameStart = start + 11;
    const nameEnd = nameStart + repository.length;
    if (
      end - start > 11 &&
      regionIs(access, start, nameStart, "repository:") &&
      nameEnd < end &&
      access.charCodeAt(nameEnd) == 0x3a &&
      regionIs(access, nameStart, nameEnd, repository)
    ) {
      bits |= actionBits(access, nameEnd + 1, end);
    }
    start = end + 1;
  }
  return bits;
}

/** The action bits of the comma-separated list text[from, to). */
function actionBits(text: string, from: i32, to: i32): i32 {
  let bits = 0;
  let start = from;
  while (start <= to) {
    let end = text.indexOf(",", start);
    if (end < 0 || end > to) end = to;
    if (regionIs(text, start, end, "pull")) bits |= ACTION_PULL;
    else if (regionIs(text, start, end, "push")) bits |= ACTION_PUSH;
    else if (regionIs(text, start, end, "delete")) bits |= ACTION_DELETE;
    start = end + 1;
  }
  return bits;
}

/**
 * parseDigits reads the decimal number in text[start, end), saturating at 2^53; returns -1 when the
 * range is empty or holds anything but ASCII digits.
 */
function parseDigits(text: string, start: i32, end: i32): f64 {
  if (start >= end) return -1;
  let value: f64 = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = Math.min(value * 10 + <f64>(c - 0x30), 9007199254740992);
  }
  return value;
}

/** parseByteCount returns a Content-Length value in bytes, or -1 when absent or not a plain number. */
export function parseByteCount(value: string | null): f64 {
  if (value === null) return -1;
  const text = value.trim();
  return parseDigits(text, 0, text.length);
}

/**
 * rangeEnd returns the inclusive end offset of a Content-Range value, in the OCI form
 * "<start>-<end>" or the RFC 9110 form "bytes <start>-<end>/<size>"; -1 when absent or malformed.
 */
export function rangeEnd(value: string | null): f64 {
  if (value === null) return -1;
  let text = value.trim();
  if (text.startsWith("bytes ")) text = text.substring(6).trim();
  const dash = text.indexOf("-");
  if (dash <= 0) return -1;
  let end = text.indexOf("/", dash);
  if (end < 0) end = text.length;
  if (parseDigits(text, 0, dash) < 0) return -1;
  return parseDigits(text, dash + 1, end);
}
