// Issue 4: the added p50/p99 latency of the three-filter chain in real Envoy against Envoy with no
// filter, at µs resolution (wrk's Lua done() hook, or the project's µs client when wrk is absent). Both Envoys proxy to the same trivial upstream,
// so the difference is the chain; rounds alternate between the arms so drift hits both alike. A third
// arm runs the same chain with token-auth's live-plan lookup (README "Live plans"): a callout per user
// at most once per second to a trivial plan server, the cached path otherwise, so its p50 minus the
// chain's p50 is the cost of the cached plan lookup.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Section, SectionContext } from "../lib/context.ts";
import { loadFilterConfigs, loadHarness, requireFiles, type Harness } from "../lib/deps.ts";
import { generateBenchKey, makeUsers } from "../lib/identity.ts";
import { startTrivialUpstream } from "../lib/upstream.ts";
import { closedLoop, loadTool, type WrkResult } from "../lib/wrk.ts";
import type { WrkArm } from "../results-types.ts";

/** Repository and manifest path every chain request pulls. */
export const CHAIN_REPO = "bench/app";
const PATH = `/v2/${CHAIN_REPO}/manifests/latest`;
/** Sidecar secret of the lookup arm's plan server (a bench-only value, not a deployment secret). */
const PLAN_SECRET = "bench-only-sidecar-secret";

type EnvoyInstance = Awaited<ReturnType<Harness["startEnvoy"]>>;

/** Runs the comparison into ctx.results.envoyChain, or records why it could not. */
export const envoyChainSection: Section = {
  name: "envoy-chain",
  async run(ctx: SectionContext): Promise<void> {
    let harness: Harness;
    let chainFilters;
    let lookupFilters;
    const key = generateBenchKey();
    try {
      harness = await loadHarness();
      const configs = await loadFilterConfigs(ctx.root);
      const specs = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [key] });
      requireFiles(specs.map((s) => s.wasm));
      chainFilters = specs.map((s) => ({ name: s.name, wasm: s.wasm, rootId: s.rootId, configuration: s.configuration, failurePolicy: s.failurePolicy }));
      const lookupSpecs = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [key], planLookup: { cluster: "plans", secret: PLAN_SECRET } });
      lookupFilters = lookupSpecs.map((s) => ({ name: s.name, wasm: s.wasm, rootId: s.rootId, configuration: s.configuration, failurePolicy: s.failurePolicy }));
    } catch (err) {
      return ctx.notMeasured("envoy-chain", "added latency", (err as Error).message);
    }
    const s = ctx.settings;
    // Enterprise users only, and enough of them that no bucket empties during the run: every chain
    // request must pass all three filters, or the arm would measure cheap rejections instead.
    const users = await makeUsers(key, "chain", { enterprise: s.quick ? 50 : 200 }, CHAIN_REPO);
    const headerSets = users.map((u) => ({ Authorization: `Bearer ${u.token}` }));
    const upstream = await startTrivialUpstream();
    // The access service's plan answer, reduced to what the callout reads: every bench user is Enterprise.
    let lookups = 0;
    const plans = createServer((req, res) => {
      lookups++;
      const ok = req.headers["x-hub-sidecar"] === PLAN_SECRET;
      res.writeHead(ok ? 200 : 403, { "content-type": "text/plain" }).end(ok ? "enterprise" : "");
    });
    await new Promise<void>((resolve) => plans.listen(0, "127.0.0.1", resolve));
    const envoys: EnvoyInstance[] = [];
    try {
      const clusters = [{ name: "upstream", port: upstream.port }];
      const baseline = await harness.startEnvoy({ clusters, filters: [], concurrency: s.envoyConcurrency, logLevel: "warn" });
      envoys.push(baseline);
      const chain = await harness.startEnvoy({ clusters, filters: chainFilters, concurrency: s.envoyConcurrency, logLevel: "warn" });
      envoys.push(chain);
      const lookupClusters = [...clusters, { name: "plans", port: (plans.address() as AddressInfo).port }];
      const lookup = await harness.startEnvoy({ clusters: lookupClusters, filters: lookupFilters, concurrency: s.envoyConcurrency, logLevel: "warn" });
      envoys.push(lookup);
      // One connection whichever client runs (the µs client has only one); chainConnections is 1.
      const run = (origin: string, seconds: number) => closedLoop({ origin, path: PATH, headerSets, seconds });
      // Warm-up: JIT in V8, connection pools, the filters' first-use allocations.
      await run(baseline.url, 1);
      await run(chain.url, 1);
      await run(lookup.url, 1);
      const startTime = new Date().toISOString();
      const base: WrkResult[] = [];
      const withChain: WrkResult[] = [];
      const withLookup: WrkResult[] = [];
      const lookupsBefore = lookups;
      for (let round = 0; round < s.chainRounds && (round === 0 || ctx.secondsLeft() > 3 * s.chainSeconds + 5); round++) {
        base.push(await run(baseline.url, s.chainSeconds));
        withChain.push(await run(chain.url, s.chainSeconds));
        withLookup.push(await run(lookup.url, s.chainSeconds));
      }
      const endTime = new Date().toISOString();
      const bad = [...withChain, ...base, ...withLookup].reduce((n, w) => n + w.non2xx + w.socketErrors, 0);
      if (bad > 0) {
        return ctx.notMeasured("envoy-chain", "added latency", `${bad} responses were not 2xx or failed, so the arms did not do the same work (chain p50 ${median(withChain, "p50")} µs)`);
      }
      const b = arm(base);
      const c = arm(withChain);
      const l = arm(withLookup);
      ctx.results.envoyChain = {
        tool: loadTool().label,
        connections: 1,
        durationSeconds: s.chainSeconds,
        rounds: base.length,
        startTime,
        endTime,
        baseline: b,
        chain: c,
        addedP50Us: c.p50 - b.p50,
        addedP99Us: c.p99 - b.p99,
        planLookup: l,
        planLookupAddedP50Us: l.p50 - c.p50,
        planLookupAddedP99Us: l.p99 - c.p99,
      };
      ctx.log(`envoy-chain: p50 ${b.p50} → ${c.p50} µs, p99 ${b.p99} → ${c.p99} µs; with the plan lookup p50 ${l.p50} µs, p99 ${l.p99} µs (${lookups - lookupsBefore} callouts for ${l.requests} requests)`);
    } catch (err) {
      ctx.notMeasured("envoy-chain", "added latency", (err as Error).message);
    } finally {
      for (const e of envoys) await e.stop();
      await upstream.close();
      await new Promise<void>((resolve) => plans.close(() => resolve()));
    }
  },
};

function median(list: WrkResult[], k: keyof WrkResult): number {
  const sorted = list.map((w) => w[k]).sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function arm(list: WrkResult[]): WrkArm {
  return {
    min: median(list, "min"),
    mean: median(list, "mean"),
    p50: median(list, "p50"),
    p90: median(list, "p90"),
    p99: median(list, "p99"),
    max: median(list, "max"),
    requests: list.reduce((n, w) => n + w.requests, 0),
    rps: median(list, "rps"),
    non2xx: list.reduce((n, w) => n + w.non2xx, 0),
  };
}
