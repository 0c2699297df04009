// The benchmark's result types are defined next to the UI page that shows them (the app may not import
// the benchmark); re-exported here for the benchmark's own modules.
export type * from "../image-hub/bench-results.ts";

import type { EnvoyCostArm, EnvoyFilterCost } from "../image-hub/bench-results.ts";
import type { PinPlan } from "./lib/pin.ts";

/** An envoy-cost arm as the bench writes it: the shared type plus each round's p50 (µs, in round order). */
export interface EnvoyCostArmRun extends EnvoyCostArm {
  p50ByRound?: number[];
}

/**
 * The envoy-cost table as the bench writes it: the shared type plus whether the Envoys and the load
 * client were pinned to their own CPUs (absent in results from before pinning existed).
 */
export interface EnvoyFilterCostRun extends EnvoyFilterCost {
  pinning?: PinPlan;
  arms: EnvoyCostArmRun[];
}
