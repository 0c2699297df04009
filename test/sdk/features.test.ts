// The SDK's hostcall wrappers and callbacks through the emulator (filters/host), on both builds of
// test/sdk/harness/features.ts: root-id dispatch, HTTP callouts with an object callback, shared data
// with CAS, metrics, properties, the clock and ticks, and body rewriting.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createHost, type HostOptions } from "proxy-wasm-host-emulator";
import { bothBuilds } from "./builds.ts";

for (const build of bothBuilds("build/test-sdk", "features")) {
  const start = async (options: Omit<HostOptions, "wasm">) => {
    const host = await createHost({ wasm: readFileSync(build.path), ...options });
    return { host, started: host.start() };
  };

  describe(`SDK features (${build.label})`, () => {
    for (const rootId of ["alpha", "beta"]) {
      it(`should dispatch root id ${rootId} to its own root context`, async () => {
        const { host, started } = await start({ rootId });
        assert.equal(started.ok, true);
        const stream = host.http();
        stream.callOnRequestHeaders([[":path", "/"]], true);
        stream.callOnResponseHeaders([[":status", "200"]], true);
        assert.deepEqual(stream.getCurrentResponseHeaders(), [[":status", "200"], ["x-root", rootId]]);
      });
    }

    it("should refuse a root id no factory was registered for, naming it", async () => {
      const { host, started } = await start({ rootId: "gamma" });
      assert.equal(started.ok, false);
      assert.equal(started.failState, "startFailed");
      assert.deepEqual(
        host.getLogs("critical").map((l) => l.message),
        ['proxy-wasm sdk: no root context registered for root id "gamma"'],
      );
    });

    it("should pause for a callout and continue with the answer on the calling stream", async () => {
      const { host, started } = await start({
        rootId: "callout",
        clusters: { auth: (req) => ({ status: 200, body: `ok:${req.headers.find(([k]) => k === "x-user")?.[1]}` }) },
      });
      assert.equal(started.ok, true);
      const stream = host.http();
      assert.equal(stream.callOnRequestHeaders([[":path", "/x"], ["x-user", "alice"]], true), "StopAllIterationAndWatermark");
      await host.awaitPending();
      assert.equal(stream.continued.request, 1);
      assert.deepEqual(stream.getCurrentRequestHeaders(), [[":path", "/x"], ["x-user", "alice"], ["x-auth", "ok:alice"]]);
      assert.equal(stream.getSentLocalResponse(), undefined);
    });

    it("should send a local reply from the callout answer when the check fails", async () => {
      const { host } = await start({ rootId: "callout", clusters: { auth: null } });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/x"], ["x-user", "mallory"]], true);
      const [callout] = host.getCallouts();
      assert.deepEqual(callout.headers.slice(0, 3), [[":method", "GET"], [":path", "/check"], [":authority", "auth"]]);
      host.respondCallout(callout.token, { status: 401, body: "no" });
      const reply = stream.getSentLocalResponse();
      assert.equal(reply?.status, 403);
      assert.equal(new TextDecoder().decode(reply?.body), "denied\n");
      assert.deepEqual(reply?.headers, [["x-auth-status", "401"]]);
      assert.equal(reply?.details, "auth_denied");
      assert.equal(stream.continued.request, 0);
    });

    it("should report a failed callout through getStatus", async () => {
      const { host } = await start({ rootId: "callout", clusters: { auth: null } });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/x"]], true);
      host.respondCallout(host.getCallouts()[0].token, { failure: true });
      const reply = stream.getSentLocalResponse();
      assert.equal(reply?.status, 502);
      assert.equal(new TextDecoder().decode(reply?.body), "11 reset\n");
    });

    it("should drop a callout answer for a stream that is already gone", async () => {
      const { host } = await start({ rootId: "callout", clusters: { auth: null } });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/x"]], true);
      const [callout] = host.getCallouts();
      stream.complete();
      host.respondCallout(callout.token, { status: 200, body: "late" });
      assert.equal(stream.getSentLocalResponse(), undefined);
      assert.equal(stream.continued.request, 0);
      assert.equal(host.vmState(0), "ok");
      assert.deepEqual(host.getLogs("critical"), []);
      // The VM still serves new streams.
      const next = host.http();
      assert.equal(next.callOnRequestHeaders([[":path", "/y"]], true), "StopAllIterationAndWatermark");
    });

    it("should deliver one queue-ready callback per enqueue and drain in order", async () => {
      const { host, started } = await start({ rootId: "queue" });
      assert.equal(started.ok, true);
      for (const path of ["/a", "/b"]) {
        const stream = host.http();
        stream.callOnRequestHeaders([[":path", path]], true);
        stream.complete();
      }
      host.runPending();
      assert.deepEqual(
        host.getLogs("info").map((l) => l.message),
        ["queue: /a", "queue: empty", "queue: /b", "queue: empty"],
      );
    });

    it("should report a refused callout (unknown cluster) through lastResult", async () => {
      const { host } = await start({ rootId: "callout" });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/x"]], true);
      const reply = stream.getSentLocalResponse();
      assert.equal(reply?.status, 500);
      assert.equal(new TextDecoder().decode(reply?.body), "callout refused: 2\n");
    });

    it("should count with shared-data CAS, metrics, properties and the clock, and tick", async () => {
      const { host, started } = await start({ rootId: "state", workers: 2 });
      assert.equal(started.ok, true);
      const seen: [string, string][][] = [];
      for (let i = 0; i < 4; i++) {
        const stream = host.http();
        stream.callOnRequestHeaders([[":path", `/p${i}`]], true);
        seen.push(stream.getCurrentRequestHeaders());
        stream.complete();
      }
      // Shared data is process-wide, so the count runs across both worker VMs.
      assert.deepEqual(seen.map((h) => h.find(([k]) => k === "x-hits")?.[1]), ["1", "2", "3", "4"]);
      assert.deepEqual(seen.map((h) => h.find(([k]) => k === "x-path")?.[1]), ["/p0", "/p1", "/p2", "/p3"]);
      assert.ok(seen.every((h) => h.find(([k]) => k === "x-missing-property")?.[1] === "1"), "NotFound is WasmResult 1");
      assert.ok(seen.every((h) => Number(h.find(([k]) => k === "x-time-ms")?.[1]) > 0));
      // 8-byte integer and 1-byte boolean properties decode; a string property is not an integer.
      assert.ok(seen.every((h) => /^\d+$/.test(h.find(([k]) => k === "x-conn-id")?.[1] ?? "")), "connection.id decodes as an integer");
      assert.ok(seen.every((h) => h.find(([k]) => k === "x-mtls")?.[1] === "false"));
      assert.ok(seen.every((h) => h.find(([k]) => k === "x-int-of-string")?.[1] === "-7/3"), "fallback and SerializationFailure");
      assert.equal(host.getCounter("features.requests"), 4n);
      assert.equal(host.getGauge("features.in_flight"), 0n);
      host.advanceTime(1000);
      assert.deepEqual(
        host.getLogs("info").map((l) => l.message),
        ["tick: hits=4", "tick: hits=4"],
      );
    });

    it("should read back through a snapshot what was written through it, decoded as the host would answer", async () => {
      const { host } = await start({ rootId: "snapshot" });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"], ["x-other", "1"]], true);
      const headers = new Map(stream.getCurrentRequestHeaders());
      assert.equal(headers.get("x-wrote"), "yes");
      // A plain value is the written string; one with a lone surrogate went out as WTF-8 (ED A0 80),
      // which reads back as three U+FFFD, never as the surrogate the filter wrote.
      assert.equal(headers.get("x-read-plain"), "plain-2");
      assert.equal(headers.get("x-read-lone"), "97,65533,65533,65533,98");
      assert.equal(headers.get("x-found-length"), String("plain-2".length));
      assert.equal(headers.get("x-has-missing"), "no");
    });

    it("should rewrite the buffered response body", async () => {
      const { host } = await start({ rootId: "body" });
      const stream = host.http();
      stream.callOnRequestHeaders([[":path", "/"]], true);
      stream.callOnResponseHeaders([[":status", "200"]], false);
      assert.equal(stream.callOnResponseBody("hello ", false), "StopIterationAndBuffer");
      assert.equal(stream.callOnResponseBody("world", true), "Continue");
      assert.equal(new TextDecoder().decode(stream.getCurrentResponseBody()), "<HELLO WORLD>");
    });
  });
}
