// Runs scenarios in real Envoy 1.40: one Envoy per worker count, one listener per scenario (its own
// filter chain, plugin names and upstream), so all scenarios cost two Envoy starts. Scenarios whose
// configuration must be refused get their own (failing) start.
import { EnvoyStartError, startEnvoy, type EnvoyInstance, type ListenerSpec, type WasmLogLine } from "proxy-wasm-host-emulator/envoy";
import { send } from "./client.ts";
import { CALLOUT_CLUSTER, configText, modulePath, pluginName, vmIdOf } from "./modules.ts";
import { startCalloutServer } from "./callout-server.ts";
import { metricNames, type LogEntry, type Observation, type Scenario } from "./types.ts";
import { startUpstream, type RecordingUpstream } from "./upstream.ts";

/**
 * Waits until the scenario's streams are destroyed (its listener's downstream_rq_active is 0: Envoy
 * runs on_log and on_done while destroying a stream, after the client already has its response) and
 * then until its stream contexts have logged nothing new for `quietMs`, since Envoy's stderr reaches
 * us asynchronously. Root-context lines (ticks of other scenarios) do not count. Bounded by `maxMs`.
 */
async function quiet(envoy: EnvoyInstance, s: Scenario, quietMs = 120, maxMs = 5000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const gauge = `http.${s.name}.downstream_rq_active`;
  while (Date.now() < deadline && ((await envoy.stats(`^${gauge.replaceAll(".", "\\.")}$`))[gauge] ?? 0) > 0) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const names = new Set(s.filters.map((_, j) => pluginName(s, j)));
  const count = () => envoy.logs().filter((l) => l.pluginName !== undefined && names.has(l.pluginName)).length;
  let seen = count();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 20));
    const now = count();
    if (now !== seen) (seen = now), (since = Date.now());
  }
}

function listenerFor(s: Scenario): ListenerSpec {
  return {
    name: s.name,
    filters: s.filters.map((f, j) => ({
      name: pluginName(s, j),
      wasm: modulePath(f.module),
      rootId: f.rootId ?? "",
      vmId: vmIdOf(s, j),
      configuration: configText(f.config),
      failurePolicy: f.failurePolicy,
      allowOnHeadersStopIteration: f.allowOnHeadersStopIteration,
    })),
    routes: [{ prefix: "/", cluster: `up_${s.name}` }],
    perConnectionBufferLimitBytes: s.bufferLimitBytes,
    http1Trailers: s.trailers,
  };
}

function split(lines: WasmLogLine[], s: Scenario): { streamLogs: LogEntry[]; rootLogs: LogEntry[]; workers: number } {
  const names = s.filters.map((_, j) => pluginName(s, j));
  const vmIds = s.filters.map((_, j) => vmIdOf(s, j));
  const mine = lines.filter((l) => (l.pluginName !== undefined ? names.includes(l.pluginName) : vmIds.includes(l.vmId ?? "")));
  const streamLines = mine.filter((l) => l.pluginName !== undefined);
  const streamLogs = streamLines.map((l) => ({ level: l.level, message: l.message }));
  const seen = new Set<string>();
  const rootLogs: LogEntry[] = [];
  for (const l of mine.filter((x) => x.pluginName === undefined)) {
    const key = `${l.level}\n${l.message}`;
    if (!seen.has(key)) (seen.add(key), rootLogs.push({ level: l.level, message: l.message }));
  }
  return { streamLogs, rootLogs, workers: new Set(streamLines.map((l) => l.thread)).size };
}

/**
 * Custom metrics by the name the filter gave them. Read from /stats/prometheus, which prints them
 * without the "wasmcustom." prefix and as exact integers; /stats?format=json shows gauges as doubles,
 * and Envoy gauges are u64, so a gauge driven below zero is read back as two's complement (i64).
 */
function customMetrics(prometheus: string, s: Scenario): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of metricNames(s)) {
    const m = new RegExp(`^${name}\\{\\} (\\d+)$`, "m").exec(prometheus);
    if (m) out[name] = Number(BigInt.asIntN(64, BigInt(m[1]!)));
  }
  return out;
}

/**
 * Runs scenarios that share a worker count in one Envoy and returns one Observation per scenario
 * (by name). Rejects when Envoy cannot start; always stops Envoy and the upstreams.
 */
export async function runInEnvoy(scenarios: Scenario[], concurrency: number): Promise<Map<string, Observation>> {
  const out = new Map<string, Observation>();
  const ups = new Map<string, RecordingUpstream>();
  const callout = await startCalloutServer();
  try {
    for (const s of scenarios) ups.set(s.name, await startUpstream(s.upstream));
    const clusters = [
      { name: CALLOUT_CLUSTER, port: callout.port },
      ...scenarios.map((s) => ({ name: `up_${s.name}`, port: ups.get(s.name)!.port, http1Trailers: s.trailers })),
    ];
    // No separate `--mode validate` pass: it would compile every scenario's module a second time, and
    // a refused configuration fails the start just the same (refusal scenarios do validate).
    const envoy = await startEnvoy({ concurrency, clusters, listeners: scenarios.map(listenerFor), componentLogLevel: { wasm: "debug" }, validate: false });
    try {
      for (const s of scenarios) {
        const responses = [];
        for (const r of s.requests) responses.push(await send(envoy.urls[s.name]!, r));
        if (s.settleMs) await new Promise((r) => setTimeout(r, s.settleMs));
        await quiet(envoy, s);
        const metrics = customMetrics(await envoy.statsPrometheus(), s);
        out.set(s.name, { responses, upstream: [...ups.get(s.name)!.seen], ...split(envoy.logs(), s), metrics });
      }
    } finally {
      await envoy.stop();
    }
  } finally {
    await Promise.all([...ups.values()].map((u) => u.close()));
    await callout.close();
  }
  return out;
}

/** Starts Envoy with one scenario that must be refused; returns its Observation (refused set when Envoy refused). */
export async function runRefusalInEnvoy(s: Scenario): Promise<Observation> {
  try {
    const envoy = await startEnvoy({ clusters: [{ name: `up_${s.name}`, port: 9 }, { name: CALLOUT_CLUSTER, port: 9 }], listeners: [listenerFor(s)] });
    await envoy.stop();
    return { responses: [], upstream: [], streamLogs: [], rootLogs: [], metrics: {}, workers: 0 };
  } catch (err) {
    if (!(err instanceof EnvoyStartError)) throw err;
    return { responses: [], upstream: [], metrics: {}, ...split(err.wasmLogs, s), refused: err.message };
  }
}
