// Writes a run's results to disk: latest.json (read by the UI), smp.json, results.md, summary.md
// and charts/*.svg; optionally splices summary.md into bench/README.md between its markers.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "../results-types.ts";
import { renderCharts, renderSummary, renderTables } from "./report.ts";
import { appendEnvoyCostSmp, envoyCostChart } from "./report-envoy-cost.ts";
import { appendGlobalSmp, globalChart } from "./report-global.ts";
import { buildSmp } from "./smp.ts";

/** Marker opening the generated findings block in bench/README.md. */
export const README_BEGIN = "<!-- BEGIN GENERATED FINDINGS (bench/lib/output.ts writes this block from bench/results/summary.md) -->";
/** Marker closing the generated findings block in bench/README.md. */
export const README_END = "<!-- END GENERATED FINDINGS -->";

/** Writes every output file into `dir` (created if needed) and returns the paths written; throws on I/O errors. */
export function writeOutputs(dir: string, r: BenchResults, envoyConcurrency: number): string[] {
  mkdirSync(join(dir, "charts"), { recursive: true });
  // Stale charts from an earlier run would pass for current ones.
  for (const f of readdirSync(join(dir, "charts"))) if (f.endsWith(".svg")) rmSync(join(dir, "charts", f));
  const written: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  put("latest.json", JSON.stringify(r, null, 2) + "\n");
  const smp = buildSmp(r, { envoyConcurrency });
  appendEnvoyCostSmp(smp, r);
  appendGlobalSmp(smp, r);
  put("smp.json", JSON.stringify(smp, null, 2) + "\n");
  put("results.md", renderTables(r));
  put("summary.md", renderSummary(r));
  for (const [name, svg] of Object.entries(renderCharts(r))) put(join("charts", name), svg);
  const costChart = envoyCostChart(r);
  if (costChart) put(join("charts", "envoy-filter-cost.svg"), costChart);
  const global = globalChart(r);
  if (global) put(join("charts", "global-limits.svg"), global);
  return written;
}

/**
 * Replaces the generated block of the README with `summary`; returns false (and leaves the file
 * alone) when the README or its markers are missing.
 */
export function spliceReadme(readmePath: string, summary: string): boolean {
  if (!existsSync(readmePath)) return false;
  const text = readFileSync(readmePath, "utf8");
  const begin = text.indexOf(README_BEGIN);
  const end = text.indexOf(README_END);
  if (begin < 0 || end < begin) return false;
  writeFileSync(readmePath, `${text.slice(0, begin + README_BEGIN.length)}\n${summary}\n${text.slice(end)}`);
  return true;
}
