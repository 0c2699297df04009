// `npm run bench` (after the filters are built): every benchmark section in one run, results to
// bench/results/ (or `--out <dir>`). `--quick` runs each scenario briefly; `--only a,b` picks
// sections by name. A section whose piece is missing is reported as "not measured: <reason>".
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FULL, QUICK, type Section, type SectionContext } from "./lib/context.ts";
import { computeFindings } from "./lib/findings.ts";
import { describeMachine, describeVersions, wasmSizes } from "./lib/machine.ts";
import { spliceReadme, writeOutputs } from "./lib/output.ts";
import { renderSummary, renderTables } from "./lib/report.ts";
import type { BenchResults } from "./results-types.ts";
import { emulatorSection } from "./sections/emulator.ts";
import { filterCostSection } from "./sections/filter-cost.ts";
import { envoyChainSection } from "./sections/envoy-chain.ts";
import { envoyCostSection } from "./sections/envoy-cost.ts";
import { globalSection } from "./sections/global.ts";
import { scenariosSection } from "./sections/scenarios.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const SECTIONS: Section[] = [emulatorSection, filterCostSection, envoyCostSection, envoyChainSection, scenariosSection, globalSection];

interface Args {
  quick: boolean;
  merge: boolean;
  out: string | undefined;
  only: string[] | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, merge: false, out: undefined, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--merge") args.merge = true;
    else if (a === "--out" || a === "--only") {
      const v = argv[++i];
      if (!v || v.startsWith("--")) throw new Error(`${a} needs a value`);
      if (a === "--out") args.out = isAbsolute(v) ? v : resolve(v);
      else args.only = v.split(",").map((s) => s.trim()).filter(Boolean);
    } else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- [--quick] [--out <dir>] [--only " + SECTIONS.map((s) => s.name).join(",") + " [--merge]]");
      console.log("  --merge: write the --only sections' results into the existing latest.json of the output folder, keeping the other sections' numbers");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  const unknown = (args.only ?? []).filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`--only: unknown section(s) ${unknown.join(", ")}; known: ${SECTIONS.map((s) => s.name).join(", ")}`);
  if (args.merge) {
    if (!args.only) throw new Error("--merge needs --only <sections>");
    const unowned = args.only.filter((n) => !SECTIONS.find((s) => s.name === n)?.owns);
    if (unowned.length) throw new Error(`--merge: section(s) ${unowned.join(", ")} do not declare their results; run them in a full run`);
  }
  return args;
}

async function envoyBin(): Promise<string | undefined> {
  try {
    const harness = (await import("proxy-wasm-host-emulator/envoy")) as { envoyBinary?: () => Promise<string> };
    return harness.envoyBinary ? await harness.envoyBinary() : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const settings = args.quick ? QUICK : FULL;
  // A quick run's numbers are not results: by default they go to the git-ignored tmp folder.
  const out = args.out ?? join(root, "bench/results", args.quick ? "tmp" : "");
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const results: BenchResults = {
    schema: "image-hub-bench/1",
    generatedAt: new Date().toISOString(),
    quick: settings.quick,
    wallSeconds: 0,
    machine: describeMachine(),
    versions: describeVersions(root, await envoyBin()),
    settings: { ...flattenSettings(settings), sections: SECTIONS.filter((x) => !args.only || args.only.includes(x.name)).map((x) => x.name).join(",") },
    emulator: null,
    wasmSizes: wasmSizes(root),
    filterCosts: [],
    envoyChain: null,
    envoyFilterCost: null,
    globalLimits: null,
    scenarios: [],
    runs: [],
    findings: [],
    notMeasured: [],
  };
  const ctx: SectionContext = {
    root,
    settings,
    results,
    notMeasured: (section, item, reason) => {
      results.notMeasured.push({ section, item, reason });
      console.error(`bench: ${section} / ${item}: not measured: ${reason.split("\n")[0]}`);
    },
    log: (m) => console.error(`bench: ${m}`),
    secondsLeft: () => settings.budgetSeconds - (Date.now() - started) / 1000,
  };
  for (const section of SECTIONS) {
    if (args.only && !args.only.includes(section.name)) continue;
    const t = Date.now();
    ctx.log(`section ${section.name}…`);
    try {
      await section.run(ctx);
    } catch (err) {
      ctx.notMeasured(section.name, "section", (err as Error).stack ?? String(err));
    }
    ctx.log(`section ${section.name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  results.wallSeconds = Math.round((Date.now() - started) / 100) / 10;
  const final = args.merge ? mergeInto(join(out, "latest.json"), results, args.only ?? []) : results;
  final.findings = computeFindings(final);
  const written = writeOutputs(out, final, settings.envoyConcurrency);
  // Only a full run into bench/results/ updates the committed README; quick or redirected runs do not.
  if (!args.quick && !args.out && spliceReadme(join(root, "bench/README.md"), renderSummary(final))) written.push(join(root, "bench/README.md"));
  // Issues 2 and 4 ask for these figures to be printed, issue 8 for the findings.
  console.log(renderTables(final));
  console.log(renderSummary(final));
  console.log(`bench: wrote ${written.length} files to ${out} in ${results.wallSeconds} s`);
}

/**
 * The results at `path` with the parts the `only` sections own (and their not-measured entries)
 * replaced by this run's. The run's own time and machine load are kept in `mergedRuns`. Throws when
 * there is nothing to merge into, or when the earlier results were a quick run and this one is not
 * (or the reverse): numbers of both kinds must not mix.
 */
function mergeInto(path: string, fresh: BenchResults, only: string[]): BenchResults {
  if (!existsSync(path)) throw new Error(`--merge: ${path} does not exist; run the full benchmark first`);
  const base = JSON.parse(readFileSync(path, "utf8")) as BenchResults;
  if (base.quick !== fresh.quick) throw new Error(`--merge: ${path} is ${base.quick ? "a quick" : "a full"} run and this one is not`);
  const merged: BenchResults = { ...base, notMeasured: base.notMeasured.filter((n) => !only.includes(n.section)).concat(fresh.notMeasured) };
  for (const section of SECTIONS.filter((s) => only.includes(s.name))) {
    for (const key of section.owns ?? []) (merged as unknown as Record<string, unknown>)[key] = fresh[key];
  }
  merged.mergedRuns = [...(base.mergedRuns ?? []).filter((m) => !only.includes(m.sections)), { sections: only.join(","), generatedAt: fresh.generatedAt, wallSeconds: fresh.wallSeconds, loadAverageAtStart: fresh.machine.loadAverageAtStart }];
  return merged;
}

function flattenSettings(s: typeof FULL): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(s)) out[k] = typeof v === "object" ? JSON.stringify(v) : v;
  return out;
}

// Ctrl-C: leave through process.exit so the 'exit' hooks stop Envoy and the app processes.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
