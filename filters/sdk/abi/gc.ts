// When garbage is collected. The SDK builds with AssemblyScript's "minimal" runtime: a two-colour
// mark & sweep over TLSF that runs only when asked. Why not the incremental runtime: it keeps a
// shadow stack (a store for every managed local on every call) and does GC work inside allocations,
// which measured as most of an empty filter's per-request cost in Envoy and about a third of every
// module's size (filters/sdk/PERFORMANCE.md). A stream leaves little garbage, so a full collection
// every COLLECT_EVERY callbacks is cheaper and keeps linear memory just as flat.
//
// The collector does not scan the wasm stack, so it may only run when no managed value lives there:
// at the very end of an outermost callback. `depth` counts callbacks in progress, so a callback the
// host might run from inside a hostcall never collects under its caller.

/**
 * Outermost callbacks between two collections. Marking costs in proportion to the live heap (the
 * policy module keeps up to 512 + 1024 verified tokens), sweeping in proportion to the garbage; at 128
 * the marking of a full token cache was a fifth of the composed policy module's own time, at 1024 it
 * is an eighth of that, for about 1 MiB more linear memory (filters/sdk/PERFORMANCE.md, "Third round").
 */
export const COLLECT_EVERY: i32 = 1024;

let depth: i32 = 0;
let callbacks: i32 = 0;
/** Linear memory pages after the last collection: more pages since means the allocator had to grow. */
let pagesAtCollection: i32 = 0;

/** enter marks the start of an exported callback (abi/exports.ts calls it first thing). */
// @ts-ignore: decorator
@inline export function enter(): void {
  depth++;
}

/**
 * leave marks the end of an exported callback. It collects every COLLECT_EVERY outermost callbacks,
 * and at once when linear memory grew since the last collection: a callback that allocates a lot
 * (a large body, say) makes the allocator grow memory, and its garbage is reclaimed before the next
 * callback instead of piling up for COLLECT_EVERY callbacks (which would grow memory again).
 */
// @ts-ignore: decorator
@inline export function leave(): void {
  if (--depth == 0 && (++callbacks >= COLLECT_EVERY || memory.size() != pagesAtCollection)) {
    callbacks = 0;
    // Runtime.Minimal; under the incremental runtime collection is automatic and this folds away.
    if (ASC_RUNTIME == 1) {
      __collect();
      pagesAtCollection = memory.size();
    }
  }
}

/** leaveWith is leave() for a callback returning `result`: evaluate the callback first, then collect. */
// @ts-ignore: decorator
@inline export function leaveWith(result: u32): u32 {
  leave();
  return result;
}
