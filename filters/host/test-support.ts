/**
 * Helpers for the emulator's own tests: tiny proxy-wasm modules written in WAT (compiled with the
 * wabt package) and a probe that calls hostcalls directly in a chosen context. Not a test file. The
 * repository's other tests import it as `proxy-wasm-host-emulator/test-support`, an export only the
 * proxy-wasm-source condition resolves (it is not in the published dist).
 */
import wabtInit from "wabt";
import { type Context } from "./context.ts";
import { type Host } from "./host.ts";
import { httpHostcalls } from "./hostcalls-http.ts";
import { stateHostcalls } from "./hostcalls-state.ts";
import { type WasmVm } from "./vm.ts";
import { wasiHostcalls } from "./wasi.ts";

const wabt = await wabtInit();

/** wat compiles WebAssembly text to a binary; throws with wabt's message on a syntax error. */
export function wat(text: string): Uint8Array {
  const module = wabt.parseWat("test.wat", text, { mutable_globals: true, sign_extension: true, bulk_memory: true });
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** A bump allocator exported as `malloc` (grows memory as needed); heap starts at 64 KiB. */
export const bumpMalloc = `
  (global $heap (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))))))
    (local.get $p))`;

/**
 * proxyModule wraps body WAT in a module with memory (2 pages), the bump malloc and an ABI marker.
 * `imports` are import declarations placed first, as WAT requires.
 */
export function proxyModule(body: string, options: { imports?: string; abi?: string } = {}): Uint8Array {
  return wat(`(module
    ${options.imports ?? ""}
    (memory (export "memory") 2)
    ${bumpMalloc}
    (func (export "proxy_abi_version_${options.abi ?? "0_2_1"}"))
    ${body})`);
}

/** Import declaration of a proxy hostcall, named $<name without proxy_>. */
export function importProxy(name: string, params: number, i64At: number[] = []): string {
  const types = Array.from({ length: params }, (_, i) => (i64At.includes(i) ? "i64" : "i32")).join(" ");
  return `(import "env" "proxy_${name}" (func $${name} (param ${types}) (result i32)))`;
}

/** Probe calls a VM's hostcalls from JS as if a callback of `ctx` were running. */
export class Probe {
  private readonly calls: Record<string, (...args: never[]) => number | void>;
  private scratch = 1024;

  constructor(readonly vm: WasmVm) {
    this.calls = { ...httpHostcalls(vm), ...stateHostcalls(vm), ...wasiHostcalls(vm) };
  }

  /** forHost probes worker `worker` of a started host. */
  static forHost(host: Host, worker = 0): Probe {
    return new Probe(host.plugin.vms[worker]);
  }

  /** call runs `module.name` (e.g. "env.proxy_log") with ctx as the current context. */
  call(ctx: Context | undefined, qualified: string, ...args: (number | bigint)[]): number {
    const fn = this.calls[qualified] as unknown as ((...a: (number | bigint)[]) => number) | undefined;
    if (!fn) throw new Error(`probe: no hostcall ${qualified}`);
    // Like the call envelope: a fresh effective context per call.
    const saved = [this.vm.current, this.vm.effective] as const;
    this.vm.current = ctx;
    this.vm.effective = undefined;
    try {
      return fn(...args);
    } finally {
      [this.vm.current, this.vm.effective] = saved;
    }
  }

  /** put writes bytes (or UTF-8 text) into a scratch area below the heap; returns [ptr, len]. */
  put(data: Uint8Array | string): [number, number] {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.scratch + bytes.length + 8 > 60000) this.scratch = 1024;
    const ptr = this.scratch;
    if (!this.vm.memory.write(ptr, bytes)) throw new Error("probe: scratch write failed");
    this.scratch += (bytes.length + 8) & ~7;
    return [ptr, bytes.length];
  }

  /** Two u32 return slots at fixed addresses, for (ptr_ptr, size_ptr) outputs. */
  readonly out = [512, 516] as const;

  /** u32 reads a little-endian u32 from guest memory. */
  u32(ptr: number): number {
    return new DataView(this.vm.memory.read(ptr, 4)!.buffer).getUint32(0, true);
  }

  /** u64 reads a little-endian u64. */
  u64(ptr: number): bigint {
    return new DataView(this.vm.memory.read(ptr, 8)!.buffer).getBigUint64(0, true);
  }

  /** output reads the (ptr, size) pair written at the out slots and returns the bytes. */
  output(): Uint8Array {
    const ptr = this.u32(this.out[0]);
    const size = this.u32(this.out[1]);
    return size === 0 ? new Uint8Array(0) : this.vm.memory.read(ptr, size)!;
  }

  /** outputText decodes output() as UTF-8. */
  outputText(): string {
    return Buffer.from(this.output()).toString("utf8");
  }

  /** setOut writes sentinel values into the out slots, to see whether a call wrote them. */
  setOut(value: number): void {
    this.vm.memory.writeU32(this.out[0], value);
    this.vm.memory.writeU32(this.out[1], value);
  }
}

/** The callbacks `recorder` exports: name, parameter count, has a result, default result. */
const recorded: [string, number, boolean, number][] = [
  ["proxy_on_context_create", 2, false, 0],
  ["proxy_on_vm_start", 2, true, 1],
  ["proxy_on_configure", 2, true, 1],
  ["proxy_on_request_headers", 3, true, 0],
  ["proxy_on_request_body", 3, true, 0],
  ["proxy_on_request_trailers", 2, true, 0],
  ["proxy_on_response_headers", 3, true, 0],
  ["proxy_on_response_body", 3, true, 0],
  ["proxy_on_response_trailers", 2, true, 0],
  ["proxy_on_log", 1, false, 0],
  ["proxy_on_done", 1, true, 1],
  ["proxy_on_delete", 1, false, 0],
  ["proxy_on_tick", 1, false, 0],
  ["proxy_on_queue_ready", 2, false, 0],
  ["proxy_on_http_call_response", 5, false, 0],
];

/** Every proxy import a recorder's `extra` code may call, as $<name without proxy_>. */
const recorderImports = [
  importProxy("send_local_response", 8), importProxy("continue_stream", 1), importProxy("close_stream", 1),
  importProxy("set_tick_period_milliseconds", 1), importProxy("http_call", 10), importProxy("set_effective_context", 1),
  importProxy("register_shared_queue", 3), importProxy("get_status", 3), importProxy("set_buffer_bytes", 5),
  importProxy("add_header_map_value", 5), importProxy("define_metric", 4), importProxy("increment_metric", 2, [1]),
  importProxy("get_header_map_value", 5), importProxy("get_buffer_bytes", 5),
].join("\n");

/**
 * recorder builds a module whose callbacks each log `<name> <arg0> <arg1>` (for http_call_response:
 * token and header count) at info, run `extra[name]` WAT, and return `returns[name]` (or the
 * default). Strings for `extra` can be placed with `data`: `[offset, text]` pairs (use 4096+).
 */
export function recorder(options: { returns?: Record<string, number>; extra?: Record<string, string>; data?: [number, string][]; abi?: string } = {}): Uint8Array {
  let offset = 256;
  const segments: string[] = [];
  const callbacks = recorded.map(([name, arity, hasResult, fallback]) => {
    const at = offset;
    offset += name.length + 1;
    segments.push(`(data (i32.const ${at}) "${name}")`);
    const params = Array.from({ length: arity }, () => "i32").join(" ");
    const [a, b] = name === "proxy_on_http_call_response" ? [1, 2] : [0, 1];
    const argB = arity > b ? `(local.get ${b})` : "(i32.const 0)";
    const result = hasResult ? `(result i32)` : "";
    const ret = hasResult ? `(i32.const ${options.returns?.[name] ?? fallback})` : "";
    return `(func (export "${name}") (param ${params}) ${result}
      (call $trace (i32.const ${at}) (i32.const ${name.length}) (local.get ${a}) ${argB})
      ${options.extra?.[name] ?? ""} ${ret})`;
  });
  for (const [at, text] of options.data ?? []) segments.push(`(data (i32.const ${at}) "${text}")`);
  return proxyModule(
    `${segments.join("\n")}
    (func $utoa (param $v i32) (param $p i32) (result i32) (local $end i32) (local $t i32)
      (local.set $t (local.get $v)) (local.set $end (local.get $p))
      (loop $count (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (local.set $t (i32.div_u (local.get $t) (i32.const 10))) (br_if $count (local.get $t)))
      (local.set $t (local.get $end))
      (loop $digits (local.set $t (i32.sub (local.get $t) (i32.const 1)))
        (i32.store8 (local.get $t) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $digits (i32.gt_u (local.get $t) (local.get $p))))
      (local.get $end))
    (func $trace (param $name i32) (param $len i32) (param $a i32) (param $b i32) (local $p i32)
      (memory.copy (i32.const 2048) (local.get $name) (local.get $len))
      (local.set $p (i32.add (i32.const 2048) (local.get $len)))
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (call $utoa (local.get $a) (i32.add (local.get $p) (i32.const 1))))
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (call $utoa (local.get $b) (i32.add (local.get $p) (i32.const 1))))
      (drop (call $log (i32.const 2) (i32.const 2048) (i32.sub (local.get $p) (i32.const 2048)))))
    ${callbacks.join("\n")}`,
    { imports: `(import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))\n${recorderImports}`, abi: options.abi },
  );
}

/** traces returns the recorder lines of a log list, in order. */
export function traces(logs: { message: string; source: string }[]): string[] {
  return logs.filter((l) => l.source === "wasm" && l.message.startsWith("proxy_on_")).map((l) => l.message);
}
