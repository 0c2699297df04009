// Emulator tests in the style of Go's proxytest: a request goes in, then the test asserts on headers,
// the local reply, logs and metrics. `npm test` builds first; every test runs on the release build
// (what ships) and on the debug build (readable traps).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createHost } from "proxy-wasm-host-emulator";
import { errorLogs, header, startFilter } from "proxy-wasm-host-emulator/testing";

const config = JSON.parse(readFileSync("config.json", "utf8"));
const rootId = "__NAME__";

for (const wasm of ["build/__NAME__.wasm", "build/__NAME__.debug.wasm"]) {
  describe(`__NAME__ (${wasm})`, () => {
    it("should add the configured header to the response", async () => {
      const host = await startFilter({ wasm, pluginConfig: config, rootId });
      const stream = host.http();
      assert.equal(stream.callOnRequestHeaders([[":method", "GET"], [":path", "/"], [":authority", "example.com"]], true), "Continue");
      assert.equal(stream.callOnResponseHeaders([[":status", "200"], ["content-type", "text/plain"]], true), "Continue");
      assert.equal(header(stream.getCurrentResponseHeaders(), config.header), config.value);
      assert.equal(stream.getSentLocalResponse(), undefined);
      stream.complete();
      assert.equal(host.getCounter("__NAME__.responses"), 1n);
      assert.deepEqual(host.getLogs("info").map((l) => l.message), [`__NAME__: adding ${config.header}: ${config.value}`]);
      assert.deepEqual(errorLogs(host), []);
    });

    it("should answer 403 itself under the blocked path", async () => {
      const host = await startFilter({ wasm, pluginConfig: { ...config, blockedPath: "/admin" }, rootId });
      const stream = host.http();
      assert.equal(stream.callOnRequestHeaders([[":method", "GET"], [":path", "/admin/users"], [":authority", "example.com"]], true), "StopAllIterationAndWatermark");
      const reply = stream.getSentLocalResponse();
      assert.equal(reply?.status, 403);
      assert.equal(reply?.details, "__NAME___blocked");
      assert.equal(new TextDecoder().decode(reply?.body), "blocked by __NAME__\n");
      assert.equal(host.getCounter("__NAME__.blocked"), 1n);
      assert.equal(host.getCounter("__NAME__.responses"), undefined, "a counter is undefined until its first increment");
      assert.deepEqual(errorLogs(host), []);
    });

    it("should refuse a configuration without a header, naming the field", async () => {
      const host = await createHost({ wasm: readFileSync(wasm), pluginConfig: { value: "world" }, rootId });
      assert.deepEqual(host.start().failState, "configureFailed");
      assert.deepEqual(host.getLogs("critical").map((l) => l.message), ["__NAME__: config.header: required field is missing"]);
    });
  });
}
