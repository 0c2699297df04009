// Paths of the SDK test modules built by `node scripts/build.mjs` (build/test-sdk/<name>[.debug].wasm).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** repoRoot is the repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** bothBuilds returns the release and debug builds of a module in `dir`; throws naming the build command if missing. */
export function bothBuilds(dir: string, name: string): { label: string; path: string }[] {
  return ["", ".debug"].map((suffix) => {
    const path = join(repoRoot, dir, `${name}${suffix}.wasm`);
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`node scripts/build.mjs\` first`);
    return { label: suffix ? "debug" : "release", path };
  });
}
