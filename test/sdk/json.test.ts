// The SDK's JSON reader: values, paths, and every error path with its offset.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

function check(host: MiniHost, text: string): string {
  const bytes = new TextEncoder().encode(text);
  const memory = () => new Uint8Array((host.exports.memory as unknown as WebAssembly.Memory).buffer);
  const ptr = host.exports.malloc(Math.max(bytes.length, 1));
  memory().set(bytes, ptr);
  const size = host.exports.check(ptr, bytes.length);
  return new TextDecoder().decode(memory().slice(host.exports.resultPtr(), host.exports.resultPtr() + size));
}

const valid: [string, string][] = [
  ["null", "null"],
  [" true ", "true"],
  ["false", "false"],
  ["0", "num(0.0)"],
  ["-12.5e2", "num(-1250.0)"],
  ["1E-2", "num(0.01)"],
  ['"a\\"b\\\\c\\/d\\n"', 'str(a"b\\c/d\n)@config'],
  ['"\\u00e9\\u2713"', "str(é✓)@config"],
  ['"\\ud83d\\ude00"', "str(😀)@config"],
  ['"grüße"', "str(grüße)@config"],
  ["[]", "[]"],
  ["{}", "{}"],
  ['{"a":[1,{"b":"x"}]}', "{a=[num(1.0),{b=str(x)@config.a[1].b}]}"],
  ['{"z":1,"a":2}', "{z=num(1.0),a=num(2.0)}"],
  ["[".repeat(64) + "]".repeat(64), "[".repeat(64) + "]".repeat(64)],
];

const invalid: [string, string, string][] = [
  ["empty input", "", "error@0: unexpected end of input"],
  ["only spaces", "   ", "error@3: unexpected end of input"],
  ["bare word", "nul", "error@0: unexpected character"],
  ["unterminated string", '"abc', "error@4: unexpected end of input"],
  ["unterminated object", '{"a":1', "error@6: unexpected end of input"],
  ["missing colon", '{"a" 1}', "error@5: unexpected character"],
  ["unquoted key", "{a:1}", "error@1: unexpected character"],
  ["trailing comma in array", "[1,]", "error@3: unexpected character"],
  ["trailing comma in object", '{"a":1,}', "error@7: unexpected character"],
  ["missing comma", "[1 2]", "error@3: unexpected character"],
  ["bad escape", '"a\\x"', "error@3: invalid escape sequence"],
  ["short unicode escape", '"\\u12"', "error@3: invalid escape sequence"],
  ["raw newline in string", '"a\nb"', "error@2: control character in string"],
  ["leading zero", "01", "error@1: unexpected data after the JSON value"],
  ["dot without digits", "1.", "error@2: invalid number"],
  ["lone minus", "-", "error@1: invalid number"],
  ["exponent without digits", "1e+", "error@3: invalid number"],
  ["trailing data", '{"a":1} x', "error@8: unexpected data after the JSON value"],
  ["duplicate key", '{"a":1,"a":2}', 'error@7: duplicate key "a"'],
  ["nesting deeper than 64", "[".repeat(66) + "]".repeat(66), "error@65: nesting too deep"],
];

// Numbers read without strtod must land on the same f64 as JSON.parse: integers up to 2^53, the
// decimals configurations use, zeros, exponents, and numbers past 19 significant digits.
const numbers = [
  "0", "7", "1000", "9007199254740991", "-9007199254740991", "9007199254740993", "18446744073709551615",
  "0.1", "0.2", "0.3", "1.5", "-2.75", "123.456", "0.000123", "3.14159", "99.99", "1e3", "2.5E-3", "1e22", "1e-22",
  "12345678901234567890123", "0.1234567890123456789", "60.0", "1e400", "-1e400", "1e-400",
];

for (const build of bothBuilds("build/test-sdk", "json-harness")) {
  describe(`JSON number reader (${build.label})`, () => {
    for (const text of numbers) {
      it(`should read ${text} as JSON.parse does`, async () => {
        const host = await MiniHost.load(build.path);
        const out = /^num\((.*)\)$/.exec(check(host, text));
        assert.ok(out, `not a number: ${check(host, text)}`);
        assert.ok(Object.is(Number(out[1]), JSON.parse(text)), `${text} read as ${out[1]}`);
      });
    }
  });
}

for (const build of bothBuilds("build/test-sdk", "json-harness")) {
  describe(`JSON reader (${build.label})`, () => {
    for (const [text, expected] of valid) {
      it(`should parse ${JSON.stringify(text.slice(0, 40))}`, async () => {
        const host = await MiniHost.load(build.path);
        assert.equal(check(host, text), expected);
      });
    }
    for (const [name, text, expected] of invalid) {
      it(`should reject ${name} with its offset`, async () => {
        const host = await MiniHost.load(build.path);
        assert.equal(check(host, text), expected);
      });
    }
  });
}
