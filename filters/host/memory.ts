/**
 * Guest memory access with cpp-host's rules (proxy-wasm-host.md §2 "Memory protocol"): u32 bounds
 * checks, little-endian scalars, and copy-out through the guest allocator.
 *
 * Any call into the guest may grow the memory, and growing detaches the old `memory.buffer`. The
 * views are cached and rebuilt whenever the cached one is detached (its length drops to 0), so an
 * access never sees a stale buffer and the common case costs no `memory.buffer` read at all.
 */
import { WasmResult } from "./abi.ts";

/** GuestMemory reads and writes one instance's linear memory. */
export class GuestMemory {
  private bytes: Buffer = Buffer.alloc(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Short strings read lately, by a hash of their bytes (see readLatin1). */
  private readonly recent: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined);

  /**
   * @param memory the instance's memory (exported or imported)
   * @param allocate calls the guest allocator; returns 0 on failure
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly allocate: (size: number) => number,
  ) {}

  /** The current views: rebuilt after the memory grew (the old buffer is then detached). */
  private current(): Buffer {
    if (this.bytes.length === 0) {
      const buffer = this.memory.buffer;
      this.bytes = Buffer.from(buffer);
      this.view = new DataView(buffer);
    }
    return this.bytes;
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return this.current().length;
  }

  /** inBounds checks [ptr, ptr+size) as unsigned 32-bit values. */
  inBounds(ptr: number, size: number): boolean {
    return (ptr >>> 0) + (size >>> 0) <= this.current().length;
  }

  /** read copies [ptr, ptr+size) out of the guest, or returns undefined when out of bounds. */
  read(ptr: number, size: number): Uint8Array | undefined {
    if (!this.inBounds(ptr, size)) return undefined;
    const p = ptr >>> 0;
    return new Uint8Array(this.bytes.buffer, p, size >>> 0).slice();
  }

  /**
   * readLatin1 reads [ptr, ptr+size) as a latin1 string (one char per byte), or undefined when out
   * of bounds. Short strings are memoised by content: a filter passes the same header names and
   * values on every stream, and comparing a few bytes in JavaScript is cheaper than decoding them
   * in C++; the same string object back also keeps its hash for the header maps' lookups.
   */
  readLatin1(ptr: number, size: number): string | undefined {
    if (!this.inBounds(ptr, size)) return undefined;
    const p = ptr >>> 0;
    const n = size >>> 0;
    const bytes = this.bytes;
    if (n > 32) return bytes.toString("latin1", p, p + n);
    let h = n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[p + i], 0x01000193);
    const slot = (h ^ (h >>> 16)) & 255;
    const cached = this.recent[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === bytes[p + i]) i++;
      if (i === n) return cached;
    }
    const text = bytes.toString("latin1", p, p + n);
    this.recent[slot] = text;
    return text;
  }

  /** readUtf8 reads [ptr, ptr+size) decoded as UTF-8, or undefined when out of bounds. */
  readUtf8(ptr: number, size: number): string | undefined {
    if (!this.inBounds(ptr, size)) return undefined;
    const p = ptr >>> 0;
    return this.bytes.toString("utf8", p, p + (size >>> 0));
  }

  /** write copies bytes to ptr; false when out of bounds. */
  write(ptr: number, bytes: Uint8Array): boolean {
    if (!this.inBounds(ptr, bytes.length)) return false;
    this.bytes.set(bytes, ptr >>> 0);
    return true;
  }

  /** writeU32 stores a little-endian u32; false when out of bounds. */
  writeU32(ptr: number, value: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    this.view.setUint32(ptr >>> 0, value >>> 0, true);
    return true;
  }

  /** writeU64 stores a little-endian u64; false when out of bounds. */
  writeU64(ptr: number, value: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    this.view.setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
    return true;
  }

  /**
   * copyOut implements copyToPointerSize: an empty value writes (0,0) without allocating; otherwise
   * the guest allocator provides the buffer. Returns InvalidMemoryAccess when the allocator returns
   * 0 or any write is out of bounds.
   */
  copyOut(value: Uint8Array, ptrPtr: number, sizePtr: number): number {
    if (value.length === 0) return this.writeEmpty(ptrPtr, sizePtr);
    const ptr = this.allocate(value.length);
    if (ptr === 0 || !this.write(ptr, value)) return WasmResult.invalidMemoryAccess;
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, value.length) ? WasmResult.ok : WasmResult.invalidMemoryAccess;
  }

  /** copyOutLatin1 is copyOut of a latin1-held byte string, written without an intermediate copy. */
  copyOutLatin1(value: string, ptrPtr: number, sizePtr: number): number {
    const n = value.length;
    if (n === 0) return this.writeEmpty(ptrPtr, sizePtr);
    const ptr = this.allocate(n);
    if (ptr === 0 || !this.inBounds(ptr, n)) return WasmResult.invalidMemoryAccess;
    this.bytes.write(value, ptr, n, "latin1");
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, n) ? WasmResult.ok : WasmResult.invalidMemoryAccess;
  }

  private writeEmpty(ptrPtr: number, sizePtr: number): number {
    return this.writeU32(ptrPtr, 0) && this.writeU32(sizePtr, 0) ? WasmResult.ok : WasmResult.invalidMemoryAccess;
  }
}
