// Issue 8, "speed vs power": scenarios (a)–(e) on the same machine in one run, each with the
// trivial endpoint at a fixed rate, manifest pulls at a fixed rate, pulls in a closed loop within
// the users' limits, and pulls in a closed loop far beyond them. A scenario or run that cannot
// start is recorded as not measured; the others still run.
import { randomBytes } from "node:crypto";
import { seedImage, startApp, type RunningApp } from "../lib/app.ts";
import type { Section, SectionContext } from "../lib/context.ts";
import { loadFilterConfigs, loadHarness, loadModule, requireFiles, type Harness } from "../lib/deps.ts";
import { generateBenchKey, makeUsers, type BenchKey, type BenchUser } from "../lib/identity.ts";
import { runLoad } from "../lib/load.ts";
import { nativeFilters, nativeRateLimitRoute, type PlanLimit } from "../lib/native.ts";
import { drain } from "../lib/drain.ts";
import { manifestPath, pullRequests, roundRobin, trivialRequests, weightedUsers, type ClientAuth } from "../lib/workload.ts";
import type { Regime, ScenarioId, ScenarioInfo, Workload } from "../results-types.ts";

/** The repository every pull asks for; seeded into both app processes. */
export const REPO = "bench/app";
/** The tag every pull asks for. */
export const REF = "latest";

type EnvoyInstance = Awaited<ReturnType<Harness["startEnvoy"]>>;

interface ScenarioDef extends ScenarioInfo {
  app: "app" | "filter";
  auth: ClientAuth;
  /** Which component enforces the rate limit, if any (drained before the over-capacity run). */
  enforces: boolean;
  envoy: "none" | "plain" | "wasm" | "native";
}

/** The five scenarios of issue 8. */
export const SCENARIOS: ScenarioDef[] = [
  { id: "a-direct", title: "(a) app direct", description: "The access service alone, no Envoy; it verifies tokens and enforces plans and limits itself (enforce=app).", app: "app", auth: "bearer", enforces: true, envoy: "none" },
  { id: "b-envoy", title: "(b) Envoy, no filter", description: "Envoy with no filters in front of the access service in filter mode; the client sends the identity headers the filters would set, so the app does what it does behind the filters and nothing enforces limits.", app: "filter", auth: "identity-headers", enforces: false, envoy: "plain" },
  { id: "c-filter", title: "(c) Envoy + wasm policy filters", description: "Envoy with token-auth → plan-enforcement → rate-limit (enforce=filter); the app trusts the identity headers.", app: "filter", auth: "bearer", enforces: true, envoy: "wasm" },
  { id: "d-app", title: "(d) Envoy + in-app enforcement", description: "Envoy with no filters; the access service verifies tokens and enforces plans and limits in-process (enforce=app).", app: "app", auth: "bearer", enforces: true, envoy: "plain" },
  { id: "e-native", title: "(e) Envoy native jwt_authn + local_ratelimit", description: "Envoy's native jwt_authn (HS256, local JWKS) and local_ratelimit (a bucket per user sized by plan) — the native anchor.", app: "filter", auth: "bearer", enforces: true, envoy: "native" },
];

/** Longest time the over-capacity run spends emptying its users' buckets. */
const drainSeconds = (ctx: SectionContext) => (ctx.settings.quick ? 5 : 30);

/** Fraction of the measured direct capacity used as the under-capacity rate. */
const UNDER_FRACTION = 0.3;

/** Share of answers other than 2xx and 429 above which a run is discarded as not doing the intended work. */
const MAX_UNEXPECTED = 0.05;

const MATRIX: [Workload, Regime][] = [
  ["trivial", "under"],
  ["pulls", "under"],
  ["pulls", "throughput"],
  ["pulls", "over"],
];

/** Runs every scenario into ctx.results.runs. */
export const scenariosSection: Section = {
  name: "scenarios",
  async run(ctx: SectionContext): Promise<void> {
    ctx.results.scenarios = SCENARIOS.map(({ id, title, description }) => ({ id, title, description }));
    const skipAll = (reason: string) => {
      for (const s of SCENARIOS) ctx.notMeasured("scenarios", s.id, reason);
    };
    let harness: Harness | undefined;
    try {
      harness = await loadHarness();
    } catch (err) {
      ctx.log(`scenarios: no Envoy harness: ${(err as Error).message}`);
    }
    let plans: PlanLimit[];
    let windowSeconds: number;
    try {
      const catalogModule = await loadModule<{ loadCatalog: () => { windowSeconds: number; plans: PlanLimit[] } }>(ctx.root, "image-hub/catalog.ts", ["loadCatalog"]);
      const catalog = catalogModule.loadCatalog();
      plans = catalog.plans.map((p) => ({ id: p.id, pullsPerWindow: p.pullsPerWindow }));
      windowSeconds = catalog.windowSeconds;
    } catch (err) {
      return skipAll((err as Error).message);
    }
    const key = generateBenchKey();
    const secret = randomBytes(24).toString("hex");
    const apps: Partial<Record<"app" | "filter", RunningApp>> = {};
    // Why each app mode failed to start, for the not-measured reasons of its scenarios.
    const appErrors: Partial<Record<"app" | "filter", string>> = {};
    try {
      for (const mode of ["app", "filter"] as const) {
        try {
          apps[mode] = await startApp(ctx.root, mode, key, secret);
          await seedImage(apps[mode]!, key, secret, REPO, REF);
        } catch (err) {
          ctx.log(`scenarios: app in ${mode} mode: ${(err as Error).message.split("\n")[0]}`);
          apps[mode] = undefined;
          appErrors[mode] = (err as Error).message;
        }
      }
      const pulls = Object.fromEntries(plans.map((p) => [p.id, p.pullsPerWindow]));
      let rate = ctx.settings.underRps;
      try {
        if (apps.app) rate = await calibrate(ctx, apps.app, key, pulls);
      } catch (err) {
        ctx.log(`scenarios: calibration failed, using ${rate}/s: ${(err as Error).message}`);
      }
      ctx.results.settings.underRpsUsed = rate;
      for (const def of SCENARIOS) {
        const app = apps[def.app];
        if (!app) {
          ctx.notMeasured("scenarios", def.id, `the app (${def.app} mode) did not start: ${appErrors[def.app] ?? "unknown"}`);
          continue;
        }
        let envoy: EnvoyInstance | undefined;
        try {
          if (def.envoy !== "none") {
            if (!harness) throw new Error("the Envoy harness (proxy-wasm-host-emulator/envoy) is not available");
            envoy = await startScenarioEnvoy(ctx, harness, def, app, key, secret, plans, windowSeconds);
          }
        } catch (err) {
          ctx.notMeasured("scenarios", def.id, (err as Error).message);
          continue;
        }
        try {
          for (const [workload, regime] of MATRIX) {
            const need = ctx.settings.runSeconds + ctx.settings.warmupSeconds + (regime === "over" ? drainSeconds(ctx) : 0);
            if (ctx.secondsLeft() < need) {
              ctx.notMeasured("scenarios", `${def.id}/${workload}/${regime}`, `the run's time budget of ${ctx.settings.budgetSeconds} s was spent`);
              continue;
            }
            try {
              await runOne(ctx, def, workload, regime, app, envoy, key, pulls, rate);
            } catch (err) {
              ctx.notMeasured("scenarios", `${def.id}/${workload}/${regime}`, (err as Error).message);
            }
          }
        } finally {
          await envoy?.stop();
        }
      }
    } finally {
      for (const app of Object.values(apps)) await app?.stop();
    }
  },
};

async function startScenarioEnvoy(ctx: SectionContext, harness: Harness, def: ScenarioDef, app: RunningApp, key: BenchKey, secret: string, plans: PlanLimit[], windowSeconds: number): Promise<EnvoyInstance> {
  const clusters = [{ name: "app", port: Number(new URL(app.url).port) }];
  const sidecar = { "x-hub-sidecar": secret };
  if (def.envoy === "plain") {
    return harness.startEnvoy({ clusters, filters: [], routes: [{ prefix: "/", requestHeadersToAdd: sidecar }], concurrency: ctx.settings.envoyConcurrency, logLevel: "warn" });
  }
  if (def.envoy === "wasm") {
    const configs = await loadFilterConfigs(ctx.root);
    const specs = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }] });
    requireFiles(specs.map((s) => s.wasm));
    const filters = specs.map((s) => ({ name: s.name, wasm: s.wasm, rootId: s.rootId, configuration: s.configuration, failurePolicy: s.failurePolicy }));
    return harness.startEnvoy({ clusters, filters, routes: [{ prefix: "/", requestHeadersToAdd: sidecar }], concurrency: ctx.settings.envoyConcurrency, logLevel: "warn" });
  }
  // jwt_authn cannot copy the array claim `access` into x-hub-access, so the manifest route adds
  // the pull grant every benchmark token carries; the README states this simplification.
  return harness.startEnvoy({
    clusters,
    filters: nativeFilters(key),
    routes: [
      { path: manifestPath(REPO, REF), requestHeadersToAdd: { ...sidecar, "x-hub-access": `repository:${REPO}:pull` }, typedPerFilterConfig: nativeRateLimitRoute(plans, windowSeconds) },
      { prefix: "/", requestHeadersToAdd: sidecar },
    ],
    concurrency: ctx.settings.envoyConcurrency,
    logLevel: "warn",
  });
}

/**
 * The fixed rate of the under-capacity regime: the configured rate, lowered to a fraction of the
 * app's measured closed-loop pull capacity (direct, app mode) so "under capacity" holds on any
 * machine. The same rate is then used for every scenario.
 */
async function calibrate(ctx: SectionContext, app: RunningApp, key: BenchKey, pulls: Record<string, number>): Promise<number> {
  const s = ctx.settings;
  const users = await makeUsers(key, "calibrate", s.users.throughput, REPO);
  await app.registerUsers(users);
  const outcome = await runLoad({
    origin: app.url,
    connections: s.closedConnections,
    durationSeconds: s.quick ? 1 : 3,
    rate: 0,
    next: pullRequests(weightedUsers(users, pulls), "bearer", REPO, REF),
    appPids: [],
    envoyPids: [],
    warmupSeconds: s.warmupSeconds,
  });
  const rate = Math.max(10, Math.min(s.underRps, Math.floor(outcome.okRps * UNDER_FRACTION)));
  ctx.results.settings.calibratedPullsPerSecond = outcome.okRps;
  ctx.log(`scenarios: app capacity ≈ ${outcome.okRps} pulls/s direct; under-capacity rate ${rate}/s`);
  return rate;
}

async function runOne(ctx: SectionContext, def: ScenarioDef, workload: Workload, regime: Regime, app: RunningApp, envoy: EnvoyInstance | undefined, key: BenchKey, pulls: Record<string, number>, underRps: number): Promise<void> {
  const s = ctx.settings;
  const origin = envoy ? envoy.url : app.url;
  const usersFor = async (r: Regime) => {
    const made = await makeUsers(key, `${def.id}-${r}`, s.users[r], REPO);
    await app.registerUsers(made);
    return made;
  };
  let next;
  let users: BenchUser[];
  if (workload === "trivial") {
    users = await usersFor("under");
    next = trivialRequests(roundRobin(users), def.auth, REPO);
  } else if (regime === "over") {
    users = await usersFor("over");
    if (def.enforces) {
      const drained = await drain(origin, users, def.auth, REPO, REF, pulls, drainSeconds(ctx) * 1000);
      ctx.log(`${def.id}: drained ${users.length} users with ${drained.sent} pulls (${drained.rejected} already rejected)`);
    }
    next = pullRequests(roundRobin(users), def.auth, REPO, REF);
  } else {
    users = await usersFor(regime);
    next = pullRequests(weightedUsers(users, pulls), def.auth, REPO, REF);
  }
  const closed = regime !== "under";
  const outcome = await runLoad({
    origin,
    connections: closed ? s.closedConnections : s.underConnections,
    durationSeconds: s.runSeconds,
    rate: closed ? 0 : underRps,
    next,
    appPids: [app.pid],
    envoyPids: envoy ? [envoy.pid] : [],
    warmupSeconds: s.warmupSeconds,
    appCounts: app.counts,
  });
  const id = `${def.id}/${workload}/${regime}`;
  const unexpected = Object.entries(outcome.requests.byStatus).filter(([code]) => !code.startsWith("2") && code !== "429");
  const bad = unexpected.reduce((n, [, c]) => n + c, 0) + outcome.requests.errors;
  if (bad > MAX_UNEXPECTED * Math.max(1, outcome.requests.total + outcome.requests.errors)) {
    const sample = next();
    const probe = await fetch(origin + sample.path, { headers: sample.headers }).then(async (r) => `${r.status} ${(await r.text()).slice(0, 200)}`, (e: Error) => e.message);
    throw new Error(`discarded: ${bad} of ${outcome.requests.total + outcome.requests.errors} answers were neither 2xx nor 429 (${JSON.stringify(Object.fromEntries(unexpected))}, ${outcome.requests.errors} socket errors); a sample request got: ${probe}`);
  }
  ctx.results.runs.push({ id, scenario: def.id as ScenarioId, workload, regime, ...outcome });
  ctx.log(`${id}: ${outcome.actualRps} rps, 2xx ${outcome.requests.ok2xx}, 429 ${outcome.requests.rejected429}, p50 2xx ${outcome.latencyUs.ok?.p50 ?? "–"} µs, p50 429 ${outcome.latencyUs.rejected?.p50 ?? "–"} µs`);
}
