// Memory stays flat: 100,000 streams through add-header grow linear memory by at most a few pages.
// Envoy never calls the GC from outside, so this holds only if the SDK frees what the host hands it and
// leaves no per-stream garbage the collector (run by the SDK between callbacks) cannot keep up with.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { createHost } from "proxy-wasm-host-emulator";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const STREAMS = 100_000;
const PAGE = 65_536;
const MAX_GROWTH_PAGES = 4;
const config = JSON.stringify({
  request: [
    { name: "x-request-source", value: "envoy-wasm" },
    { name: "x-tenant", value: "demo" },
  ],
  response: [{ name: "x-powered-by", value: "add-header.wasm" }],
});

for (const build of bothBuilds("build/filters", "add-header")) {
  describe(`add-header memory (${build.label})`, () => {
    it(`should grow linear memory by at most ${MAX_GROWTH_PAGES} pages over ${STREAMS} streams`, { timeout: 110_000 }, async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: config });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
      // The first stream sizes the maps and the allocator; growth is measured after it.
      host.stream([[":path", "/"]], [[":status", "200"]]);
      const start = host.memoryBytes();
      const deadline = Date.now() + 100_000;
      let last = host.stream([[":path", "/"]], [[":status", "200"]]);
      for (let i = 1; i < STREAMS && Date.now() < deadline; i++) last = host.stream([[":path", "/"]], [[":status", "200"]]);
      assert.ok(Date.now() < deadline, "the loop hit its time bound before finishing");
      const growth = (host.memoryBytes() - start) / PAGE;
      assert.ok(growth <= MAX_GROWTH_PAGES, `memory grew by ${growth} pages (${start / PAGE} → ${host.memoryBytes() / PAGE})`);
      // The last stream still behaves: headers added, nothing logged at info beyond the configure line.
      assert.deepEqual(last.request.slice(1), [
        ["x-request-source", "envoy-wasm"],
        ["x-tenant", "demo"],
      ]);
      assert.deepEqual(last.response.slice(1), [["x-powered-by", "add-header.wasm"]]);
      assert.equal(host.logs.length, 1);
      assert.deepEqual(host.exitCodes, []);
    });
  });
}

describe("add-header memory in the emulator (release)", () => {
  it(`should grow linear memory by at most ${MAX_GROWTH_PAGES} pages over ${STREAMS} streams`, { timeout: 110_000 }, async () => {
    const [release] = bothBuilds("build/filters", "add-header");
    const host = await createHost({ wasm: readFileSync(release.path), pluginConfig: config });
    assert.deepEqual(host.start(), { ok: true, failState: "ok" });
    const startPages = host.memoryPages(0);
    const deadline = Date.now() + 100_000;
    let count = 0;
    let stream = host.http();
    for (; count < STREAMS && Date.now() < deadline; count++) {
      stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"]], true);
      stream.callOnResponseHeaders([[":status", "200"]], true);
      stream.complete();
    }
    assert.equal(count, STREAMS, "the loop hit its time bound before finishing");
    const growth = host.memoryPages(0) - startPages;
    assert.ok(growth <= MAX_GROWTH_PAGES, `memory grew by ${growth} pages (${startPages} → ${host.memoryPages(0)})`);
    assert.deepEqual(stream.getCurrentResponseHeaders(), [[":status", "200"], ["x-powered-by", "add-header.wasm"]]);
    assert.deepEqual(host.getLogs("critical"), []);
    assert.equal(host.vmState(0), "ok");
  });
});
