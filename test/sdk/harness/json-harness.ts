// Exposes the SDK's JSON reader to test/sdk/json.test.ts: check(ptr, len) parses UTF-8 JSON and
// leaves a description in result(): a canonical form of the value, or "error@<offset>: <message>".
export * from "proxy-wasm-as-sdk/abi/exports";
import { JsonArray, JsonBool, JsonKind, JsonNumber, JsonObject, JsonString, JsonValue, parseJson } from "proxy-wasm-as-sdk";

let result = new ArrayBuffer(0);

function describe(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Null:
      return "null";
    case JsonKind.Bool:
      return changetype<JsonBool>(v).value ? "true" : "false";
    case JsonKind.Number:
      return "num(" + changetype<JsonNumber>(v).value.toString() + ")";
    case JsonKind.String:
      return "str(" + changetype<JsonString>(v).value + ")@" + v.path;
    case JsonKind.Array: {
      const a = changetype<JsonArray>(v);
      const parts = new Array<string>();
      for (let i = 0; i < a.items.length; i++) parts.push(describe(a.items[i]));
      return "[" + parts.join(",") + "]";
    }
    default: {
      const o = changetype<JsonObject>(v);
      const parts = new Array<string>();
      for (let i = 0; i < o.keys.length; i++) parts.push(o.keys[i] + "=" + describe(o.get(o.keys[i])!));
      return "{" + parts.join(",") + "}";
    }
  }
}

/** check parses `len` bytes of UTF-8 JSON at `ptr`; returns the size of the description at resultPtr(). */
export function check(ptr: usize, len: usize): i32 {
  const text = String.UTF8.decodeUnsafe(ptr, len);
  const r = parseJson(text);
  const v = r.value;
  const out = v === null ? "error@" + r.offset.toString() + ": " + r.error : describe(v);
  result = String.UTF8.encode(out);
  return result.byteLength;
}

/** resultPtr returns the address of the last description. */
export function resultPtr(): usize {
  return changetype<usize>(result);
}
