// The shape of bench/results/latest.json, the file the UI's "Speed vs power" page reads. Types only,
// so the UI can import them without pulling in any Node code. They live in the app, which the
// benchmark (written on top of it) may import, so the UI never imports from bench/. Latencies here are in µs; the SMP
// documents written next to it (smp.json) carry the same numbers in ms, as SMP requires.

/** Latency summary of one set of responses, all values in microseconds. */
export interface LatencySummaryUs {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** CPU and memory of one role (app or Envoy) over one run, read from /proc. */
export interface ProcessUsage {
  /** Processes measured, e.g. ["node 1234"]. */
  processes: string[];
  /** user + system CPU seconds spent during the run. */
  cpuSeconds: number;
  /** CPU milliseconds per 1,000 responses of the run (all statuses). */
  cpuMsPer1kRequests: number;
  /** Peak resident set size during the run, MB (VmHWM after a reset, or the sampled maximum of VmRSS). */
  peakRssMb: number;
}

/** Scenario ids of issue 8: (a)…(e). */
export type ScenarioId = "a-direct" | "b-envoy" | "c-filter" | "d-app" | "e-native";

/** What is asked: a manifest pull by many users, or a trivial endpoint for pure overhead. */
export type Workload = "pulls" | "trivial";

/**
 * under = fixed request rate below capacity (latency); throughput = closed loop, users within
 * their limits (max throughput); over = closed loop, users far beyond their limits (rejections).
 */
export type Regime = "under" | "throughput" | "over";

/** One load run of one scenario, workload and regime. */
export interface RunResult {
  /** `<scenario>/<workload>/<regime>`, also the SMP test id. */
  id: string;
  scenario: ScenarioId;
  workload: Workload;
  regime: Regime;
  startTime: string;
  endTime: string;
  durationSeconds: number;
  connections: number;
  /** Requested rate in requests/s; 0 = closed loop (as fast as possible). */
  targetRps: number;
  /** What drove the load: autocannon (closed loop) or the paced open-loop generator (fixed rate). */
  loadGenerator?: string;
  url: string;
  requests: { total: number; ok2xx: number; rejected429: number; other: number; errors: number; timeouts: number; byStatus: Record<string, number> };
  /** Responses per second over the run, all statuses. */
  actualRps: number;
  /** 2xx responses per second. */
  okRps: number;
  latencyUs: { all: LatencySummaryUs | null; ok: LatencySummaryUs | null; rejected: LatencySummaryUs | null };
  app: ProcessUsage | null;
  envoy: ProcessUsage | null;
  /** What the app itself answered during the run (read from bench/app-process.ts); null when not counted. */
  appSaw?: { requests: number; rejected429: number } | null;
  /**
   * App CPU ms spent on rejections per 1,000 rejected (429) responses the client saw: the app's CPU
   * over the run times the share of the requests it answered that were 429s. Null when nothing was
   * rejected.
   */
  appCpuMsPer1kRejected: number | null;
}

/** A scenario as started for the run. */
export interface ScenarioInfo {
  id: ScenarioId;
  title: string;
  description: string;
}

/** The emulator's own speed: full streams through add-header (release build) and through an empty chain, one at a time. */
export interface EmulatorSpeed {
  /** Measured add-header streams (all rounds). */
  streams: number;
  /** add-header streams per second of wall clock (median over rounds). */
  streamsPerSecond: number;
  /** add-header streams per CPU-second of the bench process, all threads (median over rounds); absent in results from before it was recorded. */
  cpuStreamsPerSecond?: number;
  /** The empty chain: µs per stream by wall clock and by CPU time (medians over rounds). */
  emptyChain?: { streams: number; usPerStream: number; cpuUsPerStream: number };
  /** Rounds, alternating between the two arms. */
  rounds?: number;
  /** The machine's 1-minute load average when the rounds started. */
  loadAverage?: number;
  memoryPagesBefore: number | null;
  memoryPagesAfter: number | null;
}

/** Per-request cost of one filter (or an empty chain) in the emulator. */
export interface FilterCost {
  filter: string;
  iterations: number;
  /** What the filter answered during the measurement, e.g. {"200": 20000}. */
  statuses: Record<string, number>;
  latencyUs: LatencySummaryUs;
  /** Wall-clock window of the measured loop (RFC 3339) and its length; absent in results from before they were recorded. */
  startTime?: string;
  endTime?: string;
  elapsedSeconds?: number;
}

/** One arm of the Envoy chain comparison, latencies in µs. */
export interface WrkArm {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  rps: number;
  non2xx: number;
}

/** Added latency of the three-filter chain in Envoy, from wrk at µs resolution. */
export interface EnvoyChainCost {
  tool: string;
  connections: number;
  durationSeconds: number;
  /** Median over the interleaved rounds of each wrk figure, µs. */
  baseline: WrkArm;
  chain: WrkArm;
  rounds: number;
  /** Wall-clock window of the interleaved rounds (RFC 3339); absent in results from before it was recorded. */
  startTime?: string;
  endTime?: string;
  addedP50Us: number;
  addedP99Us: number;
  /**
   * The same chain with token-auth's live-plan lookup (callouts to the access service in its own
   * process, 1 s cache in shared data), interleaved with the other arms; absent when not run.
   */
  planLookup?: WrkArm | null;
  /**
   * The cached path's added p50: median over the rounds of (the lookup arm's median without its
   * `callouts` slowest requests) minus the chain's p50, µs; null when not measured.
   */
  planLookupAddedP50Us?: number | null;
  /** Median of the per-round differences of the plain p50 (callout requests included), µs. */
  planLookupMixedAddedP50Us?: number | null;
  /** Median of the per-round differences p99 (lookup arm minus the chain without lookup), µs. */
  planLookupAddedP99Us?: number | null;
  /** Callouts the access service answered during the measured lookup rounds (the rest took the cached path). */
  planLookupCallouts?: number | null;
  /** Users the measured rounds rotated through (as few as the plan's limit allows); absent in older results. */
  users?: number;
  /** Load average (1, 5, 15 min) before and after the section; absent in older results. */
  loadAverage?: { start: number[]; end: number[] };
}

/** One arm of the "filter cost in Envoy" table (issue 15); latencies µs, medians over the rounds. */
export interface EnvoyCostArm {
  id: string;
  label: string;
  /** Bytes of the wasm module(s) the arm loads; null for bare Envoy and the native filters. */
  moduleBytes: number | null;
  p50: number;
  p99: number;
  rps: number;
  /** Medians of the per-round differences against bare Envoy and against the no-op floor, same round. */
  addedP50VsBare: number;
  addedP99VsBare: number;
  addedP50VsFloor: number | null;
  addedP99VsFloor: number | null;
  /** Median of the per-round ratio rps(arm) / rps(bare). */
  rpsVsBare: number;
  requests: number;
  non2xx: number;
}

/** The "filter cost in Envoy" table: every arm in one run, same Envoy, rounds alternating between arms. */
export interface EnvoyFilterCost {
  /** Which closed-loop client measured (wrk when installed, else bench/lib/us-client.ts). */
  tool: string;
  connections: number;
  rounds: number;
  secondsPerRound: number;
  /** Wall-clock window of the measured rounds (RFC 3339); absent in results from before it was recorded. */
  startTime?: string;
  endTime?: string;
  /** 1-minute load average before and after the table, since the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  arms: EnvoyCostArm[];
}

/** An arm of the "global limits" regime: one stack of N replicas in one enforcement mode and limits scope. */
export type GlobalArmId = "app-local" | "app-global" | "filter-local" | "filter-global";

/** One load run of the "global limits" regime; the load is split evenly over the replicas' listeners. */
export interface GlobalRun extends Omit<RunResult, "scenario" | "workload" | "regime"> {
  arm: GlobalArmId;
  regime: "under" | "over";
  /** 1-based round; the under-capacity runs of an arm's local and global stacks alternate round by round. */
  round: number;
  /** The stack's own child processes other than Envoy (redis-server, a rate-limit service), when there are any. */
  store: ProcessUsage | null;
  /** Over capacity: the pulls sent through all replicas to empty the users' buckets first, and whether every replica got its full share before the deadline. */
  drain?: { sent: number; rejected: number; complete: boolean };
}

/** The "global limits" regime (issue 20): 2 replicas, filter vs app, local vs global, in one run. */
export interface GlobalLimits {
  replicas: number;
  envoyConcurrency: number;
  underRps: number;
  rounds: number;
  /** 1-minute load average before and after the section (the machine is shared). */
  loadAverage: { start: number[]; end: number[] };
  arms: { id: GlobalArmId; title: string; measured: boolean; reason?: string }[];
  runs: GlobalRun[];
}

/** One headline ratio of issue 8, with its target and whether it was met. */
export interface Finding {
  id: string;
  question: string;
  /** The measured value, or null when not measured. */
  value: number | null;
  unit: string;
  target: string;
  /** true / false when measured, null when not measured. */
  met: boolean | null;
  detail: string;
}

/** A part of the benchmark that could not run, and why. */
export interface NotMeasured {
  section: string;
  item: string;
  reason: string;
}

/** The whole of bench/results/latest.json. */
export interface BenchResults {
  schema: "image-hub-bench/1";
  generatedAt: string;
  quick: boolean;
  wallSeconds: number;
  machine: { cpuModel: string; cores: number; memMb: number; os: string; loadAverageAtStart: number[] };
  versions: { node: string; envoy: string | null; autocannon: string; wrk: string | null; filters: Record<string, { bytes: number; sha256: string }> };
  settings: Record<string, string | number | boolean>;
  emulator: EmulatorSpeed | null;
  wasmSizes: Record<string, { releaseBytes: number; debugBytes: number | null }>;
  filterCosts: FilterCost[];
  envoyChain: EnvoyChainCost | null;
  /** Issue 15's table; absent in results written before it existed. */
  envoyFilterCost?: EnvoyFilterCost | null;
  /** Sections re-run alone into these results (`npm run bench -- --only <s> --merge`), with that run's time and load. */
  mergedRuns?: { sections: string; generatedAt: string; wallSeconds: number; loadAverageAtStart: number[] }[];
  /** Issue 20's "global limits" regime; absent in results written before it existed. */
  globalLimits?: GlobalLimits | null;
  scenarios: ScenarioInfo[];
  runs: RunResult[];
  findings: Finding[];
  notMeasured: NotMeasured[];
}
