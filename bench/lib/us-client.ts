// The project's own closed-loop HTTP/1.1 load client at µs resolution, used when wrk is absent: one
// keep-alive connection on a raw net socket, the next request written the moment the previous
// response is complete, each latency taken with process.hrtime.bigint.
// Why hand-written: autocannon (the project's load library) records latency in a histogram of whole
// milliseconds, and a proxy filter costs a few µs, so its p50 would read "0 ms" for every arm;
// node:http's agent adds its own queueing and allocation per request, which is noise at this scale.
import { connect, type Socket } from "node:net";

/** What one closed-loop run reports (wrk's or this client's), latencies in µs. */
export interface WrkResult {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  durationSeconds: number;
  rps: number;
  /**
   * Latency at the quantiles LOW_QUANTILES (40 % to 50 % in steps of 0.25 %), µs: what lowQuantile()
   * interpolates, e.g. the median of a run's requests without its slowest ones. Absent from older runs.
   */
  lowQuantiles?: number[];
}

/** The percentiles a run reports in `lowQuantiles`: 40, 40.25, …, 50. */
export const LOW_QUANTILES: readonly number[] = Array.from({ length: 41 }, (_, i) => 40 + i / 4);

/**
 * The latency at percentile `q` (40–50) of a run, interpolated between its `lowQuantiles`; undefined
 * when the run has none or `q` is outside 40–50.
 */
export function lowQuantile(w: WrkResult, q: number): number | undefined {
  const l = w.lowQuantiles;
  if (!l || l.length !== LOW_QUANTILES.length || !(q >= 40 && q <= 50)) return undefined;
  const x = (q - 40) * 4;
  const i = Math.min(Math.floor(x), l.length - 2);
  return l[i] + (l[i + 1] - l[i]) * (x - i);
}

/** One request's extra headers (name → value); the client adds Host and keep-alive. */
export type HeaderSet = Record<string, string>;

/** Options of one closed-loop run against `origin` (http://127.0.0.1:port only). */
export interface UsClientOptions {
  origin: string;
  path: string;
  /** Rotated per request, so no single user's rate limit is reached; empty = no extra headers. */
  headerSets: HeaderSet[];
  seconds: number;
}

/**
 * Runs one closed-loop load at one connection for `seconds` and returns wrk-shaped results (µs).
 * Rejects when the connection fails or a response cannot be parsed; never targets other hosts.
 */
export async function runUsClient(opts: UsClientOptions): Promise<WrkResult> {
  const url = new URL(opts.origin);
  if (url.protocol !== "http:" || !["127.0.0.1", "localhost"].includes(url.hostname)) throw new Error(`us-client: only http://127.0.0.1 or localhost, got ${opts.origin}`);
  const host = `${url.hostname}:${url.port}`;
  // Requests are pre-encoded once: the loop measures the server, not string building.
  const requests = (opts.headerSets.length ? opts.headerSets : [{}]).map((h) =>
    Buffer.from(`GET ${opts.path} HTTP/1.1\r\nHost: ${host}\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, "latin1"),
  );
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: url.hostname, port: Number(url.port), noDelay: true }, () => resolve(s));
    s.once("error", reject);
  });
  const latencies: number[] = [];
  let non2xx = 0;
  try {
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(Math.round(opts.seconds * 1e9));
    await new Promise<void>((resolve, reject) => {
      let buf: Buffer = Buffer.alloc(0);
      let t0 = 0n;
      let i = 0;
      const send = () => {
        t0 = process.hrtime.bigint();
        socket.write(requests[i++ % requests.length]);
      };
      socket.on("error", reject);
      socket.on("close", () => reject(new Error("us-client: the server closed the connection")));
      socket.on("data", (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        const end = responseEnd(buf);
        if (end < 0) return;
        if (end === -2) return reject(new Error(`us-client: response without Content-Length: ${buf.subarray(0, 200).toString("latin1")}`));
        const now = process.hrtime.bigint();
        latencies.push(Number(now - t0) / 1000);
        const status = Number(buf.toString("latin1", 9, 12));
        if (status < 200 || status > 299) non2xx++;
        buf = buf.subarray(end);
        if (now >= deadline) resolve();
        else send();
      });
      send();
    });
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return summarize(latencies, non2xx, durationSeconds);
  } finally {
    socket.removeAllListeners("close");
    socket.destroy();
  }
}

// Byte offset just past the first complete response in buf; -1 = incomplete, -2 = no Content-Length
// (every server the benchmark targets sends one: the trivial upstream and Envoy's local replies).
function responseEnd(buf: Buffer): number {
  const head = buf.indexOf("\r\n\r\n");
  if (head < 0) return -1;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.toString("latin1", 0, head));
  if (!m) return -2;
  const end = head + 4 + Number(m[1]);
  return buf.length >= end ? end : -1;
}

function summarize(lat: number[], non2xx: number, durationSeconds: number): WrkResult {
  const sorted = Float64Array.from(lat).sort();
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    min: r2(sorted[0] ?? 0),
    p50: r2(pct(50)),
    p90: r2(pct(90)),
    p99: r2(pct(99)),
    mean: r2(mean),
    max: r2(sorted[sorted.length - 1] ?? 0),
    requests: sorted.length,
    non2xx,
    socketErrors: 0,
    durationSeconds,
    rps: r2(sorted.length / durationSeconds),
    lowQuantiles: LOW_QUANTILES.map((q) => r2(pct(q))),
  };
}
