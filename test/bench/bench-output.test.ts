// `npm run bench -- --quick --out <tmp>` must write well-formed SMP, the UI's latest.json, the
// markdown and the charts, and account for every scenario: measured, or "not measured" with a reason.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BenchResults } from "../../bench/results-types.ts";
import { checkSmpDocument } from "./smp-schema.ts";
import { checkWithProtos, goMissing } from "./smp-proto.ts";

/** Why the official-proto check is skipped here, if it is (SMP_REQUIRE_GO, set in CI, forbids skipping). */
const noGo = process.env.SMP_REQUIRE_GO ? undefined : goMissing();

const root = fileURLToPath(new URL("../..", import.meta.url));
const SCENARIOS = ["a-direct", "b-envoy", "c-filter", "d-app", "e-native"];
const RUNS = ["trivial/under", "pulls/under", "pulls/throughput", "pulls/over"];
// A quick run takes about 1.5 minutes; the margin is for a machine loaded by other test files.
const RUN_TIMEOUT_MS = 210_000;

describe("npm run bench -- --quick", () => {
  const out = mkdtempSync(join(tmpdir(), "bench-quick-"));
  let exitCode: number | null = null;
  let output = "";
  let results: BenchResults;
  let smp: unknown;

  before(async () => {
    // `npm run bench` is `build:filters && tsx bench/index.ts`; npm test has built everything
    // already, so the entry is run directly (a second concurrent build would only compete for CPU).
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "bench/index.ts"), "--quick", "--out", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    exitCode = await new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    clearTimeout(timer);
    if (exitCode === 0) {
      results = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchResults;
      smp = JSON.parse(readFileSync(join(out, "smp.json"), "utf8"));
    }
  }, { timeout: RUN_TIMEOUT_MS + 10_000 });

  after(() => rmSync(out, { recursive: true, force: true }));

  test("exits 0 and writes every output file", () => {
    assert.equal(exitCode, 0, `bench exited with ${exitCode}:\n${output.slice(-3000)}`);
    for (const f of ["latest.json", "smp.json", "results.md", "summary.md"]) assert.ok(existsSync(join(out, f)), `${f} missing`);
    assert.match(output, /bench: wrote \d+ files to /);
  });

  test("latest.json records the machine, versions and settings of a quick run", () => {
    assert.equal(results.schema, "image-hub-bench/1");
    assert.equal(results.quick, true);
    assert.ok(results.machine.cores >= 1 && results.machine.cpuModel.length > 0, "machine not described");
    assert.equal(results.versions.node, process.version);
    assert.equal(results.settings.quick, true);
    assert.ok(results.wallSeconds > 0 && results.wallSeconds < RUN_TIMEOUT_MS / 1000);
    for (const [name, f] of Object.entries(results.versions.filters)) assert.match(f.sha256, /^[0-9a-f]{64}$/, `${name} sha256`);
  });

  test("every scenario run is measured or reported as not measured with a reason", () => {
    const missing: string[] = [];
    for (const s of SCENARIOS) {
      for (const r of RUNS) {
        const id = `${s}/${r}`;
        const measured = results.runs.some((x) => x.id === id);
        const explained = results.notMeasured.some((n) => n.section === "scenarios" && (n.item === s || n.item === id) && n.reason.length > 0);
        if (!measured && !explained) missing.push(id);
      }
    }
    assert.deepEqual(missing, []);
    assert.equal(results.scenarios.length, SCENARIOS.length);
  });

  test("every scenario is really measured: only the time budget may leave a run out", () => {
    // npm test provides Envoy and the built filters, so nothing but the quick run's time budget may
    // keep a scenario from running; a run of nothing but "not measured" must fail here.
    for (const s of SCENARIOS) assert.ok(results.runs.some((x) => x.scenario === s), `${s}: no run measured`);
    for (const id of ["c-filter/pulls/under", "d-app/pulls/under"]) assert.ok(results.runs.some((x) => x.id === id), `${id} (filter vs app) not measured`);
    const other = results.notMeasured.filter((n) => n.section === "scenarios" && !/time budget/.test(n.reason));
    assert.deepEqual(other, []);
  });

  test("not-measured reasons are explanations, not crashes of the benchmark itself", () => {
    for (const n of results.notMeasured) {
      assert.ok(n.reason.trim().length > 0, `${n.section}/${n.item} has no reason`);
      assert.doesNotMatch(n.reason, /\b(TypeError|ReferenceError|SyntaxError|RangeError)\b/, `${n.section}/${n.item}: ${n.reason.slice(0, 500)}`);
    }
  });

  test("each measured run is internally consistent", () => {
    for (const run of results.runs) {
      const q = run.requests;
      assert.equal(q.ok2xx + q.rejected429 + q.other, q.total, `${run.id}: counts do not add up`);
      assert.equal(Object.values(q.byStatus).reduce((a, b) => a + b, 0), q.total, `${run.id}: byStatus does not add up`);
      assert.ok(q.total > 0, `${run.id}: no responses`);
      if (q.ok2xx > 0) assert.equal(run.latencyUs.ok?.count, q.ok2xx, `${run.id}: 2xx latency count`);
      if (q.rejected429 > 0) assert.equal(run.latencyUs.rejected?.count, q.rejected429, `${run.id}: 429 latency count`);
      assert.ok(run.app && run.app.cpuSeconds >= 0, `${run.id}: app CPU not metered`);
      assert.equal(run.envoy === null, run.scenario === "a-direct", `${run.id}: Envoy metered iff Envoy runs`);
      if (run.regime === "over" && run.scenario !== "b-envoy") assert.ok(q.rejected429 > q.ok2xx, `${run.id}: over capacity but mostly admitted: ${JSON.stringify(q)}`);
      if (run.regime !== "over") assert.equal(q.rejected429, 0, `${run.id}: users within their limits were rejected`);
      assert.ok(run.appSaw, `${run.id}: the app's own answers were not counted`);
      // Where a filter or Envoy enforces, no rejection may reach the app; where the app enforces, it answers them.
      if (run.scenario === "c-filter" || run.scenario === "e-native") assert.equal(run.appSaw.rejected429, 0, `${run.id}: the app answered 429s`);
      if ((run.scenario === "a-direct" || run.scenario === "d-app") && q.rejected429 > 0) assert.ok(run.appSaw.rejected429 > 0, `${run.id}: 429s did not come from the app`);
    }
  });

  test("the global-limits regime runs 2 replicas per arm; an arm it could not run says why", () => {
    const g = results.globalLimits;
    const missing = results.notMeasured.filter((n) => n.section === "global");
    assert.ok(g, `no global-limits results: ${JSON.stringify(missing)}`);
    assert.equal(g.replicas, 2);
    assert.deepEqual(g.arms.map((a) => a.id).sort(), ["app-global", "app-local", "filter-global", "filter-local"]);
    for (const a of g.arms) {
      if (a.measured) continue;
      assert.ok(missing.some((n) => n.item === a.id && n.reason === a.reason), `${a.id}: not measured without a reason`);
      assert.match(a.reason ?? "", /did not start: \S/, `${a.id}: ${a.reason}`);
    }
    // App mode with global limits works on every branch: its arms must be measured (only the time budget may cut a run).
    for (const arm of ["app-local", "app-global"]) {
      for (const regime of ["under", "over"] as const) {
        const run = g.runs.find((r) => r.arm === arm && r.regime === regime);
        const cut = missing.some((n) => n.item.startsWith(`${arm}/${regime}/`) && /time budget/.test(n.reason));
        assert.ok(run || cut, `${arm}/${regime} not measured: ${JSON.stringify(missing)}`);
      }
    }
    for (const run of g.runs) {
      const q = run.requests;
      assert.equal(q.ok2xx + q.rejected429 + q.other, q.total, `${run.id}: counts do not add up`);
      assert.equal(run.url.split(" ").length, 2, `${run.id}: the load went to both replicas`);
      if (run.regime === "under") assert.equal(q.rejected429, 0, `${run.id}: users within their limits were rejected`);
      if (run.regime === "over") assert.ok(q.rejected429 > q.ok2xx, `${run.id}: over capacity but mostly admitted: ${JSON.stringify(q)}`);
      // Where the sidecar enforces, no rejection reaches the app (read from both Envoys' access-cluster counters).
      if (run.arm.startsWith("filter-") && q.rejected429 > 0) assert.equal(run.appSaw?.rejected429, 0, `${run.id}: the app answered 429s`);
      if (run.arm.startsWith("app-") && q.rejected429 > 0) assert.ok((run.appSaw?.rejected429 ?? 0) > 0, `${run.id}: 429s did not come from the app`);
      // A Redis of its own is metered only where the stack has one.
      if (run.arm.endsWith("-global")) assert.ok(run.store && run.store.processes.some((p) => p.includes("redis-server")), `${run.id}: redis-server not metered`);
      else assert.equal(run.store, null, `${run.id}: a store metered without global limits`);
    }
  });

  test("smp.json is well-formed SMP with latencies in milliseconds", () => {
    assert.deepEqual(checkSmpDocument(smp), []);
    const doc = smp as { tests: { config: { id: string }; results: { id: string; latencies_ms: { p50: number } }[] }[] };
    const expected = results.runs.length + results.filterCosts.length + (results.envoyChain ? (results.envoyChain.planLookup ? 3 : 2) : 0) + (results.envoyFilterCost?.arms.length ?? 0) + (results.globalLimits?.runs.length ?? 0);
    assert.ok(results.runs.length > 0 && results.filterCosts.length > 0, "nothing was measured, so nothing in smp.json was checked");
    assert.equal(doc.tests.length, expected);
    for (const run of results.runs) {
      const test = doc.tests.find((t) => t.config.id === run.id);
      assert.ok(test, `no SMP test for ${run.id}`);
      if (run.latencyUs.ok) {
        const r = test.results.find((x) => x.id === `${run.id}#2xx`);
        assert.ok(r, `no 2xx result for ${run.id}`);
        assert.ok(Math.abs(r.latencies_ms.p50 * 1000 - run.latencyUs.ok.p50) <= 0.1, `${run.id}: SMP p50 ${r.latencies_ms.p50} ms vs ${run.latencyUs.ok.p50} µs`);
      }
    }
  });

  test("every part of smp.json parses into the official SMP v0.6.1 messages", { skip: noGo }, () => {
    const verdict = checkWithProtos(join(out, "smp.json"));
    assert.ok(verdict.ok, verdict.output);
    assert.match(verdict.output, /smp-check: \d+ parts, 0 problems/);
  });

  test("the filter-cost-in-Envoy table has every arm, measured by a named client", () => {
    const table = results.envoyFilterCost;
    const missing = results.notMeasured.filter((n) => n.section === "envoy-cost");
    assert.ok(table, `no filter-cost table: ${JSON.stringify(missing)}`);
    assert.match(table.tool, /^(wrk|bench\/lib\/us-client\.ts)/, "the table says which client measured");
    assert.ok(table.rounds >= 5, `at least 5 alternating rounds, got ${table.rounds}`);
    const ids = table.arms.map((a) => a.id);
    for (const id of ["bare", "floor", "native", "sdk-empty", "sdk-hello", "gcore-hello", "solo-hello", "add-header", "token-auth", "plan-enforcement", "rate-limit", "policy-chain", "policy-composed"]) {
      assert.ok(ids.includes(id), `arm ${id} not measured: ${JSON.stringify(missing)}`);
    }
    for (const a of table.arms) assert.equal(a.non2xx, 0, `${a.id}: every response 2xx`);
  });

  test("the markdown names every finding and the charts are standalone SVG", () => {
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    assert.ok(results.findings.length >= 5);
    for (const f of results.findings) assert.ok(summary.includes(f.question), `summary lacks ${f.id}`);
    assert.match(summary, new RegExp(results.machine.cpuModel.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    const charts = existsSync(join(out, "charts")) ? readdirSync(join(out, "charts")) : [];
    if (results.runs.length > 0) assert.ok(charts.length > 0, "runs were measured but no chart was drawn");
    for (const c of charts) {
      const svg = readFileSync(join(out, "charts", c), "utf8");
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
      assert.match(svg, /<\/svg>\n$/);
      assert.doesNotMatch(svg, /NaN|undefined/);
    }
  });
});

describe("the SMP checker", () => {
  const good = () => ({
    smp_version: "v0.6.1",
    environment: { smp_version: "v0.6.1", id: "env", labels: {}, kubernetes_version: "", nodes: [{ type: "cpu", cores: 2, mem_mb: 1024 }] },
    mesh_configs: [{ smp_version: "v0.6.1", id: "mesh", labels: {} }],
    tests: [
      {
        config: {
          smp_version: "v0.6.1",
          id: "t",
          name: "t",
          labels: {},
          clients: [{ internal: true, load_generator: "x", protocol: 1, connections: 1, rps: 0, headers: {}, cookies: {}, body: "", content_type: "", endpoint_urls: ["http://x"], ssl_certificate: "", additional_options: "" }],
          duration: "1s",
        },
        results: [
          {
            smp_version: "v0.6.1",
            id: "t#all",
            labels: { status: "all" },
            start_time: "2026-01-01T00:00:00.000Z",
            end_time: "2026-01-01T00:00:01.000Z",
            latencies_ms: { min: 0.1, average: 0.2, p50: 0.2, p90: 0.3, p99: 0.4, max: 0.5 },
            actual_qps: 10,
            details_uri: "",
            test_id: "t",
            mesh_config_id: "mesh",
            env_id: "env",
          },
        ],
      },
    ],
  });

  test("accepts a minimal well-formed document", () => {
    assert.deepEqual(checkSmpDocument(good()), []);
  });

  test("rejects latencies out of order, µs in place of ms, non-string labels and unknown fields", () => {
    const doc = good();
    const r = doc.tests[0].results[0] as Record<string, unknown> & { latencies_ms: Record<string, number>; labels: Record<string, unknown> };
    r.latencies_ms.p90 = 0.1;
    r.labels.count = 5;
    r.extra = 1;
    const problems = checkSmpDocument(doc);
    assert.ok(problems.some((p) => p.includes("min ≤ p50 ≤ p90")), problems.join("\n"));
    assert.ok(problems.some((p) => p.includes("label values must be strings")), problems.join("\n"));
    assert.ok(problems.some((p) => p.includes("unknown field extra")), problems.join("\n"));
    const micro = good();
    Object.assign(micro.tests[0].results[0].latencies_ms, { min: 90_000, average: 95_000, p50: 95_000, p90: 96_000, p99: 97_000, max: 99_000 });
    assert.ok(checkSmpDocument(micro).some((p) => p.includes("must be in milliseconds")));
  });

  test("rejects an empty time window, µs in a name, a per-class rate and a measured load generator", () => {
    const doc = good();
    doc.tests[0].config.name = "Envoy (wrk, µs)";
    doc.tests[0].config.clients[0]!.load_generator = "paced open loop (node:http, 148 late sends)";
    const first = doc.tests[0].results[0]!;
    first.end_time = first.start_time;
    doc.tests[0].results.push({ ...first, id: "t#2xx", actual_qps: 4 });
    const problems = checkSmpDocument(doc);
    for (const part of ["says µs", "name the generator only", "time window is empty", "differs from the test's rate"]) assert.ok(problems.some((p) => p.includes(part)), `${part}: ${problems.join("\n")}`);
  });

  test("the official protos refuse a part that is not their message", { skip: noGo }, () => {
    const dir = mkdtempSync(join(tmpdir(), "smp-proto-"));
    try {
      const ok = good();
      writeFileSync(join(dir, "good.json"), JSON.stringify(ok));
      assert.deepEqual(checkWithProtos(join(dir, "good.json")), { ok: true, output: "smp-check: 4 parts, 0 problems" });
      const bad = good() as unknown as { tests: { results: Record<string, unknown>[]; config: Record<string, unknown> }[] };
      bad.tests[0]!.results[0]!.latency_ms = 1;
      bad.tests[0]!.config.duration = 5;
      writeFileSync(join(dir, "bad.json"), JSON.stringify(bad));
      const verdict = checkWithProtos(join(dir, "bad.json"));
      assert.equal(verdict.ok, false);
      assert.match(verdict.output, /tests\[0\]\.config: .*invalid value for string type: 5/);
      assert.match(verdict.output, /tests\[0\]\.results\[0\]: .*latency_ms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rejects dangling references and bad timestamps", () => {
    const doc = good();
    Object.assign(doc.tests[0].results[0], { test_id: "other", mesh_config_id: "nope", start_time: "yesterday" });
    const problems = checkSmpDocument(doc);
    assert.ok(problems.some((p) => p.includes("does not name its config")));
    assert.ok(problems.some((p) => p.includes("not in mesh_configs")));
    assert.ok(problems.some((p) => p.includes("RFC 3339")));
  });
});
