// CPU time and peak memory of the measured processes, read from /proc (Linux only). Reading /proc
// directly is cheaper and more exact than a library: two small files per process per sample.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import type { ProcessUsage } from "../results-types.ts";

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`); falls back to 100, the Linux default, if getconf is missing. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** One reading of /proc/<pid>/stat. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
}

/** Reads /proc/<pid>/stat; returns undefined when the process is gone or unreadable. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses, so split around the last ')'.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < 0) return undefined;
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { pid, comm: text.slice(open + 1, close), ppid: Number(rest[1]), cpuSeconds: (utime + stime) / ticksPerSecond() };
}

/** Reads a kB field (VmRSS, VmHWM) of /proc/<pid>/status in MB; undefined when unavailable. */
export function readStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids of every live descendant of `root` (not including it); empty when /proc cannot be read. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  for (const name of entries) {
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st.pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * Measures a group of processes over one run. Call start() right before the load and stop() right
 * after it; stop() returns null when none of the processes could be read.
 */
export class ProcessMeter {
  private before = new Map<number, number>();
  private maxRss = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  constructor(private readonly pids: number[]) {}

  /** Records the starting CPU time, resets the kernel's peak-RSS mark and starts sampling RSS every 100 ms. */
  start(): void {
    this.hwmReset = this.pids.length > 0;
    for (const pid of this.pids) {
      const st = readStat(pid);
      if (st) this.before.set(pid, st.cpuSeconds);
      // Writing 5 to clear_refs resets VmHWM to the current RSS, so VmHWM becomes the peak of this run.
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        this.hwmReset = false;
      }
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  /** Stops sampling and returns the usage over the run, or null when no process was readable. */
  stop(responses: number): ProcessUsage | null {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    let cpu = 0;
    let peak = 0;
    const names: string[] = [];
    for (const pid of this.pids) {
      const st = readStat(pid);
      const start = this.before.get(pid);
      if (!st || start === undefined) continue;
      names.push(`${st.comm} ${pid}`);
      cpu += st.cpuSeconds - start;
      const hwm = this.hwmReset ? readStatusMb(pid, "VmHWM") : undefined;
      peak += Math.max(hwm ?? 0, this.maxRss.get(pid) ?? 0);
    }
    if (names.length === 0) return null;
    return {
      processes: names,
      cpuSeconds: round3(cpu),
      cpuMsPer1kRequests: responses > 0 ? round3((cpu * 1000 * 1000) / responses) : 0,
      peakRssMb: round3(peak),
    };
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = readStatusMb(pid, "VmRSS");
      if (rss !== undefined && rss > (this.maxRss.get(pid) ?? 0)) this.maxRss.set(pid, rss);
    }
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
