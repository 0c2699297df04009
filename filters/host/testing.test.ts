// The node:test helper layer (testing.ts): startFilter's refusals name the problem, and the header
// readers are case-insensitive and keep repeated headers apart.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { errorLogs, header, headerValues, startFilter } from "./testing.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const addHeader = join(root, "build/filters/add-header.wasm");

describe("testing helpers", () => {
  it("should be given a built module", () => {
    assert.ok(existsSync(addHeader), `${addHeader} is missing: run \`npm run build\``);
  });

  it("should start a module given by path and run a stream through it", async () => {
    const host = await startFilter({ wasm: addHeader, rootId: "add_header", pluginConfig: { response: [{ name: "x-b", value: "2" }] } });
    const stream = host.http();
    stream.callOnRequestHeaders([[":path", "/"]], true);
    stream.callOnResponseHeaders([[":status", "200"]], true);
    assert.equal(header(stream.getCurrentResponseHeaders(), "X-B"), "2");
    assert.deepEqual(errorLogs(host), []);
  });

  it("should name a missing module and say to build it", async () => {
    await assert.rejects(startFilter({ wasm: "build/filters/nope.wasm" }), { message: "build/filters/nope.wasm does not exist: build the filter first (npm run build)" });
  });

  it("should reject a refused start with the fail state and the plugin's log lines", async () => {
    await assert.rejects(startFilter({ wasm: addHeader, rootId: "add_header", pluginConfig: '{"request":[{"name":"x-a","value":2}]}' }), {
      message:
        "the plugin did not start (configureFailed: Unable to configure Wasm plugin add_header: proxy_on_configure returned false)\n" +
        "  critical: add-header: config.request[0].value: expected a string, got a number",
    });
  });

  it("should read header values case-insensitively and keep repeated headers apart", () => {
    const headers: [string, string][] = [["cookie", "a=1"], ["Cookie", "b=2"], ["x-one", "1"]];
    assert.deepEqual(headerValues(headers, "COOKIE"), ["a=1", "b=2"]);
    assert.equal(header(headers, "cookie"), "a=1");
    assert.equal(header(headers, "x-missing"), undefined);
    assert.deepEqual(headerValues(headers, "x-missing"), []);
  });
});
