// The callback generation: a number the SDK bumps whenever the host enters the module (dispatcher's
// setActiveContext), so per-callback caches (header snapshots, the callback clock) never outlive the
// callback they were filled in: between callbacks the host and other filters may change anything.
let generation: u32 = 1;

/** beginCallback starts a new generation; the SDK calls it when a callback starts. */
export function beginCallback(): void {
  generation++;
}

/** callbackGeneration returns the current generation (never 0). */
export function callbackGeneration(): u32 {
  return generation;
}
