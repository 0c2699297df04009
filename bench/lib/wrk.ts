// Debian's wrk with a Lua done() hook that prints latency percentiles in µs as JSON: the µs
// resolution that autocannon's 1 ms histogram cannot give (peers-and-validators.md §6).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Path of Debian's wrk. */
export const WRK = "/usr/bin/wrk";

/** What one wrk run reports; latencies in µs. */
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
}

// The request() hook rotates through the given Authorization values so that no single user's rate
// limit is reached; both arms of a comparison run the same script, so its cost cancels out.
const SCRIPT = `
local auths = {}
local idx = 0
local path = "/"
function init(args)
  path = args[1]
  for i = 2, #args do auths[#auths + 1] = args[i] end
end
function request()
  idx = idx + 1
  if #auths == 0 then return wrk.format("GET", path) end
  return wrk.format("GET", path, { ["Authorization"] = auths[(idx % #auths) + 1] })
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"min":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%f,"max":%d,"requests":%d,"non2xx":%d,"socketErrors":%d,"durationUs":%d}\\n',
    latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration))
end
`;

/** Returns whether Debian's wrk is installed; never throws. */
export function wrkAvailable(): boolean {
  return existsSync(WRK);
}

/**
 * Runs wrk (1 thread, closed loop) against origin+path with the given Authorization values rotated
 * per request. Rejects when wrk is missing, fails, or prints no result line.
 */
export async function runWrk(opts: { origin: string; path: string; auths: string[]; connections: number; seconds: number }): Promise<WrkResult> {
  if (!wrkAvailable()) throw new Error(`${WRK} not found (apt-get install wrk)`);
  const dir = mkdtempSync(join(tmpdir(), "bench-wrk-"));
  const script = join(dir, "hook.lua");
  writeFileSync(script, SCRIPT);
  try {
    const args = ["-t1", `-c${opts.connections}`, `-d${opts.seconds}s`, "--timeout", "10s", "-s", script, `${opts.origin}${opts.path}`, "--", opts.path, ...opts.auths];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(WRK, args, { maxBuffer: 1 << 20, timeout: (opts.seconds + 30) * 1000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`wrk failed: ${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const line = out.split("\n").find((l) => l.startsWith("BENCHJSON "));
    if (!line) throw new Error(`wrk printed no result line:\n${out}`);
    const raw = JSON.parse(line.slice("BENCHJSON ".length)) as Omit<WrkResult, "durationSeconds" | "rps"> & { durationUs: number };
    const durationSeconds = raw.durationUs / 1e6;
    return {
      min: raw.min,
      p50: raw.p50,
      p90: raw.p90,
      p99: raw.p99,
      mean: Math.round(raw.mean * 100) / 100,
      max: raw.max,
      requests: raw.requests,
      non2xx: raw.non2xx,
      socketErrors: raw.socketErrors,
      durationSeconds,
      rps: Math.round((raw.requests / durationSeconds) * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
