// bench/lib/smp.ts on the committed full-run results (every scenario, 429s included): the values
// the issue found wrong stay right, the independent checker agrees, and (with `go`) every part
// parses into the official SMP v0.6.1 messages.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildSmp } from "../../bench/lib/smp.ts";
import type { BenchResults } from "../../bench/results-types.ts";
import { checkSmpDocument } from "./smp-schema.ts";
import { checkWithProtos, goMissing } from "./smp-proto.ts";

const noGo = process.env.SMP_REQUIRE_GO ? undefined : goMissing();

/** The committed full run, with the measurement windows a current run records. */
function results(): BenchResults {
  const r = JSON.parse(readFileSync(new URL("../../bench/results/latest.json", import.meta.url), "utf8")) as BenchResults;
  r.filterCosts = r.filterCosts.map((c, i) => ({ ...c, startTime: `2026-11-25T18:56:0${i}.000Z`, endTime: `2026-11-25T18:56:0${i}.900Z`, elapsedSeconds: 0.9 }));
  if (r.envoyChain) r.envoyChain = { ...r.envoyChain, startTime: "2026-11-25T18:56:10.000Z", endTime: "2026-11-25T18:56:42.000Z" };
  if (r.envoyFilterCost) r.envoyFilterCost = { ...r.envoyFilterCost, startTime: "2026-11-25T18:57:00.000Z", endTime: "2026-11-25T18:58:30.000Z" };
  return r;
}

describe("SMP from a full run", () => {
  const r = results();
  const doc = buildSmp(r, { envoyConcurrency: 2 });

  test("passes the independent checker", () => {
    assert.deepEqual(checkSmpDocument(doc), []);
  });

  test("gives every result of a run the run's own rate, its class rate as a label", () => {
    const run = r.runs.find((x) => x.requests.rejected429 > 0 && x.requests.ok2xx > 0)!;
    const t = doc.tests.find((x) => x.config.id === run.id)!;
    assert.deepEqual(t.results.map((x) => x.labels.status), ["all", "2xx", "429"]);
    for (const x of t.results) assert.equal(x.actual_qps, Math.round(run.actualRps * 100) / 100);
    assert.equal(t.results[1]!.labels.status_rps, String(Math.round((run.requests.ok2xx / run.durationSeconds) * 100) / 100));
    assert.deepEqual([t.results[0]!.start_time, t.results[0]!.end_time], [run.startTime, run.endTime]);
  });

  test("times the emulator and Envoy-chain measurements by their real windows", () => {
    const cost = doc.tests.find((x) => x.config.id.startsWith("emulator/"))!;
    assert.equal(cost.config.duration, "0.900s");
    assert.deepEqual([cost.results[0]!.start_time, cost.results[0]!.end_time], ["2026-11-25T18:56:00.000Z", "2026-11-25T18:56:00.900Z"]);
    assert.equal(cost.results[0]!.actual_qps, Math.round((r.filterCosts[0]!.iterations / 0.9) * 100) / 100);
    const chain = doc.tests.find((x) => x.config.id === "envoy-chain/chain")!;
    assert.equal(chain.config.duration, `${r.envoyChain!.rounds * r.envoyChain!.durationSeconds}s`);
    assert.equal(chain.results[0]!.start_time, "2026-11-25T18:56:10.000Z");
    assert.equal(chain.results[0]!.actual_qps, r.envoyChain!.chain.rps);
  });

  test("carries the plan-lookup arm with its added latency over the chain, when it was run", () => {
    const lookup = { min: 250, mean: 330, p50: 310.8, p90: 539.5, p99: 6121, max: 9000, requests: 39497, rps: 1899.3, non2xx: 0 };
    const withLookup = buildSmp({ ...r, envoyChain: { ...r.envoyChain!, planLookup: lookup, planLookupAddedP50Us: 4.2, planLookupMixedAddedP50Us: 9.7, planLookupAddedP99Us: 3788, planLookupCallouts: 1050 } }, { envoyConcurrency: 1 });
    assert.deepEqual(checkSmpDocument(withLookup), []);
    const t = withLookup.tests.find((x) => x.config.id === "envoy-chain/lookup")!;
    assert.ok(t, "no envoy-chain/lookup test");
    assert.equal(t.results[0]!.latencies_ms.p50, 0.3108);
    assert.equal(t.results[0]!.actual_qps, 1899.3);
    assert.deepEqual([t.results[0]!.labels.added_vs, t.results[0]!.labels.added_p50_us, t.results[0]!.labels.cached_path_added_p50_us, t.results[0]!.labels.added_p99_us, t.results[0]!.labels.callouts], ["chain", "9.7", "4.2", "3788", "1050"]);
    assert.equal(withLookup.mesh_configs.find((m) => m.id === "mesh-envoy-chain/lookup")?.mesh_policy_enabled, true);
    // Without the arm, no test claims it.
    assert.equal(doc.tests.some((x) => x.config.id === "envoy-chain/lookup"), Boolean(r.envoyChain?.planLookup));
  });

  test("names load generators without their output and says no µs where values are ms", () => {
    const generators = new Set(doc.tests.map((x) => x.config.clients[0]!.load_generator));
    for (const g of generators) assert.doesNotMatch(g, /[()µ]|late sends/);
    // The Envoy tables name the closed-loop client that ran (wrk when installed, else the project's µs client) without its notes.
    for (const tool of [r.envoyChain?.tool, r.envoyFilterCost?.tool]) {
      assert.ok(tool, "the committed run has both Envoy tables");
      assert.ok(generators.has(tool.replace(/\s*\(.*$/, "")), `${tool} → ${[...generators].join(", ")}`);
    }
    for (const x of doc.tests) assert.doesNotMatch(x.config.name, /µs/);
  });

  test("parses part by part into the official SMP v0.6.1 messages", { skip: noGo }, () => {
    const dir = mkdtempSync(join(tmpdir(), "smp-"));
    try {
      writeFileSync(join(dir, "smp.json"), JSON.stringify(doc));
      const verdict = checkWithProtos(join(dir, "smp.json"));
      assert.ok(verdict.ok, verdict.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
