// CPU pinning for the "filter cost in Envoy" table (opt-in, BENCH_COST_PIN=1): each Envoy (one
// worker) on one CPU, the load client and the trivial upstream (this process, and wrk which inherits
// its affinity) on the others, so the measured processes neither migrate nor compete with each other
// for a core. Uses util-linux `taskset` when it is installed and the process may run on at least 2
// CPUs; otherwise nothing is pinned and the caller reports why. Never required. Off by default:
// measured on the shared 2-core machine it made the table less steady, not more (bench/README.md).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** What pinning did in one section run (recorded in the results next to the figures). */
export interface PinPlan {
  used: boolean;
  /** CPU list of every Envoy (taskset -c syntax), when used. */
  envoyCpus?: string;
  /** CPU list of the load client, the upstream and the bench process, when used. */
  clientCpus?: string;
  /** Why pinning was or was not used, in a few words. */
  reason: string;
}

/** A pinning session: pin Envoys as they start, and restore this process's affinity at the end. */
export interface Pinning {
  plan: PinPlan;
  /** Pins every thread of `pid` to the Envoy CPU; returns false (and leaves it unpinned) on failure. */
  pinEnvoy(pid: number): boolean;
  /** Pins this process (all its threads) to the client CPUs; later children inherit it. */
  pinSelf(): boolean;
  /** Restores this process's affinity as it was before pinSelf(); never throws. */
  restore(): void;
}

/** taskset's path: /usr/bin/taskset, else the first on PATH; undefined when there is none. */
export function tasksetPath(): string | undefined {
  if (existsSync("/usr/bin/taskset")) return "/usr/bin/taskset";
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir && existsSync(join(dir, "taskset"))) return join(dir, "taskset");
  return undefined;
}

/** Expands a CPU list such as "0-2,5" into numbers; [] when it cannot be read. Pure. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return [];
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

function run(bin: string, args: string[]): string {
  return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
}

/**
 * Plans pinning for this run. `disabled` (BENCH_COST_PIN unset) turns it off; `taskset` overrides where
 * taskset is (null: as if absent). Envoys get the last CPU this process may use, everything else the
 * others. Never throws: without taskset, with fewer than 2 CPUs or when taskset fails, the returned
 * session does nothing and its plan says why.
 */
export function startPinning(opts: { disabled?: boolean; taskset?: string | null } = {}): Pinning {
  const none = (reason: string): Pinning => ({ plan: { used: false, reason }, pinEnvoy: () => false, pinSelf: () => false, restore: () => {} });
  if (opts.disabled) return none("off by default, BENCH_COST_PIN=1 pins");
  if (process.platform !== "linux") return none(`not on Linux (${process.platform})`);
  const bin = opts.taskset === undefined ? tasksetPath() : opts.taskset;
  if (!bin) return none("taskset not installed");
  let original: string;
  try {
    original = /:\s*(\S+)\s*$/.exec(run(bin, ["-pc", String(process.pid)]).trim())?.[1] ?? "";
  } catch (err) {
    return none(`taskset -pc failed: ${(err as Error).message.split("\n")[0]}`);
  }
  const cpus = parseCpuList(original);
  if (cpus.length < 2) return none(`only ${cpus.length || "an unknown number of"} CPU(s) allowed (${original || "?"})`);
  const envoyCpus = String(cpus[cpus.length - 1]);
  const clientCpus = cpus.slice(0, -1).join(",");
  const plan: PinPlan = { used: true, envoyCpus, clientCpus, reason: `taskset: Envoy on CPU ${envoyCpus}, load client + upstream on CPU ${clientCpus}` };
  let selfPinned = false;
  return {
    plan,
    pinEnvoy(pid) {
      try {
        run(bin, ["-a", "-pc", envoyCpus, String(pid)]);
        return true;
      } catch (err) {
        plan.used = false;
        plan.reason = `taskset failed on an Envoy, pinning incomplete: ${(err as Error).message.split("\n")[0]}`;
        return false;
      }
    },
    pinSelf() {
      try {
        run(bin, ["-a", "-pc", clientCpus, String(process.pid)]);
        selfPinned = true;
        return true;
      } catch (err) {
        plan.used = false;
        plan.reason = `taskset failed on the bench process, only the Envoys pinned: ${(err as Error).message.split("\n")[0]}`;
        return false;
      }
    },
    restore() {
      if (!selfPinned) return;
      try {
        run(bin, ["-a", "-pc", original, String(process.pid)]);
      } catch {
        // The process ends soon after the benchmark; a failed restore only narrows later sections' CPUs.
      }
      selfPinned = false;
    },
  };
}
