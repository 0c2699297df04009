// Plugin-configuration helper: typed field access on a parsed JSON object that turns the first problem
// into ONE log line naming the field, "<filter>: <path>: <problem>", and false from onConfigure.
//
//   const cfg = new ConfigReader("add-header");
//   const root = cfg.parse(getPluginConfigurationString());
//   if (root === null) return cfg.finish();
//   const name = cfg.requireString(root, "name");
//   return cfg.finish();   // logs the first error (if any) at critical and returns false
import { isSpace } from "util/string";
import { decimal } from "./decimal";
import { logCritical } from "./hostcalls/log";
import {
  childPath,
  JsonArray,
  JsonBool,
  JsonKind,
  JsonNumber,
  JsonObject,
  JsonString,
  JsonText,
  jsonText,
  JsonValue,
  parseJson,
} from "./json";

// Whether `text` is only whitespace in String#trim's sense (which also counts Unicode spaces).
function isBlank(text: string): bool {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

// Whether `s` is in `list`. A plain loop: Array#includes inlined its generic search at each call.
function listed(list: Array<string>, s: string): bool {
  for (let i = 0; i < list.length; i++) if (unchecked(list[i]) == s) return true;
  return false;
}

/** ConfigReader collects the first configuration error; create one per onConfigure call. */
export class ConfigReader {
  private firstError: string = "";
  constructor(readonly filterName: string, readonly rootPath: string = "config") {}

  /** parse parses `text` as a JSON object; on failure records the error and returns null. Empty text is an error unless allowEmpty (then {}). */
  parse(text: string, allowEmpty: bool = false): JsonObject | null {
    const r = parseJson(text, this.rootPath);
    const v = r.value;
    if (v === null) {
      // Blank text fails to parse too; telling it apart only then spares String#trim's copy and code.
      if (isBlank(text)) {
        if (allowEmpty) return new JsonObject(this.rootPath);
        this.fail(this.rootPath, jsonText(JsonText.Empty));
        return null;
      }
      this.fail(this.rootPath, jsonText(JsonText.InvalidJson) + decimal(r.offset) + ": " + r.error);
      return null;
    }
    return this.asObject(v);
  }

  /** fail records `message` for the field at `path`; only the first failure is kept. */
  fail(path: string, message: string): void {
    if (this.firstError.length == 0) this.firstError = this.filterName + ": " + path + ": " + message;
  }

  /** ok tells whether no error has been recorded. */
  ok(): bool {
    return this.firstError.length == 0;
  }

  /** error returns the recorded log line ("" when none). */
  error(): string {
    return this.firstError;
  }

  /** finish logs the recorded error once at critical and returns false, or returns true when there is none. */
  finish(): bool {
    if (this.ok()) return true;
    logCritical(this.firstError);
    return false;
  }

  private wrongType(v: JsonValue, expected: string): void {
    this.fail(v.path, jsonText(JsonText.Expected) + expected + jsonText(JsonText.Got) + v.kindName());
  }

  // wrongType for an expected JSON kind, named from the texts table.
  private wrongKind(v: JsonValue, expected: JsonKind): void {
    this.wrongType(v, jsonText(<JsonText>expected));
  }

  /** asObject returns `v` as an object, or records "expected an object". */
  asObject(v: JsonValue): JsonObject | null {
    if (v.kind == JsonKind.Object) return changetype<JsonObject>(v);
    this.wrongKind(v, JsonKind.Object);
    return null;
  }

  /** asArray returns `v` as an array, or records "expected an array". */
  asArray(v: JsonValue): JsonArray | null {
    if (v.kind == JsonKind.Array) return changetype<JsonArray>(v);
    this.wrongKind(v, JsonKind.Array);
    return null;
  }

  /** asString returns `v` as a string, or records "expected a string" and returns null. */
  asString(v: JsonValue): string | null {
    if (v.kind == JsonKind.String) return changetype<JsonString>(v).value;
    this.wrongKind(v, JsonKind.String);
    return null;
  }

  private field(obj: JsonObject, key: string, required: bool): JsonValue | null {
    const v = obj.get(key);
    if (v === null && required) this.fail(childPath(obj.path, key), jsonText(JsonText.Missing));
    return v;
  }

  /** requireString returns the string field `key`, or null after recording a missing or wrong-typed field. */
  requireString(obj: JsonObject, key: string): string | null {
    const v = this.field(obj, key, true);
    return v === null ? null : this.asString(v);
  }

  /** optionalString returns the string field `key`, `fallback` when absent, or `fallback` after recording a wrong type. */
  optionalString(obj: JsonObject, key: string, fallback: string): string {
    const v = this.field(obj, key, false);
    if (v === null) return fallback;
    const s = this.asString(v);
    return s === null ? fallback : s;
  }

  /** optionalNumber returns the number field `key`, `fallback` when absent or wrong-typed (recorded). */
  optionalNumber(obj: JsonObject, key: string, fallback: f64): f64 {
    const v = this.field(obj, key, false);
    if (v === null) return fallback;
    if (v.kind == JsonKind.Number) return changetype<JsonNumber>(v).value;
    this.wrongKind(v, JsonKind.Number);
    return fallback;
  }

  /** requireNumber returns the number field `key`, or NaN after recording a missing or wrong-typed field. */
  requireNumber(obj: JsonObject, key: string): f64 {
    const v = this.field(obj, key, true);
    if (v === null) return NaN;
    if (v.kind == JsonKind.Number) return changetype<JsonNumber>(v).value;
    this.wrongKind(v, JsonKind.Number);
    return NaN;
  }

  /** optionalInteger returns an integer field within [min, max]; `fallback` when absent; records non-integers and out-of-range values. */
  optionalInteger(obj: JsonObject, key: string, fallback: i64, min: i64, max: i64): i64 {
    const v = this.field(obj, key, false);
    if (v === null) return fallback;
    return this.integerIn(v, fallback, min, max);
  }

  /**
   * requireInteger returns the integer field `key` within [min, max] (both inclusive). A missing field,
   * a non-number, a fraction or a value out of range is recorded ("expected an integer from 1 to 1000")
   * and `min` is returned; check `finish()` before using the value.
   */
  requireInteger(obj: JsonObject, key: string, min: i64, max: i64): i64 {
    const v = this.field(obj, key, true);
    if (v === null) return min;
    return this.integerIn(v, min, min, max);
  }

  private integerIn(v: JsonValue, fallback: i64, min: i64, max: i64): i64 {
    if (v.kind != JsonKind.Number) {
      this.wrongType(v, "an integer");
      return fallback;
    }
    const n = changetype<JsonNumber>(v).value;
    if (n != Math.floor(n) || n < <f64>min || n > <f64>max) {
      this.fail(v.path, jsonText(JsonText.Expected) + "an integer from " + min.toString() + " to " + max.toString());
      return fallback;
    }
    return <i64>n;
  }

  /**
   * requireOneOf returns the string field `key` when it is one of `allowed`; a missing field, a
   * non-string or another value is recorded (`expected one of "allow", "deny"`) and null returned.
   */
  requireOneOf(obj: JsonObject, key: string, allowed: Array<string>): string | null {
    const v = this.field(obj, key, true);
    return v === null ? null : this.oneOf(v, allowed);
  }

  /** optionalOneOf returns the string field `key` when it is one of `allowed`, `fallback` when absent, or `fallback` after recording another value. */
  optionalOneOf(obj: JsonObject, key: string, allowed: Array<string>, fallback: string): string {
    const v = this.field(obj, key, false);
    if (v === null) return fallback;
    const s = this.oneOf(v, allowed);
    return s === null ? fallback : s;
  }

  private oneOf(v: JsonValue, allowed: Array<string>): string | null {
    let list = "";
    for (let i = 0; i < allowed.length; i++) list += (i > 0 ? ", " : "") + '"' + unchecked(allowed[i]) + '"';
    if (v.kind != JsonKind.String) {
      this.wrongType(v, "one of " + list);
      return null;
    }
    const s = changetype<JsonString>(v).value;
    if (listed(allowed, s)) return s;
    this.fail(v.path, jsonText(JsonText.Expected) + "one of " + list);
    return null;
  }

  /** optionalBool returns the boolean field `key`, `fallback` when absent or wrong-typed (recorded). */
  optionalBool(obj: JsonObject, key: string, fallback: bool): bool {
    const v = this.field(obj, key, false);
    if (v === null) return fallback;
    if (v.kind == JsonKind.Bool) return changetype<JsonBool>(v).value;
    this.wrongKind(v, JsonKind.Bool);
    return fallback;
  }

  /** requireObject returns the object field `key`, or null after recording a missing or wrong-typed field. */
  requireObject(obj: JsonObject, key: string): JsonObject | null {
    const v = this.field(obj, key, true);
    return v === null ? null : this.asObject(v);
  }

  /** optionalObject returns the object field `key`, or null (recorded only when present with a wrong type). */
  optionalObject(obj: JsonObject, key: string): JsonObject | null {
    const v = this.field(obj, key, false);
    return v === null ? null : this.asObject(v);
  }

  /** requireArray returns the array field `key`, or null after recording a missing or wrong-typed field. */
  requireArray(obj: JsonObject, key: string): JsonArray | null {
    const v = this.field(obj, key, true);
    return v === null ? null : this.asArray(v);
  }

  /** optionalArray returns the array field `key`, or null (recorded only when present with a wrong type). */
  optionalArray(obj: JsonObject, key: string): JsonArray | null {
    const v = this.field(obj, key, false);
    return v === null ? null : this.asArray(v);
  }

  /** allowOnly records "unknown field" for the first key of `obj` not in `allowed` (catches typos); returns ok(). */
  allowOnly(obj: JsonObject, allowed: Array<string>): bool {
    for (let i = 0; i < obj.keys.length; i++) {
      const k = unchecked(obj.keys[i]);
      if (!listed(allowed, k)) {
        this.fail(childPath(obj.path, k), jsonText(JsonText.UnknownField));
        break;
      }
    }
    return this.ok();
  }
}
