/**
 * The ORAS Go CLI (module `oras.land/oras`), a completely stock OCI client: built unmodified from the
 * Go module proxy by scripts/ensure-oras-go.mjs into build/tools/ when `go` is on PATH. Unlike the
 * Python SDK it needs no project hook to widen a token's scope. `--debug` makes it print every HTTP
 * request and response, which {@link traceOf} turns into lines the tests read.
 * @module
 */
import { execFile } from "node:child_process";

/** The built CLI, or why it is missing; `label` names client and version for test output. */
export type OrasGoClient = { label: string; path: string; skipped?: undefined } | { label: string; skipped: string };

/** One HTTP exchange from `--debug` output, in request order. */
export interface Exchange {
  method: string;
  /** Path and query, e.g. `/v2/ora/files/blobs/uploads/`. */
  path: string;
  /** e.g. 401; 0 when no response was logged. */
  status: number;
  /** The response's WWW-Authenticate header, if any. */
  challenge?: string;
}

/** What one run printed and how it ended. */
export interface OrasGoRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The exchanges `--debug` logged (empty without it). */
  trace: Exchange[];
}

let cached: Promise<OrasGoClient> | undefined;

/**
 * Resolves the CLI, building it first when missing (a couple of minutes the first time), or a
 * `skipped` reason ("go not found"). Rejects with go's output when the build itself fails.
 */
export function orasGoClient(): Promise<OrasGoClient> {
  cached ??= (async () => {
    // ensure-oras-go.mjs is plain JavaScript without type declarations, hence the computed import.
    const url = new URL("../../scripts/ensure-oras-go.mjs", import.meta.url).href;
    const mod = (await import(url)) as { ensureOrasGo(o?: { quiet?: boolean }): { path?: string; skipped?: string }; ORAS_GO_VERSION: string };
    const label = `oras ${mod.ORAS_GO_VERSION} (ORAS Go CLI, built from the Go module proxy)`;
    const r = mod.ensureOrasGo({ quiet: true });
    return r.path ? { label, path: r.path } : { label, skipped: r.skipped ?? "not built" };
  })();
  return cached;
}

/** Runs the CLI with `args` (and `input` on stdin) in `cwd`; resolves with its output whatever the exit status. */
export function runOrasGo(bin: string, args: string[], cwd: string, input = "", timeoutMs = 60_000): Promise<OrasGoRun> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, trace: traceOf(stderr) });
    });
    child.stdin?.end(input);
  });
}

/** Parses `--debug` output (`--> Request #n` / `<-- Response #n` blocks) into exchanges by request number. */
export function traceOf(stderr: string): Exchange[] {
  const byNumber = new Map<number, Exchange>();
  let current: { n: number; request: boolean } | undefined;
  for (const line of stderr.split("\n")) {
    const head = /\]\[DEBUG\]: (-->|<--) (Request|Response) #(\d+)$/.exec(line);
    if (head) {
      current = { n: Number(head[3]), request: head[1] === "-->" };
      if (!byNumber.has(current.n)) byNumber.set(current.n, { method: "", path: "", status: 0 });
      continue;
    }
    if (!current) continue;
    const ex = byNumber.get(current.n)!;
    const field = /^(?:> Request (URL|method)|< Response (Status)): (".*")$/.exec(line);
    if (field) {
      const value = JSON.parse(field[3]) as string;
      if (field[1] === "URL") ex.path = new URL(value).pathname + new URL(value).search;
      else if (field[1] === "method") ex.method = value;
      else ex.status = Number(value.split(" ")[0]);
      continue;
    }
    const auth = /^\s+"Www-Authenticate": (".*")$/.exec(line);
    if (auth && !current.request) ex.challenge = JSON.parse(auth[1]) as string;
  }
  return [...byNumber.entries()].sort((a, b) => a[0] - b[0]).map(([, ex]) => ex);
}

/** Formats exchanges one a line (`METHOD path -> status`), for assertion messages. */
export function showTrace(trace: Exchange[]): string {
  return trace.map((e) => `${e.method} ${e.path} -> ${e.status}`).join("\n");
}
