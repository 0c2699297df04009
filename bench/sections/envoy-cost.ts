// Issue 15: "filter cost in Envoy". Every arm runs in its own Envoy 1.40 (same binary, one worker,
// same trivial upstream) in the same run: bare Envoy, the no-op floor module, native jwt_authn (with
// its JWT cache) + per-user local_ratelimit, our SDK's empty and hello filters, the same hello in the
// two peer SDKs, add-header, each policy filter alone and the three together. Rounds alternate over
// the arms (the starting arm rotates) so drift on the shared machine hits every arm alike; each
// figure is the median over rounds of the difference (or ratio) against bare Envoy and the floor
// measured in the same round.
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import type { Section, SectionContext } from "../lib/context.ts";
import { loadFilterConfigs, loadHarness, requireFiles, type Harness } from "../lib/deps.ts";
import { generateBenchKey, makeUsers } from "../lib/identity.ts";
import { buildBenchModules } from "../lib/modules.ts";
import { nativeFilters, nativeRateLimitRoute, type PlanLimit } from "../lib/native.ts";
import { startTrivialUpstream } from "../lib/upstream.ts";
import type { HeaderSet } from "../lib/us-client.ts";
import { closedLoop, loadTool, type WrkResult } from "../lib/wrk.ts";
import type { EnvoyCostArmRun, EnvoyFilterCostRun } from "../results-types.ts";
import { loadAverageNow } from "../lib/machine.ts";
import { startPinning } from "../lib/pin.ts";
import { addHeaderSplitArms, routeCacheProbe } from "./envoy-cost-diagnostic.ts";
import type { ArmSpec } from "../lib/cost-arm.ts";

const REPO = "bench/app";
const PATH = `/v2/${REPO}/manifests/latest`;
/** Users whose tokens rotate per request: enough that no per-user bucket empties (Enterprise: 1000 per window). */
const USERS = 300;
/** Users of the plan-lookup arm (see where it is built). */
const LOOKUP_USERS = 50;
/** Sidecar secret of the plan-lookup arm's plan server (a bench-only value, not a deployment secret). */
const PLAN_SECRET = "bench-cost-plan-secret";

type Instance = Awaited<ReturnType<Harness["startEnvoy"]>>;


/** Fills ctx.results.envoyFilterCost, or records why an arm (or the table) was not measured. */
export const envoyCostSection: Section = {
  name: "envoy-cost",
  async run(ctx: SectionContext): Promise<void> {
    const key = generateBenchKey();
    let harness: Harness;
    let arms: ArmSpec[];
    try {
      harness = await loadHarness();
      arms = await armSpecs(ctx, key);
    } catch (err) {
      return ctx.notMeasured("envoy-cost", "table", (err as Error).message);
    }
    const s = ctx.settings;
    const upstream = await startTrivialUpstream();
    // The access service's plan answer for the plan-lookup arm: every bench user is Enterprise.
    const plans = createServer((req, res) => {
      const ok = req.headers["x-hub-sidecar"] === PLAN_SECRET;
      res.writeHead(ok ? 200 : 403, { "content-type": "text/plain" }).end(ok ? "enterprise" : "");
    });
    await new Promise<void>((resolve) => plans.listen(0, "127.0.0.1", resolve));
    const started: { spec: ArmSpec; envoy: Instance }[] = [];
    const loadStart = loadAverageNow();
    const pinning = startPinning({ disabled: process.env.BENCH_COST_PIN !== "1" });
    try {
      const clusters = [
        { name: "upstream", port: upstream.port },
        { name: "plans", port: (plans.address() as AddressInfo).port },
      ];
      for (const spec of arms) {
        try {
          const envoy = await harness.startEnvoy({ clusters, filters: spec.filters, routes: spec.routes, concurrency: 1, logLevel: "warn", validate: false });
          started.push({ spec, envoy });
        } catch (err) {
          ctx.notMeasured("envoy-cost", spec.label, `Envoy refused the arm: ${(err as Error).message.split("\n")[0]}`);
        }
      }
      if (!started.some((a) => a.spec.id === "bare")) return ctx.notMeasured("envoy-cost", "table", "bare Envoy did not start");
      // Envoys are pinned once they run (their worker exists by then; taskset -a covers every thread),
      // then this process, so the upstream, the µs client and wrk (a child) stay off the Envoy CPU.
      if (pinning.plan.used && started.every((a) => pinning.pinEnvoy(a.envoy.pid))) pinning.pinSelf();
      ctx.log(`envoy-cost: pinning: ${pinning.plan.reason}`);
      const run = (a: (typeof started)[number], seconds: number) => closedLoop({ origin: a.envoy.url, path: PATH, headerSets: a.spec.headers, seconds });
      // Warm-up: V8's JIT of each module, connection pools, first-use allocations of the filters.
      for (const a of started) await run(a, Math.min(1, s.costSeconds * 2));
      const rounds: Map<string, WrkResult>[] = [];
      const startTime = new Date().toISOString();
      const costRounds = Number(process.env.BENCH_COST_ROUNDS) || s.costRounds;
      const costSeconds = Number(process.env.BENCH_COST_SECONDS) || s.costSeconds;
      for (let r = 0; r < costRounds && (r < 2 || ctx.secondsLeft() > started.length * costSeconds + 10); r++) {
        const round = new Map<string, WrkResult>();
        for (let i = 0; i < started.length; i++) {
          const a = started[(i + r) % started.length];
          round.set(a.spec.id, await run(a, costSeconds));
        }
        rounds.push(round);
      }
      const endTime = new Date().toISOString();
      const out: EnvoyCostArmRun[] = [];
      for (const { spec } of started) {
        const arm = summarize(spec, rounds);
        if (arm.non2xx > 0) ctx.notMeasured("envoy-cost", spec.label, `${arm.non2xx} responses were not 2xx, so the arm did not do its full work`);
        else out.push(arm);
      }
      const table: EnvoyFilterCostRun = {
        tool: loadTool().label,
        connections: 1,
        rounds: rounds.length,
        secondsPerRound: costSeconds,
        startTime,
        endTime,
        loadAverage: { start: loadStart, end: loadAverageNow() },
        pinning: { ...pinning.plan },
        arms: out,
      };
      ctx.results.envoyFilterCost = table;
      for (const a of out) ctx.log(`envoy-cost: ${a.label}: +${a.addedP50VsBare} µs p50 vs bare, ${a.addedP50VsFloor ?? "–"} vs floor, ${a.rpsVsBare}× rps`);
      const probe = routeCacheProbe(rounds);
      if (probe) ctx.log(`envoy-cost: route-cache probe: the padded route table costs the floor ${probe.paddedMatch} µs p50; request-only add-header pays ${probe.extraWithRequestHeaders} µs more over its floor behind it`);
    } finally {
      pinning.restore();
      for (const a of started) await a.envoy.stop();
      await upstream.close();
      await new Promise<void>((resolve) => plans.close(() => resolve()));
    }
  },
};

async function armSpecs(ctx: SectionContext, key: ReturnType<typeof generateBenchKey>): Promise<ArmSpec[]> {
  const root = ctx.root;
  const configs = await loadFilterConfigs(root);
  const policy = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [key] }).map((p) => ({
    name: p.name,
    wasm: p.wasm,
    rootId: p.rootId,
    configuration: p.configuration,
    failurePolicy: p.failurePolicy,
  }));
  const addHeaderWasm = join(root, "build/filters/add-header.wasm");
  requireFiles([...policy.map((p) => p.wasm), addHeaderWasm]);
  const built = await buildBenchModules(root);
  for (const f of built.failures) ctx.notMeasured("envoy-cost", f.id, f.reason.split("\n").slice(0, 3).join(" "));
  const users = await makeUsers(key, "cost", { enterprise: USERS }, REPO);
  const bearer = users.map((u) => ({ Authorization: `Bearer ${u.token}` }));
  // What token-auth hands the next filters; plan-enforcement and rate-limit alone get it from the client.
  const identity = users.map((u) => ({ "x-hub-user": u.name, "x-hub-plan": u.plan, "x-hub-access": `repository:${REPO}:pull` }));
  const catalog = JSON.parse(readFileSync(join(root, "image-hub/plans.json"), "utf8")) as { windowSeconds: number; plans: PlanLimit[] };
  const wasmArm = (id: string, label: string, wasm: string, rootId: string, headers: HeaderSet[], configuration?: unknown): ArmSpec => ({
    id,
    label,
    filters: [{ name: id.replace(/[^A-Za-z0-9_.-]/g, "_"), wasm, rootId, configuration }],
    headers,
    wasm: [wasm],
  });
  const arms: ArmSpec[] = [{ id: "bare", label: "bare Envoy", filters: [], headers: bearer, wasm: [] }];
  const mod = (id: string) => built.modules.find((m) => m.id === id);
  const floor = mod("floor");
  if (floor) arms.push(wasmArm("floor", "floor (no-op WAT module)", floor.wasm, floor.rootId, bearer));
  const contract = mod("policy-hostcalls");
  if (contract) arms.push(wasmArm("policy-hostcalls", "an allowed pull's 13 hostcalls alone (WAT module, no work of its own)", contract.wasm, contract.rootId, bearer));
  arms.push({
    id: "native",
    label: "native jwt_authn (JWT cache) + local_ratelimit",
    filters: nativeFilters(key),
    routes: [{ prefix: "/v2/", typedPerFilterConfig: nativeRateLimitRoute(catalog.plans, catalog.windowSeconds) }, { prefix: "/" }],
    headers: bearer,
    wasm: [],
  });
  const peers: [string, string][] = [
    ["sdk-empty", "our SDK: empty filter"],
    ["sdk-hello", "our SDK: hello"],
    ["gcore-hello", "@gcoredev/proxy-wasm-sdk-as 1.2.3: hello"],
    ["solo-hello", "@solo-io/proxy-runtime 0.1.8: hello"],
  ];
  for (const [id, label] of peers) {
    const m = mod(id);
    if (m) arms.push(wasmArm(id, label, m.wasm, m.rootId, bearer));
  }
  arms.push(wasmArm("add-header", "add-header (config.example.json)", addHeaderWasm, "add_header", bearer, JSON.parse(readFileSync(join(root, "filters/add-header/config.example.json"), "utf8"))));
  const addHeaderCalls = mod("add-header-hostcalls");
  if (addHeaderCalls) arms.push(wasmArm("add-header-hostcalls", "add-header's 3 hostcalls alone (WAT module, no work of its own)", addHeaderCalls.wasm, addHeaderCalls.rootId, bearer));
  for (const p of policy) arms.push({ id: p.name, label: `${p.name} alone`, filters: [p], headers: p.name === "token-auth" ? bearer : identity, wasm: [p.wasm] });
  arms.push({ id: "policy-chain", label: "token-auth + plan-enforcement + rate-limit (three modules)", filters: policy, headers: bearer, wasm: policy.map((p) => p.wasm) });
  // The same three filters and configurations composed into ONE module (filters/policy): the
  // request pays Envoy's per-filter boundary once. The chain findings are judged on it.
  const composed = configs.composedPolicyFilter({ realm: "http://127.0.0.1/api/token", keys: [key] });
  requireFiles([composed.wasm]);
  arms.push({
    id: "policy-composed",
    label: "the three policy filters, one module (filters/policy)",
    filters: [{ name: composed.name, wasm: composed.wasm, rootId: composed.rootId, configuration: composed.configuration, failurePolicy: composed.failurePolicy }],
    headers: bearer,
    wasm: [composed.wasm],
  });
  // The composed module with token-auth's live-plan lookup (issue 19): each user's plan is confirmed
  // by a callout and cached for ttlMs (1 s, the most the filter allows) in shared data. Rounds of the
  // other arms pass between two rounds of this one, so every cached plan has expired when a round
  // starts; with LOOKUP_USERS rotating users only each user's first request of a round calls out,
  // and the p50 is the cached path (the all-users arms would call out on nearly every request).
  const lookup = configs.composedPolicyFilter({ realm: "http://127.0.0.1/api/token", keys: [key], planLookup: { cluster: "plans", secret: PLAN_SECRET } });
  arms.push({
    id: "policy-composed-lookup",
    label: "the same composed module with the cached plan lookup",
    filters: [{ name: lookup.name, wasm: lookup.wasm, rootId: lookup.rootId, configuration: lookup.configuration, failurePolicy: lookup.failurePolicy }],
    headers: bearer.slice(0, LOOKUP_USERS),
    wasm: [lookup.wasm],
  });
  // BENCH_COST_COMPARE_DIR=D[,D2…]: every arm that runs one module of build/filters (add-header, each
  // policy filter alone, the composed module) once more per folder, with that folder's module of the
  // same file name (e.g. a copy of build/filters from before a change), same configuration, in the
  // same rounds; the arms are named after the folder (`policy-composed@<folder>`).
  const filtersDir = join(root, "build/filters");
  for (const dir of (process.env.BENCH_COST_COMPARE_DIR ?? "").split(",").filter(Boolean)) {
    const tag = basename(dir);
    for (const base of arms.filter((a) => a.wasm.length === 1 && dirname(resolve(a.wasm[0])) === filtersDir && a.id !== "policy-composed-lookup")) {
      const wasm = join(dir, basename(base.wasm[0]));
      if (!existsSync(wasm)) continue;
      const filters = (base.filters ?? []).map((f) => ({ ...f, name: `${f.name}_${tag.replace(/[^A-Za-z0-9_.-]/g, "_")}`, wasm }));
      arms.push({ ...base, id: `${base.id}@${tag}`, label: `${base.label}, from ${dir}`, filters, wasm: [wasm] });
    }
  }
  if (process.env.BENCH_COST_ADD_HEADER_SPLIT === "1") arms.push(...addHeaderSplitArms(arms));
  for (const a of arms) a.moduleBytes = a.wasm.length ? a.wasm.reduce((n, w) => n + statSync(w).size, 0) : null;
  // BENCH_COST_ARMS=id,id: only those arms (bare and the floor always run; the figures are read against them).
  const only = process.env.BENCH_COST_ARMS?.split(",").map((x) => x.trim()).filter(Boolean);
  return only ? arms.filter((a) => a.id === "bare" || a.id === "floor" || a.diagnostic || only.includes(a.id.split("@")[0])) : arms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function summarize(spec: ArmSpec, rounds: Map<string, WrkResult>[]): EnvoyCostArmRun {
  const mine = rounds.map((r) => r.get(spec.id)!);
  const vs = (other: string, k: "p50" | "p99") => {
    const d = rounds.filter((r) => r.has(other)).map((r) => r.get(spec.id)![k] - r.get(other)![k]);
    return d.length ? r1(median(d)) : null;
  };
  return {
    id: spec.id,
    label: spec.label,
    moduleBytes: spec.moduleBytes ?? null,
    p50: r1(median(mine.map((w) => w.p50))),
    p99: r1(median(mine.map((w) => w.p99))),
    rps: Math.round(median(mine.map((w) => w.rps))),
    addedP50VsBare: vs("bare", "p50") ?? 0,
    addedP99VsBare: vs("bare", "p99") ?? 0,
    addedP50VsFloor: vs("floor", "p50"),
    addedP99VsFloor: vs("floor", "p99"),
    rpsVsBare: Math.round(median(rounds.map((r) => r.get(spec.id)!.rps / r.get("bare")!.rps)) * 1000) / 1000,
    requests: mine.reduce((n, w) => n + w.requests, 0),
    p50ByRound: mine.map((w) => w.p50),
    non2xx: mine.reduce((n, w) => n + w.non2xx + w.socketErrors, 0),
  };
}
