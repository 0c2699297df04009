// Human-readable output: the markdown results table, the findings summary (also spliced into
// bench/README.md) and the SVG charts, all generated from the same BenchResults.
import type { BenchResults, LatencySummaryUs, RunResult } from "../results-types.ts";
import { findRun } from "./findings.ts";
import { envoyCostTable } from "./report-envoy-cost.ts";
import { globalTable } from "./report-global.ts";
import { barChart, type Bar } from "./svg.ts";

const SCENARIO_ORDER = ["a-direct", "b-envoy", "c-filter", "d-app", "e-native"] as const;

function us(s: LatencySummaryUs | null, key: "p50" | "p99"): string {
  return s ? s[key].toFixed(1) : "–";
}

function num(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined ? "–" : n.toFixed(digits);
}

/** The machine and versions line every report starts with. */
export function machineLine(r: BenchResults): string {
  return `${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memMb} MB RAM, ${r.machine.os}; node ${r.versions.node}, envoy ${r.versions.envoy ?? "not installed"}, autocannon ${r.versions.autocannon}, ${r.versions.wrk ?? "wrk not installed"}; load average at start ${r.machine.loadAverageAtStart.join(" / ")}`;
}

/** Renders results.md: every table of the run. Pure. */
export function renderTables(r: BenchResults): string {
  const lines: string[] = [`# Benchmark results${r.quick ? " (quick run: too short to quote)" : ""}`, "", `Generated ${r.generatedAt} in ${r.wallSeconds} s on ${machineLine(r)}.`, "", ...mergedLines(r)];
  lines.push("## Scenarios (issue 8)", "", "Latencies in µs (hrtime per response, split by status); CPU in ms per 1,000 responses.", "");
  lines.push("| run | conns | target rps | responses/s | 2xx | 429 | other | errors | 2xx p50 | 2xx p99 | 429 p50 | 429 p99 | app CPU/1k | app CPU/1k 429 | Envoy CPU/1k | app RSS MB | Envoy RSS MB |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const run of sortedRuns(r.runs)) {
    lines.push(
      `| ${run.id} | ${run.connections} | ${run.targetRps || "closed"} | ${num(run.actualRps)} | ${run.requests.ok2xx} | ${run.requests.rejected429} | ${run.requests.other} | ${run.requests.errors} | ${us(run.latencyUs.ok, "p50")} | ${us(run.latencyUs.ok, "p99")} | ${us(run.latencyUs.rejected, "p50")} | ${us(run.latencyUs.rejected, "p99")} | ${num(run.app?.cpuMsPer1kRequests)} | ${num(run.appCpuMsPer1kRejected)} | ${num(run.envoy?.cpuMsPer1kRequests)} | ${num(run.app?.peakRssMb)} | ${num(run.envoy?.peakRssMb)} |`,
    );
  }
  if (r.runs.length === 0) lines.push("| (none measured) |||||||||||||||||");
  lines.push("", "## Policy filters in the emulator (issue 4)", "", "Per stream through the emulator with a trivial upstream; \"over empty\" subtracts the empty chain's p50 (the emulator's own cost).", "");
  lines.push("| filter | iterations | p50 µs | p50 over empty µs | p99 µs | mean µs | statuses |", "|---|---|---|---|---|---|---|");
  const empty = r.filterCosts.find((c) => c.filter === "(empty chain)")?.latencyUs.p50;
  for (const c of r.filterCosts) {
    const over = empty === undefined ? "–" : (c.latencyUs.p50 - empty).toFixed(1);
    lines.push(`| ${c.filter} | ${c.iterations} | ${c.latencyUs.p50} | ${over} | ${c.latencyUs.p99} | ${c.latencyUs.mean} | ${JSON.stringify(c.statuses)} |`);
  }
  if (r.envoyChain) {
    const c = r.envoyChain;
    lines.push("", "## Three-filter chain in Envoy vs no filter (issues 4 and 19, µs)", "", "| arm | p50 µs | p90 µs | p99 µs | requests/s | non-2xx |", "|---|---|---|---|---|---|");
    lines.push(`| Envoy, no filter | ${c.baseline.p50} | ${c.baseline.p90} | ${c.baseline.p99} | ${c.baseline.rps} | ${c.baseline.non2xx} |`);
    lines.push(`| Envoy + token-auth, plan-enforcement, rate-limit | ${c.chain.p50} | ${c.chain.p90} | ${c.chain.p99} | ${c.chain.rps} | ${c.chain.non2xx} |`);
    lines.push(`| added (median of per-round differences) | ${c.addedP50Us} | | ${c.addedP99Us} | | |`);
    if (c.planLookup) {
      lines.push(`| the chain + token-auth's live-plan lookup (1 s cache; access service in its own process) | ${c.planLookup.p50} | ${c.planLookup.p90} | ${c.planLookup.p99} | ${c.planLookup.rps} | ${c.planLookup.non2xx} |`);
      lines.push(`| added by the plan lookup (median of per-round differences) | ${c.planLookupMixedAddedP50Us ?? "–"} | | ${c.planLookupAddedP99Us} | | |`);
      lines.push(`| added by the cached path (p50 without the callout requests) | ${c.planLookupAddedP50Us ?? "not measured"} | | | | |`);
    }
    const callouts = c.planLookup && c.planLookupCallouts != null ? `; ${c.planLookupCallouts} callouts for ${c.planLookup.requests} lookup-arm requests (the others took the cached path)` : "";
    const load = c.loadAverage ? `; load average ${c.loadAverage.start.join(" ")} before, ${c.loadAverage.end.join(" ")} after` : "";
    lines.push("", `${c.rounds} round(s) of ${c.durationSeconds} s per arm, the starting arm rotating${c.users ? `, ${c.users} Enterprise users rotated per request` : ""}; ${c.tool}${callouts}${load}.`);
  }
  lines.push("", ...envoyCostTable(r.envoyFilterCost));
  lines.push(...globalTable(r.globalLimits));
  lines.push("", "## Emulator and module sizes (issue 2)", "");
  if (r.emulator) lines.push(...emulatorLines(r.emulator));
  for (const [name, s] of Object.entries(r.wasmSizes)) lines.push(`- ${name}.wasm: ${s.releaseBytes} bytes release${s.debugBytes !== null ? `, ${s.debugBytes} bytes debug` : ""}`);
  lines.push("", ...notMeasuredLines(r));
  return lines.join("\n") + "\n";
}

/** One line per section re-run alone into these results (`--only … --merge`), empty otherwise. */
function mergedLines(r: BenchResults): string[] {
  const runs = r.mergedRuns ?? [];
  if (runs.length === 0) return [];
  return [...runs.map((m) => `Section ${m.sections} re-run alone at ${m.generatedAt} (${m.wallSeconds} s; load average at start ${m.loadAverageAtStart.join(" / ")}); its numbers replace that section's, the rest is from the run above.`), ""];
}

function notMeasuredLines(r: BenchResults): string[] {
  if (r.notMeasured.length === 0) return [`Every part of the sections run (${r.settings.sections}) was measured.`];
  return ["## Not measured", "", ...r.notMeasured.map((n) => `- ${n.section} / ${n.item}: not measured: ${n.reason.split("\n")[0]}`)];
}

/** Renders summary.md: the findings against the issue-8 targets, spliced into bench/README.md. Pure. */
export function renderSummary(r: BenchResults): string {
  const lines = [
    `Run of ${r.generatedAt}${r.quick ? " — QUICK run, numbers not meaningful" : ""}, ${r.wallSeconds} s wall time.`,
    "",
    `Machine: ${machineLine(r)}.`,
    "",
    ...mergedLines(r),
    "| finding | measured | target | met |",
    "|---|---|---|---|",
  ];
  for (const f of r.findings) {
    const value = f.value === null ? "not measured" : `${f.value} ${f.unit}`;
    const met = f.met === null ? "–" : f.target === "informational" ? "n/a" : f.met ? "yes" : "**no**";
    lines.push(`| ${f.question} | ${value} | ${f.target} | ${met} |`);
  }
  lines.push("", ...r.findings.map((f) => `- **${f.id}**: ${f.detail}`), "");
  if (r.notMeasured.length) lines.push(...notMeasuredLines(r), "");
  return lines.join("\n");
}

const RUN_ORDER = ["trivial/under", "pulls/under", "pulls/throughput", "pulls/over"];

function sortedRuns(runs: RunResult[]): RunResult[] {
  const order = (x: RunResult) => RUN_ORDER.indexOf(`${x.workload}/${x.regime}`) * 10 + SCENARIO_ORDER.indexOf(x.scenario);
  return [...runs].sort((a, b) => order(a) - order(b));
}

/** Renders every chart as { file name: SVG text }; charts without any measured bar are left out. */
export function renderCharts(r: BenchResults): Record<string, string> {
  const charts: Record<string, string> = {};
  const title = (s: string) => s + (r.quick ? " (quick run)" : "");
  const perScenario = (workload: "pulls" | "trivial", regime: "under" | "throughput" | "over", pick: (run: RunResult) => number | null | undefined): Bar[] =>
    SCENARIO_ORDER.map((s) => {
      const run = findRun(r, s, workload, regime);
      // A run without such responses (e.g. no 429s where nothing enforces) is not a missing run.
      return { label: label(r, s), value: run ? (pick(run) ?? null) : null, note: run ? "none in this run" : "not measured" };
    });
  const add = (file: string, bars: Bar[], opts: { title: string; unit: string; note?: string }) => {
    if (bars.some((b) => b.value !== null)) charts[file] = barChart({ ...opts, title: title(opts.title), bars });
  };
  add("latency-trivial.svg", perScenario("trivial", "under", (x) => x.latencyUs.ok?.p50), { title: "Trivial endpoint, fixed rate: p50 of 2xx", unit: "µs (lower is better)" });
  add("latency-pulls.svg", perScenario("pulls", "under", (x) => x.latencyUs.ok?.p50), { title: "Manifest pulls, fixed rate: p50 of 2xx", unit: "µs (lower is better)" });
  add("rejected-latency.svg", perScenario("pulls", "over", (x) => x.latencyUs.rejected?.p50), { title: "Over capacity: p50 of rejected (429) pulls", unit: "µs (lower is better)" });
  add("app-cpu-rejected.svg", perScenario("pulls", "over", (x) => x.appCpuMsPer1kRejected), { title: "Over capacity: app CPU per 1,000 rejected pulls", unit: "CPU ms (lower is better)" });
  add("throughput.svg", perScenario("pulls", "throughput", (x) => x.okRps), { title: "Closed loop, users within limits: 2xx pulls per second", unit: "responses/s (higher is better)" });
  add(
    "filter-cost.svg",
    r.filterCosts.flatMap((c) => [
      { label: c.filter, value: c.latencyUs.p50, series: "p50" },
      { label: c.filter, value: c.latencyUs.p99, series: "p99" },
    ]),
    { title: "Per-request cost in the emulator", unit: "µs per request (lower is better)" },
  );
  if (r.envoyChain) {
    const c = r.envoyChain;
    add(
      "envoy-chain.svg",
      [
        { label: "no filter", value: c.baseline.p50, series: "p50" },
        { label: "no filter", value: c.baseline.p99, series: "p99" },
        { label: "three policy filters", value: c.chain.p50, series: "p50" },
        { label: "three policy filters", value: c.chain.p99, series: "p99" },
      ],
      { title: "Envoy latency with and without the policy chain (wrk)", unit: "µs (lower is better)", note: `added p50 ${c.addedP50Us} µs, added p99 ${c.addedP99Us} µs` },
    );
  }
  return charts;
}

function label(r: BenchResults, id: string): string {
  return r.scenarios.find((s) => s.id === id)?.title ?? id;
}

/** The emulator's speed (issue 15's targets: add-header ≥ 150k streams/s on one core, empty chain ≤ 5 µs per stream). */
function emulatorLines(e: NonNullable<BenchResults["emulator"]>): string[] {
  const cpu = e.cpuStreamsPerSecond === undefined ? "" : ` (**${e.cpuStreamsPerSecond} per CPU-second**, the one-core figure)`;
  const lines = [`- ${e.streams} full streams through add-header (release build): ${Math.round(e.streamsPerSecond)} streams/s by wall clock${cpu}; linear memory ${e.memoryPagesBefore ?? "?"} → ${e.memoryPagesAfter ?? "?"} pages.`];
  if (e.emptyChain) lines.push(`- ${e.emptyChain.streams} streams through an empty chain: **${e.emptyChain.cpuUsPerStream} µs CPU per stream** (${e.emptyChain.usPerStream} µs wall).`);
  if (e.rounds !== undefined) lines.push(`- Medians of ${e.rounds} alternating rounds; 1-minute load average ${e.loadAverage ?? "?"} when they started.`);
  return lines;
}
