// What "the emulator behaves like Envoy" means, in one place: the normalisation applied to both
// observations before they are compared, and the scenario expectations checked on each side.
import type { Expectations, Exchange, LogEntry, Observation, Scenario, Seen } from "./types.ts";

/**
 * Response headers that legitimately differ between the emulator and Envoy, with the reason:
 * - date: wall-clock time of the response (and its position: Envoy's HTTP/1 codec orders a local
 *   reply's headers its own way); how many `date` headers the client got is still compared.
 * - server: Envoy's HTTP connection manager stamps "envoy"; the emulator has no server identity.
 * - x-envoy-upstream-service-time: the router's measured upstream latency.
 * - connection, keep-alive, transfer-encoding: HTTP/1.1 framing between the client and Envoy, which
 *   the emulator (no sockets) does not have.
 */
export const IGNORED_RESPONSE_HEADERS = new Set(["date", "server", "x-envoy-upstream-service-time", "connection", "keep-alive", "transfer-encoding"]);

/**
 * Upstream request headers that legitimately differ, with the reason:
 * - x-request-id: a random UUID per request.
 * - x-envoy-expected-rq-timeout-ms: added by the router after the filter chain (the route timeout).
 * - connection, transfer-encoding, content-length: HTTP/1.1 framing towards the upstream (Envoy
 *   re-frames a rewritten body as chunked).
 */
export const IGNORED_UPSTREAM_HEADERS = new Set(["x-request-id", "x-envoy-expected-rq-timeout-ms", "connection", "transfer-encoding", "content-length"]);

/**
 * Values inside log messages that differ by nature, replaced on both sides: x-request-id UUIDs,
 * the upstream's date header and the router's measured x-envoy-upstream-service-time (as a filter
 * that lists header pairs prints them).
 */
const LOG_NORMALIZATION: [RegExp, string][] = [
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>"],
  [/date=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/g, "date=<date>"],
  [/x-envoy-upstream-service-time=\d+/g, "x-envoy-upstream-service-time=<ms>"],
];

/** Observation reduced to what must be equal on both sides. */
export interface Comparable {
  responses: (Exchange & { dateHeaders: number })[];
  upstream: Seen[];
  streamLogs: LogEntry[] | "not compared";
  rootLogs: LogEntry[] | "not compared";
  metrics: Record<string, number>;
  refused: boolean;
}

function normalizeMessage(s: Scenario, m: string): string {
  let out = m;
  for (const [re, to] of [...LOG_NORMALIZATION, ...(s.normalize ?? [])]) out = out.replace(re, to);
  return out;
}

/** Applies the ignore sets and log normalisation; call on each side's Observation before deepEqual. */
export function comparable(s: Scenario, o: Observation): Comparable {
  const logs = (l: LogEntry[]) => l.map((e) => ({ level: e.level, message: normalizeMessage(s, e.message) }));
  const compareLogs = s.compareLogs !== false;
  return {
    responses: o.responses.map((r) => ({ ...r, headers: r.headers.filter(([k]) => !IGNORED_RESPONSE_HEADERS.has(k)), dateHeaders: r.headers.filter(([k]) => k === "date").length })),
    upstream: o.upstream.map((u) => ({ ...u, headers: u.headers.filter(([k]) => !IGNORED_UPSTREAM_HEADERS.has(k)) })),
    streamLogs: compareLogs ? logs(o.streamLogs) : "not compared",
    rootLogs: compareLogs ? logs(o.rootLogs).sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)) : "not compared",
    metrics: Object.fromEntries(Object.keys(s.expect.metrics ?? {}).map((k) => [k, o.metrics[k]])),
    refused: o.refused !== undefined,
  };
}

function headerValue(pairs: [string, string][], name: string): string | null {
  const values = pairs.filter(([k]) => k === name).map(([, v]) => v);
  return values.length ? values.join("\n") : null;
}

/** Checks a scenario's expectations on one side; returns human-readable failures (empty when all hold). */
export function unmet(s: Scenario, o: Observation): string[] {
  const e: Expectations = s.expect;
  const out: string[] = [];
  const eq = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  if (e.status) eq("status", o.responses.map((r) => r.status), e.status);
  if (e.upstreamCount !== undefined) eq("requests reaching the upstream", o.upstream.length, e.upstreamCount);
  for (const [k, v] of Object.entries(e.responseHeaders ?? {})) eq(`response header ${k}`, o.responses[0] ? headerValue(o.responses[0].headers, k) : undefined, v);
  for (const [k, v] of Object.entries(e.upstreamHeaders ?? {})) eq(`upstream header ${k}`, o.upstream[0] ? headerValue(o.upstream[0].headers, k) : undefined, v);
  if (e.responseBody !== undefined) eq("response body", o.responses[0]?.body, e.responseBody);
  if (e.upstreamBody !== undefined) eq("upstream body", o.upstream[0]?.body, e.upstreamBody);
  for (const [k, v] of Object.entries(e.upstreamTrailers ?? {})) eq(`upstream trailer ${k}`, o.upstream[0] ? headerValue(o.upstream[0].trailers ?? [], k) : undefined, v);
  const messages = o.streamLogs.map((l) => normalizeMessage(s, l.message));
  for (const m of e.logs ?? []) if (!messages.includes(m)) out.push(`stream log ${JSON.stringify(m)} missing; got ${JSON.stringify(messages)}`);
  for (const m of e.logsAbsent ?? []) if (messages.includes(m)) out.push(`stream log ${JSON.stringify(m)} must not appear`);
  for (const [k, v] of Object.entries(e.metrics ?? {})) eq(`metric ${k}`, o.metrics[k], v);
  for (const [a, b] of e.sameMetrics ?? []) if (o.metrics[a] === undefined || o.metrics[a] !== o.metrics[b]) out.push(`metric ${a} (${o.metrics[a]}) must equal ${b} (${o.metrics[b]})`);
  if (e.workersAtLeast !== undefined && o.workers < e.workersAtLeast) out.push(`stream logs came from ${o.workers} worker(s), expected at least ${e.workersAtLeast}`);
  for (const [k, v] of Object.entries(e.metricsAtLeast ?? {})) if (!((o.metrics[k] ?? -Infinity) >= v)) out.push(`metric ${k}: expected at least ${v}, got ${o.metrics[k]}`);
  if (e.refusedWithLog !== undefined) {
    if (o.refused === undefined) out.push("configuration was accepted, expected a refusal");
    const all = [...o.rootLogs, ...o.streamLogs].map((l) => l.message);
    if (!all.includes(e.refusedWithLog)) out.push(`refusal log ${JSON.stringify(e.refusedWithLog)} missing; got ${JSON.stringify(all)}`);
  } else if (o.refused !== undefined) out.push(`configuration refused: ${o.refused.split("\n")[0]}`);
  return out;
}
