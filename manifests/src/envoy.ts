// The local run's Envoy as a committed file (manifests/envoy/bootstrap.yaml): the very options
// `npm start` uses (image-hub/start.ts stackEnvoyOptions + policyFilters), built by the Envoy harness,
// with demo values where the local run picks its own (ports, sidecar secret, keys).
import { isAbsolute, relative } from "node:path";
import { stringify } from "yaml";
import { buildBootstrap, type Bootstrap } from "proxy-wasm-host-emulator/envoy";
import { policyFilters, stackEnvoyOptions } from "../../image-hub/start.ts";
import type { ManifestParams } from "./params.ts";

/** The local run's public URL in the committed bootstrap (npm start's default port). */
export const LOCAL_URL = "http://127.0.0.1:8080";

/**
 * The bootstrap in filter mode for these parameters, with the harness's absolute wasm paths rewritten
 * relative to `root` so the file does not depend on where the repository is checked out (Envoy resolves
 * them against its working directory: run it from the repository root). Throws when a policy filter's
 * wasm has not been built.
 */
export function portableBootstrap(p: ManifestParams, root: string): Bootstrap {
  const url = new URL(LOCAL_URL);
  const filters = policyFilters(`${LOCAL_URL}/api/token`, [...p.jwtKeys], p.sidecarSecret);
  const { config } = buildBootstrap(
    stackEnvoyOptions({ port: Number(url.port), accessPort: p.ports.access, uiPort: p.ports.ui, sidecarSecret: p.sidecarSecret, filters }),
  );
  const rewrite = (v: unknown): unknown => {
    if (typeof v === "string") return isAbsolute(v) && v.endsWith(".wasm") && !relative(root, v).startsWith("..") ? relative(root, v) : v;
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
    return v;
  };
  const portable = rewrite(config) as Record<string, unknown>;
  return { config: portable, yaml: stringify(portable, { lineWidth: 0 }) };
}
