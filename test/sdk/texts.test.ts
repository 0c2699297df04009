// The SDK's TextTable: a literal table (stored as UTF-8 by the build's transform) and a table built
// from a string at run time give the same lines, non-ASCII included, and "" past either end. decimal()
// writes every i32 as toString() does; encodeUtf8() gives String.UTF8.encode's bytes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

function line(host: MiniHost, built: number, index: number): string {
  const size = host.exports.line(built, index);
  const memory = new Uint8Array((host.exports.memory as unknown as WebAssembly.Memory).buffer);
  return new TextDecoder().decode(memory.slice(host.exports.resultPtr(), host.exports.resultPtr() + size));
}

const expected = ["first", "café → ünïcödé 😀", "", "last"];

for (const build of bothBuilds("build/test-sdk", "texts-harness")) {
  describe(`TextTable (${build.label})`, () => {
    it("should give every line of a literal table and of a built one, and nothing past the ends", async () => {
      const host = await MiniHost.load(build.path);
      for (const built of [0, 1]) {
        assert.deepEqual(expected.map((_, i) => line(host, built, i)), expected, `table ${built}`);
        assert.equal(line(host, built, expected.length), "", `table ${built}, past the end`);
        assert.equal(line(host, built, -1), "", `table ${built}, negative`);
      }
    });

    it("should decode the first n lines at once, the same as get, and \"\" for lines the table lacks", async () => {
      const host = await MiniHost.load(build.path);
      const decoded = (built: number, count: number, index: number): string | null => {
        const size = host.exports.decodedLine(built, count, index);
        if (size < 0) return null;
        const memory = new Uint8Array((host.exports.memory as unknown as WebAssembly.Memory).buffer);
        return new TextDecoder().decode(memory.slice(host.exports.resultPtr(), host.exports.resultPtr() + size));
      };
      for (const built of [0, 1]) {
        assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => decoded(built, 6, i)), [...expected, "", ""], `table ${built}, six of four lines`);
        assert.deepEqual([0, 1, 2].map((i) => decoded(built, 2, i)), [expected[0], expected[1], null], `table ${built}, two lines`);
      }
    });

    it("should write integers in decimal exactly as toString() does", async () => {
      const host = await MiniHost.load(build.path);
      for (const n of [0, 7, -7, 9, 10, 99, 100, 12345, -12345, 999999999, 1000000000, 2147483647, -2147483648]) {
        const size = host.exports.formatted(n);
        assert.ok(size > 0, `decimal(${n}) differs from toString()`);
        const memory = new Uint8Array((host.exports.memory as unknown as WebAssembly.Memory).buffer);
        assert.equal(new TextDecoder().decode(memory.slice(host.exports.resultPtr(), host.exports.resultPtr() + size)), String(n));
      }
    });

    it("should encode strings to the same UTF-8 as String.UTF8.encode, lone surrogates included", async () => {
      const host = await MiniHost.load(build.path);
      for (const seed of [1, 2, 3, 0x5eed]) assert.equal(host.exports.encodingMismatches(5000, seed), 0, `seed ${seed}`);
    });

    it("should keep the literal table's text as UTF-8, not as a UTF-16 string", () => {
      const wasm = readFileSync(build.path);
      assert.ok(wasm.includes(Buffer.from("café → ünïcödé 😀\n\nlast", "utf8")), "UTF-8 bytes of the literal");
      assert.ok(!wasm.includes(Buffer.from("ünïcödé", "utf16le")), "no UTF-16 copy of the literal");
    });
  });
}
