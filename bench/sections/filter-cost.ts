// Issue 4: each policy filter's per-request cost in the emulator at µs resolution — one filter in
// the chain at a time, a manifest GET with a valid token, timed per stream with
// process.hrtime.bigint — next to an empty chain, whose cost is the emulator's own.
import type { Section, SectionContext } from "../lib/context.ts";
import { loadFilterConfigs, requireFiles } from "../lib/deps.ts";
import { startEmulatedChain, type EmulatedFilter, type EmulatedRequest } from "../lib/emulator.ts";
import { LatencyRecorder } from "../lib/histogram.ts";
import { generateBenchKey, makeUsers, type BenchUser } from "../lib/identity.ts";

const REPO = "bench/app";
/** Pulls per user before the next user takes over: below the Enterprise plan's limit, so nothing is rate-limited. */
const PULLS_PER_USER = 900;

/** Measures each policy filter alone, the three together and an empty chain into ctx.results.filterCosts. */
export const filterCostSection: Section = {
  name: "filters",
  async run(ctx: SectionContext): Promise<void> {
    const key = generateBenchKey();
    let specs: EmulatedFilter[];
    let lookup: EmulatedFilter;
    try {
      const configs = await loadFilterConfigs(ctx.root);
      specs = configs
        .policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }] })
        .map((s) => ({ name: s.name, wasmPath: s.wasm, pluginConfig: s.pluginConfig, rootId: s.rootId }));
      requireFiles(specs.map((s) => s.wasmPath));
      // token-auth with its live-plan lookup: the clock stands still, so after each user's first
      // request every request takes the cached path (one shared-data read), the one this arm prices.
      const withLookup = configs.policyFilterChain(
        { realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }], planLookup: { cluster: "plans", secret: "bench-only-sidecar-secret" } },
        { only: ["token-auth"] },
      )[0];
      lookup = { name: withLookup.name, wasmPath: withLookup.wasm, pluginConfig: withLookup.pluginConfig, rootId: withLookup.rootId };
    } catch (err) {
      return ctx.notMeasured("filters", "per-request cost", (err as Error).message);
    }
    // Enough enterprise users that rate-limit never runs out during warm-up and measurement.
    const users = await makeUsers(key, "cost", { enterprise: Math.ceil((ctx.settings.filterIterations * 2) / PULLS_PER_USER) + 1 }, REPO);
    const variants: [string, EmulatedFilter[]][] = [
      ["(empty chain)", []],
      ...specs.map((s): [string, EmulatedFilter[]] => [s.name, [s]]),
      ["token-auth + plan lookup (cached)", [lookup]],
      ["all three", specs],
    ];
    for (const [label, filters] of variants) {
      // plan-enforcement and rate-limit alone get what token-auth would hand them in the chain.
      const auth = filters.length === 1 && filters[0].name !== "token-auth" ? "identity" : "bearer";
      try {
        await measure(ctx, label, filters, users, auth);
      } catch (err) {
        ctx.notMeasured("filters", label, (err as Error).message);
      }
    }
  },
};

async function measure(ctx: SectionContext, label: string, filters: EmulatedFilter[], users: BenchUser[], auth: "bearer" | "identity"): Promise<void> {
  const chain = await startEmulatedChain(ctx.root, filters, users[0]?.plan);
  try {
    const n = ctx.settings.filterIterations;
    let i = 0;
    const request = (): EmulatedRequest => {
      const user = users[Math.floor(i++ / PULLS_PER_USER) % users.length];
      const who: [string, string][] =
        auth === "bearer"
          ? [["authorization", `Bearer ${user.token}`]]
          : [["x-hub-user", user.name], ["x-hub-plan", user.plan], ["x-hub-access", `repository:${REPO}:pull`]];
      return { method: "GET", path: `/v2/${REPO}/manifests/latest`, headers: [...who, ["accept", "application/vnd.oci.image.manifest.v1+json"]] };
    };
    for (let w = 0; w < Math.min(n, 1000); w++) await chain.exchange(request());
    const rec = new LatencyRecorder();
    const statuses: Record<string, number> = {};
    const startTime = new Date().toISOString();
    const started = performance.now();
    const deadline = Date.now() + ctx.settings.sectionSeconds * 1000;
    for (let k = 0; k < n && Date.now() < deadline; k++) {
      const req = request();
      const t0 = process.hrtime.bigint();
      const status = await chain.exchange(req);
      rec.record(Number(process.hrtime.bigint() - t0) / 1000);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    const endTime = new Date().toISOString();
    if (statuses["200"] !== rec.count) throw new Error(`not every request passed, so the filter did not do its full work: ${JSON.stringify(statuses)}`);
    ctx.results.filterCosts.push({ filter: label, iterations: rec.count, statuses, latencyUs: rec.summary()!, startTime, endTime, elapsedSeconds });
    ctx.log(`filters: ${label}: p50 ${rec.summary()!.p50} µs, p99 ${rec.summary()!.p99} µs`);
  } finally {
    await chain.close();
  }
}
