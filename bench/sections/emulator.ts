// Issues 2 and 15: the emulator's own speed. Full request/response streams (request headers in, the
// upstream's 200 with a body out, on_log/on_done/on_delete) through add-header built in release mode
// (build/filters/add-header.wasm with its config.example.json) and through an empty chain, one stream
// at a time on this process's one JavaScript thread. Rounds alternate between the two arms and the
// figures are medians over rounds. Each round is timed twice: wall clock, and the CPU time of this
// process (all its threads, so GC helpers count too). On a machine shared with other work the CPU
// figure is the "one core" number; the wall figure also counts time other processes held the core.
// Also collects the release .wasm size of every filter (at start-up into results.wasmSizes).
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { Section, SectionContext } from "../lib/context.ts";
import { startEmulatedChain, type EmulatedChain, type EmulatedRequest } from "../lib/emulator.ts";

const ROUNDS = 5;

interface Round {
  streams: number;
  wallUs: number;
  cpuUs: number;
}

/** Measures add-header and the empty chain in the emulator into ctx.results.emulator. */
export const emulatorSection: Section = {
  name: "emulator",
  async run(ctx: SectionContext): Promise<void> {
    if (Object.keys(ctx.results.wasmSizes).length === 0) ctx.notMeasured("emulator", "wasm sizes", "no filter is built in build/filters (run npm run build)");
    const wasmPath = join(ctx.root, "build/filters/add-header.wasm");
    const configPath = join(ctx.root, "filters/add-header/config.example.json");
    if (!existsSync(wasmPath)) return ctx.notMeasured("emulator", "streams/s", "build/filters/add-header.wasm is not built");
    const pluginConfig = existsSync(configPath) ? readFileSync(configPath, "utf8") : "{}";
    let addHeader: EmulatedChain;
    let empty: EmulatedChain;
    try {
      addHeader = await startEmulatedChain(ctx.root, [{ name: "add-header", wasmPath, pluginConfig, rootId: "add-header" }]);
      empty = await startEmulatedChain(ctx.root, []);
    } catch (err) {
      return ctx.notMeasured("emulator", "streams/s", (err as Error).message);
    }
    try {
      const req: EmulatedRequest = { method: "GET", path: "/v2/", headers: [["user-agent", "bench"], ["accept", "*/*"]] };
      const perRound = Math.max(100, Math.floor(ctx.settings.emulatorStreams / ROUNDS));
      const warm = Math.min(2000, perRound);
      const statuses: Record<string, number> = {};
      for (const chain of [addHeader, empty]) await runStreams(chain, req, warm, statuses);
      const before = addHeader.memoryPages();
      const load = loadavg()[0];
      const rounds = { addHeader: [] as Round[], empty: [] as Round[] };
      // Each round gets an equal share of the time bound, so a slow machine still finishes all rounds.
      const roundNs = (BigInt(ctx.settings.sectionSeconds) * 1_000_000_000n) / BigInt(2 * ROUNDS);
      for (let r = 0; r < ROUNDS; r++) {
        rounds.empty.push(await timedRound(empty, req, perRound, roundNs, statuses));
        rounds.addHeader.push(await timedRound(addHeader, req, perRound, roundNs, statuses));
      }
      const streams = (list: Round[]) => list.reduce((n, x) => n + x.streams, 0);
      const total = streams(rounds.addHeader) + streams(rounds.empty) + 2 * warm;
      if (statuses["200"] !== total) {
        return ctx.notMeasured("emulator", "streams/s", `streams did not all answer 200: ${JSON.stringify(statuses)}`);
      }
      const addWall = median(rounds.addHeader.map((x) => x.wallUs));
      const addCpu = median(rounds.addHeader.map((x) => x.cpuUs));
      ctx.results.emulator = {
        streams: streams(rounds.addHeader),
        streamsPerSecond: Math.round(1e6 / addWall),
        cpuStreamsPerSecond: Math.round(1e6 / addCpu),
        emptyChain: {
          streams: streams(rounds.empty),
          usPerStream: round2(median(rounds.empty.map((x) => x.wallUs))),
          cpuUsPerStream: round2(median(rounds.empty.map((x) => x.cpuUs))),
        },
        rounds: ROUNDS,
        loadAverage: round2(load),
        memoryPagesBefore: before,
        memoryPagesAfter: addHeader.memoryPages(),
      };
      const e = ctx.results.emulator;
      ctx.log(`emulator: add-header ${e.cpuStreamsPerSecond} streams per CPU-second (${e.streamsPerSecond}/s wall); empty chain ${e.emptyChain!.cpuUsPerStream} µs CPU per stream (${e.emptyChain!.usPerStream} µs wall); load ${e.loadAverage}`);
    } finally {
      await addHeader.close();
      await empty.close();
    }
  },
};

async function runStreams(chain: EmulatedChain, req: EmulatedRequest, n: number, statuses: Record<string, number>): Promise<void> {
  for (let i = 0; i < n; i++) {
    const status = await chain.exchange(req);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}

/** Up to `n` streams, or fewer when `limitNs` of wall time runs out; µs per stream by wall clock and by CPU time. */
async function timedRound(chain: EmulatedChain, req: EmulatedRequest, n: number, limitNs: bigint, statuses: Record<string, number>): Promise<Round> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let streams = 0;
  while (streams < n && (streams % 256 !== 0 || process.hrtime.bigint() - t0 < limitNs)) {
    const status = await chain.exchange(req);
    statuses[status] = (statuses[status] ?? 0) + 1;
    streams++;
  }
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { streams, wallUs: wallUs / streams, cpuUs: (cpu.user + cpu.system) / streams };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
