// The µs closed-loop client the benchmark uses when wrk is absent: it must count every response,
// tell non-2xx apart, and report latencies in µs, not ms.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { LOW_QUANTILES, lowQuantile, runUsClient, type WrkResult } from "../../bench/lib/us-client.ts";

describe("runUsClient", () => {
  test("runs a closed loop on one keep-alive connection with per-request header sets, in µs", async () => {
    const seen: string[] = [];
    const sockets = new Set<unknown>();
    const server = createServer((req, res) => {
      sockets.add(req.socket);
      seen.push(String(req.headers["x-user"]));
      const body = req.headers["x-user"] === "b" ? "no" : "ok";
      res.writeHead(req.headers["x-user"] === "b" ? 429 : 200, { "content-length": body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runUsClient({ origin: `http://127.0.0.1:${port}`, path: "/x", headerSets: [{ "x-user": "a" }, { "x-user": "b" }], seconds: 0.3 });
      assert.equal(r.requests, seen.length, "every response counted once");
      assert.ok(r.requests > 20, `a closed loop on localhost answers more than 20 requests in 0.3 s, got ${r.requests}`);
      assert.equal(sockets.size, 1, "one keep-alive connection");
      assert.deepEqual(seen.slice(0, 4), ["a", "b", "a", "b"], "header sets rotate per request");
      assert.equal(r.non2xx, seen.filter((u) => u === "b").length);
      assert.ok(r.p50 > 1 && r.p50 < 100_000 && r.min <= r.p50 && r.p50 <= r.p99 && r.p99 <= r.max, `µs percentiles in order: ${JSON.stringify(r)}`);
      assert.equal(r.lowQuantiles?.length, LOW_QUANTILES.length);
      assert.ok(r.lowQuantiles!.every((v, i, a) => i === 0 || a[i - 1] <= v) && r.lowQuantiles!.at(-1)! <= r.p50, "p40…p50 ascending, up to the p50");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test("lowQuantile interpolates p40…p50, and has no answer outside them", () => {
    const w = { lowQuantiles: LOW_QUANTILES.map((q) => q * 10) } as WrkResult;
    assert.equal(lowQuantile(w, 50), 500);
    assert.equal(lowQuantile(w, 40), 400);
    assert.ok(Math.abs(lowQuantile(w, 48.6)! - 486) < 1e-9);
    assert.equal(lowQuantile(w, 39.9), undefined);
    assert.equal(lowQuantile({} as WrkResult, 45), undefined);
  });

  test("refuses any host but localhost", async () => {
    await assert.rejects(runUsClient({ origin: "http://example.com:80", path: "/", headerSets: [], seconds: 0.1 }), /only http:\/\/127\.0\.0\.1 or localhost/);
  });
});
