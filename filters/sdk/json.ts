// A small strict JSON (RFC 8259) reader for plugin configuration. Hand-written because no maintained
// npm JSON package for AssemblyScript compiles on 0.28 without a compiler transform. Every value records
// its path ("config.request[1].value") so configuration errors can name the field. Errors are returned,
// never thrown (a throw in AssemblyScript aborts the VM).
import {
  E_JSON_BAD_ESCAPE,
  E_JSON_BAD_NUMBER,
  E_JSON_CONTROL_CHAR,
  E_JSON_DUPLICATE_KEY,
  E_JSON_TOO_DEEP,
  E_JSON_TRAILING,
  E_JSON_UNEXPECTED_CHAR,
  E_JSON_UNEXPECTED_END,
} from "./errors";

/** JsonKind tells which subclass a JsonValue is. */
export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

/** JsonValue is a parsed value and its path from the root. */
export class JsonValue {
  constructor(readonly kind: JsonKind, readonly path: string) {}
  /** kindName returns "null", "a boolean", "a number", "a string", "an array" or "an object" for messages. */
  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "a boolean";
      case JsonKind.Number: return "a number";
      case JsonKind.String: return "a string";
      case JsonKind.Array: return "an array";
      default: return "an object";
    }
  }
}

/** JsonBool is true or false. */
export class JsonBool extends JsonValue {
  constructor(path: string, readonly value: bool) {
    super(JsonKind.Bool, path);
  }
}

/** JsonNumber is any JSON number, as f64. */
export class JsonNumber extends JsonValue {
  constructor(path: string, readonly value: f64) {
    super(JsonKind.Number, path);
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
  return parent + "[" + index.toString() + "]";
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  constructor(readonly text: string, readonly recordPaths: bool) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message;
    return null;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  value(path: string, depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail(E_JSON_TOO_DEEP);
    this.skipSpace();
    if (this.pos >= this.text.length) return this.fail(E_JSON_UNEXPECTED_END);
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.object(path, depth);
    if (c == 0x5b) return this.array(path, depth);
    if (c == 0x22) {
      const s = this.string();
      return s === null ? null : new JsonString(path, s);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(path);
    if (this.literal("true")) return new JsonBool(path, true);
    if (this.literal("false")) return new JsonBool(path, false);
    if (this.literal("null")) return new JsonValue(JsonKind.Null, path);
    return this.fail(E_JSON_UNEXPECTED_CHAR);
  }

  literal(word: string): bool {
    // Compared in place: a substring per true/false/null was an allocation (and String#substr's code).
    const t = this.text;
    const n = word.length;
    if (this.pos + n > t.length) return false;
    for (let i = 0; i < n; i++) if (t.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  object(path: string, depth: i32): JsonValue | null {
    const obj = new JsonObject(path);
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      return obj;
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail(E_JSON_UNEXPECTED_END);
      if (this.text.charCodeAt(this.pos) != 0x22) return this.fail(E_JSON_UNEXPECTED_CHAR);
      const keyStart = this.pos;
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail(E_JSON_UNEXPECTED_END);
      if (this.text.charCodeAt(this.pos) != 0x3a) return this.fail(E_JSON_UNEXPECTED_CHAR);
      this.pos++;
      // Building a path string per key is most of the parse's allocation; hot-path callers opt out.
      const v = this.value(this.recordPaths ? childPath(path, key) : path, depth + 1);
      if (v === null) return null;
      if (!obj.set(key, v)) {
        this.pos = keyStart;
        return this.fail(E_JSON_DUPLICATE_KEY + " \"" + key + "\"");
      }
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail(E_JSON_UNEXPECTED_END);
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x7d) return obj;
      if (c != 0x2c) {
        this.pos--;
        return this.fail(E_JSON_UNEXPECTED_CHAR);
      }
    }
  }

  array(path: string, depth: i32): JsonValue | null {
    const arr = new JsonArray(path);
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      return arr;
    }
    while (true) {
      const v = this.value(this.recordPaths ? indexPath(path, arr.items.length) : path, depth + 1);
      if (v === null) return null;
      arr.items.push(v);
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail(E_JSON_UNEXPECTED_END);
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x5d) return arr;
      if (c != 0x2c) {
        this.pos--;
        return this.fail(E_JSON_UNEXPECTED_CHAR);
      }
    }
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos + i);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }

  // Returns the decoded string with pos after the closing quote, or null with the error set.
  string(): string | null {
    const t = this.text;
    this.pos++;
    let out = "";
    let runStart = this.pos;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        // Most strings have no escape: return the slice itself instead of concatenating onto "".
        const run = t.substring(runStart, this.pos);
        this.pos++;
        return out.length == 0 ? run : out + run;
      }
      if (c < 0x20) {
        this.fail(E_JSON_CONTROL_CHAR);
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += t.substring(runStart, this.pos);
      this.pos++;
      if (this.pos >= t.length) break;
      const e = t.charCodeAt(this.pos++);
      // The escaped character's code, appended below: one append instead of a literal per escape.
      const code = e == 0x75 ? this.hex4() : escapedCode(e);
      if (code < 0) {
        if (e != 0x75) this.pos--;
        this.fail(E_JSON_BAD_ESCAPE);
        return null;
      }
      // AssemblyScript strings are UTF-16, so a surrogate pair written as two escapes joins by itself.
      out += String.fromCharCode(code);
      runStart = this.pos;
    }
    this.fail(E_JSON_UNEXPECTED_END);
    return null;
  }

  digits(): i32 {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos - start;
  }

  number(path: string): JsonValue | null {
    const start = this.pos;
    const t = this.text;
    if (t.charCodeAt(this.pos) == 0x2d) this.pos++;
    const intStart = this.pos;
    if (this.pos < t.length && t.charCodeAt(this.pos) == 0x30) this.pos++;
    else if (this.digits() == 0) return this.fail(E_JSON_BAD_NUMBER);
    const intEnd = this.pos;
    let fracEnd = intEnd;
    if (this.pos < t.length && t.charCodeAt(this.pos) == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail(E_JSON_BAD_NUMBER);
      fracEnd = this.pos;
    }
    let exponent: i32 = 0;
    if (this.pos < t.length && (t.charCodeAt(this.pos) | 0x20) == 0x65) {
      this.pos++;
      let negativeExponent = false;
      if (this.pos < t.length && (t.charCodeAt(this.pos) == 0x2b || t.charCodeAt(this.pos) == 0x2d)) negativeExponent = t.charCodeAt(this.pos++) == 0x2d;
      const expStart = this.pos;
      if (this.digits() == 0) return this.fail(E_JSON_BAD_NUMBER);
      // Saturate: anything past ±9999 is 0 or Infinity anyway.
      for (let i = expStart; i < this.pos && exponent < 10000; i++) exponent = exponent * 10 + (t.charCodeAt(i) - 0x30);
      if (negativeExponent) exponent = -exponent;
    }
    const v = decimalToF64(t, intStart, intEnd, fracEnd, exponent);
    return new JsonNumber(path, t.charCodeAt(start) == 0x2d ? -v : v);
  }
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
function decimalToF64(t: string, intStart: i32, intEnd: i32, fracEnd: i32, exponent: i32): f64 {
  let mantissa: u64 = 0;
  let digits = 0;
  let scale = exponent;
  for (let i = intStart; i < fracEnd; i++) {
    const c = t.charCodeAt(i);
    if (c == 0x2e) continue;
    const fraction = i > intEnd;
    if (digits < 19) {
      if (mantissa != 0 || c != 0x30) digits++;
      mantissa = mantissa * 10 + <u64>(c - 0x30);
      if (fraction) scale--;
    } else if (!fraction) scale++;
  }
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
  const p = new Parser(text, recordPaths);
  const v = p.value(rootPath, 0);
  if (v === null) return new JsonResult(null, p.error, p.pos);
  p.skipSpace();
  if (p.pos < text.length) return new JsonResult(null, E_JSON_TRAILING, p.pos);
  return new JsonResult(v, "", 0);
}
