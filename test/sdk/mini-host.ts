// A deliberately tiny proxy-wasm host for the SDK's own tests: just enough of Envoy's behaviour
// (logging, log level, config buffers, request/response header maps, plugin_root_id, WASI proc_exit and
// random_get) to drive SDK-built modules and observe exactly which hostcalls they make. The full
// emulator lives in filters/host; this one exists so SDK tests do not depend on it and can count calls.
import { readFileSync } from "node:fs";

/** One proxy_log call. */
export interface LogLine {
  level: number;
  message: string;
}

/** Options for MiniHost.load; every field has an Envoy-like default. */
export interface MiniHostOptions {
  /** Value proxy_get_log_level reports (0 trace … 5 critical); default 2 (info). */
  logLevel?: number;
  /** Bytes of PLUGIN_CONFIGURATION, readable only during proxy_on_configure; default empty. */
  pluginConfig?: string;
  /** The plugin_root_id property; default "". */
  rootId?: string;
}

type Pairs = [string, string][];
const OK = 0;
const NOT_FOUND = 1;
const BAD_ARGUMENT = 2;
const UNIMPLEMENTED = 12;
const utf8 = new TextDecoder();

/** MiniHost runs one module instance; create it with MiniHost.load, then startPlugin and stream. */
export class MiniHost {
  readonly logs: LogLine[] = [];
  readonly exitCodes: number[] = [];
  /** Count of each host function called, by import name. */
  readonly calls = new Map<string, number>();
  logLevel: number;
  /** What proxy_get_current_time_nanoseconds reports. */
  nowNanoseconds = 1_700_000_000_123_456_789n;
  private readonly pluginConfig: Uint8Array;
  private readonly rootId: string;
  private instance!: WebAssembly.Instance;
  private configuring = false;
  private maps = new Map<number, Pairs>();
  private nextContextId = 2;

  private constructor(options: MiniHostOptions) {
    this.logLevel = options.logLevel ?? 2;
    this.pluginConfig = new TextEncoder().encode(options.pluginConfig ?? "");
    this.rootId = options.rootId ?? "";
  }

  /** load instantiates the module at `path` and runs _initialize; it throws if the module imports something this host lacks. */
  static async load(path: string, options: MiniHostOptions = {}): Promise<MiniHost> {
    const host = new MiniHost(options);
    const module = await WebAssembly.compile(readFileSync(path));
    const imports: Record<string, Record<string, (...args: never[]) => unknown>> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      const impl = host.hostcall(imp.module, imp.name);
      (imports[imp.module] ??= {})[imp.name] = (...args: never[]) => {
        host.calls.set(imp.name, (host.calls.get(imp.name) ?? 0) + 1);
        return impl(...(args as unknown as number[]));
      };
    }
    host.instance = await WebAssembly.instantiate(module, imports);
    // Envoy calls the WASI reactor initializer right after instantiation, before any proxy callback.
    host.exports._initialize();
    return host;
  }

  /** exports gives raw access to the module's exports. */
  get exports(): Record<string, (...args: number[]) => number> {
    return this.instance.exports as unknown as Record<string, (...args: number[]) => number>;
  }

  /** memoryBytes returns the current size of linear memory. */
  memoryBytes(): number {
    return (this.instance.exports.memory as WebAssembly.Memory).buffer.byteLength;
  }

  /** startPlugin creates root context 1, then runs on_vm_start and on_configure; returns their results. */
  startPlugin(): { vmStart: number; configure: number } {
    this.exports.proxy_on_context_create(1, 0);
    const vmStart = this.exports.proxy_on_vm_start(1, 0);
    this.configuring = true;
    try {
      const configure = this.exports.proxy_on_configure(1, this.pluginConfig.length);
      return { vmStart, configure };
    } finally {
      this.configuring = false;
    }
  }

  /** stream runs one HTTP stream in Envoy's order and returns the header maps as the filter left them. */
  stream(request: Pairs, response: Pairs): { request: Pairs; response: Pairs; requestAction: number; responseAction: number } {
    const id = this.nextContextId++;
    const req: Pairs = request.map(([k, v]) => [k, v]);
    const res: Pairs = response.map(([k, v]) => [k, v]);
    this.exports.proxy_on_context_create(id, 1);
    this.maps.set(0, req);
    const requestAction = this.exports.proxy_on_request_headers(id, req.length, 1);
    this.maps.delete(0);
    this.maps.set(2, res);
    const responseAction = this.exports.proxy_on_response_headers(id, res.length, 1);
    this.maps.delete(2);
    this.exports.proxy_on_log(id);
    this.exports.proxy_on_done(id);
    this.exports.proxy_on_delete(id);
    return { request: req, response: res, requestAction, responseAction };
  }

  private view(): DataView {
    return new DataView((this.instance.exports.memory as WebAssembly.Memory).buffer);
  }

  private read(ptr: number, size: number): Uint8Array {
    return new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer, ptr, size).slice();
  }

  private text(ptr: number, size: number): string {
    return utf8.decode(this.read(ptr, size));
  }

  // Envoy's copyToPointerSize: empty → (0, 0) without allocating; otherwise malloc in the guest and copy.
  private give(bytes: Uint8Array, ptrPtr: number, sizePtr: number): number {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.exports.malloc(bytes.length);
      if (ptr === 0) return 6;
      new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer, ptr, bytes.length).set(bytes);
    }
    const view = this.view();
    view.setUint32(ptrPtr, ptr, true);
    view.setUint32(sizePtr, bytes.length, true);
    return OK;
  }

  private hostcall(module: string, name: string): (...args: number[]) => number | void {
    if (module === "wasi_snapshot_preview1") {
      if (name === "proc_exit") return (code) => void this.exitCodes.push(code);
      if (name === "random_get")
        return (ptr, len) => {
          new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer, ptr, len).fill(0x5a);
          return 0;
        };
    }
    if (module !== "env") throw new Error(`mini-host: unsupported import ${module}.${name}`);
    switch (name) {
      case "proxy_log":
        return (level, ptr, size) => {
          this.logs.push({ level, message: this.text(ptr, size) });
          return OK;
        };
      case "proxy_get_log_level":
        return (ptr) => {
          this.view().setUint32(ptr, this.logLevel, true);
          return OK;
        };
      case "proxy_get_buffer_status":
        return (type, sizePtr, flagsPtr) => {
          if (type !== 7 || !this.configuring) return NOT_FOUND;
          this.view().setUint32(sizePtr, this.pluginConfig.length, true);
          this.view().setUint32(flagsPtr, 0, true);
          return OK;
        };
      case "proxy_get_buffer_bytes":
        return (type, start, max, ptrPtr, sizePtr) => {
          if (type !== 7 || !this.configuring) return NOT_FOUND;
          // Sizes are u32 on the wire; JS sees them as signed i32.
          const from = start >>> 0;
          return this.give(this.pluginConfig.subarray(from, from + (max >>> 0)), ptrPtr, sizePtr);
        };
      case "proxy_get_property":
        return (ptr, size, ptrPtr, sizePtr) => {
          if (this.text(ptr, size) !== "plugin_root_id") return NOT_FOUND;
          return this.give(new TextEncoder().encode(this.rootId), ptrPtr, sizePtr);
        };
      case "proxy_add_header_map_value":
        return (map, kp, ks, vp, vs) => {
          const m = this.maps.get(map);
          if (!m) return BAD_ARGUMENT;
          m.push([this.text(kp, ks).toLowerCase(), this.text(vp, vs)]);
          return OK;
        };
      case "proxy_get_header_map_value":
        return (map, kp, ks, ptrPtr, sizePtr) => {
          const m = this.maps.get(map);
          if (!m) return BAD_ARGUMENT;
          const key = this.text(kp, ks).toLowerCase();
          const hit = m.find(([k]) => k === key);
          return hit ? this.give(new TextEncoder().encode(hit[1]), ptrPtr, sizePtr) : NOT_FOUND;
        };
      case "proxy_get_current_time_nanoseconds":
        return (ptr) => {
          this.view().setBigUint64(ptr, this.nowNanoseconds, true);
          return OK;
        };
      case "proxy_set_effective_context":
        return () => OK;
      default:
        return () => UNIMPLEMENTED;
    }
  }
}
