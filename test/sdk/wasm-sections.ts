// Reads the import, export and start sections of a wasm binary, written here (rather than taken from
// the emulator's parser) so the hygiene test does not trust the code it helps to check.

/** One import: module, field name and kind (0 func, 1 table, 2 memory, 3 global, 4 tag). */
export interface WasmImport {
  module: string;
  name: string;
  kind: number;
}

/** One export: name, kind and index in its index space. */
export interface WasmExport {
  name: string;
  kind: number;
  index: number;
}

/** What the hygiene test needs to know about a module. */
export interface WasmSummary {
  imports: WasmImport[];
  exports: WasmExport[];
  hasStart: boolean;
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("wasm: unexpected end of module");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error("wasm: LEB128 too long");
  }
  name(): string {
    const len = this.u32();
    const text = new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return text;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/** summarize parses `bytes`; throws on a bad magic number or a truncated section. */
export function summarize(bytes: Uint8Array): WasmSummary {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!magic.every((b) => r.byte() === b)) throw new Error("wasm: not a version-1 wasm module");
  const summary: WasmSummary = { imports: [], exports: [], hasStart: false };
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) r.u32();
        else if (kind === 1) {
          r.byte();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) {
          r.byte();
          r.byte();
        } else if (kind === 4) {
          r.byte();
          r.u32();
        } else throw new Error(`wasm: unknown import kind ${kind}`);
        summary.imports.push({ module, name, kind });
      }
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) summary.exports.push({ name: r.name(), kind: r.byte(), index: r.u32() });
    } else if (id === 8) summary.hasStart = true;
    r.pos = end;
  }
  return summary;
}
