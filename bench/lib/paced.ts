// An open-loop load at a fixed, evenly spaced request rate, for the under-capacity regime.
// autocannon's rate option lets every connection send its whole per-second quota in a burst at the
// start of each second, all connections on the same tick, so requests queue behind each other and
// the "fixed rate" latency measures that burst. Here request i leaves at start + i/rate instead.
import http from "node:http";

/** One request of a workload: path and headers (method is always GET). */
export interface RequestSpec {
  path: string;
  headers: Record<string, string>;
}

/** Options of {@link runPaced}. */
export interface PacedOptions {
  origin: string;
  rate: number;
  durationSeconds: number;
  /** Most requests in flight (and sockets); a request due while all are busy is counted as late and sent when one frees up. */
  maxInFlight: number;
  next: () => RequestSpec;
  onResponse?: (status: number, us: number) => void;
}

/** What a paced run counted besides the responses. */
export interface PacedOutcome {
  sent: number;
  errors: number;
  timeouts: number;
  /** Requests sent more than 1 ms after their due time (generator or socket limit lagging). */
  late: number;
}

const TIMEOUT_MS = 10_000;

/** Sends `rate × durationSeconds` GETs evenly spaced; resolves when every answer (or failure) is in. Never rejects on HTTP errors. */
export async function runPaced(opts: PacedOptions): Promise<PacedOutcome> {
  if (!(opts.rate > 0) || !(opts.durationSeconds > 0) || opts.maxInFlight < 1) throw new Error(`bad paced options: rate=${opts.rate} duration=${opts.durationSeconds}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  const url = new URL(opts.origin);
  const total = Math.round(opts.rate * opts.durationSeconds);
  const intervalNs = BigInt(Math.round(1e9 / opts.rate));
  const out: PacedOutcome = { sent: 0, errors: 0, timeouts: 0, late: 0 };
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  const start = process.hrtime.bigint();
  const send = (): Promise<void> =>
    new Promise((resolve) => {
      const spec = opts.next();
      const t0 = process.hrtime.bigint();
      inFlight++;
      let settled = false;
      let timedOut = false;
      // A failing socket can report on both the request and the response; count each request once.
      const settle = (status: number | undefined) => {
        if (settled) return;
        settled = true;
        inFlight--;
        if (status !== undefined) opts.onResponse?.(status, Number(process.hrtime.bigint() - t0) / 1000);
        else if (timedOut) out.timeouts++;
        else out.errors++;
        resolve();
      };
      const req = http.request({ host: url.hostname, port: url.port, path: spec.path, method: "GET", headers: spec.headers, agent }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => settle(res.statusCode ?? 0));
        res.on("error", () => settle(undefined));
      });
      req.setTimeout(TIMEOUT_MS, () => {
        timedOut = true;
        req.destroy(new Error("timeout"));
      });
      req.on("error", () => settle(undefined));
      req.end();
    });
  while (out.sent < total) {
    const due = start + intervalNs * BigInt(out.sent);
    const now = process.hrtime.bigint();
    if (now >= due && inFlight < opts.maxInFlight) {
      if (now - due > 1_000_000n) out.late++;
      out.sent++;
      pending.push(send());
      continue;
    }
    // Timers cannot wait less than about 1 ms; the loop catches up by sending every request that
    // has come due, so spacing holds on average and lateness is counted.
    const waitMs = now >= due ? 1 : Math.max(0, Number(due - now) / 1e6 - 0.5);
    await new Promise((r) => setTimeout(r, waitMs));
  }
  await Promise.all(pending);
  agent.destroy();
  return out;
}
