// Service Mesh Performance (SMP) v0.6.1 messages for every measurement, in a wrapper of our own
// (SMP defines no file format): EnvironmentConfig, ServiceMeshConfig, PerformanceTestConfig and
// PerformanceTestResult as protojson (snake_case, latencies in ms as fractions, RFC 3339 UTC
// timestamps, label values strings); test/bench checks each part against the official protos.
// SMP's PerformanceTestResult has one latency block, so each run yields one result per status
// class (all, 2xx, 429) told apart by labels.status; actual_qps is always the test's whole rate.
import type { BenchResults, LatencySummaryUs, RunResult, WrkArm } from "../results-types.ts";

/** The SMP release whose protos the messages follow (Go module github.com/layer5io/service-mesh-performance). */
export const SMP_VERSION = "v0.6.1";

/** SMP PerformanceTestConfig.Client. */
export interface SmpClient {
  internal: boolean;
  load_generator: string;
  protocol: number;
  connections: number;
  rps: number;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  body: string;
  content_type: string;
  endpoint_urls: string[];
  ssl_certificate: string;
  additional_options: string;
}

/** SMP PerformanceTestConfig. */
export interface SmpTestConfig {
  smp_version: string;
  id: string;
  name: string;
  labels: Record<string, string>;
  clients: SmpClient[];
  duration: string;
}

/** SMP PerformanceTestResult.Latency, in ms. */
export interface SmpLatency {
  min: number;
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** SMP PerformanceTestResult. */
export interface SmpTestResult {
  smp_version: string;
  id: string;
  labels: Record<string, string>;
  /** Left out where the measurement's window was not recorded. */
  start_time?: string;
  end_time?: string;
  latencies_ms: SmpLatency;
  actual_qps: number;
  details_uri: string;
  test_id: string;
  mesh_config_id: string;
  env_id: string;
}

/** SMP EnvironmentConfig (no Kubernetes: one node, this machine). */
export interface SmpEnvironment {
  smp_version: string;
  id: string;
  labels: Record<string, string>;
  kubernetes_version: string;
  nodes: { type: string; cores: number; mem_mb: number }[];
}

/** SMP ServiceMeshConfig, with the sidecar block carrying Envoy's measured CPU and memory. */
export interface SmpMeshConfig {
  smp_version: string;
  id: string;
  labels: Record<string, string>;
  /** Left out where Envoy's CPU and memory were not metered. */
  sidecar?: { count: number; cpu_mcores: number; mem_mb: number; rps: number; bps: number };
  mesh_policy_enabled: boolean;
  proxy_concurrency: number;
  proxy_build: string;
}

/** The file bench/results/smp.json: the project's wrapper around SMP messages, grouped by test (not an SMP message itself). */
export interface SmpDocument {
  smp_version: string;
  environment: SmpEnvironment;
  mesh_configs: SmpMeshConfig[];
  tests: { config: SmpTestConfig; results: SmpTestResult[] }[];
}

/** Converts a µs summary to SMP's ms latency block (fractions kept to 0.1 µs). */
export function toMs(s: LatencySummaryUs): SmpLatency {
  const ms = (us: number) => Math.round(us * 10) / 10000;
  return { min: ms(s.min), average: ms(s.mean), p50: ms(s.p50), p90: ms(s.p90), p99: ms(s.p99), max: ms(s.max) };
}

/**
 * The load generator's name only: what it measured ("148 late sends", "µs") is output, not the
 * generator, so a parenthesised detail moves to additional_options.
 */
export function generatorName(description: string): { name: string; detail?: string } {
  // Balanced, since details hold parentheses themselves ("Lua done() hook").
  let name = "";
  let detail = "";
  let depth = 0;
  for (const c of description) {
    if (c === "(") depth++;
    if (depth === 0) name += c;
    else if (!(depth === 1 && c === "(")) detail += depth === 1 && c === ")" ? "; " : c;
    if (c === ")") depth = Math.max(0, depth - 1);
  }
  detail = detail.replace(/;\s*$/, "");
  return { name: name.replace(/\s+/g, " ").trim(), ...(detail ? { detail } : {}) };
}

function client(generator: string, connections: number, rps: number, urls: string[], options: Record<string, unknown>, headers: Record<string, string> = {}): SmpClient {
  const { name, detail } = generatorName(generator);
  return {
    internal: true,
    load_generator: name,
    protocol: 1,
    connections,
    rps,
    headers,
    cookies: {},
    body: "",
    content_type: "",
    endpoint_urls: urls,
    ssl_certificate: "",
    additional_options: JSON.stringify(detail ? { ...options, generator_detail: detail } : options),
  };
}

function result(id: string, testId: string, meshId: string, envId: string, start: string | undefined, end: string | undefined, latency: LatencySummaryUs, qps: number, labels: Record<string, string>): SmpTestResult {
  return {
    smp_version: SMP_VERSION,
    id,
    labels,
    ...(start !== undefined && end !== undefined ? { start_time: start, end_time: end } : {}),
    latencies_ms: toMs(latency),
    actual_qps: Math.round(qps * 100) / 100,
    details_uri: `latest.json#${testId}`,
    test_id: testId,
    mesh_config_id: meshId,
    env_id: envId,
  };
}

/** Builds the SMP document from the collected results; pure, never throws on well-typed input. */
export function buildSmp(r: BenchResults, settings: { envoyConcurrency: number }): SmpDocument {
  const envId = `env-${r.machine.cores}core-${r.generatedAt}`;
  const environment: SmpEnvironment = {
    smp_version: SMP_VERSION,
    id: envId,
    labels: {
      cpu_model: r.machine.cpuModel,
      os: r.machine.os,
      node: r.versions.node,
      envoy: r.versions.envoy ?? "none",
      autocannon: r.versions.autocannon,
      wrk: r.versions.wrk ?? "none",
      quick: String(r.quick),
      settings: JSON.stringify(r.settings),
      ...Object.fromEntries(Object.entries(r.versions.filters).map(([name, f]) => [`filter_${name}_sha256`, f.sha256])),
    },
    kubernetes_version: "",
    nodes: [{ type: r.machine.cpuModel, cores: r.machine.cores, mem_mb: r.machine.memMb }],
  };
  const meshConfigs: SmpMeshConfig[] = [];
  const tests: SmpDocument["tests"] = [];
  const proxyBuild = `envoy ${r.versions.envoy ?? "none"}`;
  meshConfigs.push({ smp_version: SMP_VERSION, id: "mesh-none", labels: { note: "no proxy: in-process or direct" }, sidecar: { count: 0, cpu_mcores: 0, mem_mb: 0, rps: 0, bps: 0 }, mesh_policy_enabled: false, proxy_concurrency: 0, proxy_build: "" });

  for (const run of r.runs) tests.push(runTest(run, envId, meshConfigs, proxyBuild, settings.envoyConcurrency));

  for (const cost of r.filterCosts) {
    const id = `emulator/${cost.filter}`;
    const config: SmpTestConfig = {
      smp_version: SMP_VERSION,
      id,
      name: `Per-request cost of ${cost.filter} in the emulator`,
      labels: { section: "filters", filter: cost.filter },
      clients: [client("in-process emulator loop (process.hrtime.bigint)", 1, 0, [`emulator://${cost.filter}`], { iterations: cost.iterations })],
      // The measured loop's own wall time; unknown (empty) for results recorded before it was kept.
      duration: cost.elapsedSeconds !== undefined ? `${cost.elapsedSeconds.toFixed(3)}s` : "",
    };
    const qps = cost.elapsedSeconds ? cost.iterations / cost.elapsedSeconds : 0;
    tests.push({ config, results: [result(`${id}#all`, id, "mesh-none", envId, cost.startTime, cost.endTime, cost.latencyUs, qps, { status: "all", count: String(cost.iterations), statuses: JSON.stringify(cost.statuses) })] });
  }

  if (r.envoyChain) {
    const c = r.envoyChain;
    const arms: { arm: "baseline" | "chain" | "lookup"; w: WrkArm; name: string; labels: Record<string, string> }[] = [
      { arm: "baseline", w: c.baseline, name: "Envoy with no filter", labels: { added_p50_us: String(c.addedP50Us), added_p99_us: String(c.addedP99Us) } },
      { arm: "chain", w: c.chain, name: "Envoy with the three policy filters", labels: { added_vs: "baseline", added_p50_us: String(c.addedP50Us), added_p99_us: String(c.addedP99Us) } },
    ];
    if (c.planLookup) {
      arms.push({
        arm: "lookup",
        w: c.planLookup,
        name: "Envoy with the three policy filters and token-auth's live-plan lookup (1 s cache, access service in its own process)",
        labels: { added_vs: "chain", added_p50_us: String(c.planLookupMixedAddedP50Us ?? ""), cached_path_added_p50_us: String(c.planLookupAddedP50Us ?? ""), added_p99_us: String(c.planLookupAddedP99Us ?? ""), callouts: String(c.planLookupCallouts ?? "") },
      });
    }
    for (const { arm, w, name, labels } of arms) {
      const id = `envoy-chain/${arm}`;
      meshConfigs.push({ smp_version: SMP_VERSION, id: `mesh-${id}`, labels: { arm }, mesh_policy_enabled: arm !== "baseline", proxy_concurrency: settings.envoyConcurrency, proxy_build: proxyBuild });
      const config: SmpTestConfig = {
        smp_version: SMP_VERSION,
        id,
        name,
        labels: { section: "filters", arm },
        clients: [client(c.tool, c.connections, 0, ["envoy://manifest-get"], { threads: 1, rounds: c.rounds, secondsPerRound: c.durationSeconds })],
        // Each arm ran `rounds` times, interleaved with the other arms.
        duration: `${c.rounds * c.durationSeconds}s`,
      };
      const lat: LatencySummaryUs = { count: w.requests, min: w.min, mean: w.mean, p50: w.p50, p90: w.p90, p99: w.p99, max: w.max };
      tests.push({ config, results: [result(`${id}#all`, id, `mesh-${id}`, envId, c.startTime, c.endTime, lat, w.rps, { status: "all", rounds: String(c.rounds), non2xx: String(w.non2xx), ...labels })] });
    }
  }
  return { smp_version: SMP_VERSION, environment, mesh_configs: meshConfigs, tests };
}

function runTest(run: RunResult, envId: string, meshConfigs: SmpMeshConfig[], proxyBuild: string, concurrency: number): SmpDocument["tests"][number] {
  const meshId = run.envoy ? `mesh-${run.id}` : "mesh-none";
  if (run.envoy) {
    meshConfigs.push({
      smp_version: SMP_VERSION,
      id: meshId,
      labels: { scenario: run.scenario, run: run.id },
      sidecar: {
        count: 1,
        cpu_mcores: Math.round((run.envoy.cpuSeconds / run.durationSeconds) * 1000),
        mem_mb: Math.round(run.envoy.peakRssMb),
        rps: Math.round(run.actualRps),
        bps: 0,
      },
      mesh_policy_enabled: run.scenario === "c-filter" || run.scenario === "e-native",
      proxy_concurrency: concurrency,
      proxy_build: proxyBuild,
    });
  }
  const config: SmpTestConfig = {
    smp_version: SMP_VERSION,
    id: run.id,
    name: `${run.scenario} ${run.workload} ${run.regime}`,
    labels: { scenario: run.scenario, workload: run.workload, regime: run.regime },
    clients: [
      client(run.loadGenerator ?? "autocannon + hrtime histogram", run.connections, run.targetRps, [run.url], { pipelining: 1, timeoutSeconds: 10, method: "GET", rotating: "path and Authorization per request" }, run.workload === "pulls" ? { authorization: "Bearer <one token per user, rotated>" } : {}),
    ],
    duration: `${run.durationSeconds}s`,
  };
  const common: Record<string, string> = {
    requests_total: String(run.requests.total),
    requests_2xx: String(run.requests.ok2xx),
    requests_429: String(run.requests.rejected429),
    requests_other: String(run.requests.other),
    errors: String(run.requests.errors),
    timeouts: String(run.requests.timeouts),
    app_cpu_seconds: run.app ? String(run.app.cpuSeconds) : "",
    app_cpu_ms_per_1k_requests: run.app ? String(run.app.cpuMsPer1kRequests) : "",
    app_cpu_ms_per_1k_rejected: run.appCpuMsPer1kRejected === null ? "" : String(run.appCpuMsPer1kRejected),
    app_peak_rss_mb: run.app ? String(run.app.peakRssMb) : "",
    envoy_cpu_seconds: run.envoy ? String(run.envoy.cpuSeconds) : "",
    envoy_peak_rss_mb: run.envoy ? String(run.envoy.peakRssMb) : "",
  };
  return { config, results: statusResults(run, meshId, envId, common) };
}

/** The fields of a load run that statusResults reads (RunResult and GlobalRun both have them). */
export type StatusClassRun = Pick<RunResult, "id" | "startTime" | "endTime" | "durationSeconds" | "actualRps" | "latencyUs" | "requests">;

/**
 * statusResults returns one SMP result per latency class the run measured (all, 2xx, 429), each
 * labelled with `labels`, its status and its own rate; empty when the run measured none.
 */
export function statusResults(run: StatusClassRun, meshId: string, envId: string, labels: Record<string, string>): SmpTestResult[] {
  const results: SmpTestResult[] = [];
  const classes = [
    ["all", run.latencyUs.all, run.requests.total],
    ["2xx", run.latencyUs.ok, run.requests.ok2xx],
    ["429", run.latencyUs.rejected, run.requests.rejected429],
  ] as const;
  for (const [status, lat, count] of classes) {
    if (!lat) continue;
    // actual_qps is the test's rate (every response); the class's own rate is a label.
    results.push(result(`${run.id}#${status}`, run.id, meshId, envId, run.startTime, run.endTime, lat, run.actualRps, { ...labels, status, status_rps: String(Math.round((count / run.durationSeconds) * 100) / 100) }));
  }
  return results;
}
