/**
 * The chain runner: several plugins as one Envoy HTTP filter chain, with the filter manager's
 * state machine (decoder filters in order, encoder filters in reverse, stop/continue/buffering,
 * local replies through the encoder path, 503 on fail-closed) and a router calling `upstream`.
 */
import { type LogLevelName, logLevelNames } from "./abi.ts";
import { type CalloutOutcome, type CalloutRecord, type ClusterHandler, deliverCallout } from "./callouts.ts";
import { ManualClock } from "./clock.ts";
import { type LocalReply } from "./context.ts";
import { type FailurePolicy } from "./filter-stream.ts";
import { type StreamOptions } from "./host.ts";
import { PluginLoadError } from "./module.ts";
import { Plugin, type PluginOptions, resolveSettings } from "./plugin.ts";
import { type LogEntry, Runtime } from "./runtime.ts";
import { Exchange } from "./exchange.ts";

/** One filter of a chain: a plugin without the process-wide options. */
export interface ChainFilter extends Omit<PluginOptions, "workers" | "clusters"> {
  failurePolicy?: FailurePolicy;
}

/** Options of createChain. */
export interface ChainOptions {
  filters: ChainFilter[];
  /** Worker threads; every filter gets one VM per worker. Default 1. */
  workers?: number;
  /** Clusters for proxy_http_call (shared by all filters). */
  clusters?: Record<string, ClusterHandler | null>;
  clock?: ManualClock;
  /** Default log level of every filter that sets none. */
  logLevel?: PluginOptions["logLevel"];
  /** Add what Envoy's connection manager and router add (x-forwarded-proto, x-request-id, …). Default true. */
  envoyHeaders?: boolean;
  /** Per-stream buffer limit (Envoy's per_connection_buffer_limit_bytes); default 1 MiB. */
  bufferLimitBytes?: number;
  /** Virtual time before a stalled stream gets Envoy's 408 stream timeout; default 300 000 ms. */
  streamIdleTimeoutMs?: number;
  /** The `upstream.address` property once the router calls the upstream; default "127.0.0.1:8080". */
  upstreamAddress?: string;
}

/** A request as a client sends it. */
export interface ChainRequest {
  method?: string;
  path: string;
  /** Client headers; `host` becomes `:authority` (default "localhost"). */
  headers?: [string, string][] | Record<string, string>;
  body?: Uint8Array | string;
  trailers?: [string, string][];
}

/** What the upstream received. */
export interface UpstreamRequest {
  method: string;
  path: string;
  authority: string;
  /** Headers as the upstream sees them (host first, no pseudo-headers). */
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
}

/** An upstream answer, or a reset before any response. */
export type UpstreamResponse =
  | { status: number; headers?: [string, string][]; body?: Uint8Array | string; trailers?: [string, string][] }
  | { reset: true };

/** The upstream service: called once per request that reaches the router. */
export type Upstream = (request: UpstreamRequest) => UpstreamResponse | Promise<UpstreamResponse>;

/** What the client observed, and how it came about. */
export interface ChainResult {
  /** The status the client got (0 when the stream was reset). */
  status: number;
  /** Response headers the client got (no pseudo-headers). */
  headers: [string, string][];
  /** The body as UTF-8 text; bodyBytes holds the raw bytes. */
  body: string;
  bodyBytes: Uint8Array;
  trailers: [string, string][];
  /** What reached the upstream, or undefined when nothing did. */
  upstreamRequest: UpstreamRequest | undefined;
  /** The first local reply and the filter that sent it (Envoy's own replies have filter ""). */
  localReply: (LocalReply & { filter: string }) | undefined;
  /** Response code details (e.g. "via_upstream", "wasm_fail_stream"). */
  details: string;
  /** Set when the stream was reset (e.g. "wasm_close_stream"). */
  reset: string | undefined;
  /** Log lines recorded while this exchange ran. */
  logs: LogEntry[];
}

/** Chain: a started filter chain and its process. */
export class Chain {
  readonly runtime: Runtime;
  readonly plugins: Plugin[] = [];
  readonly names: string[] = [];
  private next = 0;

  /** Use createChain(). */
  constructor(readonly options: ChainOptions) {
    if (!options || !Array.isArray(options.filters)) throw new TypeError("filters must be an array of filter options");
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new TypeError(`workers must be an integer 1..64, got ${workers}`);
    this.runtime = new Runtime(options.clock);
    options.filters.forEach((filter, i) => {
      const name = filter.name ?? filter.rootId ?? `filter${i}`;
      let resolved;
      try {
        resolved = resolveSettings({ ...filter, name, logLevel: filter.logLevel ?? options.logLevel, workers, clusters: options.clusters }, this.runtime);
      } catch (err) {
        if (err instanceof TypeError) throw new TypeError(`filters[${i}] (${name}): ${err.message}`);
        if (err instanceof PluginLoadError) throw new ChainStartError(name, err.failState, err.message, refusalLogs(name, err));
        throw err;
      }
      this.plugins.push(new Plugin(resolved.settings, resolved.prepared, workers, resolved.policy, filter.emulateCanary ?? false));
      this.names.push(name);
    });
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.options.workers ?? 1;
  }

  /**
   * exchange sends one request through the chain and resolves with what the client got. Rejects
   * only on an emulator problem (e.g. a stream waiting for a callout the test never answers).
   */
  async exchange(request: ChainRequest, upstream?: Upstream, options: StreamOptions = {}): Promise<ChainResult> {
    const worker = options.worker ?? this.next++ % this.workers;
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.workers) throw new RangeError(`worker must be 0..${this.workers - 1}, got ${worker}`);
    for (const plugin of this.plugins) plugin.pickWorker(worker);
    const run = new Exchange(this, worker, upstream ?? (() => ({ status: 200 })), options);
    return run.run(request);
  }

  /** advanceTime moves the clock, firing ticks and callout timeouts. */
  advanceTime(ms: number): void {
    this.runtime.clock.advance(ms, () => this.runtime.runPending());
  }

  /** getLogs returns every recorded line, or those of one level. */
  getLogs(level?: LogLevelName): LogEntry[] {
    if (level !== undefined && !logLevelNames.includes(level)) throw new RangeError(`getLogs: unknown level ${level}`);
    return this.runtime.logs.filter((l) => level === undefined || l.level === level);
  }

  /** getMetric returns a custom metric's value (histograms: the sample count), or undefined. */
  getMetric(name: string): bigint | undefined {
    const m = this.runtime.metrics.get(name);
    return m === undefined ? undefined : m.type === "histogram" ? BigInt(m.samples.length) : m.value;
  }

  /** getCallouts returns pending callouts of every filter and worker. */
  getCallouts(): (CalloutRecord & { filter: string })[] {
    return this.plugins.flatMap((p, i) => p.vms.flatMap((vm) => [...vm.callouts.values()].map((c) => ({ ...c, filter: this.names[i] }))));
  }

  /** getAllCallouts returns every callout made by any filter, pending or not; see `state`. */
  getAllCallouts(): (CalloutRecord & { filter: string })[] {
    return this.plugins.flatMap((p, i) => p.vms.flatMap((vm) => vm.calloutHistory.map((c) => ({ ...c, filter: this.names[i] }))));
  }

  /** respondCallout answers a pending callout of `filter` on `worker`; throws if none matches. */
  respondCallout(filter: string, token: number, outcome: CalloutOutcome, worker = 0): void {
    const plugin = this.plugins[this.names.indexOf(filter)];
    const vm = plugin?.vms[worker];
    const record = vm?.callouts.get(token);
    if (!vm || !record) throw new Error(`respondCallout: no pending callout ${token} of filter ${filter} on worker ${worker}`);
    deliverCallout(vm, record, outcome);
    this.runtime.runPending();
  }

  /** memoryPages returns the linear memory size (64 KiB pages) of one filter's VM on one worker. */
  memoryPages(filter = 0, worker = 0): number {
    return this.plugins[filter].vms[worker].memory.byteLength / 65536;
  }

  /** close calls on_done (then on_delete) on every root context. */
  async close(): Promise<void> {
    for (const plugin of this.plugins) {
      plugin.vms.forEach((vm, w) => {
        const root = plugin.roots[w];
        if (root.deleted) return;
        if (vm.call(root, "proxy_on_done", root.id) === 0) root.pendingDone = true;
        else {
          root.deleted = true;
          this.runtime.clock.cancel(root.tickTimer);
          vm.call(root, "proxy_on_delete", root.id);
        }
      });
    }
    this.runtime.runPending();
  }
}

/** Thrown by createChain when Envoy would refuse a filter's module or configuration. */
export class ChainStartError extends PluginLoadError {
  constructor(
    readonly filter: string,
    failState: PluginLoadError["failState"],
    message: string,
    /** Log lines recorded while starting (e.g. the filter's own "bad config" line). */
    readonly logs: LogEntry[],
  ) {
    super(failState, `filter ${filter}: ${message}`);
  }
}

/** The error lines Envoy logs when it refuses a module, as log entries of that filter. */
function refusalLogs(name: string, err: PluginLoadError): LogEntry[] {
  return [err.message, ...(err.stage ? [err.stage] : [])].map((message) => ({ level: "error", message, line: message, source: "envoy", pluginName: name, worker: 0, contextId: 0 }));
}

/**
 * createChain loads and starts every filter on every worker. Rejects with ChainStartError when
 * Envoy would refuse a filter (bad module, on_vm_start or on_configure false), TypeError on a bad
 * option naming the field.
 */
export async function createChain(options: ChainOptions): Promise<Chain> {
  const chain = new Chain(options);
  chain.plugins.forEach((plugin, i) => {
    const result = plugin.start();
    if (!result.ok) throw new ChainStartError(chain.names[i], result.failState, result.message ?? result.failState, [...chain.runtime.logs]);
  });
  chain.runtime.runPending();
  return chain;
}
