// Issue 4: the added p50/p99 latency of the three-filter chain in real Envoy against Envoy with no
// filter, at µs resolution (wrk's Lua done() hook, or the project's µs client when wrk is absent). Both Envoys proxy to the same trivial upstream,
// so the difference is the chain. A third arm runs the same chain with token-auth's live-plan lookup
// (issue 19, README "Live plans"): its callouts go to the real access service (GET /internal/plan) in
// its own process, so answering them never shares an event loop with the load client. Each round runs
// every arm once, the starting arm rotating; the added latencies are medians of per-round differences.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Section, SectionContext } from "../lib/context.ts";
import { startApp, type RunningApp } from "../lib/app.ts";
import { loadFilterConfigs, loadHarness, requireFiles, type Harness } from "../lib/deps.ts";
import { generateBenchKey, makeUsers } from "../lib/identity.ts";
import { startTrivialUpstream } from "../lib/upstream.ts";
import { closedLoop, loadTool, lowQuantile, type WrkResult } from "../lib/wrk.ts";
import type { WrkArm } from "../results-types.ts";
import { loadAverageNow } from "../lib/machine.ts";

/** Repository and manifest path every chain request pulls. */
export const CHAIN_REPO = "bench/app";
const PATH = `/v2/${CHAIN_REPO}/manifests/latest`;
/** Sidecar secret of the lookup arm's access service (a bench-only value, not a deployment secret). */
const PLAN_SECRET = "bench-only-sidecar-secret";
/** The arms, in the order of round 0. */
const ARMS = ["baseline", "chain", "lookup"] as const;
type ArmId = (typeof ARMS)[number];

type EnvoyInstance = Awaited<ReturnType<Harness["startEnvoy"]>>;

/** Runs the comparison into ctx.results.envoyChain, or records why it could not. */
export const envoyChainSection: Section = {
  name: "envoy-chain",
  async run(ctx: SectionContext): Promise<void> {
    let harness: Harness;
    let chainFilters;
    let lookupFilters;
    let enterprise: { pullsPerWindow: number };
    let windowSeconds: number;
    const key = generateBenchKey();
    try {
      harness = await loadHarness();
      const configs = await loadFilterConfigs(ctx.root);
      const specs = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [key] });
      requireFiles(specs.map((s) => s.wasm));
      const catalog = JSON.parse(readFileSync(join(ctx.root, "image-hub/plans.json"), "utf8")) as { windowSeconds: number; plans: { id: string; pullsPerWindow: number }[] };
      windowSeconds = catalog.windowSeconds;
      enterprise = catalog.plans.find((p) => p.id === "enterprise") ?? { pullsPerWindow: 0 };
      if (!enterprise.pullsPerWindow) throw new Error("image-hub/plans.json has no enterprise plan");
      chainFilters = specs.map((s) => ({ name: s.name, wasm: s.wasm, rootId: s.rootId, configuration: s.configuration, failurePolicy: s.failurePolicy }));
      const lookupSpecs = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [key], planLookup: { cluster: "access", secret: PLAN_SECRET } });
      lookupFilters = lookupSpecs.map((s) => ({ name: s.name, wasm: s.wasm, rootId: s.rootId, configuration: s.configuration, failurePolicy: s.failurePolicy }));
    } catch (err) {
      return ctx.notMeasured("envoy-chain", "added latency", (err as Error).message);
    }
    const s = ctx.settings;
    // Enterprise users only, and enough of them that no bucket empties during the run: every chain
    // request must pass all three filters, or the arm would measure cheap rejections instead.
    const users = await makeUsers(key, "chain", { enterprise: s.quick ? 50 : 200 }, CHAIN_REPO);
    const headerSets = users.map((u) => ({ Authorization: `Bearer ${u.token}` }));
    const loadStart = loadAverageNow();
    const upstream = await startTrivialUpstream();
    const envoys: EnvoyInstance[] = [];
    let access: RunningApp | undefined;
    try {
      // The access service the lookup arm asks, with every bench user an Enterprise account.
      try {
        access = await startApp(ctx.root, "filter", key, PLAN_SECRET);
        await access.registerUsers(users.map((u) => ({ name: u.name, plan: u.plan })));
      } catch (err) {
        ctx.notMeasured("envoy-chain", "plan lookup", `the access service did not start: ${(err as Error).message.split("\n")[0]}`);
      }
      const clusters = [{ name: "upstream", port: upstream.port }];
      const origins = new Map<ArmId, string>();
      const baseline = await harness.startEnvoy({ clusters, filters: [], concurrency: s.envoyConcurrency, logLevel: "warn" });
      envoys.push(baseline);
      origins.set("baseline", baseline.url);
      const chain = await harness.startEnvoy({ clusters, filters: chainFilters, concurrency: s.envoyConcurrency, logLevel: "warn" });
      envoys.push(chain);
      origins.set("chain", chain.url);
      if (access) {
        const lookupClusters = [...clusters, { name: "access", port: Number(new URL(access.url).port) }];
        const lookup = await harness.startEnvoy({ clusters: lookupClusters, filters: lookupFilters, concurrency: s.envoyConcurrency, logLevel: "warn" });
        envoys.push(lookup);
        origins.set("lookup", lookup.url);
      }
      const arms = ARMS.filter((a) => origins.has(a));
      // One connection whichever client runs (the µs client has only one); chainConnections is 1.
      const run = (id: ArmId, seconds: number, sets = headerSets) => closedLoop({ origin: origins.get(id)!, path: PATH, headerSets: sets, seconds });
      // Warm-up: JIT in V8, connection pools, the filters' first-use allocations.
      const warm = new Map<ArmId, WrkResult>();
      for (const a of arms) warm.set(a, await run(a, 1));
      // The measured rounds rotate through as few users as the plan's limit allows: a user's first
      // request after its cached plan expires (1 s) waits for a callout, so fewer users per second
      // means fewer callouts, and the lookup arm's p50 is that of the cached path (callouts are
      // counted, and left out of its p50 below). 3× the warm-up rate of the fastest rate-limited arm,
      // and at least 20 users, keep every bucket from emptying on a machine whose load swings; an arm
      // that met a 429 anyway voids the section below.
      const measured = s.chainRounds * s.chainSeconds;
      const fastest = Math.max(...arms.filter((a) => a !== "baseline").map((a) => warm.get(a)!.rps));
      const allowance = enterprise.pullsPerWindow * (1 + measured / windowSeconds);
      const userCount = Math.min(headerSets.length, Math.max(20, Math.ceil((3 * fastest * measured) / allowance)));
      const measuredSets = headerSets.slice(0, userCount);
      const startTime = new Date().toISOString();
      const rounds: Map<ArmId, WrkResult>[] = [];
      const roundCallouts: number[] = [];
      let callouts = 0;
      for (let r = 0; r < s.chainRounds && (r === 0 || ctx.secondsLeft() > arms.length * s.chainSeconds + 5); r++) {
        const round = new Map<ArmId, WrkResult>();
        for (let i = 0; i < arms.length; i++) {
          const a = arms[(i + r) % arms.length];
          // The access service answers nothing but the lookup arm's callouts during a run.
          const before = a === "lookup" && access ? (await access.counts()).requests : 0;
          round.set(a, await run(a, s.chainSeconds, measuredSets));
          if (a === "lookup" && access) {
            const c = (await access.counts()).requests - before;
            roundCallouts.push(c);
            callouts += c;
          }
        }
        rounds.push(round);
      }
      const endTime = new Date().toISOString();
      const all = rounds.flatMap((r) => [...r.values()]);
      const bad = all.reduce((n, w) => n + w.non2xx + w.socketErrors, 0);
      if (bad > 0) {
        const perArm = arms.map((a) => `${a} ${rounds.reduce((n, r) => n + r.get(a)!.non2xx + r.get(a)!.socketErrors, 0)}`).join(", ");
        return ctx.notMeasured("envoy-chain", "added latency", `${bad} responses were not 2xx or failed (${perArm}; ${userCount} users), so the arms did not do the same work`);
      }
      const b = arm(rounds.map((r) => r.get("baseline")!));
      const c = arm(rounds.map((r) => r.get("chain")!));
      const l = arms.includes("lookup") ? arm(rounds.map((r) => r.get("lookup")!)) : null;
      const added = (x: ArmId, y: ArmId, k: "p50" | "p99") => r1(median(rounds.map((r) => r.get(x)![k] - r.get(y)![k])));
      // The cached path's p50: a callout adds a round trip to another process, so a round's `c`
      // callout requests are taken to be its c slowest, and the median of the others is the round's
      // quantile 50·(1 − c/n); a round whose callouts exceed 20 % of its requests has no such figure,
      // and the median is over the other rounds (none if they are not the majority).
      const cached = l
        ? rounds.map((r, i) => {
            const w = r.get("lookup")!;
            const q = lowQuantile(w, 50 * (1 - (roundCallouts[i] ?? 0) / Math.max(1, w.requests)));
            return q === undefined ? undefined : q - r.get("chain")!.p50;
          })
        : [];
      const usable = cached.filter((d): d is number => d !== undefined);
      const cachedAdded = usable.length > cached.length / 2 ? r1(median(usable)) : null;
      ctx.results.envoyChain = {
        tool: loadTool().label,
        connections: 1,
        durationSeconds: s.chainSeconds,
        rounds: rounds.length,
        startTime,
        endTime,
        loadAverage: { start: loadStart, end: loadAverageNow() },
        baseline: b,
        chain: c,
        addedP50Us: added("chain", "baseline", "p50"),
        addedP99Us: added("chain", "baseline", "p99"),
        planLookup: l,
        planLookupAddedP50Us: cachedAdded,
        planLookupMixedAddedP50Us: l ? added("lookup", "chain", "p50") : null,
        planLookupAddedP99Us: l ? added("lookup", "chain", "p99") : null,
        planLookupCallouts: l ? callouts : null,
        users: userCount,
      };
      const e = ctx.results.envoyChain;
      ctx.log(`envoy-chain: p50 ${b.p50} → ${c.p50} µs (+${e.addedP50Us}), p99 ${b.p99} → ${c.p99} µs (+${e.addedP99Us})` +
        (l ? `; with the plan lookup p50 ${l.p50} µs (+${e.planLookupMixedAddedP50Us}; cached path +${e.planLookupAddedP50Us}, per round ${cached.map((d) => (d === undefined ? "–" : r1(d))).join(", ")}), p99 ${l.p99} µs (+${e.planLookupAddedP99Us}); ${callouts} callouts for ${l.requests} requests, ${userCount} users` : ""));
    } catch (err) {
      ctx.notMeasured("envoy-chain", "added latency", (err as Error).message);
    } finally {
      for (const e of envoys) await e.stop();
      await upstream.close();
      await access?.stop();
    }
  },
};

const r1 = (n: number) => Math.round(n * 10) / 10;

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  if (sorted.length === 0) return NaN;
  const m = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** Median over the rounds of each figure of one arm; counts are summed. */
function arm(list: WrkResult[]): WrkArm {
  const m = (k: "min" | "mean" | "p50" | "p90" | "p99" | "max" | "rps") => r1(median(list.map((w) => w[k])));
  return {
    min: m("min"),
    mean: m("mean"),
    p50: m("p50"),
    p90: m("p90"),
    p99: m("p99"),
    max: m("max"),
    requests: list.reduce((n, w) => n + w.requests, 0),
    rps: m("rps"),
    non2xx: list.reduce((n, w) => n + w.non2xx, 0),
  };
}
