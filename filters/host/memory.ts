/**
 * Guest memory access with cpp-host's rules (proxy-wasm-host.md §2 "Memory protocol"): u32 bounds
 * checks, little-endian scalars, and copy-out through the guest allocator. Every accessor re-reads
 * `memory.buffer`, since any call into the guest may grow (and detach) it.
 */
import { WasmResult } from "./abi.ts";

/** GuestMemory reads and writes one instance's linear memory. */
export class GuestMemory {
  /**
   * @param memory the instance's memory (exported or imported)
   * @param allocate calls the guest allocator; returns 0 on failure
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly allocate: (size: number) => number,
  ) {}

  /** Current size in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** inBounds checks [ptr, ptr+size) as unsigned 32-bit values. */
  inBounds(ptr: number, size: number): boolean {
    const p = ptr >>> 0;
    const s = size >>> 0;
    return p + s <= this.memory.buffer.byteLength;
  }

  /** read copies [ptr, ptr+size) out of the guest, or returns undefined when out of bounds. */
  read(ptr: number, size: number): Uint8Array | undefined {
    if (!this.inBounds(ptr, size)) return undefined;
    const p = ptr >>> 0;
    return new Uint8Array(this.memory.buffer).slice(p, p + (size >>> 0));
  }

  /** write copies bytes to ptr; false when out of bounds. */
  write(ptr: number, bytes: Uint8Array): boolean {
    if (!this.inBounds(ptr, bytes.length)) return false;
    new Uint8Array(this.memory.buffer).set(bytes, ptr >>> 0);
    return true;
  }

  /** writeU32 stores a little-endian u32; false when out of bounds. */
  writeU32(ptr: number, value: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    new DataView(this.memory.buffer).setUint32(ptr >>> 0, value >>> 0, true);
    return true;
  }

  /** writeU64 stores a little-endian u64; false when out of bounds. */
  writeU64(ptr: number, value: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    new DataView(this.memory.buffer).setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
    return true;
  }

  /**
   * copyOut implements copyToPointerSize: an empty value writes (0,0) without allocating; otherwise
   * the guest allocator provides the buffer. Returns InvalidMemoryAccess when the allocator returns
   * 0 or any write is out of bounds.
   */
  copyOut(value: Uint8Array, ptrPtr: number, sizePtr: number): number {
    if (value.length === 0) {
      return this.writeU32(ptrPtr, 0) && this.writeU32(sizePtr, 0) ? WasmResult.ok : WasmResult.invalidMemoryAccess;
    }
    const ptr = this.allocate(value.length);
    if (ptr === 0 || !this.write(ptr, value)) return WasmResult.invalidMemoryAccess;
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, value.length) ? WasmResult.ok : WasmResult.invalidMemoryAccess;
  }
}
