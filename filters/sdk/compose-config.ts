// A composition hands each filter its own part of the configuration as text: the JSON reader keeps
// no source positions, so the parsed value is written back. Escapes make the text read back as the
// same value (strings byte for byte, numbers as the same f64).
import { JsonArray, JsonBool, JsonKind, JsonNumber, JsonObject, JsonString, JsonValue } from "./json";

/** jsonText renders a parsed value back to JSON text (for the filter of a composition that owns it); never fails. */
export function jsonText(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return changetype<JsonBool>(v).value ? "true" : "false";
    case JsonKind.Number: {
      const n = changetype<JsonNumber>(v).value;
      // Integers print without AssemblyScript's ".0"; JSON has no NaN or Infinity to meet here.
      return n == Math.trunc(n) && Math.abs(n) < 9007199254740992 ? (<i64>n).toString() : n.toString();
    }
    case JsonKind.String: return quote(changetype<JsonString>(v).value);
    case JsonKind.Array: {
      const items = changetype<JsonArray>(v).items;
      const parts = new Array<string>(items.length);
      for (let i = 0; i < items.length; i++) unchecked((parts[i] = jsonText(unchecked(items[i]))));
      return "[" + parts.join(",") + "]";
    }
    default: {
      const o = changetype<JsonObject>(v);
      const parts = new Array<string>(o.keys.length);
      for (let i = 0; i < o.keys.length; i++) {
        const key = unchecked(o.keys[i]);
        unchecked((parts[i] = quote(key) + ":" + jsonText(o.get(key)!)));
      }
      return "{" + parts.join(",") + "}";
    }
  }
}

// @ts-ignore: decorator
@lazy const HEX = "0123456789abcdef";

/** quote escapes `"`, `\`, control characters and lone surrogates, so the text reads back identical. */
function quote(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escape = c < 0x20 || c == 0x22 || c == 0x5c;
    if (c >= 0xd800 && c <= 0xdfff) {
      const paired = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (paired) {
        i++;
        continue;
      }
      escape = true;
    }
    if (!escape) continue;
    out += s.substring(start, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else out += "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) + HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
    start = i + 1;
  }
  return out + s.substring(start) + "\"";
}
