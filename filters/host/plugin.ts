/**
 * A plugin: one module plus configuration, instantiated once per emulated worker (and optionally
 * a canary), each running Envoy's start sequence (proxy-wasm-host.md §1.7 steps a–e).
 */
import { type FailState, type LogLevelNumber, logLevelNames } from "./abi.ts";
import { type ClusterHandler } from "./callouts.ts";
import { type RootContext } from "./context.ts";
import { type FailurePolicy } from "./filter-stream.ts";
import { httpHostcalls } from "./hostcalls-http.ts";
import { stateHostcalls } from "./hostcalls-state.ts";
import { PluginLoadError, type PreparedModule, prepareModule } from "./module.ts";
import { type PropertyOverrides } from "./properties.ts";
import { type Runtime } from "./runtime.ts";
import { type PluginSettings, WasmVm } from "./vm.ts";
import { wasiHostcalls } from "./wasi.ts";

/** Options of one plugin (one wasm filter config). */
export interface PluginOptions {
  /** The module: bytes, or a compiled module together with `wasmBytes`. */
  wasm: Uint8Array | WebAssembly.Module;
  wasmBytes?: Uint8Array;
  /** Plugin configuration: bytes, a string, or an object (sent as JSON, like a Struct config). */
  pluginConfig?: Uint8Array | string | object;
  vmConfig?: Uint8Array | string | object;
  /** Envoy's plugin `name` (default: the root id). */
  name?: string;
  rootId?: string;
  vmId?: string;
  /** Worker VMs (Envoy --concurrency); streams round-robin across them. Default 1. */
  workers?: number;
  failurePolicy?: FailurePolicy;
  /** The wasm logger's level: 0 trace … 5 critical, 6 off, or its name. Default info. */
  logLevel?: LogLevelNumber | (typeof logLevelNames)[number];
  allowOnHeadersStopIteration?: boolean;
  /** Known clusters for proxy_http_call: a handler answers, null leaves answering to the test. */
  clusters?: Record<string, ClusterHandler | null>;
  properties?: PropertyOverrides;
  /** vm_config.environment_variables. */
  env?: Record<string, string>;
  /** Run the start sequence once more on a discarded canary instance, as Envoy does. */
  emulateCanary?: boolean;
}

/** The outcome of starting a plugin on every worker. */
export interface StartResult {
  ok: boolean;
  failState: FailState;
  /** Envoy's reason when not ok. */
  message?: string;
}

const encoder = new TextEncoder();

function configBytes(value: PluginOptions["pluginConfig"], field: string): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "object" && value !== null) return encoder.encode(JSON.stringify(value));
  throw new TypeError(`${field} must be bytes, a string or an object`);
}

/** resolveSettings validates options; throws a TypeError naming the bad field. */
export function resolveSettings(options: PluginOptions, runtime: Runtime): { settings: PluginSettings; prepared: PreparedModule; workers: number; policy: FailurePolicy } {
  if (!options || (!(options.wasm instanceof Uint8Array) && !(options.wasm instanceof WebAssembly.Module))) {
    throw new TypeError("wasm must be a Uint8Array or a WebAssembly.Module");
  }
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new TypeError(`workers must be an integer 1..64, got ${workers}`);
  const policy = options.failurePolicy ?? "FAIL_CLOSED";
  if (!["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"].includes(policy)) throw new TypeError(`failurePolicy must be FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD, got ${policy}`);
  const level = typeof options.logLevel === "string" ? logLevelNames.indexOf(options.logLevel) : (options.logLevel ?? 2);
  if (!Number.isInteger(level) || level < 0 || level > 6) throw new TypeError(`logLevel must be 0..6 or a level name, got ${options.logLevel}`);
  for (const [name, handler] of Object.entries(options.clusters ?? {})) {
    if (handler !== null && typeof handler !== "function") throw new TypeError(`clusters.${name} must be a handler function or null`);
  }
  const rootId = options.rootId ?? "";
  const settings: PluginSettings = {
    name: options.name ?? rootId,
    rootId,
    vmId: options.vmId ?? "",
    vmConfig: configBytes(options.vmConfig, "vmConfig"),
    pluginConfig: configBytes(options.pluginConfig, "pluginConfig"),
    logLevel: level as LogLevelNumber,
    env: options.env ?? {},
    allowOnHeadersStopIteration: options.allowOnHeadersStopIteration ?? false,
    clusters: options.clusters ?? {},
    properties: options.properties ?? {},
    foreignFunctions: new Map(),
    runtime,
  };
  return { settings, prepared: prepareModule(options.wasm, options.wasmBytes), workers, policy };
}

/** Plugin: the worker VMs of one plugin and their root contexts. */
export class Plugin {
  readonly vms: WasmVm[] = [];
  readonly roots: RootContext[] = [];
  private next = 0;
  private started = false;

  constructor(
    readonly settings: PluginSettings,
    readonly prepared: PreparedModule,
    readonly workerCount: number,
    readonly policy: FailurePolicy,
    private readonly emulateCanary: boolean,
  ) {}

  /**
   * start instantiates every worker VM and runs _initialize … on_configure on each. Returns
   * ok:false with Envoy's fail state when any instance fails; the plugin is then unusable.
   * Throws when called twice.
   */
  start(): StartResult {
    if (this.started) throw new Error("start: the plugin was already started");
    this.started = true;
    if (this.emulateCanary) {
      const canary = this.startInstance(-1);
      if (!canary.ok) return canary.result;
      // Envoy destroys the canary without on_done/on_delete: it must not tick or receive queue posts.
      canary.root!.deleted = true;
      this.settings.runtime.clock.cancel(canary.root!.tickTimer);
    }
    for (let w = 0; w < this.workerCount; w++) {
      const { ok, result, vm, root } = this.startInstance(w);
      if (!ok) return result;
      this.vms.push(vm!);
      this.roots.push(root!);
    }
    return { ok: true, failState: "ok" };
  }

  /** pickWorker returns the worker for a new stream (round robin, or the one asked for). */
  pickWorker(worker?: number): number {
    if (!this.started || this.vms.length === 0) throw new Error("the plugin is not started (call start() first, and check its result)");
    if (worker !== undefined) {
      if (!Number.isInteger(worker) || worker < 0 || worker >= this.vms.length) throw new RangeError(`worker must be 0..${this.vms.length - 1}, got ${worker}`);
    } else worker = this.next++ % this.vms.length;
    const vm = this.vms[worker];
    if (vm.failed && vm.failState === "runtimeError" && this.policy === "FAIL_RELOAD") {
      const fresh = this.startInstance(worker);
      if (fresh.ok) {
        this.vms[worker] = fresh.vm!;
        this.roots[worker] = fresh.root!;
      }
    }
    return worker;
  }

  private startInstance(worker: number): { ok: boolean; result: StartResult; vm?: WasmVm; root?: RootContext } {
    const vm = new WasmVm(this.settings, this.prepared, worker);
    const failed = (): { ok: false; result: StartResult } => ({ ok: false, result: { ok: false, failState: vm.failState, message: vm.failure } });
    if (!vm.instantiate([httpHostcalls, stateHostcalls, wasiHostcalls])) return failed();
    const root = vm.newRootContext();
    root.pluginConfigReadable = true;
    vm.call(root, "proxy_on_context_create", root.id, 0);
    root.pluginConfigReadable = false;
    const started = vm.call(root, "proxy_on_vm_start", root.id, this.settings.vmConfig.length);
    if (vm.failed) return failed();
    if (started === 0) {
      vm.fail("startFailed", `Wasm VM failed to start: proxy_on_vm_start returned false (${this.settings.name || "plugin"})`);
      return failed();
    }
    root.pluginConfigReadable = true;
    const configured = vm.call(root, "proxy_on_configure", root.id, this.settings.pluginConfig.length);
    root.pluginConfigReadable = false;
    if (vm.failed) return failed();
    if (configured === 0) {
      vm.fail("configureFailed", `Unable to configure Wasm plugin ${this.settings.name}: proxy_on_configure returned false`);
      return failed();
    }
    return { ok: true, result: { ok: true, failState: "ok" }, vm, root };
  }
}

export { PluginLoadError };
