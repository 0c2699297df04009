// Unit tests of the benchmark's building blocks: the exact latency recorder, the user spread of the
// workloads, the findings against their targets, the native rate-limit config and the SVG charts.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { computeFindings } from "../../bench/lib/findings.ts";
import { LatencyRecorder } from "../../bench/lib/histogram.ts";
import { nativeRateLimitRoute } from "../../bench/lib/native.ts";
import { runPaced } from "../../bench/lib/paced.ts";
import { barChart } from "../../bench/lib/svg.ts";
import { weightedUsers } from "../../bench/lib/workload.ts";
import type { BenchResults, RunResult } from "../../bench/results-types.ts";

describe("LatencyRecorder", () => {
  test("gives exact nearest-rank percentiles at sub-µs resolution", () => {
    const r = new LatencyRecorder();
    for (let i = 100; i >= 1; i--) r.record(i + 0.25);
    assert.deepEqual(r.summary(), { count: 100, min: 1.25, mean: 50.75, p50: 50.25, p90: 90.25, p99: 99.25, max: 100.25 });
  });

  test("has no summary when empty and refuses samples that would poison it", () => {
    const r = new LatencyRecorder();
    assert.equal(r.summary(), null);
    assert.throws(() => r.record(-1), /finite non-negative/);
    assert.throws(() => r.record(Number.NaN), /finite non-negative/);
    assert.equal(r.count, 0);
  });
});

describe("weightedUsers", () => {
  test("gives each user pulls in proportion to its plan's quota", () => {
    const users = [
      { name: "p", plan: "personal", token: "" },
      { name: "e", plan: "enterprise", token: "" },
      { name: "t", plan: "team", token: "" },
    ];
    const next = weightedUsers(users, { personal: 10, team: 100, enterprise: 1000 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1110 * 3; i++) {
      const u = next();
      counts[u.name] = (counts[u.name] ?? 0) + 1;
    }
    assert.deepEqual(counts, { p: 30, t: 300, e: 3000 });
  });

  test("refuses an unknown plan and an empty user list", () => {
    assert.throws(() => weightedUsers([{ name: "x", plan: "gold", token: "" }], { personal: 10 }), /unknown plan gold/);
    assert.throws(() => weightedUsers([], { personal: 10 }), /no users/);
  });
});

function run(scenario: RunResult["scenario"], regime: RunResult["regime"], p: { ok?: number; rejected?: number; okRps?: number; cpu?: number | null }): RunResult {
  const lat = (p50: number) => ({ count: 10, min: p50, mean: p50, p50, p90: p50, p99: p50, max: p50 });
  return {
    id: `${scenario}/pulls/${regime}`,
    scenario,
    workload: "pulls",
    regime,
    startTime: "",
    endTime: "",
    durationSeconds: 1,
    connections: 1,
    targetRps: 0,
    url: "",
    requests: { total: 10, ok2xx: 10, rejected429: 0, other: 0, errors: 0, timeouts: 0, byStatus: {} },
    actualRps: p.okRps ?? 0,
    okRps: p.okRps ?? 0,
    latencyUs: { all: null, ok: p.ok === undefined ? null : lat(p.ok), rejected: p.rejected === undefined ? null : lat(p.rejected) },
    app: null,
    envoy: null,
    appSaw: null,
    appCpuMsPer1kRejected: p.cpu ?? null,
  };
}

describe("computeFindings", () => {
  const base = { runs: [] as RunResult[], envoyChain: null } as unknown as BenchResults;

  test("states ratios against the issue-8 targets, met or not", () => {
    const r = {
      ...base,
      runs: [
        run("b-envoy", "under", { ok: 500 }),
        run("c-filter", "under", { ok: 540 }),
        run("c-filter", "over", { rejected: 300, cpu: 0 }),
        run("d-app", "over", { rejected: 1000, cpu: 400 }),
        run("c-filter", "throughput", { okRps: 850 }),
        run("e-native", "throughput", { okRps: 1000 }),
      ],
    } as BenchResults;
    const f = Object.fromEntries(computeFindings(r).map((x) => [x.id, x]));
    assert.equal(f["chain-added-p50-pulls"].value, 40);
    assert.equal(f["chain-added-p50-pulls"].target, "informational");
    assert.equal(f["rejected-p50-ratio"].value, 0.3);
    assert.equal(f["rejected-p50-ratio"].met, true);
    assert.equal(f["app-cpu-rejected"].value, 0);
    assert.equal(f["app-cpu-rejected"].met, true);
    assert.equal(f["throughput-vs-native"].value, 0.85);
    assert.equal(f["throughput-vs-native"].met, false);
  });

  test("judges our hello against the cheaper peer by difference, even when a noisy arm lands below the floor", () => {
    const arm = (id: string, addedP50VsFloor: number) => ({ id, label: id, addedP50VsFloor, rpsVsBare: 1 });
    const costRun = (arms: ReturnType<typeof arm>[]) =>
      ({ ...base, envoyFilterCost: { tool: "µs client", rounds: 27, loadAverage: { start: [1, 1, 1], end: [1, 1, 1] }, arms } }) as unknown as BenchResults;
    const cases: [string, number, number, number, number, boolean][] = [
      ["cheaper than both", 6.6, 12.1, 16.9, -5.5, true],
      ["a peer below the floor, ours above it", -2.3, -5.4, 8.9, 3.1, false],
      ["ours below the floor, cheaper than both", -3, -1, 4, -2, true],
    ];
    for (const [label, ours, gcore, solo, value, met] of cases) {
      const f = Object.fromEntries(computeFindings(costRun([arm("sdk-hello", ours), arm("gcore-hello", gcore), arm("solo-hello", solo)])).map((x) => [x.id, x]));
      assert.equal(f["cost-hello-vs-peers"].value, value, label);
      assert.equal(f["cost-hello-vs-peers"].met, met, label);
    }
  });

  test("reports a missing input as not measured, never as a number", () => {
    const f = computeFindings(base);
    assert.ok(f.length >= 5);
    for (const x of f) {
      assert.equal(x.value, null, x.id);
      assert.equal(x.met, null, x.id);
      assert.equal(x.detail, "not measured", x.id);
    }
  });
});

describe("nativeRateLimitRoute", () => {
  test("sizes one bucket per plan from the catalog and refills one token at a time", () => {
    const cfg = nativeRateLimitRoute([{ id: "personal", pullsPerWindow: 10 }, { id: "enterprise", pullsPerWindow: 1000 }], 60) as Record<string, { descriptors: unknown[] }>;
    assert.deepEqual(cfg["envoy.filters.http.local_ratelimit"].descriptors, [
      { entries: [{ key: "plan", value: "personal" }, { key: "user" }], token_bucket: { max_tokens: 10, tokens_per_fill: 1, fill_interval: "6s" } },
      { entries: [{ key: "plan", value: "enterprise" }, { key: "user" }], token_bucket: { max_tokens: 1000, tokens_per_fill: 1, fill_interval: "0.06s" } },
    ]);
  });

  test("refuses a plan Envoy could not refill exactly", () => {
    assert.throws(() => nativeRateLimitRoute([{ id: "huge", pullsPerWindow: 100_000 }], 60), /plans\[huge\]\.pullsPerWindow/);
  });
});

describe("barChart", () => {
  test("draws a bar per value, notes missing ones and escapes text", () => {
    const svg = barChart({ title: "a <b> & c", unit: "µs", bars: [{ label: "x", value: 10 }, { label: "y", value: null, note: "none in this run" }] });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.includes("a &lt;b&gt; &amp; c"));
    assert.equal((svg.match(/<rect x="250"/g) ?? []).length, 1);
    assert.ok(svg.includes("none in this run"));
    assert.throws(() => barChart({ title: "t", unit: "", bars: [] }), /no bars/);
  });
});

describe("runPaced", () => {
  test("sends rate × duration requests spread over the duration, not in a burst", async (t) => {
    const arrivals: number[] = [];
    const server = createServer((req, res) => {
      arrivals.push(performance.now());
      res.statusCode = req.url === "/limited" ? 429 : 200;
      res.end("x");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const statuses: number[] = [];
    let i = 0;
    const out = await runPaced({
      origin: `http://127.0.0.1:${port}`,
      rate: 200,
      durationSeconds: 0.5,
      maxInFlight: 4,
      next: () => ({ path: i++ % 2 ? "/limited" : "/ok", headers: {} }),
      onResponse: (status, us) => {
        assert.ok(us > 0);
        statuses.push(status);
      },
    });
    assert.equal(out.sent, 100);
    assert.equal(out.errors + out.timeouts, 0);
    assert.equal(statuses.length, 100);
    assert.equal(statuses.filter((s) => s === 429).length, 50);
    // Evenly spaced: the arrivals span most of the half second, and the first tenth of it does not
    // hold a burst (autocannon's rate option would put them all there).
    const first = arrivals[0];
    assert.ok(arrivals[99] - first >= 400, `arrivals span only ${arrivals[99] - first} ms`);
    assert.ok(arrivals.filter((a) => a - first < 50).length < 50, "requests arrived in a burst");
  });
});
