// When garbage is collected. The SDK builds with AssemblyScript's "minimal" runtime: a two-colour
// mark & sweep (over the SDK's allocator, abi/alloc.ts) that runs only when asked. Why not the
// incremental runtime: it keeps a shadow stack (a store for every managed local on every call) and
// does GC work inside allocations, which measured as most of an empty filter's per-request cost in
// Envoy and about a third of every module's size (filters/sdk/PERFORMANCE.md). A stream leaves
// little garbage, so a full collection every COLLECT_EVERY callbacks is cheaper and keeps linear
// memory just as flat.
//
// The collector does not scan the wasm stack, so it may only run when no managed value lives there:
// at the very end of an outermost callback. `depth` counts callbacks in progress, so a callback the
// host might run from inside a hostcall never collects under its caller.

/**
 * Outermost callbacks between two collections. Fewer collections mark the live heap less often (the
 * policy module keeps up to 1024 verified tokens), but each one sweeps more garbage in one pause: at
 * 1024 the composed policy module's p99 in Envoy was about 300 µs higher in three of four runs and
 * its p50 did not move (filters/sdk/PERFORMANCE.md, "Third round"), so it stays at 128.
 */
export const COLLECT_EVERY: i32 = 128;

let depth: i32 = 0;
let callbacks: i32 = 0;

/** enter marks the start of an exported callback (abi/exports.ts calls it first thing). */
// @ts-ignore: decorator
@inline export function enter(): void {
  depth++;
}

/**
 * leave marks the end of an exported callback and collects every COLLECT_EVERY outermost callbacks.
 * Not inlined: a call per callback costs next to nothing, and inlining it into every exported
 * callback cost ≈ 0.5 KiB per module.
 */
export function leave(): void {
  if (--depth == 0 && ++callbacks >= COLLECT_EVERY) {
    callbacks = 0;
    // Runtime.Minimal; under the incremental runtime collection is automatic and this folds away.
    if (ASC_RUNTIME == 1) __collect();
  }
}

/** leaveWith is leave() for a callback returning `result`: evaluate the callback first, then collect. */
// @ts-ignore: decorator
@inline export function leaveWith(result: u32): u32 {
  leave();
  return result;
}
