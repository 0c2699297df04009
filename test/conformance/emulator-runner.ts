// Runs one scenario in the emulator (filters/host chain API) and returns what the client, the
// upstream, the logs and the metrics show, in the same shape as the Envoy runner.
import { readFileSync } from "node:fs";
import {
  ChainStartError,
  createChain,
  type CalloutRequest,
  type CalloutResponse,
  type Chain,
  type ClusterHandler,
  type LogEntry as HostLogEntry,
  type UpstreamRequest,
  type UpstreamResponse,
} from "proxy-wasm-host-emulator";
import { toWasmLog, type PluginIdentity } from "proxy-wasm-host-emulator/envoy";
import { calloutAnswer } from "./callout-server.ts";
import { AUTHORITY } from "./client.ts";
import { CALLOUT_CLUSTER, configText, modulePath, pluginName, vmIdOf } from "./modules.ts";
import { metricNames, type Exchange, type LogEntry, type Observation, type Scenario, type Seen, type UpstreamReply } from "./types.ts";

/**
 * Headers Node's http server adds to every answer of the Envoy-side upstreams (res.end without a
 * content-length): the emulator's upstream is the same server, so it sends them too.
 */
function nodeServerHeaders(): [string, string][] {
  return [["date", new Date().toUTCString()], ["connection", "keep-alive"], ["transfer-encoding", "chunked"]];
}

function upstreamFor(reply: UpstreamReply, seen: Seen[]) {
  return (req: UpstreamRequest): UpstreamResponse => {
    const body = Buffer.from(req.body).toString("utf8");
    seen.push({ method: req.method, path: req.path, headers: req.headers, body, ...(req.trailers.length ? { trailers: req.trailers } : {}) });
    if (reply.reset) return { reset: true };
    const headers: [string, string][] = [...(reply.headers ?? [["content-type", "text/plain"]]), ...nodeServerHeaders()];
    return { status: reply.status ?? 200, headers, body: reply.echoBody ? body : (reply.body ?? "upstream") };
  };
}

/**
 * The callout cluster, answering like the callout server answers Envoy. /slow never answers in
 * time: its promise first moves virtual time past the callout's timeout (so the emulator's timeout
 * fires while the exchange is waiting on this promise), then resolves with an answer that is late.
 */
function calloutCluster(chain: () => Chain): ClusterHandler {
  return (req: CalloutRequest) => {
    const a = calloutAnswer(req.headers.find(([k]) => k === ":path")?.[1] ?? "");
    if (a === "reset") return { reset: true };
    if (a === "slow") {
      return new Promise<CalloutResponse>((resolve) =>
        setImmediate(() => {
          chain().advanceTime(req.timeoutMs > 0 ? req.timeoutMs : 1);
          resolve({ status: 200, body: "late" });
        }),
      );
    }
    return { status: a.status, headers: [...a.headers, ...nodeServerHeaders()], body: a.body };
  };
}

/** Splits recorded wasm lines into stream and (distinct) root lines, parsing Envoy's line format. */
function split(lines: HostLogEntry[], s: Scenario): { streamLogs: LogEntry[]; rootLogs: LogEntry[]; workers: number } {
  const plugins: PluginIdentity[] = s.filters.map((f, j) => ({ name: pluginName(s, j), rootId: f.rootId ?? "", vmId: vmIdOf(s, j) }));
  const streamLogs: LogEntry[] = [];
  const rootLogs: LogEntry[] = [];
  const seen = new Set<string>();
  const workers = new Set<number>();
  for (const l of lines) {
    if (l.source !== "wasm") continue;
    const parsed = toWasmLog({ time: "", thread: l.worker, level: l.level, logger: "wasm", message: l.line }, plugins);
    if (!parsed) continue;
    const entry = { level: parsed.level, message: parsed.message };
    if (parsed.pluginName !== undefined) (streamLogs.push(entry), workers.add(l.worker));
    else if (!seen.has(`${entry.level}\n${entry.message}`)) (seen.add(`${entry.level}\n${entry.message}`), rootLogs.push(entry));
  }
  return { streamLogs, rootLogs, workers: workers.size };
}

/** Runs one scenario in a fresh emulated process; rejects only on an emulator or harness error. */
export async function runInEmulator(s: Scenario): Promise<Observation> {
  let chain: Chain | undefined;
  try {
    chain = await createChain({
      workers: s.concurrency ?? 1,
      logLevel: "debug",
      bufferLimitBytes: s.bufferLimitBytes,
      clusters: { [CALLOUT_CLUSTER]: calloutCluster(() => chain!) },
      filters: s.filters.map((f, j) => ({
        wasm: readFileSync(modulePath(f.module)),
        name: pluginName(s, j),
        rootId: f.rootId ?? "",
        vmId: vmIdOf(s, j),
        pluginConfig: configText(f.config) ?? "",
        failurePolicy: f.failurePolicy,
        allowOnHeadersStopIteration: f.allowOnHeadersStopIteration,
        emulateCanary: true,
      })),
    });
  } catch (err) {
    if (!(err instanceof ChainStartError)) throw err;
    const plugins = s.filters.map((_, j) => pluginName(s, j));
    const lines = err.logs.filter((l) => plugins.includes(l.pluginName));
    return { responses: [], upstream: [], metrics: {}, refused: err.message, ...split(lines, s) };
  }
  const seen: Seen[] = [];
  const responses: Exchange[] = [];
  try {
    for (const r of s.requests) {
      const result = await chain.exchange({ method: r.method ?? "GET", path: r.path, headers: [["host", AUTHORITY], ...(r.headers ?? [])], body: r.body, trailers: r.trailers }, upstreamFor(s.upstream ?? {}, seen));
      responses.push(result.reset !== undefined && result.status === 0 ? { status: 0, headers: [], body: "", reset: true } : { status: result.status, headers: result.headers, body: result.body });
    }
    if (s.settleMs) chain.advanceTime(s.settleMs);
    const metrics: Record<string, number> = {};
    for (const name of metricNames(s)) {
      const v = chain.getMetric(name);
      if (v !== undefined) metrics[name] = Number(BigInt.asIntN(64, v));
    }
    return { responses, upstream: seen, metrics, ...split(chain.getLogs(), s) };
  } finally {
    await chain.close();
  }
}
