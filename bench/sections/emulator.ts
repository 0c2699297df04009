// Issue 2: streams per second through add-header in the emulator (a full request/response stream
// each), and the release .wasm size of every filter (collected at start-up into results.wasmSizes).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Section, SectionContext } from "../lib/context.ts";
import { startEmulatedChain } from "../lib/emulator.ts";

/** Measures add-header in the emulator into ctx.results.emulator. */
export const emulatorSection: Section = {
  name: "emulator",
  async run(ctx: SectionContext): Promise<void> {
    if (Object.keys(ctx.results.wasmSizes).length === 0) ctx.notMeasured("emulator", "wasm sizes", "no filter is built in build/filters (run npm run build)");
    const wasmPath = join(ctx.root, "build/filters/add-header.wasm");
    const configPath = join(ctx.root, "filters/add-header/config.example.json");
    if (!existsSync(wasmPath)) return ctx.notMeasured("emulator", "streams/s", "build/filters/add-header.wasm is not built");
    const pluginConfig = existsSync(configPath) ? readFileSync(configPath, "utf8") : "{}";
    let chain;
    try {
      chain = await startEmulatedChain(ctx.root, [{ name: "add-header", wasmPath, pluginConfig, rootId: "add-header" }]);
    } catch (err) {
      return ctx.notMeasured("emulator", "streams/s", (err as Error).message);
    }
    try {
      const req = { method: "GET", path: "/v2/", headers: [["user-agent", "bench"], ["accept", "*/*"]] as [string, string][] };
      const warm = Math.min(1000, ctx.settings.emulatorStreams);
      for (let i = 0; i < warm; i++) await chain.exchange(req);
      const before = chain.memoryPages();
      const statuses: Record<string, number> = {};
      const t0 = process.hrtime.bigint();
      const limitNs = BigInt(ctx.settings.sectionSeconds) * 1_000_000_000n;
      let streams = 0;
      while (streams < ctx.settings.emulatorStreams && process.hrtime.bigint() - t0 < limitNs) {
        const status = await chain.exchange(req);
        statuses[status] = (statuses[status] ?? 0) + 1;
        streams++;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (statuses["200"] !== streams) {
        return ctx.notMeasured("emulator", "streams/s", `add-header streams did not all answer 200: ${JSON.stringify(statuses)}`);
      }
      ctx.results.emulator = {
        streams,
        streamsPerSecond: Math.round(streams / seconds),
        memoryPagesBefore: before,
        memoryPagesAfter: chain.memoryPages(),
      };
      ctx.log(`emulator: ${ctx.results.emulator.streamsPerSecond} streams/s through add-header`);
    } finally {
      await chain.close();
    }
  },
};
