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
  private used: u32 = 0;

  private home(key: u32): u32 {
    return (key * GOLDEN) >> this.shift;
  }

  /** find returns the slot holding `key`, or -1 when the key is absent. */
  find(key: u32): i32 {
    const mask = <u32>this.values.length - 1;
    let i = this.home(key);
    while (true) {
      if (unchecked(this.values[i]) === null) return -1;
      if (unchecked(this.keys[i]) == key) return <i32>i;
      i = (i + 1) & mask;
    }
  }

  /** valueAt returns the value in a slot `find` returned. */
  valueAt(slot: i32): CalloutHandler {
    return changetype<CalloutHandler>(unchecked(this.values[slot]));
  }

  /** tagAt returns the tag in a slot `find` returned. */
  tagAt(slot: i32): u32 {
    return unchecked(this.tags[slot]);
  }

  /** set stores `value` and `tag` under `key`, replacing an entry with the same key. */
  set(key: u32, value: CalloutHandler, tag: u32): void {
    const slot = this.find(key);
    if (slot >= 0) {
      unchecked((this.tags[slot] = tag));
      unchecked((this.values[slot] = value));
      return;
    }
    if ((this.used + 1) << 1 > <u32>this.values.length) this.grow();
    this.place(key, value, tag);
  }

  // Puts a key known to be absent in the first free slot of its probe run.
  private place(key: u32, value: CalloutHandler, tag: u32): void {
    const mask = <u32>this.values.length - 1;
    let i = this.home(key);
    while (unchecked(this.values[i]) !== null) i = (i + 1) & mask;
    unchecked((this.keys[i] = key));
    unchecked((this.tags[i] = tag));
    unchecked((this.values[i] = value));
    this.used++;
  }

  /** remove drops the entry under `key`; false when there was none. */
  remove(key: u32): bool {
    const slot = this.find(key);
    if (slot < 0) return false;
    const mask = <u32>this.values.length - 1;
    // Backward shift: pull later entries of the probe run into the hole unless that would put one
    // before its home slot, so lookups never need tombstones.
    let hole = <u32>slot;
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      const v = unchecked(this.values[j]);
      if (v === null) break;
      const k = unchecked(this.keys[j]);
      if (((j - this.home(k)) & mask) >= ((j - hole) & mask)) {
        unchecked((this.keys[hole] = k));
        unchecked((this.tags[hole] = unchecked(this.tags[j])));
        unchecked((this.values[hole] = v));
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
    this.used = 0;
    for (let i = 0; i < values.length; i++) {
      const v = unchecked(values[i]);
      if (v !== null) this.place(unchecked(keys[i]), v, unchecked(tags[i]));
    }
  }
}
