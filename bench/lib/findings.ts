// The headline ratios of issue 8, computed only from runs measured side by side in this one run,
// each compared with its target exactly as measured.
import type { BenchResults, Finding, RunResult, ScenarioId, Workload, Regime } from "../results-types.ts";
import { envoyCostFindings } from "./report-envoy-cost.ts";
import { globalFindings } from "./report-global.ts";

/** Finds a run by scenario, workload and regime; undefined when it was not measured. */
export function findRun(r: BenchResults, scenario: ScenarioId, workload: Workload, regime: Regime): RunResult | undefined {
  return r.runs.find((x) => x.scenario === scenario && x.workload === workload && x.regime === regime);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

function diff(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  return Math.round((a - b) * 10) / 10;
}

function finding(id: string, question: string, value: number | null, unit: string, target: string, test: (v: number) => boolean, detail: string): Finding {
  return { id, question, value, unit, target, met: value === null ? null : test(value), detail };
}

/** Computes every finding from the results; a missing input gives value null and met null, never a guess. */
export function computeFindings(r: BenchResults): Finding[] {
  const out: Finding[] = [];
  const chain = r.envoyChain;
  out.push(
    finding(
      "chain-added-p50",
      "Three-filter chain: added p50 over Envoy with no filter (wrk, or the µs client without wrk; trivial upstream)",
      chain ? Math.round(chain.addedP50Us * 10) / 10 : null,
      "µs",
      "≤ 30 µs",
      (v) => v <= 30,
      chain ? `p50 ${chain.chain.p50} µs with the chain vs ${chain.baseline.p50} µs without; p99 added ${chain.addedP99Us} µs; median of ${chain.rounds} interleaved round(s)` : "not measured",
    ),
  );
  const lookupAdded = chain?.planLookupAddedP50Us ?? null;
  out.push(
    finding(
      "plan-lookup-added-p50",
      "Live-plan lookup in token-auth: added p50 of its cached path over the same chain without it (Envoy; the callout requests left out)",
      lookupAdded,
      "µs",
      "≤ 5 µs",
      (v) => v <= 5,
      chain?.planLookup
        ? `p50 ${chain.planLookup.p50} µs with the lookup (callouts included: +${chain.planLookupMixedAddedP50Us ?? "?"} µs) vs ${chain.chain.p50} µs without; p99 added ${chain.planLookupAddedP99Us} µs; medians of ${chain.rounds} per-round difference(s)${chain.planLookupCallouts != null ? `; ${chain.planLookupCallouts} callouts in ${chain.planLookup.requests} requests` : ""}`
        : "not measured",
    ),
  );
  const bUnder = findRun(r, "b-envoy", "pulls", "under");
  const cUnder = findRun(r, "c-filter", "pulls", "under");
  const added = diff(cUnder?.latencyUs.ok?.p50, bUnder?.latencyUs.ok?.p50);
  out.push(
    finding(
      "chain-added-p50-pulls",
      "Three-filter chain: added p50 of manifest pulls over Envoy with no filter (same app, fixed rate; the app's ms-scale variance swamps µs, so the wrk figure above is the one held to the target)",
      added,
      "µs",
      "informational",
      () => true,
      added === null ? "not measured" : `2xx p50 ${cUnder!.latencyUs.ok!.p50} µs (c) vs ${bUnder!.latencyUs.ok!.p50} µs (b)`,
    ),
  );
  const cOver = findRun(r, "c-filter", "pulls", "over");
  const dOver = findRun(r, "d-app", "pulls", "over");
  const rej = ratio(cOver?.latencyUs.rejected?.p50, dOver?.latencyUs.rejected?.p50);
  out.push(
    finding(
      "rejected-p50-ratio",
      "Over capacity: p50 of rejected (429) requests, filter mode ÷ app mode",
      rej,
      "×",
      "≤ 0.5×",
      (v) => v <= 0.5,
      rej === null ? "not measured" : `429 p50 ${cOver!.latencyUs.rejected!.p50} µs (filter) vs ${dOver!.latencyUs.rejected!.p50} µs (app)`,
    ),
  );
  const cpuC = cOver?.appCpuMsPer1kRejected ?? null;
  const cpuD = dOver?.appCpuMsPer1kRejected ?? null;
  const cpuRatio = ratio(cpuC, cpuD);
  out.push(
    finding(
      "app-cpu-rejected",
      "Over capacity: app CPU per 1,000 rejected requests, filter mode ÷ app mode (target: the app spends no CPU on them)",
      cpuRatio,
      "×",
      "≈ 0 (≤ 0.05× of app mode)",
      (v) => v <= 0.05,
      cpuRatio === null
        ? "not measured"
        : `${cpuC} ms (filter mode) vs ${cpuD} ms (app mode) of app CPU per 1,000 rejected; the app itself answered ${cOver!.appSaw?.rejected429 ?? "?"} of ${cOver!.requests.rejected429} rejections in filter mode and ${dOver!.appSaw?.rejected429 ?? "?"} of ${dOver!.requests.rejected429} in app mode (its CPU is shared out over the requests it answered)`,
    ),
  );
  const cThr = findRun(r, "c-filter", "pulls", "throughput");
  const eThr = findRun(r, "e-native", "pulls", "throughput");
  const thr = ratio(cThr?.okRps, eThr?.okRps);
  out.push(
    finding(
      "throughput-vs-native",
      "Closed loop, users within limits: filter-mode throughput ÷ native jwt_authn + local_ratelimit",
      thr,
      "×",
      "≥ 0.9×",
      (v) => v >= 0.9,
      thr === null ? "not measured" : `${cThr!.okRps} vs ${eThr!.okRps} 2xx responses/s`,
    ),
  );
  const bThr = findRun(r, "b-envoy", "pulls", "throughput");
  const keep = ratio(cThr?.okRps, bThr?.okRps);
  out.push(
    finding(
      "throughput-vs-no-filter",
      "Closed loop: filter-mode throughput ÷ Envoy with no filter (anchor: a Rust basic-auth filter keeps ~86%)",
      keep,
      "×",
      "informational",
      () => true,
      keep === null ? "not measured" : `${cThr!.okRps} vs ${bThr!.okRps} 2xx responses/s`,
    ),
  );
  const aTriv = findRun(r, "a-direct", "trivial", "under");
  const bTriv = findRun(r, "b-envoy", "trivial", "under");
  const hop = diff(bTriv?.latencyUs.ok?.p50, aTriv?.latencyUs.ok?.p50);
  out.push(
    finding(
      "envoy-hop-p50",
      "Trivial endpoint: p50 added by the Envoy hop itself (b − a)",
      hop,
      "µs",
      "informational",
      () => true,
      hop === null ? "not measured" : `2xx p50 ${bTriv!.latencyUs.ok!.p50} µs through Envoy vs ${aTriv!.latencyUs.ok!.p50} µs direct`,
    ),
  );
  out.push(...envoyCostFindings(r));
  out.push(...globalFindings(r));
  out.push(...emulatorFindings(r));
  return out;
}

/** Issue 15's emulator targets, on the CPU-time figures (one core; the wall figures also count other processes). */
function emulatorFindings(r: BenchResults): Finding[] {
  const e = r.emulator;
  const how = e ? `medians of ${e.rounds ?? "?"} alternating rounds; ${e.streamsPerSecond} add-header streams/s and ${e.emptyChain?.usPerStream ?? "?"} µs per empty-chain stream by wall clock; load average ${e.loadAverage ?? "?"}` : "not measured";
  return [
    finding("emulator-empty", "Emulator: an empty chain, CPU µs per full stream", e?.emptyChain?.cpuUsPerStream ?? null, "µs", "≤ 5 µs", (v) => v <= 5, how),
    finding("emulator-add-header", "Emulator: add-header (release build), full streams per CPU-second on one core", e?.cpuStreamsPerSecond ?? null, "streams/s", "≥ 150000", (v) => v >= 150_000, how),
  ];
}
