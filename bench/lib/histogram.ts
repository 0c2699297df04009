// A latency recorder at sub-microsecond resolution. autocannon's own histogram has a 1 ms floor
// (performance-anchors.md §3.4), far too coarse for filter overheads of a few µs, so every sample
// is kept (bounded) and percentiles are computed exactly from the sorted samples.
import type { LatencySummaryUs } from "../results-types.ts";

/** Upper bound on kept samples per recorder; beyond it samples are thinned by reservoir sampling. */
export const MAX_SAMPLES = 2_000_000;

/** Collects latency samples in microseconds. */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private kept = 0;
  private seen = 0;
  private sum = 0;
  private minUs = Infinity;
  private maxUs = -Infinity;

  /** Records one sample in µs; may be called any time. Non-finite or negative values throw, they would poison the summary. */
  record(us: number): void {
    if (!Number.isFinite(us) || us < 0) throw new Error(`latency sample must be a finite non-negative number of µs, got ${us}`);
    this.seen++;
    this.sum += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
    if (this.kept < MAX_SAMPLES) {
      if (this.kept === this.samples.length) {
        const grown = new Float64Array(Math.min(MAX_SAMPLES, this.samples.length * 2));
        grown.set(this.samples);
        this.samples = grown;
      }
      this.samples[this.kept++] = us;
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < MAX_SAMPLES) this.samples[slot] = us;
  }

  /** Number of samples recorded so far. */
  get count(): number {
    return this.seen;
  }

  /** Returns the summary (min/mean/percentiles/max in µs), or null when nothing was recorded. */
  summary(): LatencySummaryUs | null {
    if (this.seen === 0) return null;
    const sorted = this.samples.slice(0, this.kept).sort();
    return {
      count: this.seen,
      min: round(this.minUs),
      mean: round(this.sum / this.seen),
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(this.maxUs),
    };
  }
}

/** Nearest-rank percentile of ascending samples; throws on an empty array (a caller bug). */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of an empty sample set");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function round(us: number): number {
  return Math.round(us * 100) / 100;
}
