// add-header in real Envoy 1.40 (the emulator's findings are only as good as this check): headers reach
// the upstream and the client, the per-stream debug lines appear, and a bad configuration makes Envoy
// refuse to start with the filter's one critical line.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { EnvoyStartError, startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";

const root = fileURLToPath(new URL("../..", import.meta.url));
const wasm = join(root, "build/filters/add-header.wasm");
const exampleConfig = readFileSync(join(root, "filters/add-header/config.example.json"), "utf8");

describe("add-header in Envoy 1.40", { timeout: 100_000 }, () => {
  const seen: IncomingHttpHeaders[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader("content-type", "text/plain");
    res.end("hello from upstream\n");
  });
  let envoy: EnvoyInstance | undefined;

  before(async () => {
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    envoy = await startEnvoy({
      clusters: [{ name: "upstream", port: (upstream.address() as AddressInfo).port }],
      filters: [{ name: "add-header", wasm, rootId: "add_header", configuration: exampleConfig }],
      routes: [{ prefix: "/", cluster: "upstream" }],
      componentLogLevel: { wasm: "debug" },
    });
  });

  after(async () => {
    await envoy?.stop();
    upstream.close();
  });

  it("should add the request headers upstream and the response header downstream", async () => {
    const res = await fetch(`${envoy!.url}/hello`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-powered-by"), "add-header.wasm");
    assert.equal(await res.text(), "hello from upstream\n");
    assert.equal(seen.length, 1);
    assert.equal(seen[0]["x-request-source"], "envoy-wasm");
    assert.equal(seen[0]["x-tenant"], "demo");
    // Check logs: the configure line on every VM, then one debug line per direction for the stream.
    await envoy!.waitForLog((l) => l.message === "add-header: added 1 response headers");
    const logs = envoy!.logs();
    assert.ok(logs.some((l) => l.level === "info" && l.message === "add-header: adding 2 request and 1 response headers"));
    assert.deepEqual(
      logs.filter((l) => l.pluginName === "add-header").map((l) => [l.level, l.message]),
      [
        ["debug", "add-header: added 2 request headers"],
        ["debug", "add-header: added 1 response headers"],
      ],
    );
    assert.deepEqual(logs.filter((l) => l.level === "critical" || l.level === "error"), []);
  });
});

describe("add-header with a bad configuration in Envoy 1.40", { timeout: 100_000 }, () => {
  it("should make Envoy refuse the configuration with one critical line naming the field", async () => {
    const error = await startEnvoy({
      clusters: [{ name: "upstream", port: 9 }],
      filters: [{ name: "add-header", wasm, rootId: "add_header", configuration: '{"request":[{"name":"x-a","value":2}]}' }],
      routes: [{ prefix: "/", cluster: "upstream" }],
    }).then(
      async (envoy) => {
        await envoy.stop();
        return undefined;
      },
      (err: unknown) => err,
    );
    assert.ok(error instanceof EnvoyStartError, `expected EnvoyStartError, got ${String(error)}`);
    const critical = error.wasmLogs.filter((l) => l.level === "critical").map((l) => l.message);
    assert.ok(critical.length >= 1);
    assert.ok(critical.every((m) => m === "add-header: config.request[0].value: expected a string, got a number"), critical.join("\n"));
  });
});
