// Debian's wrk with a Lua done() hook that prints latency percentiles in µs as JSON: the µs
// resolution that autocannon's 1 ms histogram cannot give (peers-and-validators.md §6).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { runUsClient, type HeaderSet, type WrkResult } from "./us-client.ts";

export type { WrkResult };
export { lowQuantile } from "./us-client.ts";

/** Path of Debian's wrk. */
export const WRK = "/usr/bin/wrk";

/** wrk's path: Debian's, else the first `wrk` on PATH; undefined when there is none. Never throws. */
export function wrkPath(): string | undefined {
  if (existsSync(WRK)) return WRK;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir && existsSync(join(dir, "wrk"))) return join(dir, "wrk");
  return undefined;
}


// The request() hook rotates through the given header sets (each argument "name\tvalue\tname\tvalue")
// so that no single user's rate limit is reached; both arms of a comparison run the same script, so
// its cost cancels out.
const SCRIPT = `
local sets = {}
local idx = 0
local path = "/"
function init(args)
  path = args[1]
  for i = 2, #args do
    local h = {}
    local parts = {}
    for field in string.gmatch(args[i], "[^\t]+") do parts[#parts + 1] = field end
    for j = 1, #parts - 1, 2 do h[parts[j]] = parts[j + 1] end
    sets[#sets + 1] = h
  end
end
function request()
  idx = idx + 1
  if #sets == 0 then return wrk.format("GET", path) end
  return wrk.format("GET", path, sets[(idx % #sets) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  local low = {}
  for i = 0, 40 do low[#low + 1] = string.format("%d", latency:percentile(40 + i / 4)) end
  io.write(string.format('BENCHJSON {"min":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%f,"max":%d,"requests":%d,"non2xx":%d,"socketErrors":%d,"durationUs":%d,"lowQuantiles":[%s]}\\n',
    latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration, table.concat(low, ",")))
end
`;

/** Returns whether wrk is installed (Debian's or on PATH); never throws. */
export function wrkAvailable(): boolean {
  return wrkPath() !== undefined;
}

/**
 * Runs wrk (1 thread, closed loop) against origin+path with the given Authorization values rotated
 * per request. Rejects when wrk is missing, fails, or prints no result line.
 */
export async function runWrk(opts: { origin: string; path: string; auths: string[]; connections: number; seconds: number }): Promise<WrkResult> {
  return runWrkSets({ ...opts, headerSets: opts.auths.map((a) => ({ Authorization: a })) });
}

/** runWrk with arbitrary per-request header sets (rotated). Rejects when wrk is missing or fails. */
export async function runWrkSets(opts: { origin: string; path: string; headerSets: HeaderSet[]; connections: number; seconds: number }): Promise<WrkResult> {
  const wrkBin = wrkPath();
  if (!wrkBin) throw new Error(`wrk not found at ${WRK} or on PATH`);
  for (const set of opts.headerSets) for (const [k, v] of Object.entries(set)) if (/[\t\r\n]/.test(k + v)) throw new Error(`header ${k}: tabs and line breaks cannot be passed to wrk`);
  const dir = mkdtempSync(join(tmpdir(), "bench-wrk-"));
  const script = join(dir, "hook.lua");
  writeFileSync(script, SCRIPT);
  try {
    const args = ["-t1", `-c${opts.connections}`, `-d${opts.seconds}s`, "--timeout", "10s", "-s", script, `${opts.origin}${opts.path}`, "--", opts.path, ...opts.headerSets.map((h) => Object.entries(h).flat().join("\t"))];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(wrkBin, args, { maxBuffer: 1 << 20, timeout: (opts.seconds + 30) * 1000 }, (err, stdout, stderr) =>
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
      lowQuantiles: raw.lowQuantiles,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Which closed-loop client measured a run: wrk when installed, else the project's own µs client. */
export type LoadTool = "wrk" | "us-client";

/** The tool closedLoop() will use on this machine, and how reports name it. */
export function loadTool(): { tool: LoadTool; label: string } {
  return wrkAvailable()
    ? { tool: "wrk", label: "wrk (Lua done() hook, µs)" }
    : { tool: "us-client", label: "bench/lib/us-client.ts (wrk absent: one keep-alive socket, hrtime, µs)" };
}

/**
 * One closed-loop run at one connection with wrk when present, else with the project's µs client.
 * Rejects when the run fails; results are in µs either way.
 */
export function closedLoop(opts: { origin: string; path: string; headerSets: HeaderSet[]; seconds: number }): Promise<WrkResult> {
  return loadTool().tool === "wrk" ? runWrkSets({ ...opts, connections: 1 }) : runUsClient(opts);
}
