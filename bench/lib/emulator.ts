// The emulator (filters/host) as the benchmarks drive it: a chain of filters that one request at a
// time goes through, with a trivial upstream. Loaded lazily so a missing emulator only makes the
// emulator sections "not measured".
import { readFileSync } from "node:fs";
import { loadPackage } from "./deps.ts";

/** A filter to load into the emulator. */
export interface EmulatedFilter {
  name: string;
  wasmPath: string;
  pluginConfig: string;
  rootId: string;
}

/** One request through the chain. */
export interface EmulatedRequest {
  method: string;
  path: string;
  headers: [string, string][];
}

/** A started chain. */
export interface EmulatedChain {
  /** Runs one stream; resolves with the status the client saw. */
  exchange(req: EmulatedRequest): Promise<number>;
  /** Linear memory pages of the first filter's first VM, or null when the emulator does not expose it. */
  memoryPages(): number | null;
  close(): Promise<void>;
}

type HostModule = typeof import("proxy-wasm-host-emulator");

const UPSTREAM_BODY = new TextEncoder().encode('{"schemaVersion":2}');

/**
 * Loads the emulator and starts a chain of `filters` (may be empty), with a "plans" cluster answering
 * `planAnswer` when given; rejects with a clear reason when the emulator is missing or refuses a filter.
 */
export async function startEmulatedChain(root: string, filters: EmulatedFilter[], planAnswer?: string): Promise<EmulatedChain> {
  const host = await loadPackage<HostModule>("proxy-wasm-host-emulator", ["createChain", "ManualClock"]);
  const chain = await host.createChain({
    // The emulator's clock is manual and starts in the past by default; tokens are checked against
    // real time, so it starts now (and stands still: no bucket refills during a measurement).
    clock: new host.ManualClock(Date.now()),
    // token-auth's plan lookup, when configured, asks the cluster "plans"; it answers `planAnswer`.
    clusters: planAnswer === undefined ? undefined : { plans: () => ({ status: 200, headers: [["content-type", "text/plain"]], body: planAnswer }) },
    filters: filters.map((f) => ({ name: f.name, wasm: readFileSync(f.wasmPath), pluginConfig: f.pluginConfig, rootId: f.rootId, failurePolicy: "FAIL_CLOSED" as const })),
  });
  const upstream = async () => ({ status: 200, headers: [["content-type", "application/json"]] as [string, string][], body: UPSTREAM_BODY });
  return {
    async exchange(req) {
      const res = await chain.exchange({ method: req.method, path: req.path, headers: req.headers }, upstream);
      return res.status;
    },
    memoryPages: () => (filters.length > 0 ? chain.memoryPages(0, 0) : null),
    close: () => chain.close(),
  };
}
