// Parsing of Envoy's log output. The harness starts Envoy with LOG_FORMAT below so every line has a
// fixed shape; wasm lines carry a prefix of plugin name, root id and VM id that is only unambiguous
// when the configured plugins are known, so parsing takes them as input.

/** Envoy log format used by the harness: time, thread, level, logger, message (no source location). */
export const LOG_FORMAT = "[%Y-%m-%d %T.%e][%t][%l][%n] %v";

/** proxy-wasm log level names (Envoy's "warning" is reported as "warn"). */
export type WasmLogLevel = "trace" | "debug" | "info" | "warn" | "error" | "critical";

/** One parsed line of Envoy output. */
export interface EnvoyLogLine {
  time: string;
  thread: number;
  level: string;
  logger: string;
  message: string;
}

/** One `proxy_log` call (or WASI stdout/stderr write) as Envoy printed it. */
export interface WasmLogLine {
  level: WasmLogLevel;
  message: string;
  /** Set for stream contexts; Envoy omits it for root contexts. */
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  thread: number;
}

/** What the parser needs to know about a configured plugin. */
export interface PluginIdentity {
  name: string;
  rootId?: string;
  vmId?: string;
}

const LINE = /^\[([^\]]+)\]\[(\d+)\]\[(\w+)\]\[([^\]]+)\] ?(.*)$/;

/** Parses one line in LOG_FORMAT; returns undefined for anything else (e.g. a continuation line). */
export function parseLogLine(line: string): EnvoyLogLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { time: m[1]!, thread: Number(m[2]), level: m[3]!, logger: m[4]!, message: m[5]! };
}

/**
 * Turns a parsed Envoy line into a wasm log line when it is one (logger "wasm", message starting
 * with "wasm log"); returns undefined otherwise. The prefix is matched against the known plugins
 * first (longest match), so plugin names containing spaces or ": " in messages do not confuse it.
 */
export function toWasmLog(line: EnvoyLogLine, plugins: readonly PluginIdentity[]): WasmLogLine | undefined {
  if (line.logger !== "wasm" || !line.message.startsWith("wasm log")) return undefined;
  const rest = line.message.slice("wasm log".length);
  const level = (line.level === "warning" ? "warn" : line.level) as WasmLogLevel;
  const candidates: { prefix: string; pluginName?: string; rootId?: string; vmId?: string }[] = [];
  for (const p of plugins) {
    const rootId = p.rootId ?? "";
    const vmId = p.vmId ?? p.name;
    candidates.push({ prefix: joinPrefix([p.name, rootId, vmId]), pluginName: p.name, rootId, vmId });
    candidates.push({ prefix: joinPrefix([rootId, vmId]), rootId, vmId });
  }
  candidates.sort((a, b) => b.prefix.length - a.prefix.length);
  for (const c of candidates) {
    if (rest.startsWith(`${c.prefix}: `)) {
      return { level, message: rest.slice(c.prefix.length + 2), pluginName: c.pluginName, rootId: c.rootId, vmId: c.vmId, thread: line.thread };
    }
  }
  // Unknown plugin: fall back to Envoy's shape (3 words = plugin, root, vm; 2 = root, vm).
  const colon = rest.indexOf(": ");
  if (colon < 0) return { level, message: rest.trim(), thread: line.thread };
  const words = rest.slice(0, colon).trim().split(" ").filter(Boolean);
  const message = rest.slice(colon + 2);
  if (words.length >= 3) return { level, message, pluginName: words[0], rootId: words[1], vmId: words[2], thread: line.thread };
  if (words.length === 2) return { level, message, rootId: words[0], vmId: words[1], thread: line.thread };
  return { level, message, vmId: words[0], thread: line.thread };
}

function joinPrefix(parts: string[]): string {
  return parts.filter((p) => p !== "").map((p) => ` ${p}`).join("");
}
