// The benchmark's result types are defined next to the UI page that shows them (the app may not import
// the benchmark); re-exported here for the benchmark's own modules.
export type * from "../image-hub/bench-results.ts";
