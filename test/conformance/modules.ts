// Where the scenario modules live and how scenario filters become plugin identities, shared by both
// runners so the emulator and Envoy see the same plugin names, root ids and VM ids.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Scenario } from "./types.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Absolute path of a scenario module: a conformance test filter first, then a project filter. Throws when neither was built. */
export function modulePath(name: string): string {
  for (const p of [`${root}build/test-filters/${name}.wasm`, `${root}build/filters/${name}.wasm`]) if (existsSync(p)) return p;
  throw new Error(`module "${name}" is not built (run \`npm run build\`)`);
}

/** Plugin name of the j-th filter of a scenario; also its VM id, so scenarios never share VMs or shared data. */
export function pluginName(s: Scenario, j: number): string {
  return `${s.name}_f${j}`;
}

/** VM id of the j-th filter of a scenario: the filter's own, else its plugin name. */
export function vmIdOf(s: Scenario, j: number): string {
  return s.filters[j]!.vmId ?? pluginName(s, j);
}

/** Plugin configuration as the bytes both hosts receive. */
export function configText(config: string | object | undefined): string | undefined {
  return config === undefined || typeof config === "string" ? config : JSON.stringify(config);
}

/** Name of the cluster HTTP callouts go to, on both sides. */
export const CALLOUT_CLUSTER = "callout";
