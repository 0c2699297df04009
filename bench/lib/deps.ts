// The project pieces the benchmark measures, loaded lazily so that a missing or broken piece makes
// only its sections "not measured" instead of stopping the whole run at import time.
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The Envoy harness (the host package's `envoy` entry). */
export type Harness = typeof import("proxy-wasm-host-emulator/envoy");
/** The filter config generator (image-hub/filter-configs.ts). */
export type FilterConfigs = typeof import("../../image-hub/filter-configs.ts");

async function load<T>(root: string, rel: string, mustExport: string[]): Promise<T> {
  const path = join(root, rel);
  if (!existsSync(path)) throw new Error(`${rel} does not exist yet`);
  return importChecked<T>(path, rel, mustExport);
}

async function importChecked<T>(specifier: string, label: string, mustExport: string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${label} failed to load: ${(err as Error).message}`);
  }
  const missing = mustExport.filter((name) => mod[name] === undefined);
  if (missing.length) throw new Error(`${label} does not export ${missing.join(", ")}`);
  return mod as T;
}

/** Loads a package of the workspace by name (e.g. the emulator), requiring the given exports; rejects with a reason. */
export function loadPackage<T>(specifier: string, mustExport: string[]): Promise<T> {
  return importChecked<T>(specifier, specifier, mustExport);
}

/** Loads the Envoy harness; rejects with a reason when it is missing or incomplete. */
export function loadHarness(): Promise<Harness> {
  return loadPackage<Harness>("proxy-wasm-host-emulator/envoy", ["startEnvoy", "envoyBinary"]);
}

/** Loads the filter config generator; rejects with a reason when it is missing or incomplete. */
export function loadFilterConfigs(root: string): Promise<FilterConfigs> {
  return load<FilterConfigs>(root, "image-hub/filter-configs.ts", ["policyFilterChain", "POLICY_FILTERS"]);
}

/** Throws a clear reason unless every listed build output exists. */
export function requireFiles(paths: string[]): void {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`not built: ${missing.join(", ")} (run npm run build)`);
}

/** Loads any module by path relative to the root, requiring the given exports. */
export function loadModule<T>(root: string, rel: string, mustExport: string[]): Promise<T> {
  return load<T>(root, rel, mustExport);
}
