// Reads the generator's inputs from the project itself: the plan catalog, each policy filter's built
// release .wasm (bytes and sha256) and its JSON config from image-hub/filter-configs.ts.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCatalog, type Catalog } from "../../image-hub/catalog.ts";
import { policyConfigs, tokenAuthConfig } from "../../image-hub/filter-configs.ts";
import { FILTER_ORDER, type FilterName, type ManifestParams, realm } from "./params.ts";

/** Repository root (manifests/src/../..). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** One built policy filter as the manifests need it. */
export interface FilterArtifact {
  name: FilterName;
  /** Repository-relative path of the release module. */
  path: string;
  wasm: Buffer;
  sha256: string;
  /** The filter's plugin configuration (JSON object) for these parameters. */
  config: Record<string, unknown>;
}

/** Everything the generator derives the manifests from. */
export interface GeneratorInputs {
  catalog: Catalog;
  filters: FilterArtifact[];
}

/** Repository-relative path of a filter's release module. */
export function wasmPath(name: string): string {
  return `build/filters/${name}.wasm`;
}

/** Hex sha256 of a byte buffer. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The policy filters whose sources exist (filters/<name>/index.ts), in chain order. Callable any time;
 * never throws. A filter not yet written is left out; `missingFilters` says which.
 */
export function presentFilters(root = repoRoot): FilterName[] {
  return FILTER_ORDER.filter((n) => existsSync(join(root, "filters", n, "index.ts")));
}

/** The listed policy filters that have no source or no built release module, with the reason. */
export function missingFilters(root = repoRoot): string[] {
  return FILTER_ORDER.flatMap((n) => {
    if (!existsSync(join(root, "filters", n, "index.ts"))) return [`${n}: filters/${n}/index.ts does not exist`];
    if (!existsSync(join(root, wasmPath(n)))) return [`${n}: ${wasmPath(n)} is not built (run \`node scripts/build.mjs --filters\`)`];
    return [];
  });
}

/**
 * Loads the inputs for the given parameters. Throws when a present filter's release module has not
 * been built (the message says to run the build) or when its config cannot be generated.
 */
export function loadInputs(params: ManifestParams, root = repoRoot): GeneratorInputs {
  const catalog = loadCatalog(join(root, "image-hub/plans.json"));
  const names = presentFilters(root);
  const configs = policyConfigs({ realm: realm(params), keys: params.jwtKeys }, catalog);
  const filters = names.map((name): FilterArtifact => {
    const path = wasmPath(name);
    const abs = join(root, path);
    if (!existsSync(abs)) throw new Error(`${path} is missing: run \`node scripts/build.mjs --filters\` first`);
    const wasm = readFileSync(abs);
    return { name, path, wasm, sha256: sha256Hex(wasm), config: { ...configs[name] } };
  });
  return { catalog, filters };
}

/**
 * The filters with token-auth's live-plan lookup (CONTRACT.md "Live plans") pointed at `cluster`, the
 * name under which the mesh's sidecar reaches its own access service; the other filters unchanged.
 * Pure; throws like tokenAuthConfig on bad parameters.
 */
export function withPlanLookup(filters: FilterArtifact[], params: ManifestParams, cluster: string): FilterArtifact[] {
  const config = tokenAuthConfig({ realm: realm(params), keys: params.jwtKeys, planLookup: { cluster, secret: params.sidecarSecret } });
  return filters.map((f) => (f.name === "token-auth" ? { ...f, config: { ...config } } : f));
}
