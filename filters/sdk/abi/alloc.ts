// The heap allocator under the collector: segregated free lists, one per power-of-two block size.
// AssemblyScript's minimal runtime pairs its collector (rt/tcms) with TLSF, ≈ 1.8 KiB of code in every
// module, and asc 0.28 accepts no other allocator through --runtime without forcing a shadow stack
// (filters/sdk/PERFORMANCE.md, fourth round). asconfig.json instead aliases the runtime's three entry
// points onto these (`"use": ["__alloc=sdkAlloc", "__free=sdkFree", "__realloc=sdkRealloc"]`), so TLSF
// is never compiled: ≈ 0.2 KiB instead.
//
// A block is TLSF's layout, which the collector relies on: a 4-byte size word (bit 0 set while the
// block is free), then the payload, 16-byte aligned. Blocks are 32 bytes to 1 GiB, powers of two, cut
// from the end of the heap and never split or merged: a freed block waits in its size's list for the
// next request of that size. Why that is enough here: a filter's allocations repeat per stream, so
// after the first streams every request is served from a list and linear memory stays flat
// (test/sdk/memory.test.ts); the price is up to 2x a request's size, and memory freed in one size is
// reused only by that size (TLSF also merges neighbours), so the heap holds the most ever live of each.

import { E_ALLOCATION_TOO_LARGE } from "util/error";

const SIZE_WORD: usize = 4;
const FREE_BIT: u32 = 1;
const MIN_BITS: usize = 5;
const MAX_SIZE: usize = (1 << 30) - SIZE_WORD;

// The head of each size's free list, by log2 of the block size; a free block's payload starts with
// the next one's address.
const HEADS: usize = memory.data(31 * 4);
// The end of the blocks cut so far (0 until the first allocation).
let heapEnd: usize = 0;

// The size word of the block whose payload is at `ptr`; aborts unless it is an allocated block, as
// TLSF's checkUsedBlock does, so a double or foreign free fails loudly instead of corrupting a list.
function usedSize(ptr: usize): u32 {
  const word = load<u32>(ptr - SIZE_WORD);
  assert(ptr != 0 && (ptr & 15) == 0 && (word & FREE_BIT) == 0);
  return word;
}

// Makes linear memory reach `end`: at least doubled, like TLSF, so a growing heap asks the host
// O(log n) times; traps when the host refuses.
function reach(end: usize): void {
  const pages = memory.size();
  const needed = <i32>((end + 0xffff) >>> 16) - pages;
  if (needed > 0 && memory.grow(max(pages, needed)) < 0 && memory.grow(needed) < 0) unreachable();
}

/** sdkAlloc is the runtime's __alloc: a 16-byte-aligned block of at least `size` bytes; aborts past 1 GiB, traps when memory cannot grow. */
// @ts-ignore: decorator
@global @unsafe export function sdkAlloc(size: usize): usize {
  if (size > MAX_SIZE) throw new Error(E_ALLOCATION_TOO_LARGE);
  let bits = <usize>(32 - clz<u32>(<u32>(size + SIZE_WORD - 1)));
  if (bits < MIN_BITS) bits = MIN_BITS;
  const head = HEADS + (bits << 2);
  const ptr = load<usize>(head);
  if (ptr != 0) {
    store<usize>(head, load<usize>(ptr));
    store<u32>(ptr - SIZE_WORD, load<u32>(ptr - SIZE_WORD) & ~FREE_BIT);
    return ptr;
  }
  // The first block starts where its payload is 16-byte aligned, past the static data.
  let block = heapEnd;
  if (block == 0) block = ((__heap_base + SIZE_WORD + 15) & ~15) - SIZE_WORD;
  const end = block + (<usize>1 << bits);
  if (end < block) unreachable();
  reach(end);
  heapEnd = end;
  store<u32>(block, <u32>((<usize>1 << bits) - SIZE_WORD));
  return block + SIZE_WORD;
}

/** sdkFree is the runtime's __free: returns a block to its size's list; static data (below the heap) is left alone. */
// @ts-ignore: decorator
@global @unsafe export function sdkFree(ptr: usize): void {
  if (ptr < __heap_base) return;
  const word = usedSize(ptr);
  const head = HEADS + (<usize>ctz<u32>(word + <u32>SIZE_WORD) << 2);
  store<u32>(ptr - SIZE_WORD, word | FREE_BIT);
  store<usize>(ptr, load<usize>(head));
  store<usize>(head, ptr);
}

/** sdkRealloc is the runtime's __realloc: the same block when `size` fits in it, else a new one with the contents copied and the old one freed. */
// @ts-ignore: decorator
@global @unsafe export function sdkRealloc(ptr: usize, size: usize): usize {
  const have = <usize>usedSize(ptr);
  if (size <= have && ptr >= __heap_base) return ptr;
  const out = sdkAlloc(size);
  memory.copy(out, ptr, min(have, size));
  sdkFree(ptr);
  return out;
}
