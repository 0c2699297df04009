// The global-limits regime's report (bench/lib/report-global.ts) on hand-made runs: the Redis round
// trip is the median of per-round differences of the same round only, an arm that was not measured
// gives null findings (never a number), an unfinished drain voids the over-admission ratio, and the
// SMP tests pass the independent checker.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appendGlobalSmp, globalFindings, globalTable, redisCost } from "../../bench/lib/report-global.ts";
import { buildSmp } from "../../bench/lib/smp.ts";
import type { BenchResults, GlobalArmId, GlobalLimits, GlobalRun, LatencySummaryUs } from "../../bench/results-types.ts";
import { checkSmpDocument } from "./smp-schema.ts";

function lat(p50: number): LatencySummaryUs {
  return { count: 10, min: p50 / 2, mean: p50, p50, p90: p50 * 1.5, p99: p50 * 2, max: p50 * 3 };
}

function run(arm: GlobalArmId, regime: "under" | "over", round: number, okP50: number | null, rejectedP50: number | null = null, extra: Partial<GlobalRun> = {}): GlobalRun {
  const ok = okP50 === null ? 0 : 10;
  const rejected = rejectedP50 === null ? 0 : 10;
  const t = Date.UTC(2026, 11, 4, 23, 0, round * 10 + (regime === "over" ? 100 : 0));
  return {
    id: `global/${arm}/${regime}/r${round}`,
    arm,
    regime,
    round,
    startTime: new Date(t).toISOString(),
    endTime: new Date(t + 8000).toISOString(),
    durationSeconds: 8,
    connections: 16,
    targetRps: regime === "under" ? 20 : 0,
    url: "http://127.0.0.1:1 http://127.0.0.1:2",
    requests: { total: ok + rejected, ok2xx: ok, rejected429: rejected, other: 0, errors: 0, timeouts: 0, byStatus: { ...(ok ? { 200: ok } : {}), ...(rejected ? { 429: rejected } : {}) } },
    actualRps: (ok + rejected) / 8,
    okRps: ok / 8,
    latencyUs: { all: lat(okP50 ?? rejectedP50 ?? 1), ok: okP50 === null ? null : lat(okP50), rejected: rejectedP50 === null ? null : lat(rejectedP50) },
    app: { processes: ["node 1"], cpuSeconds: 1, cpuMsPer1kRequests: 100, peakRssMb: 100 },
    envoy: { processes: ["envoy 2", "envoy 3"], cpuSeconds: 0.5, cpuMsPer1kRequests: 50, peakRssMb: 60 },
    store: arm.endsWith("global") ? { processes: ["redis-server 4"], cpuSeconds: 0.1, cpuMsPer1kRequests: 10, peakRssMb: 8 } : null,
    appSaw: null,
    appCpuMsPer1kRejected: rejected ? 100 : null,
    loadGenerator: "paced open loop (node:http, 0 late sends) + hrtime histogram",
    ...extra,
  };
}

function limits(runs: GlobalRun[], filterGlobal = false): GlobalLimits {
  return {
    replicas: 2,
    envoyConcurrency: 1,
    underRps: 20,
    rounds: 3,
    loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
    arms: [
      { id: "app-local", title: "a", measured: true },
      { id: "app-global", title: "b", measured: true },
      { id: "filter-local", title: "c", measured: true },
      filterGlobal ? { id: "filter-global", title: "d", measured: true } : { id: "filter-global", title: "d", measured: false, reason: "the stack did not start: not yet" },
    ],
    runs,
  };
}

function results(g: GlobalLimits): BenchResults {
  return {
    schema: "image-hub-bench/1",
    generatedAt: "2026-12-04T23:00:00.000Z",
    quick: false,
    wallSeconds: 1,
    machine: { cpuModel: "cpu", cores: 2, memMb: 1024, os: "linux", loadAverageAtStart: [1, 1, 1] },
    versions: { node: "v20", envoy: "1.40.0", autocannon: "9", wrk: null, filters: {} },
    settings: {},
    emulator: null,
    wasmSizes: {},
    filterCosts: [],
    envoyChain: null,
    globalLimits: g,
    scenarios: [],
    runs: [],
    findings: [],
    notMeasured: [],
  };
}

describe("global-limits report", () => {
  const runs = [
    run("app-local", "under", 1, 1000),
    run("app-global", "under", 1, 1300),
    run("app-global", "under", 2, 1250),
    run("app-local", "under", 2, 1100),
    run("app-local", "under", 3, 900),
    run("app-global", "under", 3, 2900),
    // A global round with no local partner must not count.
    run("app-global", "under", 4, 99_000),
    run("filter-local", "under", 1, 800),
    run("app-local", "over", 1, 500, 400, { okRps: 20, drain: { sent: 100, rejected: 0, complete: true } }),
    run("app-global", "over", 1, 500, 800, { okRps: 10, drain: { sent: 100, rejected: 40, complete: true } }),
  ];

  test("the Redis round trip is the median of same-round differences", () => {
    // Rounds 1-3: +300, +150, +2000 → median 300; round 4 has no local run.
    assert.equal(redisCost(limits(runs), "app", "p50"), 300);
    assert.equal(redisCost(limits(runs), "filter", "p50"), null);
  });

  test("findings: numbers only where both arms ran, null otherwise", () => {
    const f = Object.fromEntries(globalFindings(results(limits(runs))).map((x) => [x.id, x]));
    assert.equal(f["global-redis-cost-app"].value, 300);
    assert.equal(f["global-redis-cost-filter"].value, null);
    assert.equal(f["global-redis-cost-filter"].met, null);
    assert.equal(f["global-rejected-p50-ratio"].value, null, "the filter-global arm did not run");
    assert.equal(f["global-over-admission"].value, 2);
    const cut = runs.map((r) => (r.arm === "app-local" && r.regime === "over" ? { ...r, drain: { sent: 60, rejected: 0, complete: false } } : r));
    const g = Object.fromEntries(globalFindings(results(limits(cut))).map((x) => [x.id, x]));
    assert.equal(g["global-over-admission"].value, null);
    assert.match(g["global-over-admission"].detail, /drain .* did not finish/);
    assert.ok(globalTable(limits(runs)).some((l) => l.includes("| filter-global | not measured: the stack did not start: not yet")));
  });

  test("every run becomes one SMP test that passes the independent checker", () => {
    const r = results(limits(runs));
    const doc = buildSmp(r, { envoyConcurrency: 1 });
    appendGlobalSmp(doc, r);
    assert.deepEqual(checkSmpDocument(doc), []);
    assert.equal(doc.tests.filter((t) => t.config.labels.section === "global").length, runs.length);
    const over = doc.tests.find((t) => t.config.id === "global/app-global/over/r1")!;
    assert.deepEqual(over.results.map((x) => x.labels.status), ["all", "2xx", "429"]);
    assert.deepEqual(over.config.clients[0].endpoint_urls, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
  });
});
