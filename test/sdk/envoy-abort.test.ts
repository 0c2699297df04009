// The abort path in real Envoy 1.40: one critical line with message, file and line, proc_exit returns,
// the trap fails the VM, and the stream (and every later one) gets Envoy's fail-closed 503.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";
import { repoRoot } from "./builds.ts";

describe("SDK abort in Envoy 1.40", { timeout: 100_000 }, () => {
  let upstreamHits = 0;
  const upstream = createServer((_req, res) => {
    upstreamHits++;
    res.end("ok\n");
  });
  let envoy: EnvoyInstance | undefined;

  before(async () => {
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    envoy = await startEnvoy({
      clusters: [{ name: "upstream", port: (upstream.address() as AddressInfo).port }],
      filters: [{ name: "abort-filter", wasm: join(repoRoot, "build/test-sdk/abort-filter.wasm") }],
      routes: [{ prefix: "/", cluster: "upstream" }],
    });
  });

  after(async () => {
    await envoy?.stop();
    upstream.close();
  });

  it("should pass an ordinary request", async () => {
    const res = await fetch(`${envoy!.url}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok\n");
    assert.equal(upstreamHits, 1);
  });

  it("should log one critical abort line and fail the stream closed without reaching the upstream", async () => {
    const res = await fetch(`${envoy!.url}/`, { headers: { "x-abort": "token store unavailable" } });
    assert.equal(res.status, 503);
    await res.arrayBuffer();
    const line = await envoy!.waitForLog((l) => l.message.startsWith("abort: "));
    assert.equal(line.level, "critical");
    assert.match(line.message, /^abort: token store unavailable at test\/sdk\/harness\/abort-filter\.ts\(\d+:\d+\)$/);
    assert.equal(envoy!.logs().filter((l) => l.message.startsWith("abort: ")).length, 1);
    assert.equal(upstreamHits, 1);
  });

  it("should keep failing closed on the failed VM", async () => {
    const res = await fetch(`${envoy!.url}/`);
    assert.equal(res.status, 503);
    await res.arrayBuffer();
    assert.equal(upstreamHits, 1);
  });
});
