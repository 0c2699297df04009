// A small strict JSON (RFC 8259) reader for plugin configuration. Hand-written because no maintained
// npm JSON package for AssemblyScript compiles on 0.28 without a compiler transform. Every value records
// its path ("config.request[1].value") so configuration errors can name the field. Errors are returned,
// never thrown (a throw in AssemblyScript aborts the VM).
import { decimal } from "./decimal";
import { TextTable } from "./texts";

/** JsonKind tells which subclass a JsonValue is. */
export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

/** The reader's and ConfigReader's fixed texts, lines of TEXTS; the kind names come first, in JsonKind's order. */
export const enum JsonText {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
  UnexpectedEnd,
  UnexpectedChar,
  BadEscape,
  BadNumber,
  ControlChar,
  Trailing,
  TooDeep,
  DuplicateKey,
  Missing,
  Empty,
  UnknownField,
  InvalidJson,
  Expected,
  Got,
}

// One block of UTF-8 (texts.ts) instead of twenty string literals: ≈ 0.7 KiB less in every module
// that reads a configuration. Lines with a leading or trailing space are joined to other text as is.
// @ts-ignore: decorator
@lazy const TEXTS = new TextTable(`null
a boolean
a number
a string
an array
an object
unexpected end of input
unexpected character
invalid escape sequence
invalid number
control character in string
unexpected data after the JSON value
nesting too deep
duplicate key
required field is missing
configuration is empty
unknown field
invalid JSON at offset 
expected 
, got `);

/** jsonText returns one of the reader's and ConfigReader's fixed texts (a new string). */
export function jsonText(text: JsonText): string {
  return TEXTS.get(text);
}

/** JsonValue is a parsed value and its path from the root. */
export class JsonValue {
  constructor(readonly kind: JsonKind, readonly path: string) {}
  /** kindName returns "null", "a boolean", "a number", "a string", "an array" or "an object" for messages. */
  kindName(): string {
    return jsonText(<JsonText>this.kind);
  }
}

/** JsonBool is true or false. */
export class JsonBool extends JsonValue {
  constructor(path: string, readonly value: bool) {
    super(JsonKind.Bool, path);
  }
}

/** JsonNumber is any JSON number; `value` reads it as f64. */
export class JsonNumber extends JsonValue {
  /** `text` is the number as written in the document (already checked against JSON's grammar). */
  constructor(path: string, readonly text: string) {
    super(JsonKind.Number, path);
  }
  /**
   * value returns the number as f64, converted from the text on each read (see numberValue for the
   * precision). Kept as text until read: a module that never reads a number carries no conversion.
   */
  get value(): f64 {
    return numberValue(this.text);
  }
}

/** JsonString is a decoded string. */
export class JsonString extends JsonValue {
  constructor(path: string, readonly value: string) {
    super(JsonKind.String, path);
  }
}

/** JsonArray holds its items in order. */
export class JsonArray extends JsonValue {
  readonly items: Array<JsonValue> = new Array<JsonValue>();
  constructor(path: string) {
    super(JsonKind.Array, path);
  }
}

/** JsonObject keeps its keys in document order; duplicate keys are rejected by the parser. */
export class JsonObject extends JsonValue {
  readonly keys: Array<string> = new Array<string>();
  /**
   * Parallel to `keys`, searched linearly: objects here (configurations, token claims) have a
   * handful of keys, and a Map's buckets and rehashing cost far more per parse than comparing them.
   */
  private readonly values: Array<JsonValue> = new Array<JsonValue>();
  constructor(path: string) {
    super(JsonKind.Object, path);
  }
  private indexOf(key: string): i32 {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (unchecked(keys[i]) == key) return i;
    return -1;
  }
  /** has tells whether `key` is present. */
  has(key: string): bool {
    return this.indexOf(key) >= 0;
  }
  /** get returns the value of `key`, or null when absent. */
  get(key: string): JsonValue | null {
    const i = this.indexOf(key);
    return i < 0 ? null : unchecked(this.values[i]);
  }
  /** set adds a key; returns false if it already exists. */
  set(key: string, value: JsonValue): bool {
    if (this.indexOf(key) >= 0) return false;
    this.keys.push(key);
    this.values.push(value);
    return true;
  }
}

/** JsonResult is the outcome of parseJson: a value, or an error message with its character offset. */
export class JsonResult {
  constructor(readonly value: JsonValue | null, readonly error: string, readonly offset: i32) {}
}

const MAX_DEPTH = 64;

/** childPath appends an object key to a path ("config" + "request" → "config.request"). */
export function childPath(parent: string, key: string): string {
  return parent + "." + key;
}

/** indexPath appends an array index to a path ("config.request" + 1 → "config.request[1]"). */
export function indexPath(parent: string, index: i32): string {
  return parent + "[" + decimal(index) + "]";
}

// The parser's state lives in module globals rather than a Parser object: a global read is shorter
// code than a field load through `this`, and no parse can start inside another (no callbacks run).
// Reads past the end see -1: String#charCodeAt bounds-checks by itself, so no second length test.
let src = "";
let withPaths = true;
let pos: i32 = 0;
let firstError: i32 = -1;
/** The key named by a DuplicateKey error. */
let duplicateKey = "";

function fail(error: JsonText): JsonValue | null {
  if (firstError < 0) firstError = error;
  return null;
}

// The error for character `c` where it does not belong: the end of input (-1) or another character.
function unexpected(c: i32): JsonValue | null {
  return fail(c < 0 ? JsonText.UnexpectedEnd : JsonText.UnexpectedChar);
}

function peek(): i32 {
  return src.charCodeAt(pos);
}

// Skips whitespace; returns the character after it (-1 at the end).
function skipSpace(): i32 {
  let c = peek();
  while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) c = src.charCodeAt(++pos);
  return c;
}

function readValue(path: string, depth: i32): JsonValue | null {
  if (depth > MAX_DEPTH) return fail(JsonText.TooDeep);
  const c = skipSpace();
  if (c < 0) return fail(JsonText.UnexpectedEnd);
  if (c == 0x7b || c == 0x5b) return container(path, depth, c == 0x7b);
  if (c == 0x22) {
    const s = readString();
    return s === null ? null : new JsonString(path, s);
  }
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return readNumber(path);
  if (literal("true")) return new JsonBool(path, true);
  if (literal("false")) return new JsonBool(path, false);
  if (literal("null")) return new JsonValue(JsonKind.Null, path);
  return fail(JsonText.UnexpectedChar);
}

function literal(word: string): bool {
  // Compared in place: a substring per true/false/null was an allocation (and String#substr's code).
  const n = word.length;
  for (let i = 0; i < n; i++) if (src.charCodeAt(pos + i) != word.charCodeAt(i)) return false;
  pos += n;
  return true;
}

// An object or an array: one loop for both, since they differ only in the key before each value.
function container(path: string, depth: i32, isObject: bool): JsonValue | null {
  const result: JsonValue = isObject ? new JsonObject(path) : new JsonArray(path);
  const close = isObject ? 0x7d : 0x5d;
  pos++;
  if (skipSpace() == close) {
    pos++;
    return result;
  }
  while (true) {
    let itemPath = path;
    let key = "";
    let keyStart = 0;
    if (isObject) {
      const q = skipSpace();
      if (q != 0x22) return unexpected(q);
      keyStart = pos;
      const k = readString();
      if (k === null) return null;
      key = k;
      const colon = skipSpace();
      if (colon != 0x3a) return unexpected(colon);
      pos++;
      // Building a path string per key is most of the parse's allocation; hot-path callers opt out.
      if (withPaths) itemPath = childPath(path, key);
    } else if (withPaths) itemPath = indexPath(path, changetype<JsonArray>(result).items.length);
    const v = readValue(itemPath, depth + 1);
    if (v === null) return null;
    if (!isObject) changetype<JsonArray>(result).items.push(v);
    else if (!changetype<JsonObject>(result).set(key, v)) {
      pos = keyStart;
      duplicateKey = key;
      return fail(JsonText.DuplicateKey);
    }
    const c = skipSpace();
    if (c == close) {
      pos++;
      return result;
    }
    if (c != 0x2c) return unexpected(c);
    pos++;
  }
}

function hex4(): i32 {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = src.charCodeAt(pos + i);
    const lower = c | 0x20; // 'A'-'F' to 'a'-'f'; -1 (past the end) stays -1
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (lower >= 0x61 && lower <= 0x66) d = lower - 0x61 + 10;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  pos += 4;
  return v;
}

// Returns the decoded string with pos after the closing quote, or null with the error set.
function readString(): string | null {
  const t = src;
  let out = "";
  let runStart = ++pos;
  while (true) {
    const c = t.charCodeAt(pos);
    if (c == 0x22) {
      // Most strings have no escape: return the slice itself instead of concatenating onto "".
      const run = t.substring(runStart, pos);
      pos++;
      return out.length == 0 ? run : out + run;
    }
    if (c < 0x20) {
      fail(c < 0 ? JsonText.UnexpectedEnd : JsonText.ControlChar);
      return null;
    }
    if (c != 0x5c) {
      pos++;
      continue;
    }
    out += t.substring(runStart, pos);
    const e = t.charCodeAt(++pos);
    if (e < 0) {
      fail(JsonText.UnexpectedEnd);
      return null;
    }
    pos++;
    // The escaped character's code, appended below: one append instead of a literal per escape.
    const code = e == 0x75 ? hex4() : escapedCode(e);
    if (code < 0) {
      if (e != 0x75) pos--;
      fail(JsonText.BadEscape);
      return null;
    }
    // AssemblyScript strings are UTF-16, so a surrogate pair written as two escapes joins by itself.
    out += String.fromCharCode(code);
    runStart = pos;
  }
}

// Skips a run of digits; returns how many there were.
function skipDigits(): i32 {
  const start = pos;
  while (<u32>(peek() - 0x30) < 10) pos++;
  return pos - start;
}

// Checks a number against JSON's grammar and keeps its text; converted only when read (JsonNumber#value).
function readNumber(path: string): JsonValue | null {
  const start = pos;
  if (peek() == 0x2d) pos++;
  if (peek() == 0x30) pos++;
  else if (skipDigits() == 0) return fail(JsonText.BadNumber);
  if (peek() == 0x2e) {
    pos++;
    if (skipDigits() == 0) return fail(JsonText.BadNumber);
  }
  if ((peek() | 0x20) == 0x65) {
    const sign = src.charCodeAt(++pos);
    if (sign == 0x2b || sign == 0x2d) pos++;
    if (skipDigits() == 0) return fail(JsonText.BadNumber);
  }
  return new JsonNumber(path, src.substring(start, pos));
}

const INTEGER = 0;
const FRACTION = 1;
const EXPONENT = 2;

// The value of a number's text, which readNumber checked, in one pass. Integer and fraction digits go
// into the mantissa (up to 19 significant ones; later integer digits scale it up, later fraction
// digits are dropped). Exponent digits saturate: anything past ±9999 is 0 or Infinity anyway.
function numberValue(text: string): f64 {
  let mantissa: u64 = 0;
  let significant = 0;
  let scale = 0;
  let exponent = 0;
  let negativeExponent = false;
  let part = INTEGER;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const d = c - 0x30;
    if (<u32>d < 10) {
      if (part == EXPONENT) {
        if (exponent < 10000) exponent = exponent * 10 + d;
      } else if (significant < 19) {
        if (mantissa != 0 || d != 0) significant++;
        mantissa = mantissa * 10 + <u64>d;
        if (part == FRACTION) scale--;
      } else if (part == INTEGER) scale++;
    } else if (c == 0x2e) part = FRACTION;
    else if ((c | 0x20) == 0x65) part = EXPONENT;
    else if (c == 0x2d && part == EXPONENT) negativeExponent = true;
  }
  const v = scaleToF64(mantissa, scale + (negativeExponent ? -exponent : exponent));
  return text.charCodeAt(0) == 0x2d ? -v : v;
}

// The character a one-letter escape (\" \\ \/ \b \f \n \r \t) stands for, or -1.
function escapedCode(e: i32): i32 {
  if (e == 0x22 || e == 0x5c || e == 0x2f) return e;
  if (e == 0x62) return 0x08;
  if (e == 0x66) return 0x0c;
  if (e == 0x6e) return 0x0a;
  if (e == 0x72) return 0x0d;
  return e == 0x74 ? 0x09 : -1;
}

// 10^k for 0 <= k <= 22, exact: every power of ten up to 10^22 is an f64.
function exactPow10(k: i32): f64 {
  let p: f64 = 1;
  for (let i = 0; i < k; i++) p *= 10;
  return p;
}

// Why not parseFloat: it links AssemblyScript's strtod (≈ 1.6 KiB with its helpers) into every module
// that reads a configuration, where numbers are limits, periods and sizes. This reader keeps up to 19
// significant digits in an integer. Integers up to 2^53 are exact; so is every decimal with at most
// 15 significant digits and an exponent within ±22, as "0.1" or "2.5e3" (one correctly rounded
// IEEE multiplication or division of two exact values, Clinger's fast path). Longer or more extreme
// numbers land within a few units in the last place, which no configuration value can tell apart.
// Returns mantissa × 10^scale.
function scaleToF64(mantissa: u64, scale: i32): f64 {
  let v = <f64>mantissa;
  if (mantissa == 0) return 0;
  if (scale >= 0) {
    while (scale > 22) {
      v *= 1e22;
      scale -= 22;
      if (v == Infinity) return v;
    }
    return v * exactPow10(scale);
  }
  while (scale < -22) {
    v /= 1e22;
    scale += 22;
    if (v == 0) return v;
  }
  return v / exactPow10(-scale);
}

/**
 * parseJson parses one JSON document; `rootPath` names the root in paths (default "config").
 * With `recordPaths` false every value's path is just `rootPath`: for per-request parsing whose
 * errors never name a field, where a path string per value would be wasted allocation.
 * On failure the result has value null, a message and the character offset of the problem.
 */
export function parseJson(text: string, rootPath: string = "config", recordPaths: bool = true): JsonResult {
  src = text;
  withPaths = recordPaths;
  pos = 0;
  firstError = -1;
  const v = readValue(rootPath, 0);
  if (v !== null) skipSpace();
  // The globals must not keep the text alive after the parse.
  src = "";
  if (v === null) {
    let message = jsonText(firstError);
    if (firstError == JsonText.DuplicateKey) message += " \"" + duplicateKey + "\"";
    duplicateKey = "";
    return new JsonResult(null, message, pos);
  }
  if (pos < text.length) return new JsonResult(null, jsonText(JsonText.Trailing), pos);
  return new JsonResult(v, "", 0);
}
