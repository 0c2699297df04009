// add-header through the emulator (filters/host), run against both the release and the debug build
// (Go vmTest style: the same test twice, once on what ships and once on the readable build).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createChain, createHost } from "proxy-wasm-host-emulator";

const root = fileURLToPath(new URL("../..", import.meta.url));
const exampleConfig = readFileSync(join(root, "filters/add-header/config.example.json"), "utf8");
const config = { request: [{ name: "x-a", value: "1" }, { name: "X-Tenant", value: "grüße" }], response: [{ name: "x-b", value: "2" }] };

/** Bad configurations and the one critical line each must produce. */
const badConfigs: [string, string, string][] = [
  ["empty", "", "add-header: config: configuration is empty"],
  ["only whitespace", " \n\t ", "add-header: config: configuration is empty"],
  ["only Unicode spaces (String#trim's sense)", "\u00a0\u3000\ufeff", "add-header: config: configuration is empty"],
  ["cut short", '{"request":[', "add-header: config: invalid JSON at offset 12: unexpected end of input"],
  ["bad escape", '{"request":"\\x"}', "add-header: config: invalid JSON at offset 13: invalid escape sequence"],
  ["not JSON", "{request:[]}", "add-header: config: invalid JSON at offset 1: unexpected character"],
  ["not an object", "[]", "add-header: config: expected an object, got an array"],
  ["request not an array", '{"request":{"name":"x"}}', "add-header: config.request: expected an array, got an object"],
  ["entry not an object", '{"request":["x-a: 1"]}', "add-header: config.request[0]: expected an object, got a string"],
  ["value not a string", '{"request":[{"name":"x-a","value":"1"},{"name":"x-b","value":2}]}', "add-header: config.request[1].value: expected a string, got a number"],
  ["missing name", '{"response":[{"value":"1"}]}', "add-header: config.response[0].name: required field is missing"],
  ["unknown top-level field", '{"requests":[]}', "add-header: config.requests: unknown field"],
  ["unknown entry field", '{"request":[{"name":"x","value":"1","mode":"add"}]}', "add-header: config.request[0].mode: unknown field"],
  ["bad header name", '{"request":[{"name":"x a","value":"1"}]}', "add-header: config.request[0].name: expected a header name (letters, digits and !#$%&'*+-.^_`|~)"],
  ["non-ASCII header name", '{"request":[{"name":"grüße","value":"1"}]}', "add-header: config.request[0].name: expected a header name (letters, digits and !#$%&'*+-.^_`|~)"],
  ["header name with a character past U+00FF", '{"request":[{"name":"x\u0141","value":"1"}]}', "add-header: config.request[0].name: expected a header name (letters, digits and !#$%&'*+-.^_`|~)"],
  ["header name with @", '{"request":[{"name":"x@y","value":"1"}]}', "add-header: config.request[0].name: expected a header name (letters, digits and !#$%&'*+-.^_`|~)"],
  ["pseudo-header name", '{"request":[{"name":":path","value":"/x"}]}', "add-header: config.request[0].name: expected a header name (letters, digits and !#$%&'*+-.^_`|~)"],
  ["CRLF in value", '{"response":[{"name":"x-a","value":"1\\r\\nx-evil: 1"}]}', "add-header: config.response[0].value: header value must not contain CR, LF or NUL"],
];

for (const build of ["add-header.wasm", "add-header.debug.wasm"]) {
  const path = join(root, "build/filters", build);
  describe(`add-header (${build})`, () => {
    it("should be built", () => {
      assert.ok(existsSync(path), `${path} is missing: run \`npm run build\``);
    });

    it("should add the configured request and response headers", async () => {
      const host = await createHost({ wasm: readFileSync(path), pluginConfig: config, rootId: "add_header" });
      assert.deepEqual(host.start(), { ok: true, failState: "ok" });
      // Initialize http context, then call onRequestHeaders.
      const stream = host.http();
      assert.equal(stream.callOnRequestHeaders([[":method", "GET"], [":path", "/"], [":authority", "hub"], ["x-a", "0"]], true), "Continue");
      // Check the request headers as they go upstream: added after the existing ones, names lowercased.
      assert.deepEqual(stream.getCurrentRequestHeaders(), [
        [":method", "GET"],
        [":path", "/"],
        [":authority", "hub"],
        ["x-a", "0"],
        ["x-a", "1"],
        ["x-tenant", "grüße"],
      ]);
      // Call onResponseHeaders and check the response headers.
      assert.equal(stream.callOnResponseHeaders([[":status", "200"]], true), "Continue");
      assert.deepEqual(stream.getCurrentResponseHeaders(), [[":status", "200"], ["x-b", "2"]]);
      assert.equal(stream.getSentLocalResponse(), undefined);
      stream.complete();
      // Check logs: one info line at configure, nothing per stream at info level.
      assert.deepEqual(
        host.getLogs().map((l) => [l.level, l.message]),
        [["info", "add-header: adding 2 request and 1 response headers"]],
      );
    });

    it("should log each stream's additions at debug level", async () => {
      const host = await createHost({ wasm: readFileSync(path), pluginConfig: config, logLevel: "debug" });
      assert.equal(host.start().ok, true);
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"]], true);
      stream.callOnResponseHeaders([[":status", "204"]], true);
      stream.complete();
      assert.deepEqual(
        host.getLogs("debug").map((l) => l.message),
        ["add-header: added 2 request headers", "add-header: added 1 response headers"],
      );
    });

    it("should run the example configuration end to end through a filter chain", async () => {
      const chain = await createChain({ filters: [{ wasm: readFileSync(path), pluginConfig: exampleConfig, name: "add-header" }] });
      const result = await chain.exchange({ method: "GET", path: "/v2/", headers: { host: "hub.local" } }, (request) => {
        assert.equal(request.headers.find(([k]) => k === "x-request-source")?.[1], "envoy-wasm");
        return { status: 200, headers: [["content-type", "text/plain"]], body: "hello\n" };
      });
      assert.equal(result.status, 200);
      assert.equal(result.body, "hello\n");
      assert.deepEqual(
        result.upstreamRequest?.headers.filter(([k]) => k.startsWith("x-request-source") || k === "x-tenant"),
        [["x-request-source", "envoy-wasm"], ["x-tenant", "demo"]],
      );
      assert.equal(result.headers.find(([k]) => k === "x-powered-by")?.[1], "add-header.wasm");
      assert.equal(result.localReply, undefined);
      assert.deepEqual(result.logs.filter((l) => l.level !== "info"), []);
    });

    it("should accept every token character in a name and lowercase only A-Z", async () => {
      const name = "AZaz09!#$%&'*+-.^_`|~";
      const host = await createHost({ wasm: readFileSync(path), pluginConfig: { request: [{ name, value: "v" }] } });
      assert.equal(host.start().ok, true);
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"]], true);
      assert.deepEqual(stream.getCurrentRequestHeaders(), [[":path", "/"], ["azaz09!#$%&'*+-.^_`|~", "v"]]);
    });

    it("should accept {} and add nothing", async () => {
      const host = await createHost({ wasm: readFileSync(path), pluginConfig: "{}" });
      assert.equal(host.start().ok, true);
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"]], true);
      assert.deepEqual(stream.getCurrentRequestHeaders(), [[":path", "/"]]);
    });

    for (const [name, bad, line] of badConfigs) {
      it(`should refuse a bad configuration (${name}) with one critical log naming the problem`, async () => {
        const host = await createHost({ wasm: readFileSync(path), pluginConfig: bad });
        const result = host.start();
        assert.equal(result.ok, false);
        assert.equal(result.failState, "configureFailed");
        assert.deepEqual(
          host.getLogs().filter((l) => l.source === "wasm").map((l) => [l.level, l.message]),
          [["critical", line]],
        );
        // Envoy's own line says the plugin refused its configuration.
        assert.ok(host.getLogs().some((l) => l.source === "envoy" && l.message.includes("proxy_on_configure returned false")));
      });
    }
  });
}
