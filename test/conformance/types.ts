// The shapes shared by the scenarios, both runners and the comparison.
import type { FailurePolicy } from "proxy-wasm-host-emulator/envoy";

/** One filter of a scenario's chain. */
export interface ScenarioFilter {
  /** "scripted" (build/test-filters/scripted.wasm), another test filter, or a filter of build/filters. */
  module: string;
  /** Plugin configuration bytes (objects are sent as JSON text). */
  config?: string | object;
  rootId?: string;
  /** VM id; default: the plugin name, so scenarios never share a VM. Plugins that name the same id (and module) share one VM. */
  vmId?: string;
  failurePolicy?: FailurePolicy;
  allowOnHeadersStopIteration?: boolean;
}

/** One request from the client. */
export interface ScenarioRequest {
  method?: string;
  path: string;
  headers?: [string, string][];
  body?: string;
  /** Sent after a chunked body (Envoy forwards HTTP/1.1 trailers when the scenario sets `trailers`). */
  trailers?: [string, string][];
}

/** How the scenario's upstream (and the callout cluster) answers. */
export interface UpstreamReply {
  status?: number;
  headers?: [string, string][];
  body?: string;
  echoBody?: boolean;
  delayMs?: number;
  reset?: boolean;
}

/** Assertions that hold on both sides, besides the two sides being equal. */
export interface Expectations {
  /** Status of each response, in request order (0 = stream reset). */
  status?: number[];
  /** How many requests reached the upstream. */
  upstreamCount?: number;
  /** Headers of the first response: a value (all entries joined with "\n"), or null for absent. */
  responseHeaders?: Record<string, string | null>;
  /** Headers the upstream received with the first request; same encoding. */
  upstreamHeaders?: Record<string, string | null>;
  responseBody?: string;
  upstreamBody?: string;
  /** Trailers the upstream received with the first request; same encoding as upstreamHeaders. */
  upstreamTrailers?: Record<string, string | null>;
  /** Stream log messages that must appear (exact text). */
  logs?: string[];
  /** Stream log messages that must not appear. */
  logsAbsent?: string[];
  /** Custom metric values (by metric name as the filter defined it). */
  metrics?: Record<string, number>;
  /** Custom metrics that must reach at least this value (timing-dependent counts such as ticks). */
  metricsAtLeast?: Record<string, number>;
  /** Pairs of custom metrics that must be equal on each side, e.g. linear memory now and after the 10th stream. */
  sameMetrics?: [string, string][];
  /** Stream log lines must come from at least this many workers (proves cross-worker sharing). */
  workersAtLeast?: number;
  /** The configuration must be refused; the text must appear in a log line. */
  refusedWithLog?: string;
}

/** A conformance scenario, written once and run in the emulator and in Envoy. */
export interface Scenario {
  name: string;
  /** Which proxy-wasm-host.md §6 items (or [I] points) it covers. */
  covers: string;
  filters: ScenarioFilter[];
  requests: ScenarioRequest[];
  upstream?: UpstreamReply;
  /** Worker count (Envoy --concurrency, emulator workers); default 1. */
  concurrency?: 1 | 2;
  /** Let HTTP/1.1 trailers through Envoy (listener and upstream cluster); the emulator always passes them. */
  trailers?: boolean;
  /** Envoy's per_connection_buffer_limit_bytes (emulator: bufferLimitBytes); Envoy's default is 1 MiB. */
  bufferLimitBytes?: number;
  /** Wait this long after the requests (ticks); the emulator advances its clock instead. */
  settleMs?: number;
  /** Compare stream log lines exactly (default) or not at all (e.g. tick-dependent logs). */
  compareLogs?: boolean;
  /** Replacements applied to log messages on both sides before comparing (values that differ by nature). */
  normalize?: [RegExp, string][];
  expect: Expectations;
}

/** What the client observed for one request. */
export interface Exchange {
  status: number;
  headers: [string, string][];
  body: string;
  reset?: boolean;
}

/** What the upstream received. */
export interface Seen {
  method: string;
  path: string;
  headers: [string, string][];
  body: string;
  /** Present only when the request had trailers. */
  trailers?: [string, string][];
}

/** A wasm log line reduced to what both sides can produce. */
export interface LogEntry {
  level: string;
  message: string;
}

/** Everything observed while running one scenario on one side. */
export interface Observation {
  responses: Exchange[];
  upstream: Seen[];
  /** Log lines of stream contexts, in order. */
  streamLogs: LogEntry[];
  /** Distinct log lines of root contexts (their count depends on the number of VM instances). */
  rootLogs: LogEntry[];
  metrics: Record<string, number>;
  /** Distinct workers (Envoy: worker threads) whose stream contexts logged. */
  workers: number;
  /** Set when the configuration was refused: the error text. */
  refused?: string;
}

/** Every custom metric a scenario's expectations name (both runners read exactly these). */
export function metricNames(s: Scenario): string[] {
  const e = s.expect;
  return [...new Set([...Object.keys(e.metrics ?? {}), ...Object.keys(e.metricsAtLeast ?? {}), ...(e.sameMetrics ?? []).flat()])];
}
