/**
 * The proxytest-style test API: start one plugin on N worker VMs, open streams and call each
 * callback yourself, then read local responses, logs, metrics and callouts; drive the clock.
 */
import { type FailState, type FilterStatus, type LogLevelName, logLevelNames } from "./abi.ts";
import { type CalloutOutcome, type CalloutRecord, deliverCallout } from "./callouts.ts";
import { ManualClock } from "./clock.ts";
import { type BodyBuffer, type LocalReply, type StreamHandle, type StreamInfo } from "./context.ts";
import { FilterStream } from "./filter-stream.ts";
import { type HeaderInput, HeaderMap, type HeaderMapKind } from "./headers.ts";
import { armTick } from "./hostcalls-state.ts";
import { deleteContext } from "./hostcalls-http.ts";
import { Plugin, type PluginOptions, type StartResult, resolveSettings } from "./plugin.ts";
import { type LogEntry, Runtime } from "./runtime.ts";

/** Options of createHost: one plugin, plus the process it runs in. */
export interface HostOptions extends PluginOptions {
  /** Share a process (shared data, queues, metrics, logs, clock) with other hosts. */
  runtime?: Runtime;
  /** The clock to use when no runtime is given. */
  clock?: ManualClock;
}

/** A header as the emulator returns it: name and value decoded as UTF-8 (see the `…Bytes` getters). */
export type Header = [name: string, value: string];

/** Per-stream facts for host.http(). */
export interface StreamOptions {
  worker?: number;
  sourceAddress?: string;
  destinationAddress?: string;
  protocol?: string;
}

const noBytes = new Uint8Array(0);

/** toBytes converts a body given as text (UTF-8) or bytes (an absent body is one shared empty array). */
export function toBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return noBytes;
  return typeof body === "string" ? new Uint8Array(Buffer.from(body, "utf8")) : body;
}

let connectionIds = 0;

/** newStreamInfo builds the StreamInfo of a new stream. */
export function newStreamInfo(runtime: Runtime, options: StreamOptions = {}): StreamInfo {
  return {
    startTimeNs: runtime.clock.nowNs(),
    protocol: options.protocol ?? "HTTP/1.1",
    sourceAddress: options.sourceAddress ?? "127.0.0.1:40000",
    destinationAddress: options.destinationAddress ?? "127.0.0.1:10000",
    connectionId: ++connectionIds,
    filterState: new Map(),
    requestBodyBytes: 0,
    responseBodyBytes: 0,
    routeName: "",
    clusterName: "",
  };
}

/** HttpStream: one stream through one plugin; you call each callback, as with Go's proxytest. */
export class HttpStream {
  /** Local replies the plugin asked for, in order. */
  readonly localResponses: LocalReply[] = [];
  /** Deferred continue_stream calls received, per side. */
  readonly continued = { request: 0, response: 0 };
  /** Details of a close_stream reset, if any. */
  resetDetails: string | undefined;
  private readonly filter: FilterStream;
  private readonly maps: Partial<Record<HeaderMapKind, HeaderMap>> = {};
  private readonly bodies: { request: BodyBuffer; response: BodyBuffer } = { request: { bytes: noBytes }, response: { bytes: noBytes } };
  private buffering = { request: false, response: false };

  constructor(
    private readonly host: Host,
    readonly worker: number,
    readonly info: StreamInfo,
  ) {
    const handle: StreamHandle = {
      info,
      continueStream: (side) => void this.continued[side]++,
      closeStream: () => void (this.resetDetails = "wasm_close_stream"),
      sendLocalReply: (reply) => void this.localResponses.push(reply),
      addTrailers: (side) => (this.maps[`${side}Trailers`] = new HeaderMap(`${side}Trailers`)),
    };
    const plugin = host.plugin;
    this.filter = new FilterStream(plugin.vms[worker], plugin.roots[worker], handle, plugin.policy);
  }

  /** The stream context id (0 when the filter is not installed on a failed fail-open VM). */
  get id(): number {
    return this.filter.ctx?.id ?? 0;
  }

  /** callOnRequestHeaders delivers request headers; returns the Envoy filter status. */
  callOnRequestHeaders(headers: HeaderInput, endOfStream = false): FilterStatus {
    this.maps.requestHeaders = HeaderMap.fromUtf8("requestHeaders", headers);
    return this.host.settle(this.filter.requestHeaders(this.maps.requestHeaders, endOfStream));
  }

  /** callOnRequestBody delivers a chunk; after StopIterationAndBuffer the chunk is appended. */
  callOnRequestBody(body: Uint8Array | string, endOfStream = false): FilterStatus {
    return this.body("request", toBytes(body), endOfStream);
  }

  /** callOnRequestTrailers delivers request trailers. */
  callOnRequestTrailers(trailers: HeaderInput): FilterStatus {
    this.maps.requestTrailers = HeaderMap.fromUtf8("requestTrailers", trailers);
    return this.host.settle(this.filter.requestTrailers(this.maps.requestTrailers));
  }

  /** callOnResponseHeaders delivers response headers (include [":status", "200"] yourself). */
  callOnResponseHeaders(headers: HeaderInput, endOfStream = false): FilterStatus {
    this.maps.responseHeaders = HeaderMap.fromUtf8("responseHeaders", headers);
    return this.host.settle(this.filter.responseHeaders(this.maps.responseHeaders, endOfStream));
  }

  /** callOnResponseBody delivers a response chunk. */
  callOnResponseBody(body: Uint8Array | string, endOfStream = false): FilterStatus {
    return this.body("response", toBytes(body), endOfStream);
  }

  /** callOnResponseTrailers delivers response trailers. */
  callOnResponseTrailers(trailers: HeaderInput): FilterStatus {
    this.maps.responseTrailers = HeaderMap.fromUtf8("responseTrailers", trailers);
    return this.host.settle(this.filter.responseTrailers(this.maps.responseTrailers));
  }

  /** complete ends the stream: on_log, on_done, on_delete. */
  complete(): void {
    this.filter.complete({ requestHeaders: this.maps.requestHeaders, responseHeaders: this.maps.responseHeaders, responseTrailers: this.maps.responseTrailers });
    this.host.settle(undefined);
  }

  /**
   * The request headers as the stream holds them now (after the plugin's changes), decoded as UTF-8
   * (bytes that are not UTF-8 read as U+FFFD; getCurrentRequestHeaderBytes() has the exact bytes).
   * [] before callOnRequestHeaders.
   */
  getCurrentRequestHeaders(): Header[] {
    return this.maps.requestHeaders?.toUtf8() ?? [];
  }

  /** The response headers as the stream holds them now, decoded as UTF-8 (lossy, see above); [] before callOnResponseHeaders. */
  getCurrentResponseHeaders(): Header[] {
    return this.maps.responseHeaders?.toUtf8() ?? [];
  }

  /** Current trailers of a side (including trailers the plugin created), decoded as UTF-8; [] when there are none. */
  getCurrentTrailers(side: "request" | "response"): Header[] {
    return this.maps[`${side}Trailers`]?.toUtf8() ?? [];
  }

  /** The request headers as exact bytes (name, value); [] before callOnRequestHeaders. */
  getCurrentRequestHeaderBytes(): [Uint8Array, Uint8Array][] {
    return this.maps.requestHeaders?.toBytes() ?? [];
  }

  /** The response headers as exact bytes (name, value); [] before callOnResponseHeaders. */
  getCurrentResponseHeaderBytes(): [Uint8Array, Uint8Array][] {
    return this.maps.responseHeaders?.toBytes() ?? [];
  }

  /** A side's trailers as exact bytes (name, value); [] when there are none. */
  getCurrentTrailerBytes(side: "request" | "response"): [Uint8Array, Uint8Array][] {
    return this.maps[`${side}Trailers`]?.toBytes() ?? [];
  }

  /** The request body buffer as the plugin left it. */
  getCurrentRequestBody(): Uint8Array {
    return this.bodies.request.bytes;
  }

  /** The response body buffer as the plugin left it. */
  getCurrentResponseBody(): Uint8Array {
    return this.bodies.response.bytes;
  }

  /** The first local reply the plugin sent, or undefined. */
  getSentLocalResponse(): LocalReply | undefined {
    return this.localResponses[0];
  }

  private body(side: "request" | "response", chunk: Uint8Array, endOfStream: boolean): FilterStatus {
    const buffer = this.bodies[side];
    if (this.buffering[side]) {
      const joined = new Uint8Array(buffer.bytes.length + chunk.length);
      joined.set(buffer.bytes);
      joined.set(chunk, buffer.bytes.length);
      buffer.bytes = joined;
    } else buffer.bytes = chunk;
    if (side === "request") this.info.requestBodyBytes += chunk.length;
    else this.info.responseBodyBytes += chunk.length;
    const status = side === "request" ? this.filter.requestBody(buffer, endOfStream) : this.filter.responseBody(buffer, endOfStream);
    this.buffering[side] = status === "StopIterationAndBuffer" || status === "StopIterationAndWatermark";
    return this.host.settle(status);
  }
}

/** Host: one started plugin and its process; see README.md for an example test. */
export class Host {
  readonly runtime: Runtime;
  readonly plugin: Plugin;

  /** Use createHost(); the constructor validates options and compiles the module. */
  constructor(options: HostOptions) {
    this.runtime = options.runtime ?? new Runtime(options.clock);
    const { settings, prepared, workers, policy } = resolveSettings(options, this.runtime);
    this.plugin = new Plugin(settings, prepared, workers, policy, options.emulateCanary ?? false);
  }

  /** start runs the start sequence on every worker; see StartResult. Throws if called twice. */
  start(): StartResult {
    const result = this.plugin.start();
    this.runtime.runPending();
    return result;
  }

  /** http opens a stream on the next worker (round robin) or the one given; no guest call yet. */
  http(options: StreamOptions = {}): HttpStream {
    const worker = this.plugin.pickWorker(options.worker);
    return new HttpStream(this, worker, newStreamInfo(this.runtime, options));
  }

  /** settle runs posted work (queue-ready, callout answers) and returns its argument. */
  settle<T>(value: T): T {
    this.runtime.runPending();
    return value;
  }

  /** tick calls on_tick now on every worker whose root has a tick period set. */
  tick(): void {
    this.plugin.vms.forEach((vm, w) => {
      const root = this.plugin.roots[w];
      if (root.tickPeriodMs > 0 && !vm.failed) {
        vm.call(root, "proxy_on_tick", root.id);
        if (root.tickTimer === undefined) armTick(vm, root);
      }
    });
    this.runtime.runPending();
  }

  /** advanceTime moves the clock, firing ticks and callout timeouts in order. */
  advanceTime(ms: number): void {
    this.runtime.clock.advance(ms, () => this.runtime.runPending());
  }

  /** runPending runs posted async work; awaitPending also waits for async cluster handlers. */
  runPending(): void {
    this.runtime.runPending();
  }

  /** awaitPending waits until async cluster handlers have answered and their callbacks ran. */
  awaitPending(): Promise<void> {
    return this.runtime.settle();
  }

  /** getLogs returns recorded lines, all or of one level. */
  getLogs(level?: LogLevelName): LogEntry[] {
    if (level !== undefined && !logLevelNames.includes(level)) throw new RangeError(`getLogs: unknown level ${level}`);
    return this.runtime.logs.filter((l) => level === undefined || l.level === level);
  }

  /**
   * getCounter returns a counter's process-wide value (summed over workers) as a bigint, or undefined
   * while the plugin has not defined it (the SDK's Counter defines it on the first increment).
   */
  getCounter(name: string): bigint | undefined {
    const m = this.runtime.metrics.get(name);
    return m?.type === "counter" ? m.value : undefined;
  }

  /** getGauge returns a gauge's value (u64, as a bigint), or undefined while the plugin has not defined it. */
  getGauge(name: string): bigint | undefined {
    const m = this.runtime.metrics.get(name);
    return m?.type === "gauge" ? m.value : undefined;
  }

  /** getHistogram returns the values recorded into a histogram (bigints, in order), or undefined while not defined. */
  getHistogram(name: string): bigint[] | undefined {
    const m = this.runtime.metrics.get(name);
    return m?.type === "histogram" ? [...m.samples] : undefined;
  }

  /** getCallouts returns every callout still pending, across workers, oldest first. */
  getCallouts(): CalloutRecord[] {
    return this.plugin.vms.flatMap((vm) => [...vm.callouts.values()]);
  }

  /** getAllCallouts returns every callout made, pending or not, across workers; see `state`. */
  getAllCallouts(): CalloutRecord[] {
    return this.plugin.vms.flatMap((vm) => vm.calloutHistory);
  }

  /**
   * respondCallout answers a pending callout: a response, {reset: true} (the router's 503) or
   * {failure: true} (the guest sees (0,0,0) and get_status 11). With several workers
   * the token may repeat; pass the worker. Throws when no such callout is pending.
   */
  respondCallout(token: number, outcome: CalloutOutcome, worker?: number): void {
    const matches = this.getCallouts().filter((c) => c.token === token && (worker === undefined || c.worker === worker));
    if (matches.length !== 1) throw new Error(`respondCallout: ${matches.length} pending callouts match token ${token}${worker === undefined ? " (pass the worker)" : ` on worker ${worker}`}`);
    deliverCallout(this.plugin.vms[matches[0].worker], matches[0], outcome);
    this.runtime.runPending();
  }

  /** getSharedData returns a shared-data entry of this plugin's vm_id, or undefined. */
  getSharedData(key: string): { value: Uint8Array; cas: number } | undefined {
    return this.runtime.getSharedData(this.plugin.settings.vmId, key);
  }

  /** getQueueSize returns the number of items in a shared queue, or undefined for a bad token. */
  getQueueSize(token: number): number | undefined {
    return this.runtime.queue(token)?.items.length;
  }

  /** getTickPeriod returns a worker's root tick period in ms (0 = off). */
  getTickPeriod(worker = 0): number {
    return this.plugin.roots[worker]?.tickPeriodMs ?? 0;
  }

  /**
   * vmState returns a worker VM's fail state: "ok" while it runs; "unableToCreateVm",
   * "missingFunction", "unableToInitializeCode", "startFailed" or "configureFailed" when the start
   * sequence failed; "runtimeError" after a trap. "unableToCreateVm" for a worker that does not exist.
   */
  vmState(worker = 0): FailState {
    return this.plugin.vms[worker]?.failState ?? "unableToCreateVm";
  }

  /** memoryPages returns a worker VM's linear memory size in 64 KiB pages. */
  memoryPages(worker = 0): number {
    return this.plugin.vms[worker].memory.byteLength / 65536;
  }

  /** registerForeignFunction makes `name` callable through proxy_call_foreign_function. */
  registerForeignFunction(name: string, fn: (args: Uint8Array) => Uint8Array | undefined): void {
    this.plugin.settings.foreignFunctions.set(name, fn);
  }

  /**
   * shutdown calls on_done on every root context and on_delete when it returns true (a root that
   * returns false waits for proxy_done).
   */
  shutdown(): void {
    this.plugin.vms.forEach((vm, w) => {
      const root = this.plugin.roots[w];
      if (root.deleted) return;
      const done = vm.call(root, "proxy_on_done", root.id);
      if (done === 0) root.pendingDone = true;
      else deleteContext(vm, root);
    });
    this.runtime.runPending();
  }
}

/**
 * createHost builds a host for one plugin. It compiles and validates the module (throwing
 * PluginLoadError with Envoy's message when Envoy would refuse it, TypeError for a bad option)
 * but does not start it: call host.start() and check its result.
 */
export async function createHost(options: HostOptions): Promise<Host> {
  return new Host(options);
}

