// Starting, observing and stopping a real Envoy. Every Envoy gets its own temp directory, a dynamic
// base id (so parallel Envoys never share hot-restart shared memory), an admin port chosen by the
// kernel (read back through --admin-address-path) and listener ports chosen the same way (read back
// from /listeners), so there is no probe-then-bind race on ports.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBootstrap, normalizeListeners, wasmFilters, type Bootstrap, type BootstrapOptions } from "./bootstrap.ts";
import { LOG_FORMAT, parseLogLine, toWasmLog, type EnvoyLogLine, type PluginIdentity, type WasmLogLine } from "./logs.ts";
import { envoyBinary } from "./binary.ts";

/** Options of `startEnvoy`: the bootstrap plus how to run it. */
export interface StartOptions extends BootstrapOptions {
  /** Worker threads (`--concurrency`); defaults to 1. */
  concurrency?: number;
  /** Global log level (`-l`); defaults to "info". */
  logLevel?: string;
  /** Per-component levels, e.g. `{ wasm: "debug" }` (`--component-log-level`). */
  componentLogLevel?: Record<string, string>;
  /** Run `envoy --mode validate` first; defaults to true. */
  validate?: boolean;
  /** How long to wait for /ready; defaults to 30 s. */
  startTimeoutMs?: number;
  /** Envoy binary; defaults to the project's pinned Envoy (installed on first use). */
  envoyPath?: string;
}

/** A running Envoy. */
export interface EnvoyInstance {
  /** `http://127.0.0.1:<port>` of the first listener. */
  url: string;
  /** URL of each listener by name. */
  urls: Record<string, string>;
  adminUrl: string;
  bootstrap: Bootstrap;
  pid: number;
  /** Every line Envoy printed so far (stdout and stderr, in order). */
  lines(): string[];
  /** Parsed wasm log lines so far, optionally only those of one plugin (stream and root contexts). */
  logs(pluginName?: string): WasmLogLine[];
  /** Waits until a wasm log line matches; rejects after `timeoutMs` (default 5 s) with the log tail. */
  waitForLog(match: (l: WasmLogLine) => boolean, timeoutMs?: number): Promise<WasmLogLine>;
  /** Counters and gauges from /stats?format=json, optionally filtered by a regex on the name. */
  stats(filter?: string): Promise<Record<string, number>>;
  /** /stats/prometheus as text. */
  statsPrometheus(): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s). Idempotent; never rejects. */
  stop(graceMs?: number): Promise<void>;
}

/** Thrown when Envoy refuses a configuration or does not become ready; carries what it printed. */
export class EnvoyStartError extends Error {
  constructor(
    message: string,
    readonly phase: "validate" | "start",
    readonly output: string[],
    readonly wasmLogs: WasmLogLine[],
  ) {
    super(message);
    this.name = "EnvoyStartError";
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// A failing test may end the process without calling stop(); no Envoy may outlive it.
function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

/**
 * Validates a bootstrap with `envoy --mode validate` (which also loads the wasm modules and runs
 * their on_configure). Resolves with `{ ok, output }`; rejects only when Envoy cannot be run at all.
 */
export async function validateBootstrap(bootstrap: Bootstrap, envoyPath?: string): Promise<{ ok: boolean; output: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "envoy-validate-"));
  try {
    const file = join(dir, "bootstrap.yaml");
    writeFileSync(file, bootstrap.yaml);
    const bin = envoyPath ?? (await envoyBinary());
    const child = spawn(bin, ["--mode", "validate", "-c", file, "--log-format", LOG_FORMAT, "--disable-hot-restart"], { stdio: ["ignore", "pipe", "pipe"] });
    trackChild(child);
    const output = collectLines(child);
    const code = await new Promise<number | null>((res, rej) => {
      child.once("error", rej);
      child.once("exit", (c) => res(c));
    });
    return { ok: code === 0, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Builds the bootstrap, validates it (unless `validate: false`), starts Envoy and waits for /ready.
 * Callers must `stop()` the instance (register it in `after`/`t.after`); a process exit kills it too.
 * Rejects with EnvoyStartError (including Envoy's output and wasm logs) when Envoy refuses the config
 * or is not ready in time, and with a plain Error for bad options.
 */
export async function startEnvoy(opts: StartOptions): Promise<EnvoyInstance> {
  const bootstrap = buildBootstrap(opts);
  const plugins: PluginIdentity[] = wasmFilters(opts).map((f) => ({ name: f.name, rootId: f.rootId, vmId: f.vmId }));
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error("concurrency: must be an integer 1..64");
  const bin = opts.envoyPath ?? (await envoyBinary());
  const parse = (lines: string[]) => lines.map(parseLogLine).filter((l): l is EnvoyLogLine => !!l).map((l) => toWasmLog(l, plugins)).filter((l): l is WasmLogLine => !!l);

  if (opts.validate !== false) {
    const v = await validateBootstrap(bootstrap, bin);
    if (!v.ok) throw new EnvoyStartError(`envoy --mode validate refused the bootstrap:\n${tail(v.output)}`, "validate", v.output, parse(v.output));
  }

  const dir = mkdtempSync(join(tmpdir(), "envoy-run-"));
  const configFile = join(dir, "bootstrap.yaml");
  const adminFile = join(dir, "admin-address");
  writeFileSync(configFile, bootstrap.yaml);
  const args = ["-c", configFile, "--concurrency", String(concurrency), "--use-dynamic-base-id", "--base-id-path", join(dir, "base-id"), "--admin-address-path", adminFile, "-l", opts.logLevel ?? "info", "--log-format", LOG_FORMAT, "--drain-time-s", "0", "--parent-shutdown-time-s", "1"];
  const components = Object.entries(opts.componentLogLevel ?? {});
  if (components.length) args.push("--component-log-level", components.map(([k, v]) => `${k}:${v}`).join(","));
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  trackChild(child);
  // Parsed once, as lines arrive: tests poll logs() often and long runs print many lines.
  const wasmLogs: WasmLogLine[] = [];
  const output = collectLines(child, (line) => {
    const parsed = parseLogLine(line);
    const wasm = parsed && toWasmLog(parsed, plugins);
    if (!wasm) return;
    wasmLogs.push(wasm);
    if (wasmLogs.length > 200_000) wasmLogs.splice(0, wasmLogs.length - 100_000);
  });
  let exited = false;
  // "error" (e.g. the binary cannot be spawned) may come without "exit"; either ends the process.
  const exitPromise = new Promise<void>((res) => {
    const done = () => ((exited = true), res());
    child.once("exit", done);
    child.once("error", (err) => (output.push(`spawn error: ${err.message}`), done()));
  });

  const stop = async (graceMs = 5000): Promise<void> => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    const adminUrl = await waitFor(deadline, () => (exited ? fail() : existsSync(adminFile) ? readFileSync(adminFile, "utf8").trim() || undefined : undefined));
    const base = `http://${adminUrl}`;
    await waitFor(deadline, async () => (exited ? fail() : (await fetchText(`${base}/ready`))?.status === 200 ? true : undefined));
    const listeners = await listenerPorts(base);
    const urls: Record<string, string> = {};
    for (const l of normalizeListeners(opts)) {
      const port = listeners[l.name];
      if (port === undefined) throw new Error(`listener ${l.name} is not bound`);
      urls[l.name] = `http://127.0.0.1:${port}`;
    }
    return {
      url: Object.values(urls)[0]!,
      urls,
      adminUrl: base,
      bootstrap,
      pid: child.pid!,
      lines: () => [...output],
      logs: (name) => wasmLogs.filter((l) => name === undefined || l.pluginName === name || (l.pluginName === undefined && matchesRoot(l, name, plugins))),
      waitForLog: (match, timeoutMs = 5000) =>
        waitFor(Date.now() + timeoutMs, () => wasmLogs.find(match)).catch(() => {
          throw new Error(`no matching wasm log line within ${timeoutMs} ms; last lines:\n${tail(output)}`);
        }),
      stats: async (filter) => parseStats(await adminGet(base, `/stats?format=json${filter ? `&filter=${encodeURIComponent(filter)}` : ""}`)),
      statsPrometheus: () => adminGet(base, "/stats/prometheus"),
      stop,
    };
  } catch (err) {
    await stop(1000);
    if (err instanceof EnvoyStartError) throw err;
    throw new EnvoyStartError(`Envoy did not start: ${(err as Error).message}\n${tail(output)}`, "start", output, [...wasmLogs]);
  }

  function fail(): never {
    throw new Error("Envoy exited during start-up");
  }
}

function matchesRoot(l: WasmLogLine, name: string, plugins: PluginIdentity[]): boolean {
  const p = plugins.find((x) => x.name === name);
  return !!p && (p.rootId ?? "") === (l.rootId ?? "") && (p.vmId ?? p.name) === l.vmId;
}

/** Collects output lines (bounded so a long benchmark run cannot exhaust memory); `onLine` sees each once. */
function collectLines(child: ChildProcess, onLine?: (line: string) => void): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    const take = (line: string) => {
      lines.push(line);
      onLine?.(line);
      if (lines.length > 200_000) lines.splice(0, lines.length - 100_000);
    };
    stream?.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) take(line);
    });
    stream?.on("end", () => partial && take(partial));
  }
  return lines;
}

async function waitFor<T>(deadline: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function fetchText(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

async function adminGet(base: string, path: string): Promise<string> {
  const r = await fetchText(base + path);
  if (!r || r.status !== 200) throw new Error(`admin ${path}: ${r ? `status ${r.status}` : "unreachable"}`);
  return r.body;
}

async function listenerPorts(base: string): Promise<Record<string, number>> {
  const body = JSON.parse(await adminGet(base, "/listeners?format=json")) as {
    listener_statuses?: { name: string; local_address?: { socket_address?: { port_value?: number } } }[];
  };
  const out: Record<string, number> = {};
  for (const l of body.listener_statuses ?? []) {
    const port = l.local_address?.socket_address?.port_value;
    if (port) out[l.name] = port;
  }
  return out;
}

/** Counters and gauges of an admin `/stats?format=json` body; histograms are left out. Throws SyntaxError when the body is not JSON. */
export function parseStats(json: string): Record<string, number> {
  const body = JSON.parse(json) as { stats?: { name?: string; value?: number }[] };
  const out: Record<string, number> = {};
  for (const s of body.stats ?? []) if (typeof s.name === "string" && typeof s.value === "number") out[s.name] = s.value;
  return out;
}

function tail(lines: string[], n = 40): string {
  return lines.slice(-n).join("\n");
}
