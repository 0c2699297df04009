/**
 * The chain runner: several plugins as one Envoy HTTP filter chain, with the filter manager's
 * state machine (decoder filters in order, encoder filters in reverse, stop/continue/buffering,
 * local replies through the encoder path, 503 on fail-closed) and a router calling `upstream`.
 */
import { type LogLevelName, logLevelNames } from "./abi.ts";
import { type CalloutOutcome, type CalloutRecord, deliverCallout } from "./callouts.ts";
import { type ChainOptions, type ChainRequest, type ChainResult, type ChainState, type Upstream } from "./chain-types.ts";
import { type StreamOptions } from "./host.ts";
import { PluginLoadError } from "./module.ts";
import { Plugin, resolveSettings } from "./plugin.ts";
import { type LogEntry, Runtime } from "./runtime.ts";
import { Exchange } from "./exchange.ts";

export type { ChainFilter, ChainOptions, ChainRequest, ChainResult, Upstream, UpstreamRequest, UpstreamResponse } from "./chain-types.ts";


const noOptions: StreamOptions = {};
const defaultUpstream: Upstream = () => ({ status: 200 });

/** Chain: a started filter chain and its process. */
export class Chain implements ChainState {
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
  exchange(request: ChainRequest, upstream?: Upstream, options: StreamOptions = noOptions): Promise<ChainResult> {
    // Not an async function (one promise less per stream); every failure still rejects.
    try {
      const worker = options.worker ?? this.next++ % this.workers;
      if (!Number.isInteger(worker) || worker < 0 || worker >= this.workers) throw new RangeError(`worker must be 0..${this.workers - 1}, got ${worker}`);
      for (const plugin of this.plugins) plugin.pickWorker(worker);
      return new Exchange(this, worker, upstream ?? defaultUpstream, options).run(request);
    } catch (err) {
      return Promise.reject(err);
    }
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
