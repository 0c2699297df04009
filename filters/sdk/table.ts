// The table behind the dispatcher's bookkeeping: live contexts by id, pending callouts by token.
// Written here rather than taken from AssemblyScript's Map because every module links it and does one
// lookup per callback: four Map<u32, …> instances (roots, HTTP, TCP, callouts) cost ≈ 2 KiB of code,
// start-up allocations and collector visitors in every module; one open-addressed table (linear
// probing, backward-shift deletion, no tombstones) with a u32 tag per entry covers all of them.
import { CalloutHandler } from "./context";

// Fibonacci hashing: ids and tokens are sequential, the multiplier spreads them over the top bits.
const GOLDEN: u32 = 0x9e3779b1;
const INITIAL_BITS: u32 = 3;

// A zeroed StaticArray of `length` 4-byte slots (u32 keys and tags, references on wasm32). Built with
// __new rather than `new StaticArray`, whose length check links its own error text and file name.
function slots<T>(length: i32): StaticArray<T> {
  const size = <usize>length << 2;
  const out = __new(size, idof<StaticArray<T>>());
  memory.fill(out, 0, size);
  return changetype<StaticArray<T>>(out);
}

/**
 * IdTable maps u32 keys (context ids, callout tokens) to a CalloutHandler (every context is one) and a
 * u32 tag (the context kind, or the context that issued a callout). It grows to keep at most half its
 * slots used and never shrinks, so its memory is bounded by the most entries alive at once.
 */
export class IdTable {
  private keys: StaticArray<u32> = slots<u32>(1 << INITIAL_BITS);
  private tags: StaticArray<u32> = slots<u32>(1 << INITIAL_BITS);
  private values: StaticArray<CalloutHandler | null> = slots<CalloutHandler | null>(1 << INITIAL_BITS);
  private shift: u32 = 32 - INITIAL_BITS;
  private mask: u32 = (1 << INITIAL_BITS) - 1;
  private used: u32 = 0;

  // Hot path (every context lookup): inlined by hand and read with plain loads, because the release
  // build's shrinkLevel 2 keeps even one-line getters such as StaticArray#length as calls.
  // @ts-ignore: decorator
  @inline private home(key: u32): u32 {
    return (key * GOLDEN) >> this.shift;
  }

  // @ts-ignore: decorator
  @inline private filled(i: u32): bool {
    return load<usize>(changetype<usize>(this.values) + (<usize>i << alignof<usize>())) != 0;
  }

  // @ts-ignore: decorator
  @inline private keyAt(i: u32): u32 {
    return load<u32>(changetype<usize>(this.keys) + (<usize>i << 2));
  }

  // Writes slot i; the value through the array's own store, so a collector that tracks stores sees it.
  // @ts-ignore: decorator
  @inline private put(i: u32, key: u32, tag: u32, value: CalloutHandler | null): void {
    store<u32>(changetype<usize>(this.keys) + (<usize>i << 2), key);
    store<u32>(changetype<usize>(this.tags) + (<usize>i << 2), tag);
    unchecked((this.values[i] = value));
  }

  /** find returns the slot holding `key`, or -1 when the key is absent. */
  find(key: u32): i32 {
    const mask = this.mask;
    let i = this.home(key);
    while (true) {
      if (!this.filled(i)) return -1;
      if (this.keyAt(i) == key) return <i32>i;
      i = (i + 1) & mask;
    }
  }

  /** valueAt returns the value in a slot `find` returned. */
  // @ts-ignore: decorator
  @inline valueAt(slot: i32): CalloutHandler {
    return changetype<CalloutHandler>(load<usize>(changetype<usize>(this.values) + (<usize>slot << alignof<usize>())));
  }

  /** tagAt returns the tag in a slot `find` returned. */
  // @ts-ignore: decorator
  @inline tagAt(slot: i32): u32 {
    return load<u32>(changetype<usize>(this.tags) + (<usize>slot << 2));
  }

  /** set stores `value` and `tag` under `key`, replacing an entry with the same key. */
  set(key: u32, value: CalloutHandler, tag: u32): void {
    const slot = this.find(key);
    if (slot >= 0) {
      this.put(<u32>slot, key, tag, value);
      return;
    }
    if ((this.used + 1) << 1 > this.mask + 1) this.grow();
    this.place(key, value, tag);
  }

  // Puts a key known to be absent in the first free slot of its probe run.
  private place(key: u32, value: CalloutHandler, tag: u32): void {
    const mask = this.mask;
    let i = this.home(key);
    while (this.filled(i)) i = (i + 1) & mask;
    this.put(i, key, tag, value);
    this.used++;
  }

  /** remove drops the entry under `key`; false when there was none. */
  remove(key: u32): bool {
    const slot = this.find(key);
    if (slot < 0) return false;
    const mask = this.mask;
    // Backward shift: pull later entries of the probe run into the hole unless that would put one
    // before its home slot, so lookups never need tombstones.
    let hole = <u32>slot;
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      if (!this.filled(j)) break;
      const k = this.keyAt(j);
      if (((j - this.home(k)) & mask) >= ((j - hole) & mask)) {
        this.put(hole, k, this.tagAt(<i32>j), this.valueAt(<i32>j));
        hole = j;
      }
    }
    unchecked((this.values[hole] = null));
    this.used--;
    return true;
  }

  private grow(): void {
    const keys = this.keys;
    const tags = this.tags;
    const values = this.values;
    const size = values.length << 1;
    this.keys = slots<u32>(size);
    this.tags = slots<u32>(size);
    this.values = slots<CalloutHandler | null>(size);
    this.shift--;
    this.mask = <u32>size - 1;
    this.used = 0;
    for (let i = 0; i < values.length; i++) {
      const v = unchecked(values[i]);
      if (v !== null) this.place(unchecked(keys[i]), v, unchecked(tags[i]));
    }
  }
}
