// Byte-valued headers in the emulator and the SDK's two ways to read them (lossy get(), byte-exact
// getBytes()), and the configuration reader's required, range-checked integer and string enums;
// through test/sdk/harness/bytes-config.ts on both builds.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createChain, createHost } from "proxy-wasm-host-emulator";
import { bothBuilds } from "./builds.ts";

const raw = new Uint8Array([0xff, 0x85, 0xc3, 0x28]);
const request = (value: string | Uint8Array): [string | Uint8Array, string | Uint8Array][] => [[":method", "GET"], [":path", "/"], [":authority", "hub"], ["x-raw", value]];

/** Bad configurations and the one critical line each must produce. */
const badConfigs: [string, unknown, string][] = [
  ["limit missing", { mode: "allow" }, "config-test: config.limit: required field is missing"],
  ["limit below the range", { limit: 0, mode: "allow" }, "config-test: config.limit: expected an integer from 1 to 1000"],
  ["limit above the range", { limit: 1001, mode: "allow" }, "config-test: config.limit: expected an integer from 1 to 1000"],
  ["limit a fraction", { limit: 2.5, mode: "allow" }, "config-test: config.limit: expected an integer from 1 to 1000"],
  ["limit a string", { limit: "10", mode: "allow" }, "config-test: config.limit: expected an integer, got a string"],
  ["mode missing", { limit: 10 }, "config-test: config.mode: required field is missing"],
  ["mode not in the enum", { limit: 10, mode: "maybe" }, 'config-test: config.mode: expected one of "allow", "deny"'],
  ["mode a number", { limit: 10, mode: 3 }, 'config-test: config.mode: expected one of "allow", "deny", got a number'],
  ["optional enum wrong", { limit: 10, mode: "deny", log: "verbose" }, 'config-test: config.log: expected one of "quiet", "loud"'],
];

for (const build of bothBuilds("build/test-sdk", "bytes-config")) {
  describe(`byte headers and config checks (${build.label})`, () => {
    const wasm = readFileSync(build.path);

    it("should pass header bytes that are not UTF-8 unchanged, and decode them with U+FFFD in get()", async () => {
      const host = await createHost({ wasm, rootId: "utf8" });
      assert.equal(host.start().ok, true);
      const stream = host.http();
      assert.equal(stream.callOnRequestHeaders(request(raw), true), "Continue");
      const bytes = new Map(stream.getCurrentRequestHeaderBytes().map(([k, v]) => [Buffer.from(k).toString("latin1"), v]));
      assert.deepEqual(bytes.get("x-raw"), raw);
      assert.deepEqual(bytes.get("x-echo"), raw, "getBytes + addBytes is byte-exact");
      const text = new Map(stream.getCurrentRequestHeaders());
      assert.equal(text.get("x-decoded"), "\uFFFD\uFFFD\uFFFD(", "each maximal invalid subpart is one U+FFFD");
      assert.equal(text.get("x-valid"), "false");
      assert.equal(text.get("x-length"), "4");
      assert.deepEqual(host.getLogs("critical"), []);
    });

    it("should take byte-valued request headers in a chain exchange too", async () => {
      const chain = await createChain({ filters: [{ wasm, rootId: "utf8", name: "utf8" }] });
      const res = await chain.exchange({ path: "/", headers: [["x-raw", raw]] });
      assert.equal(res.status, 200);
      const upstream = new Map(res.upstreamRequest?.headers);
      assert.equal(upstream.get("x-length"), "4");
      assert.equal(upstream.get("x-valid"), "false");
      assert.equal(upstream.get("x-decoded"), "\uFFFD\uFFFD\uFFFD(");
      await chain.close();
    });

    it("should decode valid UTF-8 (text or bytes) unchanged", async () => {
      const host = await createHost({ wasm, rootId: "utf8" });
      assert.equal(host.start().ok, true);
      for (const value of ["grüße 😀", new TextEncoder().encode("grüße 😀")]) {
        const stream = host.http();
        stream.callOnRequestHeaders(request(value), true);
        const text = new Map(stream.getCurrentRequestHeaders());
        assert.equal(text.get("x-decoded"), "grüße 😀");
        assert.equal(text.get("x-valid"), "true");
        assert.equal(text.get("x-length"), "12");
      }
    });

    it("should read a required integer in range, a required enum and an optional enum", async () => {
      const host = await createHost({ wasm, rootId: "config", pluginConfig: { limit: 1000, mode: "deny", log: "loud" } });
      assert.equal(host.start().ok, true);
      assert.deepEqual(host.getLogs("info").map((l) => l.message), ["config-test: limit=1000 mode=deny log=loud"]);
    });

    for (const [label, config, line] of badConfigs) {
      it(`should refuse a configuration with one line naming the field (${label})`, async () => {
        const host = await createHost({ wasm, rootId: "config", pluginConfig: config as object });
        assert.equal(host.start().failState, "configureFailed");
        assert.deepEqual(host.getLogs("critical").map((l) => l.message), [line]);
      });
    }
  });
}
