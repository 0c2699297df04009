// What every benchmark section receives: the settings of this run, the results being filled in, and
// a way to record a part that could not be measured instead of failing the whole run.
import type { BenchResults } from "../results-types.ts";

/** Knobs of one run; `--quick` picks a small set so every section runs in well under 2 minutes. */
export interface BenchSettings {
  quick: boolean;
  /** Streams through add-header in the emulator, and as many through an empty chain (split into rounds). */
  emulatorStreams: number;
  /** Measured iterations per filter in the emulator (after warm-up). */
  filterIterations: number;
  /** Time bound of the emulator loop and of each filter's loop, seconds (whichever of count or time ends first). */
  sectionSeconds: number;
  /** wrk rounds per arm (interleaved baseline/chain) and seconds per round. */
  chainRounds: number;
  chainSeconds: number;
  chainConnections: number;
  /**
   * Rounds of the "filter cost in Envoy" table (every arm once per round, alternating) and seconds per
   * arm per round. Many short rounds: measured same-vs-same, 27 × 0.5 s gave a third of the within-run
   * uncertainty of 9 × 1.5 s for the same time (bench/README.md, "How steady is the envoy-cost table").
   */
  costRounds: number;
  costSeconds: number;
  /** Seconds of each measured load run and of its unmeasured warm-up. */
  runSeconds: number;
  warmupSeconds: number;
  /** Highest fixed request rate of the under-capacity regime, requests/s (lowered by calibration). */
  underRps: number;
  /** Connections of the under-capacity regime and of the closed-loop regimes. */
  underConnections: number;
  closedConnections: number;
  /** Envoy worker threads in every scenario. */
  envoyConcurrency: number;
  /** Wall-clock budget of the whole run; runs that would start past it are reported as not measured. */
  budgetSeconds: number;
  /** Users per plan in the pull workloads. */
  users: { under: Record<string, number>; throughput: Record<string, number>; over: Record<string, number> };
}

/** Settings of `npm run bench -- --quick` (about 3 minutes with every section). */
export const QUICK: BenchSettings = {
  quick: true,
  emulatorStreams: 20_000,
  filterIterations: 300,
  sectionSeconds: 5,
  chainRounds: 1,
  chainSeconds: 1,
  chainConnections: 1,
  costRounds: 10,
  costSeconds: 0.1,
  runSeconds: 1,
  warmupSeconds: 0.3,
  underRps: 200,
  underConnections: 8,
  closedConnections: 32,
  envoyConcurrency: 1,
  budgetSeconds: 150,
  users: { under: { personal: 10, team: 5, enterprise: 2 }, throughput: { team: 5, enterprise: 10 }, over: { personal: 4 } },
};

/** Settings of the full run (`npm run bench`), sized to finish in about 17 minutes on 2 cores (about 5 of them the global-limits section). */
export const FULL: BenchSettings = {
  quick: false,
  emulatorStreams: 200_000,
  filterIterations: 10_000,
  sectionSeconds: 20,
  chainRounds: 7,
  chainSeconds: 3,
  chainConnections: 1,
  costRounds: 27,
  costSeconds: 0.5,
  runSeconds: 8,
  warmupSeconds: 2,
  underRps: 400,
  underConnections: 16,
  closedConnections: 64,
  envoyConcurrency: 1,
  budgetSeconds: 990,
  users: { under: { personal: 60, team: 30, enterprise: 10 }, throughput: { team: 20, enterprise: 60 }, over: { personal: 30, team: 5, enterprise: 1 } },
};

/** Passed to every section. */
export interface SectionContext {
  root: string;
  settings: BenchSettings;
  results: BenchResults;
  /** Records that `item` of `section` was not measured and why; the run goes on. */
  notMeasured(section: string, item: string, reason: string): void;
  /** Progress line on stderr. */
  log(message: string): void;
  /** Seconds left of the run's budget (negative when it is spent). */
  secondsLeft(): number;
}

/** A section of the benchmark; it fills its part of `ctx.results` and must not throw for a missing piece. */
export interface Section {
  name: string;
  /**
   * The parts of the results only this section writes. A section that lists them can be re-run alone
   * into the committed results (`--only <name> --merge`), keeping every other section's numbers.
   */
  owns?: Array<keyof BenchResults>;
  run(ctx: SectionContext): Promise<void>;
}
