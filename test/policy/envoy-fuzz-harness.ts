/**
 * The three policy filters in real Envoy for fuzzing: one listener with the chain (rate-limit window
 * of a day, so refill during a run stays far below one pull and the oracle's bucket needs no clock),
 * a recording upstream, and the evidence that nothing trapped or restarted (wasm stats and logs).
 * @module
 */
import { existsSync } from "node:fs";
import { startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";
import { EXAMPLE_REALM, policyFilterChain } from "../../image-hub/filter-configs.ts";
import { fuzzEnvoy, type FuzzReport } from "./fuzz-run.ts";
import { startUpstream, type RecordingUpstream } from "./http.ts";

/** The rate-limit window of the fuzz listener. */
export const FUZZ_WINDOW_SECONDS = 86400;

/** A running fuzz target. */
export interface EnvoyFuzzTarget {
  envoy: EnvoyInstance;
  upstream: RecordingUpstream;
  stop(): Promise<void>;
}

/** startEnvoyFuzzTarget starts the upstream and Envoy (--concurrency 2); rejects when a filter is not built or Envoy refuses. */
export async function startEnvoyFuzzTarget(): Promise<EnvoyFuzzTarget> {
  const chain = policyFilterChain({ realm: EXAMPLE_REALM }).map((f) =>
    f.name === "rate-limit" ? { ...f, configuration: JSON.stringify({ ...JSON.parse(f.configuration), windowSeconds: FUZZ_WINDOW_SECONDS }) } : f,
  );
  for (const f of chain) if (!existsSync(f.wasm)) throw new Error(`${f.wasm} is missing: run node scripts/build.mjs --filters`);
  const upstream = await startUpstream();
  const envoy = await startEnvoy({ clusters: [{ name: "app", port: upstream.port }], listeners: [{ name: "fuzz", filters: chain }], concurrency: 2 });
  return { envoy, upstream, stop: async () => (await envoy.stop(), await upstream.close()) };
}

/** Health of the wasm VMs after a run, from Envoy's own stats and log. */
export interface WasmHealth {
  /** Envoy log lines that report a trap or a failed VM. */
  trapLines: string[];
  /** wasm stats (VMs created, active, failed ...). */
  stats: Record<string, number>;
  /** Wasm log lines at error or critical. */
  errors: string[];
}

/** wasmHealth reads the evidence after a run. */
export async function wasmHealth(envoy: EnvoyInstance): Promise<WasmHealth> {
  return {
    // Envoy reports a trap as "Function: proxy_on_… failed: Uncaught RuntimeError: …" from its wasm logger.
    trapLines: envoy.lines().filter((l) => /\]\[wasm\]/.test(l) && /\btrap\b|RuntimeError|Uncaught|Function: proxy_on_\w+ failed|VM failed/i.test(l)),
    stats: await envoy.stats("^wasm\\."),
    errors: envoy.logs().filter((l) => l.level === "error" || l.level === "critical").map((l) => l.message),
  };
}

/** runEnvoyFuzz fuzzes the target's listener and returns the report with the VM health after it. */
export async function runEnvoyFuzz(target: EnvoyFuzzTarget, seed: number, count: number, lanes = 8): Promise<FuzzReport & { health: WasmHealth; before: Record<string, number> }> {
  const before = await target.envoy.stats("^wasm\\.");
  const report = await fuzzEnvoy(target.envoy.urls.fuzz!, target.upstream, { seed, count, windowSeconds: FUZZ_WINDOW_SECONDS, lanes });
  return { ...report, health: await wasmHealth(target.envoy), before };
}
