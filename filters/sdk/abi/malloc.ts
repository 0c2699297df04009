// The guest allocator the host calls (as `malloc`, or as `proxy_on_memory_allocate`) to hand back
// variable-size results, and the helpers that turn such a result into a managed ArrayBuffer.
//
// Why unmanaged: Envoy re-enters malloc in the middle of a hostcall. If malloc allocated on the GC heap,
// a GC step could run while the guest's input buffers are only referenced by raw pointers, so every
// buffer handed to the host would need __pin/__unpin. With heap.alloc no GC step can run inside a
// hostcall; the guest copies the result into a managed ArrayBuffer and frees the block right away,
// which keeps linear memory flat (the allocator, abi/alloc.ts, reuses the block on the next call).

/** malloc returns `size` bytes of unmanaged memory for the host to write into; 0 only if the heap is exhausted. */
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

// Scratch words for hostcall out-parameters. Results are read right after each call and the host's
// malloc re-entry never touches them, so one static area is enough.
const scratch: usize = memory.data(16, 8);

/** retPtr is the address of the first out-parameter word (a pointer or u32 result). */
// @ts-ignore: decorator
@inline export function retPtr(): usize {
  return scratch;
}

/** retSize is the address of the second out-parameter word (a size). */
// @ts-ignore: decorator
@inline export function retSize(): usize {
  return scratch + 4;
}

/** retWide is the address of an 8-byte out-parameter (times, metric values). */
// @ts-ignore: decorator
@inline export function retWide(): usize {
  return scratch + 8;
}

/** clearRet zeroes the out-parameter words so a host that writes nothing never leaves a stale pointer behind. */
export function clearRet(): void {
  memory.fill(scratch, 0, 16);
}

/** takeResult copies the host-allocated block named by the (retPtr, retSize) words into a new ArrayBuffer and frees it. */
export function takeResult(): ArrayBuffer {
  const ptr = load<u32>(retPtr());
  const size = load<u32>(retSize());
  return takeBlock(<usize>ptr, <usize>size);
}

/**
 * newBytes returns an ArrayBuffer of `size` bytes whose contents the caller overwrites entirely. It
 * skips `new ArrayBuffer`'s zeroing and length check (and that check's error text and file name,
 * linked into every module otherwise); a size past the allocator's limit still aborts, in __new.
 */
export function newBytes(size: usize): ArrayBuffer {
  return changetype<ArrayBuffer>(__new(size, idof<ArrayBuffer>()));
}

/** takeBlock copies `size` bytes at `ptr` (a block from malloc, or 0: zeros) into a new ArrayBuffer and frees the block. */
export function takeBlock(ptr: usize, size: usize): ArrayBuffer {
  const out = newBytes(size);
  if (ptr != 0) {
    memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  } else memory.fill(changetype<usize>(out), 0, size);
  return out;
}
