/**
 * A small layer over `createHost` for `node:test` files, in the style of Go's proxytest:
 * `startFilter` loads and starts a module (and shuts it down after the test), `header` / `headerValues`
 * read a header list, `errorLogs` lists what a test usually asserts is empty.
 */
import { existsSync, readFileSync } from "node:fs";
import { after } from "node:test";
import { type Header, type Host, type HostOptions, createHost } from "./host.ts";
import { type LogEntry } from "./runtime.ts";

/** Options of `startFilter`: `createHost`'s, with `wasm` also accepted as a file path. */
export interface StartFilterOptions extends Omit<HostOptions, "wasm"> {
  /** The module's bytes, or the path of a `.wasm` file (a missing file is reported with a hint to build). */
  wasm: Uint8Array | string;
}

/**
 * Loads a proxy-wasm module and starts it (`on_vm_start`, `on_configure` on every worker), and
 * registers a `node:test` `after` hook that shuts it down. Call it inside a test or a `before` hook.
 * Rejects with an Error naming the file when the module is missing, `PluginLoadError` when Envoy would
 * refuse the module, and an Error carrying the fail state and the plugin's log lines when the start
 * fails (e.g. `onConfigure` returned false). To assert on a refused start, use `createHost` directly.
 */
export async function startFilter(options: StartFilterOptions): Promise<Host> {
  const { wasm, ...rest } = options;
  let bytes: Uint8Array;
  if (typeof wasm === "string") {
    if (!existsSync(wasm)) throw new Error(`${wasm} does not exist: build the filter first (npm run build)`);
    bytes = readFileSync(wasm);
  } else bytes = wasm;
  const host = await createHost({ ...rest, wasm: bytes });
  const started = host.start();
  if (!started.ok) {
    // Envoy's own line is `started.message`; the plugin's lines say why.
    const logs = host.getLogs().filter((l) => l.source === "wasm").map((l) => `  ${l.level}: ${l.message}`).join("\n");
    throw new Error(`the plugin did not start (${started.failState}${started.message ? `: ${started.message}` : ""})${logs ? `\n${logs}` : ""}`);
  }
  after(() => host.shutdown());
  return host;
}

/** Returns every value of header `name` (case-insensitive) in a header list, in order; [] when absent. */
export function headerValues(headers: readonly Header[], name: string): string[] {
  const key = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() === key).map(([, v]) => v);
}

/** Returns the first value of header `name` (case-insensitive), or undefined when absent. */
export function header(headers: readonly Header[], name: string): string | undefined {
  return headerValues(headers, name)[0];
}

/** Returns the log lines at error or critical level (what a passing test usually expects to be []). */
export function errorLogs(host: Host): LogEntry[] {
  return host.getLogs().filter((l) => l.level === "error" || l.level === "critical");
}
