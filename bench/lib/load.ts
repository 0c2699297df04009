// One load run: autocannon drives closed-loop runs (throughput, errors, non-2xx) and bench/lib/paced.ts
// fixed-rate runs, while this module records every response time at sub-µs resolution (for
// autocannon from its own hrtime measurement), split by status, and meters the app and Envoy
// processes through /proc.
import autocannon from "autocannon";
import { LatencyRecorder } from "./histogram.ts";
import { type RequestSpec, runPaced } from "./paced.ts";
import { ProcessMeter } from "./proc.ts";
import type { ProcessUsage, RunResult } from "../results-types.ts";
import type { AppCounts } from "./app.ts";

export type { RequestSpec } from "./paced.ts";

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:10000. */
  origin: string;
  /**
   * Several replicas' origins instead of one: the connections and the rate are split evenly over
   * them (one generator each, running at once), and every response lands in the same histograms.
   */
  origins?: string[];
  connections: number;
  durationSeconds: number;
  /** Requests per second, evenly spaced (open loop, at most `connections` in flight); 0 = closed loop over `connections`. */
  rate: number;
  /** Called for every request; returns what to send next. */
  next: () => RequestSpec;
  /** Pids of the app processes and of the Envoy processes to meter (empty = not metered). */
  appPids: number[];
  envoyPids: number[];
  /** Pids of other processes to meter apart (the global-limits store: redis-server, a rate-limit service); the outcome then has `store`. */
  storePids?: number[];
  /** Seconds of unmeasured load before the measured run, so JIT and connection setup do not count. */
  warmupSeconds: number;
  /** Reads what the app has answered so far; used to attribute its CPU to the 429s it answered itself. */
  appCounts?: () => Promise<AppCounts>;
}

/** The load-dependent part of a RunResult. */
export type LoadOutcome = Pick<
  RunResult,
  "startTime" | "endTime" | "durationSeconds" | "connections" | "targetRps" | "url" | "requests" | "actualRps" | "okRps" | "latencyUs" | "app" | "envoy" | "appSaw" | "appCpuMsPer1kRejected" | "loadGenerator"
> & { store?: ProcessUsage | null };

/** Runs warm-up then the measured load; rejects only on a programming error, load failures are counted in `requests.errors`. */
export async function runLoad(opts: LoadOptions): Promise<LoadOutcome> {
  if (opts.connections < 1 || opts.durationSeconds <= 0) throw new Error(`bad load options: connections=${opts.connections} duration=${opts.durationSeconds}`);
  if (opts.warmupSeconds > 0) await fire(opts, opts.warmupSeconds, undefined);
  const all = new LatencyRecorder();
  const ok = new LatencyRecorder();
  const rejected = new LatencyRecorder();
  const countsBefore = await opts.appCounts?.();
  const appMeter = new ProcessMeter(opts.appPids);
  const envoyMeter = new ProcessMeter(opts.envoyPids);
  const storeMeter = opts.storePids ? new ProcessMeter(opts.storePids) : undefined;
  appMeter.start();
  envoyMeter.start();
  storeMeter?.start();
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const byStatus: Record<string, number> = {};
  const result = await fire(opts, opts.durationSeconds, (status, ms) => {
    const us = ms * 1000;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    all.record(us);
    if (status >= 200 && status < 300) ok.record(us);
    else if (status === 429) rejected.record(us);
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ended = new Date();
  const total = all.count;
  const app = opts.appPids.length ? appMeter.stop(total) : null;
  const envoy = opts.envoyPids.length ? envoyMeter.stop(total) : null;
  const store = storeMeter ? (opts.storePids!.length ? storeMeter.stop(total) : null) : undefined;
  const countsAfter = await opts.appCounts?.();
  const appSaw = countsBefore && countsAfter ? { requests: countsAfter.requests - countsBefore.requests, rejected429: countsAfter.rejected429 - countsBefore.rejected429 } : null;
  return {
    startTime: started.toISOString(),
    endTime: ended.toISOString(),
    durationSeconds: round(seconds),
    connections: opts.connections,
    targetRps: opts.rate,
    url: (opts.origins ?? [opts.origin]).join(" "),
    requests: { total, ok2xx: ok.count, rejected429: rejected.count, other: total - ok.count - rejected.count, errors: result.errors, timeouts: result.timeouts, byStatus },
    actualRps: round(total / seconds),
    okRps: round(ok.count / seconds),
    latencyUs: { all: all.summary(), ok: ok.summary(), rejected: rejected.summary() },
    app,
    envoy,
    appSaw,
    appCpuMsPer1kRejected: perRejected(app, appSaw, rejected.count),
    ...(store !== undefined ? { store } : {}),
    loadGenerator: opts.rate > 0 ? `paced open loop (node:http, ${result.late} late sends) + hrtime histogram` : "autocannon closed loop + hrtime histogram",
  };
}

/**
 * App CPU spent on rejected requests, per 1,000 rejections the client saw. The app's CPU over the
 * run is shared out over the requests it answered itself, so the 429s it never saw (rejected by a
 * filter) cost it nothing, and the pulls it served do not count as rejection cost. Without the
 * app's own counts the whole CPU is charged to the rejections (an upper bound).
 */
function perRejected(app: ProcessUsage | null, saw: RunResult["appSaw"] | undefined, rejected: number): number | null {
  if (!app || rejected === 0) return null;
  const share = saw ? (saw.requests > 0 ? saw.rejected429 / saw.requests : 0) : 1;
  return round((app.cpuSeconds * share * 1e6) / rejected);
}

/** Runs one phase of load, split over `origins` when given; resolves with the failures counted (responses go to onResponse). */
async function fire(opts: LoadOptions, seconds: number, onResponse: ((status: number, ms: number) => void) | undefined): Promise<{ errors: number; timeouts: number; late: number }> {
  const origins = opts.origins ?? [opts.origin];
  if (origins.length === 1) return fireOne({ ...opts, origin: origins[0] }, seconds, onResponse);
  if (opts.connections < origins.length) throw new Error(`bad load options: ${opts.connections} connections cannot cover ${origins.length} origins`);
  const parts = await Promise.all(
    origins.map((origin, i) => {
      // Connections split as evenly as integers allow; the rate exactly.
      const connections = Math.floor(opts.connections / origins.length) + (i < opts.connections % origins.length ? 1 : 0);
      return fireOne({ ...opts, origin, connections, rate: opts.rate / origins.length }, seconds, onResponse);
    }),
  );
  return parts.reduce((a, b) => ({ errors: a.errors + b.errors, timeouts: a.timeouts + b.timeouts, late: a.late + b.late }));
}

async function fireOne(opts: LoadOptions, seconds: number, onResponse: ((status: number, ms: number) => void) | undefined): Promise<{ errors: number; timeouts: number; late: number }> {
  if (opts.rate > 0) {
    const paced = await runPaced({ origin: opts.origin, rate: opts.rate, durationSeconds: seconds, maxInFlight: opts.connections, next: opts.next, onResponse: onResponse && ((status, us) => onResponse(status, us / 1000)) });
    return { errors: paced.errors, timeouts: paced.timeouts, late: paced.late };
  }
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.origin,
        connections: opts.connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: "GET",
            setupRequest: (req: autocannon.Request) => {
              const spec = opts.next();
              return { ...req, method: "GET", path: spec.path, headers: spec.headers };
            },
          },
        ],
      },
      (err: Error | null, res: autocannon.Result) => (err ? reject(err) : resolve(res)),
    );
    if (onResponse) instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => onResponse(status, ms));
  });
  return { errors: result.errors, timeouts: result.timeouts, late: 0 };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
