// The "filter cost in Envoy" table (issue 15) as markdown, chart and SMP tests. Kept apart from
// report.ts and smp.ts so those stay as they are; output.ts and report.ts call in here.
import type { BenchResults, EnvoyFilterCost, LatencySummaryUs } from "../results-types.ts";
import { SMP_VERSION, toMs, type SmpDocument } from "./smp.ts";
import { barChart } from "./svg.ts";

const sign = (n: number | null) => (n === null ? "–" : `${n >= 0 ? "+" : ""}${n}`);

/** The table's markdown lines (empty when the section did not run). Pure. */
export function envoyCostTable(c: EnvoyFilterCost | null | undefined): string[] {
  if (!c) return [];
  const lines = [
    "## Filter cost in Envoy (issue 15)",
    "",
    `Each arm its own Envoy (same binary, one worker, same trivial upstream), ${c.connections} connection, closed loop, measured by ${c.tool}; ${c.rounds} rounds of ${c.secondsPerRound} s per arm, alternating. Added figures are medians of the per-round differences against bare Envoy and the floor in the same round. Load average (1/5/15 min) ${c.loadAverage.start.join(" / ")} at the start, ${c.loadAverage.end.join(" / ")} at the end: the machine is shared, so read the ratios.`,
    "",
    "| arm | module bytes | p50 µs | p99 µs | added p50 vs bare | added p99 vs bare | added p50 vs floor | added p99 vs floor | req/s ÷ bare | requests |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const a of c.arms) {
    lines.push(`| ${a.label} | ${a.moduleBytes ?? "–"} | ${a.p50} | ${a.p99} | ${sign(a.addedP50VsBare)} | ${sign(a.addedP99VsBare)} | ${sign(a.addedP50VsFloor)} | ${sign(a.addedP99VsFloor)} | ${a.rpsVsBare} | ${a.requests} |`);
  }
  return [...lines, ""];
}

/** The table as a chart of added p50 over the floor per arm; null when nothing was measured. Pure. */
export function envoyCostChart(r: BenchResults): string | null {
  const c = r.envoyFilterCost;
  if (!c || c.arms.length === 0) return null;
  return barChart({
    title: `Added p50 over the no-op floor in Envoy${r.quick ? " (quick run)" : ""}`,
    unit: "µs (lower is better)",
    bars: c.arms.filter((a) => a.id !== "bare" && a.id !== "floor").map((a) => ({ label: a.label, value: a.addedP50VsFloor })),
    note: `${c.tool.split(" ")[0]}, ${c.rounds} rounds, load average ${c.loadAverage.start[0]}`,
  });
}

/** Appends one SMP test per arm to `doc` (configs, mesh configs and results); no-op without the table. */
export function appendEnvoyCostSmp(doc: SmpDocument, r: BenchResults): void {
  const c = r.envoyFilterCost;
  if (!c) return;
  const proxyBuild = `envoy ${r.versions.envoy ?? "none"}`;
  for (const a of c.arms) {
    const id = `envoy-cost/${a.id}`;
    doc.mesh_configs.push({ smp_version: SMP_VERSION, id: `mesh-${id}`, labels: { arm: a.id }, mesh_policy_enabled: a.id !== "bare" && a.id !== "floor", proxy_concurrency: 1, proxy_build: proxyBuild });
    const lat: LatencySummaryUs = { count: a.requests, min: a.p50, mean: a.p50, p50: a.p50, p90: a.p50, p99: a.p99, max: a.p99 };
    const latencies = toMs(lat);
    doc.tests.push({
      config: {
        smp_version: SMP_VERSION,
        id,
        name: `Filter cost in Envoy: ${a.label}`,
        labels: { section: "envoy-cost", arm: a.id },
        clients: [
          {
            internal: true,
            load_generator: c.tool,
            protocol: 1,
            connections: c.connections,
            rps: 0,
            headers: {},
            cookies: {},
            body: "",
            content_type: "",
            endpoint_urls: ["envoy://manifest-get"],
            ssl_certificate: "",
            additional_options: JSON.stringify({ rounds: c.rounds, secondsPerRound: c.secondsPerRound }),
          },
        ],
        duration: `${c.rounds * c.secondsPerRound}s`,
      },
      results: [
        {
          smp_version: SMP_VERSION,
          id: `${id}#all`,
          labels: {
            status: "all",
            note: "p50 and p99 are medians over rounds; min/average/p90/max are not collected for this table and repeat p50 or p99",
            module_bytes: a.moduleBytes === null ? "" : String(a.moduleBytes),
            added_p50_vs_bare_us: String(a.addedP50VsBare),
            added_p99_vs_bare_us: String(a.addedP99VsBare),
            added_p50_vs_floor_us: a.addedP50VsFloor === null ? "" : String(a.addedP50VsFloor),
            added_p99_vs_floor_us: a.addedP99VsFloor === null ? "" : String(a.addedP99VsFloor),
            rps_vs_bare: String(a.rpsVsBare),
            load_average_start: c.loadAverage.start.join(" "),
          },
          start_time: r.generatedAt,
          end_time: r.generatedAt,
          latencies_ms: latencies,
          actual_qps: a.rps,
          details_uri: `latest.json#${id}`,
          test_id: id,
          mesh_config_id: `mesh-${id}`,
          env_id: doc.environment.id,
        },
      ],
    });
  }
}
