/**
 * A minimal WebAssembly binary reader for what Node's WebAssembly API hides: function types of
 * imports and exports, export order and the start section. cpp-host checks all of these on load
 * (proxy-wasm-host.md §8). Hand-written because no maintained npm package exposes the type
 * section of an arbitrary module without pulling in a full toolchain; wabt's reader needs a
 * feature-flag round trip to text that loses nothing we need but costs far more.
 */

/** A value type as spelled in the text format. */
export type ValueType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

/** A function signature. */
export interface FuncType {
  params: ValueType[];
  results: ValueType[];
}

/** The kind of an import or export. */
export type ExternKind = "func" | "table" | "memory" | "global" | "tag";

/** One import, with its function type when it is a function. */
export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternKind;
  type?: FuncType;
  /** Initial pages of an imported memory. */
  memoryMinimum?: number;
}

/** One export in section order, with its function type when it is a function. */
export interface ExportEntry {
  name: string;
  kind: ExternKind;
  index: number;
  type?: FuncType;
}

/** What the host needs to know about a module before instantiating it. */
export interface ModuleInfo {
  imports: ImportEntry[];
  exports: ExportEntry[];
  hasStartSection: boolean;
}

const valueTypes: Record<number, ValueType> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
const externKinds: ExternKind[] = ["func", "table", "memory", "global", "tag"];

/** Thrown for a module the reader cannot parse; the message says where. */
export class WasmBinaryError extends Error {}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}
  byte(): number {
    if (this.pos >= this.end) throw new WasmBinaryError(`unexpected end of module at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new WasmBinaryError(`LEB128 integer too long at byte ${this.pos}`);
  }
  /** Skips an unsigned LEB128 of any width (memory64 limits). */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  name(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new WasmBinaryError(`name runs past the section at byte ${this.pos}`);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
  valueType(): ValueType {
    const code = this.byte();
    const type = valueTypes[code];
    if (!type) throw new WasmBinaryError(`unsupported value type 0x${code.toString(16)} at byte ${this.pos - 1}`);
    return type;
  }
  /** Reads limits and returns the minimum (0 when it does not fit a u32, as for memory64). */
  limits(): number {
    const flags = this.byte();
    const start = this.pos;
    this.skipLeb();
    const end = this.pos;
    this.pos = start;
    const minimum = end - start <= 5 ? this.u32() : 0;
    this.pos = end;
    if (flags & 1) this.skipLeb();
    return minimum;
  }
}

/**
 * readModuleInfo parses the type, import, function, export and start sections of a wasm binary.
 * Throws WasmBinaryError for a malformed or unsupported (e.g. GC type section) module.
 */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new WasmBinaryError("not a WebAssembly 1.0 binary (bad magic or version)");
  }
  const types: FuncType[] = [];
  const imports: ImportEntry[] = [];
  const functionTypes: FuncType[] = []; // by function index: imported functions first
  const exports: ExportEntry[] = [];
  let hasStartSection = false;
  const top = new Reader(bytes);
  top.pos = 8;
  while (top.pos < bytes.length) {
    const id = top.byte();
    const size = top.u32();
    const end = top.pos + size;
    if (end > bytes.length) throw new WasmBinaryError(`section ${id} runs past the end of the module`);
    const r = new Reader(bytes, end);
    r.pos = top.pos;
    if (id === 1) {
      for (let n = r.u32(), i = 0; i < n; i++) {
        const form = r.byte();
        if (form !== 0x60) throw new WasmBinaryError(`unsupported type form 0x${form.toString(16)} (GC types are not supported)`);
        const params = Array.from({ length: r.u32() }, () => r.valueType());
        const results = Array.from({ length: r.u32() }, () => r.valueType());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(), i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = externKinds[r.byte()];
        if (!kind) throw new WasmBinaryError(`bad import kind for ${module}.${name}`);
        const entry: ImportEntry = { module, name, kind };
        if (kind === "func") {
          entry.type = typeAt(types, r.u32());
          functionTypes.push(entry.type);
        } else if (kind === "table") {
          r.valueType();
          r.limits();
        } else if (kind === "memory") entry.memoryMinimum = r.limits();
        else if (kind === "global") {
          r.valueType();
          r.byte();
        } else {
          r.byte();
          r.u32();
        }
        imports.push(entry);
      }
    } else if (id === 3) {
      for (let n = r.u32(), i = 0; i < n; i++) functionTypes.push(typeAt(types, r.u32()));
    } else if (id === 7) {
      for (let n = r.u32(), i = 0; i < n; i++) {
        const name = r.name();
        const kind = externKinds[r.byte()];
        if (!kind) throw new WasmBinaryError(`bad export kind for ${name}`);
        exports.push({ name, kind, index: r.u32() });
      }
    } else if (id === 8) hasStartSection = true;
    top.pos = end;
  }
  for (const e of exports) {
    if (e.kind !== "func") continue;
    e.type = functionTypes[e.index];
    if (!e.type) throw new WasmBinaryError(`export ${e.name} names missing function ${e.index}`);
  }
  return { imports, exports, hasStartSection };
}

function typeAt(types: FuncType[], index: number): FuncType {
  const type = types[index];
  if (!type) throw new WasmBinaryError(`type index ${index} out of range`);
  return type;
}

/** formatFuncType renders a signature as `(i32,i32)->i32` for error messages. */
export function formatFuncType(t: FuncType): string {
  return `(${t.params.join(",")})->${t.results.length ? t.results.join(",") : "()"}`;
}

/** sameFuncType compares two signatures exactly. */
export function sameFuncType(a: FuncType, b: FuncType): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) &&
    a.results.every((p, i) => p === b.results[i])
  );
}
