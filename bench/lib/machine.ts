// What every result records about where it ran: CPU model and cores from /proc/cpuinfo, memory,
// and the versions of Node, Envoy, autocannon, wrk and the measured filters (sha256 of each .wasm).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, release, totalmem, type } from "node:os";
import { join } from "node:path";
import type { BenchResults } from "../results-types.ts";
import { wrkPath } from "./wrk.ts";

/** The 1/5/15-minute load averages now, to two decimals: every section records them at its start and end. */
export function loadAverageNow(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

/** Describes this machine; never throws (unknown values become "unknown" / 0). */
export function describeMachine(): BenchResults["machine"] {
  let cpuModel = "unknown";
  let cores = 0;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? "unknown";
    cores = (info.match(/^processor\s*:/gm) ?? []).length;
  } catch {
    // Not Linux: leave the defaults, the rest of the record is still useful.
  }
  return {
    cpuModel,
    cores,
    memMb: Math.round(totalmem() / 2 ** 20),
    os: `${type()} ${release()}`,
    loadAverageAtStart: loadAverageNow(),
  };
}

/** Size and sha256 of every release filter in build/filters; empty when nothing is built. */
export function filterDigests(root: string): BenchResults["versions"]["filters"] {
  const dir = join(root, "build/filters");
  const out: BenchResults["versions"]["filters"] = {};
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".wasm") || file.endsWith(".debug.wasm")) continue;
    const bytes = readFileSync(join(dir, file));
    out[file.replace(/\.wasm$/, "")] = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  }
  return out;
}

/** Release and debug .wasm sizes of every built filter (issue 2's size report). */
export function wasmSizes(root: string): BenchResults["wasmSizes"] {
  const dir = join(root, "build/filters");
  const out: BenchResults["wasmSizes"] = {};
  for (const [name, { bytes }] of Object.entries(filterDigests(root))) {
    const debug = join(dir, `${name}.debug.wasm`);
    out[name] = { releaseBytes: bytes, debugBytes: existsSync(debug) ? readFileSync(debug).length : null };
  }
  return out;
}

/** Versions of the tools in the run; a missing tool is null. */
export function describeVersions(root: string, envoyBin: string | undefined): BenchResults["versions"] {
  const require = createRequire(join(root, "package.json"));
  const autocannonVersion = (require("autocannon/package.json") as { version: string }).version;
  return {
    node: process.version,
    envoy: envoyBin ? firstMatch(envoyBin, ["--version"], /version: ([^\s]+)/) : null,
    autocannon: autocannonVersion,
    wrk: wrkPath() ? firstMatch(wrkPath()!, ["-v"], /(wrk [^\s]+)/) : null,
    filters: filterDigests(root),
  };
}

function firstMatch(bin: string, args: string[], re: RegExp): string | null {
  try {
    const out = execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return re.exec(out)?.[1] ?? out.trim().split("\n")[0];
  } catch (err) {
    // wrk -v exits non-zero after printing its banner; the banner is still the version.
    const e = err as { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    return re.exec(text)?.[1] ?? null;
  }
}
