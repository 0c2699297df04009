/**
 * One worker VM instance of a plugin: instantiation, Envoy's call envelope around every guest call
 * (current/effective context, after-VM-call actions, restricted phases), the allocator protocol,
 * failure marking and logging. Hostcalls live in hostcalls-*.ts and wasi.ts.
 */
import { type FailState, type LogLevelNumber, logLevelNames } from "./abi.ts";
import { wasiImportNames } from "./abi-table.ts";
import { type Context, HttpContext, RootContext, type StreamHandle } from "./context.ts";
import { GuestMemory } from "./memory.ts";
import { type PreparedModule } from "./module.ts";
import { type Runtime } from "./runtime.ts";
import { type CalloutRecord, type ClusterHandler } from "./callout-types.ts";
import { type PropertyOverrides } from "./properties.ts";

/** Plugin settings shared by every worker VM of one plugin. */
export interface PluginSettings {
  name: string;
  rootId: string;
  vmId: string;
  vmConfig: Uint8Array;
  pluginConfig: Uint8Array;
  logLevel: LogLevelNumber;
  env: Record<string, string>;
  allowOnHeadersStopIteration: boolean;
  clusters: Record<string, ClusterHandler | null>;
  properties: PropertyOverrides;
  foreignFunctions: Map<string, (args: Uint8Array) => Uint8Array | undefined>;
  runtime: Runtime;
}

/** The call phase: restricted hostcall sets apply during init and inside the allocator. */
type Phase = "init" | "malloc" | "run";

/** Thrown by a hostcall to trap the guest (restricted_callback); never caught by hostcalls. */
export class GuestTrap extends Error {}

// During _initialize/main/_start: proxy_log, the emscripten hook and every WASI function (the real
// ones and Envoy's stubs) are allowed; any other proxy hostcall traps with restricted_callback.
const allowedDuringInit = new Set(["proxy_log", "emscripten_notify_memory_growth", ...wasiImportNames]);
const allowedDuringMalloc = new Set(["proxy_log", "fd_write", "clock_time_get", "poll_oneoff"]);

/** A hostcall family: builds import functions bound to a VM. */
export type HostcallFactory = (vm: WasmVm) => Record<string, (...args: never[]) => number | void>;

/** WasmVm: one instance on one emulated worker thread. */
export class WasmVm {
  instance!: WebAssembly.Instance;
  memory!: GuestMemory;
  failState: FailState = "ok";
  failure: string | undefined;
  readonly contexts = new Map<number, Context>();
  /** Pending callouts by token. */
  readonly callouts = new Map<number, CalloutRecord>();
  /** Callouts this VM made (the newest 10 000 at least), oldest first; `state` tells how each ended. */
  readonly calloutHistory: CalloutRecord[] = [];
  readonly metricIds = new Map<number, { name: string; type: "counter" | "gauge" | "histogram" }>();
  readonly nextMetricId = { counter: 4, gauge: 5, histogram: 6 };
  nextCalloutToken = 4;
  current: Context | undefined;
  effective: Context | undefined;
  private phase: Phase = "init";
  private depth = 0;
  private afterCall: (() => void)[] = [];
  private nextContextId = 1;
  private exportsByName: Record<string, (...args: number[]) => number | undefined> = {};

  constructor(
    readonly settings: PluginSettings,
    readonly prepared: PreparedModule,
    readonly worker: number,
  ) {}

  /** True once the VM has failed; it is never called again. */
  get failed(): boolean {
    return this.failState !== "ok";
  }

  /**
   * instantiate links the module against the given hostcall families and runs the init exports
   * (_initialize, main(0,0) | __main_void, or _start; a start section runs during instantiation).
   * Returns false and marks the VM failed (unableToInitializeCode) when any of them traps.
   */
  instantiate(families: HostcallFactory[]): boolean {
    const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
    for (const family of families) {
      for (const [qualified, fn] of Object.entries(family(this))) {
        const [module, name] = qualified.split(".");
        (imports[module] ??= {})[name] = this.guard(name, fn as (...args: unknown[]) => number | void);
      }
    }
    let importedMemory: WebAssembly.Memory | undefined;
    if (this.prepared.importedMemoryPages !== undefined) {
      importedMemory = new WebAssembly.Memory({ initial: this.prepared.importedMemoryPages });
      for (const imp of this.prepared.info.imports) if (imp.kind === "memory") (imports[imp.module] ??= {})[imp.name] = importedMemory;
    }
    try {
      this.instance = new WebAssembly.Instance(this.prepared.module, imports);
      const exported = this.instance.exports;
      const memory = importedMemory ?? (Object.values(exported).find((e) => e instanceof WebAssembly.Memory) as WebAssembly.Memory);
      this.memory = new GuestMemory(memory, (size) => this.allocate(size));
      for (const name of this.prepared.callable) this.exportsByName[name] = exported[name] as (...args: number[]) => number;
      const { callable } = this.prepared;
      if (callable.has("_initialize")) {
        this.exportsByName._initialize();
        if (callable.has("main")) this.exportsByName.main(0, 0);
        else if (callable.has("__main_void")) this.exportsByName.__main_void();
      } else if (callable.has("_start")) this.exportsByName._start();
    } catch (err) {
      this.fail("unableToInitializeCode", `Failed to initialize Wasm code: ${errorText(err)}`);
      return false;
    } finally {
      this.phase = "run";
    }
    return true;
  }

  /**
   * call runs one guest callback in Envoy's envelope. Returns the guest's i32 result (0 for void),
   * or undefined when the export is missing, the VM has failed, or the call trapped (then the VM
   * is marked failed; callers apply the failure policy).
   */
  call(ctx: Context | undefined, name: string, a?: number, b?: number, c?: number, d?: number, e?: number): number | undefined {
    const fn = this.exportsByName[name];
    if (!fn || this.failState !== "ok") return undefined;
    const savedCurrent = this.current;
    const savedEffective = this.effective;
    this.current = ctx;
    this.effective = undefined;
    this.depth++;
    let result: number | undefined;
    try {
      // Exactly the arguments given (no rest array): callbacks take at most five.
      const r = e !== undefined ? fn(a!, b!, c!, d!, e) : d !== undefined ? fn(a!, b!, c!, d) : c !== undefined ? fn(a!, b!, c) : b !== undefined ? fn(a!, b) : a !== undefined ? fn(a) : fn();
      result = (r ?? 0) | 0;
    } catch (err) {
      this.fail("runtimeError", `Function: ${name} failed: ${errorText(err)}`);
    } finally {
      this.depth--;
      this.current = savedCurrent;
      this.effective = savedEffective;
    }
    if (this.depth === 0 && this.afterCall.length > 0) this.runAfterCall();
    return result;
  }

  /** defer queues an after-VM-call action; it runs when the outermost guest call returns. */
  defer(action: () => void): void {
    if (this.depth === 0) action();
    else this.afterCall.push(action);
  }

  private runAfterCall(): void {
    const actions = this.afterCall;
    this.afterCall = [];
    if (this.failed) return;
    for (const action of actions) action();
  }

  /**
   * allocate calls malloc (preferred, as cpp-host does) or proxy_on_memory_allocate. Returns 0
   * when the allocator returns 0 or traps (a trap also fails the VM).
   */
  allocate(size: number): number {
    const fn = this.exportsByName.malloc ?? this.exportsByName.proxy_on_memory_allocate;
    if (!fn || this.failed) return 0;
    const previous = this.phase;
    this.phase = "malloc";
    try {
      return fn(size)! >>> 0;
    } catch (err) {
      this.fail("runtimeError", `Function: malloc failed: ${errorText(err)}`);
      return 0;
    } finally {
      this.phase = previous;
    }
  }

  /** contextOrEffective: the context hostcalls act on (effective if set and alive, else current). */
  target(): Context | undefined {
    return this.effective ?? this.current;
  }

  /** newRootContext allocates a root context id (the first is 1). */
  newRootContext(): RootContext {
    const ctx = new RootContext(this.nextContextId++);
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  /** newHttpContext allocates a stream context id; no guest call is made. */
  newHttpContext(root: RootContext, stream: StreamHandle): HttpContext {
    const ctx = new HttpContext(this.nextContextId++, root, stream);
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  /** fail marks the VM failed, stops its timers and records Envoy's error log line. */
  fail(state: FailState, reason: string): void {
    if (this.failed) return;
    this.failState = state;
    this.failure = reason;
    for (const ctx of this.contexts.values()) if (ctx instanceof RootContext) this.settings.runtime.clock.cancel(ctx.tickTimer);
    this.hostLog(4, reason);
  }

  /** log records a guest log line with Envoy's prefix, if at or above the configured level. */
  log(level: number, message: string, ctx: Context | undefined): void {
    if (level < this.settings.logLevel) return;
    const { name, rootId, vmId } = this.settings;
    const parts = ctx instanceof RootContext || !ctx ? [rootId, vmId] : [name, rootId, vmId];
    const prefix = parts.filter((p) => p !== "").map((p) => ` ${p}`).join("");
    this.settings.runtime.logs.push({
      level: logLevelNames[level], message, line: `wasm log${prefix}: ${message}`, source: "wasm",
      pluginName: name, worker: this.worker, contextId: ctx?.id ?? 0,
    });
  }

  /** hostLog records a line Envoy itself would log about this VM (failures, restricted calls). */
  hostLog(level: number, message: string): void {
    if (level < this.settings.logLevel) return;
    this.settings.runtime.logs.push({
      level: logLevelNames[level], message, line: message, source: "envoy",
      pluginName: this.settings.name, worker: this.worker, contextId: 0,
    });
  }

  /**
   * Wraps a hostcall: enforces restricted phases and turns host bugs into InternalFailure. The
   * wrapper has fixed parameters (hostcalls take at most 12) instead of a rest array, and the phase
   * rules are looked up once here, not per call.
   */
  private guard(name: string, fn: (...args: unknown[]) => number | void): (...args: unknown[]) => number | void {
    const okDuringInit = allowedDuringInit.has(name);
    const okDuringMalloc = allowedDuringMalloc.has(name);
    return (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown, i?: unknown, j?: unknown, k?: unknown, l?: unknown) => {
      if (this.phase !== "run" && (this.phase === "init" ? !okDuringInit : !okDuringMalloc)) {
        throw new GuestTrap(`restricted_callback: ${name} called during ${this.phase === "init" ? "VM initialization" : "malloc"}`);
      }
      try {
        return fn(a, b, c, d, e, f, g, h, i, j, k, l);
      } catch (err) {
        if (err instanceof GuestTrap) throw err;
        this.hostLog(4, `emulator: hostcall ${name} threw: ${errorText(err)}`);
        return 10;
      }
    };
  }
}

/** errorText renders a thrown value for a log line. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
