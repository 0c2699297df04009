/** @jsxRuntime automatic */
// The "Speed vs power" page with a results document of the benchmark's schema
// (bench/results-types.ts): findings, charts per scenario, gaps said as "not measured".
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup, render, waitFor } from "./dom.ts";
import type { BenchResults, RunResult, ScenarioId } from "../../bench-results.ts";
import { createApi } from "../src/api.ts";
import { scenarioBars, SpeedPage } from "../src/pages/SpeedPage.tsx";
import { SessionProvider } from "../src/session.tsx";
import { createFakeHub } from "./fake-hub.ts";

afterEach(cleanup);

const lat = (p50: number) => ({ count: 100, min: p50 / 2, mean: p50, p50, p90: p50 * 1.5, p99: p50 * 2, max: p50 * 3 });

function run(scenario: ScenarioId, regime: RunResult["regime"], p50: number, cpu: number | null): RunResult {
  return {
    id: `${scenario}/pulls/${regime}`,
    scenario,
    workload: "pulls",
    regime,
    startTime: "2026-11-25T17:00:00Z",
    endTime: "2026-11-25T17:00:10Z",
    durationSeconds: 10,
    connections: 10,
    targetRps: regime === "under" ? 200 : 0,
    url: "http://127.0.0.1:1/v2/",
    requests: { total: 1000, ok2xx: 100, rejected429: 900, other: 0, errors: 0, timeouts: 0, byStatus: { "200": 100, "429": 900 } },
    actualRps: 100,
    okRps: regime === "throughput" ? 500 + p50 : 10,
    latencyUs: { all: lat(p50), ok: lat(p50), rejected: lat(p50) },
    app: null,
    envoy: null,
    appCpuMsPer1kRejected: cpu,
  };
}

const results: BenchResults = {
  schema: "image-hub-bench/1",
  generatedAt: "2026-11-25T17:05:00Z",
  quick: true,
  wallSeconds: 90,
  machine: { cpuModel: "Test CPU", cores: 2, memMb: 24000, os: "linux", loadAverageAtStart: [1, 1, 1] },
  versions: { node: "v20.20.2", envoy: "1.40.0", autocannon: "9.0.0", wrk: null, filters: {} },
  settings: {},
  emulator: null,
  wasmSizes: {},
  filterCosts: [{ filter: "token-auth", iterations: 1000, statuses: { "200": 1000 }, latencyUs: lat(12.5) }],
  envoyChain: null,
  scenarios: [
    { id: "c-filter", title: "Envoy + filters", description: "the three policy filters enforce" },
    { id: "d-app", title: "In-app enforcement", description: "the access service enforces" },
    { id: "e-native", title: "Envoy native", description: "jwt_authn + local_ratelimit" },
  ],
  runs: [run("c-filter", "over", 300, 0.5), run("d-app", "over", 900, 40)],
  findings: [
    { id: "rejected-p50", question: "p50 of rejected pulls, filter vs app", value: 0.33, unit: "×", target: "≤ 0.5", met: true, detail: "300 µs vs 900 µs" },
    { id: "native", question: "filter throughput vs native", value: null, unit: "×", target: "≥ 0.8", met: null, detail: "" },
  ],
  notMeasured: [{ section: "speed", item: "e-native", reason: "jwt_authn not configured" }],
};

describe("Speed vs power page", () => {
  it("picks one bar per scenario and marks scenarios without that run", () => {
    assert.deepEqual(scenarioBars(results, "pulls", "over", (r) => r.latencyUs.rejected?.p50), [
      { label: "Envoy + filters", value: 300 },
      { label: "In-app enforcement", value: 900 },
      { label: "Envoy native", value: null },
    ]);
    const noRejections = { ...results, runs: [{ ...run("c-filter", "over", 300, 0.5), latencyUs: { all: lat(1), ok: lat(1), rejected: null } }] };
    assert.deepEqual(scenarioBars(noRejections, "pulls", "over", (r) => r.latencyUs.rejected?.p50)[0], { label: "Envoy + filters", value: null, missing: "none in this run" });
  });

  it("draws findings, charts and what was not measured from the results file", async () => {
    const hub = createFakeHub();
    hub.benchResults = results;
    const el = await render(
      <SessionProvider api={createApi({ fetch: hub.fetch })}>
        <SpeedPage />
      </SessionProvider>,
    );
    await waitFor(() => el.querySelector(".chart"), "charts");
    assert.match(el.textContent!, /on Test CPU \(2 cores\), Envoy 1\.40\.0.*quick run: the numbers are indicative only/);
    const findings = [...el.querySelectorAll(".findings li")].map((li) => li.textContent);
    assert.match(findings[0]!, /p50 of rejected pulls, filter vs app.*0\.33 ×.*target ≤ 0\.5.*met.*300 µs vs 900 µs/);
    assert.match(findings[1]!, /Not measured.*not measured/);
    const rejected = [...el.querySelectorAll(".chart")].find((c) => c.textContent!.startsWith("Median latency of rejected (429) pulls"))!;
    assert.deepEqual([...rejected.querySelectorAll(".chart-row")].map((r) => r.textContent), ["Envoy + filters300 µs", "In-app enforcement900 µs", "Envoy nativenot measured"]);
    const cpu = [...el.querySelectorAll(".chart")].find((c) => c.textContent!.startsWith("Application CPU per 1,000 rejected pulls"))!;
    assert.match(cpu.textContent!, /Envoy \+ filters0\.5 ms.*In-app enforcement40 ms/);
    assert.match(el.textContent!, /Per-request cost of each filter in the emulator.*token-auth12\.5 µs/);
    assert.match(el.textContent!, /Not measured in this run.*speed \/ e-native: jwt_authn not configured/);
  });
});
