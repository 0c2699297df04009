// Exposes the heap under the collector (filters/sdk/abi/alloc.ts, put in TLSF's place by asconfig
// "use") to test/sdk/alloc.test.ts through the runtime's own entry points.
export * from "proxy-wasm-as-sdk/abi/http";

/** alloc returns heap.alloc(`size`). */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** free calls heap.free(`ptr`). */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** realloc returns heap.realloc(`ptr`, `size`). */
export function realloc(ptr: usize, size: usize): usize {
  return heap.realloc(ptr, size);
}

/** heapBase returns where the heap starts (the end of the static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** staticText returns the address of a string in the static data. */
export function staticText(): usize {
  return changetype<usize>("static data");
}
