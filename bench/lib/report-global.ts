// The "global limits" regime (issue 20) as markdown, chart, SMP tests and findings. Kept apart from
// report.ts, smp.ts and findings.ts, which call in here, so those stay as they are.
import type { BenchResults, Finding, GlobalArmId, GlobalLimits, GlobalRun } from "../results-types.ts";
import { generatorName, SMP_VERSION, statusResults, type SmpDocument } from "./smp.ts";
import { barChart, type Bar } from "./svg.ts";

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
const cell = (n: number | null | undefined) => (n === null || n === undefined ? "–" : String(n));

function runsOf(g: GlobalLimits, arm: GlobalArmId, regime: "under" | "over"): GlobalRun[] {
  return g.runs.filter((r) => r.arm === arm && r.regime === regime);
}

/** Median 2xx p50/p99 of an arm's under-capacity rounds; null when none was measured. */
export function underMedian(g: GlobalLimits, arm: GlobalArmId, key: "p50" | "p99"): number | null {
  return r1(median(runsOf(g, arm, "under").flatMap((r) => (r.latencyUs.ok ? [r.latencyUs.ok[key]] : []))));
}

/**
 * The Redis round trip per allowed pull in one mode: the median over rounds of (global − local) 2xx
 * p50 (or p99), each round's two runs back to back on the same machine. Null unless both arms have a
 * measured round in common.
 */
export function redisCost(g: GlobalLimits, mode: "app" | "filter", key: "p50" | "p99"): number | null {
  const local = runsOf(g, `${mode}-local`, "under");
  const diffs = runsOf(g, `${mode}-global`, "under").flatMap((gr) => {
    const lr = local.find((l) => l.round === gr.round);
    return lr?.latencyUs.ok && gr.latencyUs.ok ? [gr.latencyUs.ok[key] - lr.latencyUs.ok[key]] : [];
  });
  return r1(median(diffs));
}

/**
 * App CPU per 1,000 responses of one mode's under-capacity runs, global − local: the median of the
 * per-round differences (the client side of the Redis round trip: ioredis + rate-limiter-flexible).
 */
export function redisCpu(g: GlobalLimits, mode: "app" | "filter"): number | null {
  const local = runsOf(g, `${mode}-local`, "under");
  const diffs = runsOf(g, `${mode}-global`, "under").flatMap((gr) => {
    const lr = local.find((l) => l.round === gr.round);
    return lr?.app && gr.app ? [gr.app.cpuMsPer1kRequests - lr.app.cpuMsPer1kRequests] : [];
  });
  return r1(median(diffs));
}

/** Median store (redis-server, rate-limit service) CPU per 1,000 responses of an arm's under-capacity runs. */
export function storeCpu(g: GlobalLimits, arm: GlobalArmId): number | null {
  return r1(median(runsOf(g, arm, "under").flatMap((r) => (r.store ? [r.store.cpuMsPer1kRequests] : []))));
}

function overRun(g: GlobalLimits | null | undefined, arm: GlobalArmId): GlobalRun | undefined {
  return g ? runsOf(g, arm, "over")[0] : undefined;
}

/** The section's markdown lines (empty when it did not run). Pure. */
export function globalTable(g: GlobalLimits | null | undefined): string[] {
  if (!g) return [];
  const lines = [
    "## Global limits: 2 replicas, filter vs app, local vs global (issue 20)",
    "",
    `Each arm is a whole stack (\`startStack\`, ${g.replicas} access + Envoy replicas, Envoy concurrency ${g.envoyConcurrency}) in its own process; the load is split evenly over the replicas' listeners. Under capacity: ${g.underRps} pulls/s, ${g.rounds} round(s), the local and global stacks of a mode alternating. Over capacity: users drained first, closed loop. App CPU is the stack process (every replica's access service, storage, UI, and a rate-limit service started inside it); store CPU is redis-server (and a rate-limit service running as its own process). Load average ${g.loadAverage.start.join(" / ")} at the start, ${g.loadAverage.end.join(" / ")} at the end.`,
    "",
    "| run | responses/s | 2xx | 429 | other | 2xx p50 µs | 2xx p99 µs | 429 p50 µs | 429 p99 µs | app CPU/1k | app CPU/1k 429 | Envoy CPU/1k | store CPU/1k |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of g.runs) {
    lines.push(
      `| ${r.id} | ${r.actualRps} | ${r.requests.ok2xx} | ${r.requests.rejected429} | ${r.requests.other} | ${cell(r.latencyUs.ok?.p50)} | ${cell(r.latencyUs.ok?.p99)} | ${cell(r.latencyUs.rejected?.p50)} | ${cell(r.latencyUs.rejected?.p99)} | ${cell(r.app?.cpuMsPer1kRequests)} | ${cell(r.appCpuMsPer1kRejected)} | ${cell(r.envoy?.cpuMsPer1kRequests)} | ${cell(r.store?.cpuMsPer1kRequests)} |`,
    );
  }
  for (const a of g.arms.filter((x) => !x.measured)) lines.push(`| ${a.id} | not measured: ${a.reason ?? "unknown"} |||||||||||| `);
  const drains = g.runs.filter((r) => r.drain);
  if (drains.length) lines.push("", `Drains before the over-capacity runs (through both replicas at once): ${drains.map((r) => `${r.arm} ${r.drain!.sent} pulls sent, ${r.drain!.rejected} already rejected, ${r.drain!.complete ? "complete" : "**cut by the deadline**"}`).join("; ")}.`);
  lines.push("", "Redis round trip per allowed pull (under capacity, same mode, global − local, median of per-round differences):", "", "| mode | local 2xx p50 µs | global 2xx p50 µs | added p50 µs | added p99 µs | added app CPU ms/1k | store CPU ms/1k |", "|---|---|---|---|---|---|---|");
  for (const mode of ["app", "filter"] as const) {
    lines.push(`| ${mode} | ${cell(underMedian(g, `${mode}-local`, "p50"))} | ${cell(underMedian(g, `${mode}-global`, "p50"))} | ${cell(redisCost(g, mode, "p50"))} | ${cell(redisCost(g, mode, "p99"))} | ${cell(redisCpu(g, mode))} | ${cell(storeCpu(g, `${mode}-global`))} |`);
  }
  return [...lines, ""];
}

/** A chart of each arm's median 2xx p50 under capacity and 429 p50 over capacity; null when nothing was measured. Pure. */
export function globalChart(r: BenchResults): string | null {
  const g = r.globalLimits;
  if (!g || g.runs.length === 0) return null;
  const bars: Bar[] = [];
  for (const a of g.arms) {
    const note = a.measured ? undefined : "not measured";
    bars.push({ label: `${a.id}, allowed (under)`, value: a.measured ? underMedian(g, a.id, "p50") : null, series: "2xx p50, under capacity", note });
    bars.push({ label: `${a.id}, rejected (over)`, value: overRun(g, a.id)?.latencyUs.rejected?.p50 ?? null, series: "429 p50, over capacity", note });
  }
  return barChart({ title: `Global limits, ${g.replicas} replicas: p50 by arm${r.quick ? " (quick run)" : ""}`, unit: "µs (lower is better)", bars, note: `${g.rounds} round(s) under capacity at ${g.underRps}/s; load average ${g.loadAverage.start[0]}` });
}

/** Appends one SMP test per run of the regime to `doc` (a mesh config per run: both replicas' Envoys). */
export function appendGlobalSmp(doc: SmpDocument, r: BenchResults): void {
  const g = r.globalLimits;
  if (!g) return;
  const proxyBuild = `envoy ${r.versions.envoy ?? "none"}`;
  for (const run of g.runs) {
    const meshId = `mesh-${run.id}`;
    doc.mesh_configs.push({
      smp_version: SMP_VERSION,
      id: meshId,
      labels: { arm: run.arm, replicas: String(g.replicas) },
      ...(run.envoy
        ? { sidecar: { count: g.replicas, cpu_mcores: Math.round((run.envoy.cpuSeconds / run.durationSeconds) * 1000), mem_mb: Math.round(run.envoy.peakRssMb), rps: Math.round(run.actualRps), bps: 0 } }
        : {}),
      mesh_policy_enabled: run.arm.startsWith("filter"),
      proxy_concurrency: g.envoyConcurrency,
      proxy_build: proxyBuild,
    });
    const { name, detail } = generatorName(run.loadGenerator ?? "autocannon + hrtime histogram");
    const labels: Record<string, string> = {
      arm: run.arm,
      regime: run.regime,
      round: String(run.round),
      requests_total: String(run.requests.total),
      requests_2xx: String(run.requests.ok2xx),
      requests_429: String(run.requests.rejected429),
      requests_other: String(run.requests.other),
      errors: String(run.requests.errors),
      app_cpu_ms_per_1k_requests: run.app ? String(run.app.cpuMsPer1kRequests) : "",
      app_cpu_ms_per_1k_rejected: run.appCpuMsPer1kRejected === null ? "" : String(run.appCpuMsPer1kRejected),
      envoy_cpu_ms_per_1k_requests: run.envoy ? String(run.envoy.cpuMsPer1kRequests) : "",
      store_cpu_ms_per_1k_requests: run.store ? String(run.store.cpuMsPer1kRequests) : "",
    };
    const results = statusResults(run, meshId, doc.environment.id, labels);
    if (results.length === 0) continue;
    doc.tests.push({
      config: {
        smp_version: SMP_VERSION,
        id: run.id,
        name: `Global limits ${run.arm} ${run.regime} round ${run.round}`,
        labels: { section: "global", arm: run.arm, regime: run.regime },
        clients: [
          {
            internal: true,
            load_generator: name,
            protocol: 1,
            connections: run.connections,
            rps: run.targetRps,
            headers: { authorization: "Bearer <one token per user, rotated>" },
            cookies: {},
            body: "",
            content_type: "",
            endpoint_urls: run.url.split(" "),
            ssl_certificate: "",
            additional_options: JSON.stringify({ method: "GET", split: "connections and rate evenly over the replicas", ...(detail ? { generator_detail: detail } : {}) }),
          },
        ],
        duration: `${run.durationSeconds}s`,
      },
      results,
    });
  }
}

function finding(id: string, question: string, value: number | null, unit: string, target: string, test: (v: number) => boolean, detail: string): Finding {
  return { id, question, value, unit, target, met: value === null ? null : test(value), detail: value === null ? "not measured" : detail };
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

/** Issue 20's findings from the regime; a missing arm gives value null (not measured), never a guess. Pure. */
export function globalFindings(r: BenchResults): Finding[] {
  const g = r.globalLimits;
  if (!g) return [];
  const out: Finding[] = [];
  for (const mode of ["app", "filter"] as const) {
    const added = redisCost(g, mode, "p50");
    out.push(
      finding(
        `global-redis-cost-${mode}`,
        `Global limits, ${mode} mode: added 2xx p50 per allowed pull, global − local (the Redis round trip; 2 replicas, under capacity)`,
        added,
        "µs",
        "informational",
        () => true,
        `2xx p50 ${underMedian(g, `${mode}-global`, "p50")} µs global vs ${underMedian(g, `${mode}-local`, "p50")} µs local; added p99 ${redisCost(g, mode, "p99")} µs; median of ${g.rounds} alternating round(s)`,
      ),
    );
  }
  for (const mode of ["app", "filter"] as const) {
    const cpu = redisCpu(g, mode);
    out.push(
      finding(
        `global-redis-cpu-${mode}`,
        `Global limits, ${mode} mode: added app CPU per 1,000 allowed pulls, global − local (2 replicas, under capacity)`,
        cpu,
        "ms",
        "informational",
        () => true,
        `median of ${g.rounds} alternating round(s); the store itself (redis-server${mode === "filter" ? ", the rate-limit service" : ""}) spent ${storeCpu(g, `${mode}-global`)} ms per 1,000`,
      ),
    );
  }
  const fOver = overRun(g, "filter-global");
  const aOver = overRun(g, "app-global");
  const rej = ratio(fOver?.latencyUs.rejected?.p50, aOver?.latencyUs.rejected?.p50);
  out.push(finding("global-rejected-p50-ratio", "Global limits, over capacity: p50 of rejected (429) requests, filter mode ÷ app mode (2 replicas)", rej, "×", "≤ 0.5×", (v) => v <= 0.5, `429 p50 ${fOver?.latencyUs.rejected?.p50} µs (filter) vs ${aOver?.latencyUs.rejected?.p50} µs (app)`));
  const cpu = ratio(fOver?.appCpuMsPer1kRejected, aOver?.appCpuMsPer1kRejected);
  out.push(
    finding(
      "global-app-cpu-rejected",
      "Global limits, over capacity: app CPU per 1,000 rejected requests, filter mode ÷ app mode (2 replicas)",
      cpu,
      "×",
      "≈ 0 (≤ 0.05× of app mode)",
      (v) => v <= 0.05,
      `${fOver?.appCpuMsPer1kRejected} ms (filter) vs ${aOver?.appCpuMsPer1kRejected} ms (app) of app CPU per 1,000 rejected`,
    ),
  );
  const lOver = overRun(g, "app-local");
  // Buckets not emptied before the run would count as admissions of the run itself.
  const drained = lOver?.drain?.complete === true && aOver?.drain?.complete === true;
  const admitted = drained ? ratio(lOver?.okRps, aOver?.okRps) : null;
  out.push(
    finding(
      "global-over-admission",
      "Over capacity, app mode, 2 replicas: pulls admitted per second with local limits ÷ with global limits (each replica's own bucket admits the plan once more)",
      admitted,
      "×",
      "informational",
      () => true,
      `${lOver?.okRps} vs ${aOver?.okRps} 2xx/s (${lOver?.requests.ok2xx} vs ${aOver?.requests.ok2xx} pulls in ${aOver?.durationSeconds} s)`,
    ),
  );
  if (admitted === null && lOver && aOver) out[out.length - 1].detail = "not measured: a drain before the over-capacity runs did not finish in time, so unspent tokens would count as admissions";
  return out;
}

