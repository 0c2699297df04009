// How steady is the envoy-cost table? Reads the latest.json of several runs of the section made with
// BENCH_COST_COMPARE_DIR pointing at a copy of the same build (same-vs-same) and prints, for each
// arm that has a copy, its added p50 over the floor in every run by two estimators (the median of
// per-round differences, which the table reports, and the difference of the medians), the gap
// between the arm and its copy in each run, and the range over the runs.
//   npx tsx bench/cost-spread.ts <run-dir> [<run-dir>…]
// Exits 2 on a bad argument or a run without per-round p50s (written since the pinning change).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvoyFilterCostRun } from "./results-types.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** The two estimators of an arm's added p50 over the floor from per-round p50s (same round order). Pure. */
function estimators(arm: number[], floor: number[]): { paired: number; diffOfMedians: number } {
  return { paired: r1(median(arm.map((x, i) => x - floor[i]))), diffOfMedians: r1(median(arm) - median(floor)) };
}

function load(dir: string): EnvoyFilterCostRun {
  const c = (JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as { envoyFilterCost?: EnvoyFilterCostRun }).envoyFilterCost;
  if (!c?.arms.every((a) => a.p50ByRound)) throw new Error(`${dir}: no envoy-cost table with per-round p50s`);
  return c;
}

function main(dirs: string[]): void {
  if (dirs.length === 0) throw new Error("usage: tsx bench/cost-spread.ts <run-dir> [<run-dir>…]");
  const runs = dirs.map((d) => ({ dir: d, c: load(d) }));
  const bases = runs[0].c.arms.filter((a) => runs[0].c.arms.some((b) => b.id.startsWith(`${a.id}@`))).map((a) => a.id);
  for (const { dir, c } of runs) {
    console.log(`${dir}: ${c.rounds} rounds × ${c.secondsPerRound} s, ${c.pinning?.used ? "pinned" : "not pinned"}, load ${c.loadAverage.start[0]} → ${c.loadAverage.end[0]}`);
  }
  for (const kind of ["paired", "diffOfMedians"] as const) {
    console.log(`\nestimator: ${kind}`);
    for (const id of bases) {
      const per = runs.map(({ c }) => {
        const floor = c.arms.find((a) => a.id === "floor")!.p50ByRound!;
        const x = estimators(c.arms.find((a) => a.id === id)!.p50ByRound!, floor)[kind];
        const copy = c.arms.find((a) => a.id.startsWith(`${id}@`));
        const y = copy ? estimators(copy.p50ByRound!, floor)[kind] : NaN;
        return { x, y };
      });
      const all = per.flatMap((p) => [p.x, p.y]);
      console.log(
        `  ${id}: runs ${per.map((p) => `${p.x}/${p.y}`).join(", ")}; copy gap ${per.map((p) => r1(Math.abs(p.x - p.y))).join(", ")}; range over runs ${r1(Math.max(...per.map((p) => p.x)) - Math.min(...per.map((p) => p.x)))} (arm), ${r1(Math.max(...all) - Math.min(...all))} (arm and copy)`,
      );
    }
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`cost-spread: ${(err as Error).message}`);
  process.exit(2);
}
