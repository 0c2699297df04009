// Issue 20, "global limits": the speed-vs-power comparison at the scale of 2 replicas. Each arm is a
// whole `startStack` (2 access + Envoy replicas, --enforce filter|app, --limits local|global) in its
// own child process (bench/stack-process.ts); the load is split evenly over both replicas' listeners.
// Per mode, the local and the global stack run side by side: the under-capacity runs alternate
// between them round by round, so the 2xx p50 difference is the Redis round trip per allowed pull;
// the over-capacity runs (users drained first) measure the rejections. An arm whose stack cannot
// start (filter mode with global limits before branch `rls` lands) is "not measured: <reason>".
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { seedImage, spawnBenchChild, type AppCounts, type RunningApp } from "../lib/app.ts";
import type { Section, SectionContext } from "../lib/context.ts";
import { loadModule } from "../lib/deps.ts";
import { drain } from "../lib/drain.ts";
import { generateBenchKey, makeUsers, type BenchKey } from "../lib/identity.ts";
import { runLoad } from "../lib/load.ts";
import { loadAverageNow } from "../lib/machine.ts";
import { descendants } from "../lib/proc.ts";
import { pullRequests, roundRobin, weightedUsers } from "../lib/workload.ts";
import type { GlobalArmId, GlobalLimits, GlobalRun } from "../results-types.ts";
import type { StackProcessReady } from "../stack-process.ts";

/** The repository every pull asks for, and its tag. */
const REPO = "bench/app";
const REF = "latest";
/** Replicas per stack, as issue 20 asks. */
const REPLICAS = 2;
/** Share of answers other than 2xx and 429 above which a run is discarded (as in the scenarios section). */
const MAX_UNEXPECTED = 0.05;

/** The arms, by mode; each mode's local and global stacks run at the same time. */
const ARMS: Record<"app" | "filter", { id: GlobalArmId; limits: "local" | "global"; title: string }[]> = {
  app: [
    { id: "app-local", limits: "local", title: "app mode, local limits (a bucket per replica)" },
    { id: "app-global", limits: "global", title: "app mode, global limits (rate-limiter-flexible + Redis)" },
  ],
  filter: [
    { id: "filter-local", limits: "local", title: "filter mode, local limits (the wasm rate-limit per sidecar)" },
    { id: "filter-global", limits: "global", title: "filter mode, global limits (Envoy ratelimit filter → rate-limit service → Redis)" },
  ],
};

/** A stack started for one arm. */
interface BenchStack extends RunningApp {
  urls: string[];
  envoyPids: number[];
  /** The stack's children other than Envoy (redis-server, a rate-limit service), read when a run starts. */
  storePids(): number[];
}

/** Runs the regime into ctx.results.globalLimits. */
export const globalSection: Section = {
  name: "global",
  owns: ["globalLimits"],
  async run(ctx: SectionContext): Promise<void> {
    const s = ctx.settings;
    // An even count, so each arm runs first in as many rounds as it runs second.
    const rounds = s.quick ? 2 : 4;
    // Set by calibrate() on the first stack: a fraction of what it serves in a closed loop.
    let underRps = 0;
    const result: GlobalLimits = { replicas: REPLICAS, envoyConcurrency: s.envoyConcurrency, underRps, rounds, loadAverage: { start: loadAverageNow(), end: [] }, arms: [], runs: [] };
    ctx.results.globalLimits = result;
    let pulls: Record<string, number>;
    try {
      const catalog = (await loadModule<{ loadCatalog: () => { plans: { id: string; pullsPerWindow: number }[] } }>(ctx.root, "image-hub/catalog.ts", ["loadCatalog"])).loadCatalog();
      pulls = Object.fromEntries(catalog.plans.map((p) => [p.id, p.pullsPerWindow]));
    } catch (err) {
      for (const arm of [...ARMS.app, ...ARMS.filter]) ctx.notMeasured("global", arm.id, (err as Error).message);
      return;
    }
    const key = generateBenchKey();
    try {
      for (const mode of ["app", "filter"] as const) {
        const stacks: Partial<Record<GlobalArmId, BenchStack>> = {};
        try {
          for (const arm of ARMS[mode]) {
            try {
              stacks[arm.id] = await startBenchStack(ctx, mode, arm.limits, key);
              await seedImage(stacks[arm.id]!, key, "", REPO, REF);
              result.arms.push({ id: arm.id, title: arm.title, measured: true });
            } catch (err) {
              const reason = `the stack (--enforce ${mode} --limits ${arm.limits} --replicas ${REPLICAS}) did not start: ${(err as Error).message.split("\n")[0]}`;
              await stacks[arm.id]?.stop();
              delete stacks[arm.id];
              result.arms.push({ id: arm.id, title: arm.title, measured: false, reason });
              ctx.notMeasured("global", arm.id, reason);
            }
          }
          if (underRps === 0) {
            const first = Object.values(stacks)[0];
            underRps = first ? await calibrate(ctx, first, key, pulls) : s.underRps;
            result.underRps = underRps;
          }
          for (let round = 1; round <= rounds; round++) {
            const order = round % 2 === 1 ? ARMS[mode] : [...ARMS[mode]].reverse();
            for (const arm of order) if (stacks[arm.id]) await guarded(ctx, result, arm.id, "under", round, () => underRun(ctx, arm.id, stacks[arm.id]!, key, pulls, underRps, round));
          }
          for (const arm of ARMS[mode]) if (stacks[arm.id]) await guarded(ctx, result, arm.id, "over", 1, () => overRun(ctx, arm.id, stacks[arm.id]!, key, pulls));
        } finally {
          for (const st of Object.values(stacks)) await st?.stop();
        }
      }
    } finally {
      result.loadAverage.end = loadAverageNow();
    }
  },
};

/** Runs one measurement unless the budget is spent; a failure becomes a not-measured entry. */
async function guarded(ctx: SectionContext, result: GlobalLimits, arm: GlobalArmId, regime: "under" | "over", round: number, run: () => Promise<GlobalRun>): Promise<void> {
  const item = `${arm}/${regime}/r${round}`;
  const need = ctx.settings.runSeconds + ctx.settings.warmupSeconds + (regime === "over" ? drainSeconds(ctx) : 0);
  if (ctx.secondsLeft() < need) return ctx.notMeasured("global", item, `the run's time budget of ${ctx.settings.budgetSeconds} s was spent`);
  try {
    const r = await run();
    result.runs.push(r);
    ctx.log(`${r.id}: ${r.actualRps} rps, 2xx ${r.requests.ok2xx}, 429 ${r.requests.rejected429}, p50 2xx ${r.latencyUs.ok?.p50 ?? "–"} µs, p50 429 ${r.latencyUs.rejected?.p50 ?? "–"} µs`);
  } catch (err) {
    ctx.notMeasured("global", item, (err as Error).message);
  }
}

/** Fraction of the closed-loop capacity used as the under-capacity rate, as in the scenarios section. */
const UNDER_FRACTION = 0.3;

/**
 * The under-capacity rate of every arm: UNDER_FRACTION of the pulls/s the first stack (app mode,
 * local limits) serves in a closed loop over both replicas, between 10/s and the configured rate, so
 * "under capacity" holds on a loaded machine too. Falls back to 10/s when the probe fails.
 */
async function calibrate(ctx: SectionContext, stack: BenchStack, key: BenchKey, pulls: Record<string, number>): Promise<number> {
  const s = ctx.settings;
  try {
    const users = await makeUsers(key, "g-calibrate", s.users.throughput, REPO);
    await stack.registerUsers(users);
    const outcome = await runLoad({ origin: stack.urls[0], origins: stack.urls, connections: s.closedConnections, durationSeconds: s.quick ? 1 : 3, rate: 0, next: pullRequests(weightedUsers(users, pulls), "bearer", REPO, REF), appPids: [], envoyPids: [], warmupSeconds: s.warmupSeconds });
    const rate = Math.max(10, Math.min(s.underRps, Math.floor(outcome.okRps * UNDER_FRACTION)));
    ctx.log(`global: 2 replicas serve ≈ ${outcome.okRps} pulls/s in a closed loop; under-capacity rate ${rate}/s`);
    return rate;
  } catch (err) {
    ctx.log(`global: calibration failed, using 10/s: ${(err as Error).message}`);
    return 10;
  }
}

/**
 * Over-capacity users: Personal only (the scenarios section adds Team and Enterprise users), so that
 * emptying their buckets through both replicas ends within the drain deadline on a loaded 2-core
 * machine: one Enterprise bucket alone is 1,000 pulls per replica with local limits.
 */
function overUsers(ctx: SectionContext): Record<string, number> {
  return { personal: ctx.settings.users.over.personal ?? 4 };
}

const drainSeconds = (ctx: SectionContext) => (ctx.settings.quick ? 5 : 30);

async function underRun(ctx: SectionContext, arm: GlobalArmId, stack: BenchStack, key: BenchKey, pulls: Record<string, number>, rate: number, round: number): Promise<GlobalRun> {
  const users = await makeUsers(key, `g-${arm}-r${round}-under`, ctx.settings.users.under, REPO);
  await stack.registerUsers(users);
  return measure(ctx, arm, "under", round, stack, pullRequests(weightedUsers(users, pulls), "bearer", REPO, REF), rate, ctx.settings.underConnections);
}

async function overRun(ctx: SectionContext, arm: GlobalArmId, stack: BenchStack, key: BenchKey, pulls: Record<string, number>): Promise<GlobalRun> {
  const users = await makeUsers(key, `g-${arm}-over`, overUsers(ctx), REPO);
  await stack.registerUsers(users);
  // Through every replica at once: with local limits each one has its own buckets to empty.
  const want = users.reduce((n, u) => n + (pulls[u.plan] ?? 0), 0);
  const drains = await Promise.all(stack.urls.map((url) => drain(url, users, "bearer", REPO, REF, pulls, drainSeconds(ctx) * 1000)));
  drains.forEach((d, i) => ctx.log(`global ${arm}: drained ${users.length} users through ${stack.urls[i]} with ${d.sent} of ${want} pulls (${d.rejected} already rejected)`));
  const run = await measure(ctx, arm, "over", 1, stack, pullRequests(roundRobin(users), "bearer", REPO, REF), 0, ctx.settings.closedConnections);
  return { ...run, drain: { sent: drains.reduce((n, d) => n + d.sent, 0), rejected: drains.reduce((n, d) => n + d.rejected, 0), complete: drains.every((d) => d.sent === want) } };
}

async function measure(ctx: SectionContext, arm: GlobalArmId, regime: "under" | "over", round: number, stack: BenchStack, next: ReturnType<typeof pullRequests>, rate: number, connections: number): Promise<GlobalRun> {
  const outcome = await runLoad({
    origin: stack.urls[0],
    origins: stack.urls,
    connections,
    durationSeconds: ctx.settings.runSeconds,
    rate,
    next,
    appPids: [stack.pid],
    envoyPids: stack.envoyPids,
    storePids: stack.storePids(),
    warmupSeconds: ctx.settings.warmupSeconds,
    appCounts: stack.counts,
  });
  const unexpected = Object.entries(outcome.requests.byStatus).filter(([code]) => !code.startsWith("2") && code !== "429");
  const bad = unexpected.reduce((n, [, c]) => n + c, 0) + outcome.requests.errors;
  if (bad > MAX_UNEXPECTED * Math.max(1, outcome.requests.total + outcome.requests.errors)) {
    // Say what the unexpected answers were: probe (a few dozen requests at most) until one shows up.
    let probe = "none of 40 probes got one";
    for (let i = 0; i < 40; i++) {
      const sample = next();
      const got = await fetch(stack.urls[i % stack.urls.length] + sample.path, { headers: sample.headers }).then(async (r) => ({ status: r.status, text: `${r.status} ${(await r.text()).slice(0, 200)}` }), (e: Error) => ({ status: 0, text: e.message }));
      if (got.status !== 429 && (got.status < 200 || got.status > 299)) {
        probe = got.text;
        break;
      }
    }
    throw new Error(`discarded: ${bad} of ${outcome.requests.total + outcome.requests.errors} answers were neither 2xx nor 429 (${JSON.stringify(Object.fromEntries(unexpected))}, ${outcome.requests.errors} socket errors); a probe got: ${probe}`);
  }
  return { ...outcome, store: outcome.store ?? null, id: `global/${arm}/${regime}/r${round}`, arm, regime, round };
}

/**
 * Starts one arm's stack in a child process with the run's signing key (written as the stack's
 * keys.json, so the benchmark's tokens verify in both modes). Rejects with the stack's own error
 * line when it does not start within 120 s (nothing is left running then).
 */
async function startBenchStack(ctx: SectionContext, enforce: "app" | "filter", limits: "local" | "global", key: BenchKey): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-global-${enforce}-${limits}-`));
  writeFileSync(join(dataDir, "keys.json"), JSON.stringify({ keys: [{ kid: key.kid, k: key.k }] }), { mode: 0o600 });
  const config = { enforce, limits, replicas: REPLICAS, concurrency: ctx.settings.envoyConcurrency, dataDir };
  // However the benchmark ends, the stack (and its Envoys and Redis, which it stops) must not outlive it.
  const { child, stop: stopChild } = spawnBenchChild(ctx.root, "bench/stack-process.ts", config, dataDir, 10_000);
  let db: Database.Database | undefined;
  const stop = async (): Promise<void> => {
    db?.close();
    await stopChild();
  };
  try {
    const ready = await readyLine(child);
    const envoyPids = ready.envoys.map((e) => e.pid);
    // The accounts the stack enforces by current plan, written straight into the replicas' shared
    // access.db (WAL) with a hash no password matches, as bench/app-process.ts does.
    mkdirSync(join(dataDir, "access"), { recursive: true });
    db = new Database(join(dataDir, "access", "access.db"));
    const add = db.prepare("INSERT OR REPLACE INTO users (username, password_hash, plan, created_at) VALUES (?, '!bench-only-no-login', ?, ?)");
    const addAll = db.transaction((list: { name: string; plan: string }[]) => {
      for (const u of list) add.run(u.name, u.plan, Date.now());
    });
    // What the app answered, from each Envoy's counters for its access cluster (the app process has
    // no control port here); in filter mode the requests include token-auth's plan lookups, which the
    // app answers too. Envoy's ratelimit filter charges its own 429s to the route's cluster
    // (upstream_rq_429) as well, so those (ratelimit.over_limit) are taken out again.
    const counts = async (): Promise<AppCounts> => {
      let requests = 0;
      let rejected429 = 0;
      for (const e of ready.envoys) {
        const filter = encodeURIComponent("^cluster\\.access\\.(upstream_rq_(total|429)|ratelimit\\.over_limit)$");
        const stats = (await (await fetch(`${e.adminUrl}/stats?format=json&filter=${filter}`)).json()) as { stats: { name: string; value?: number }[] };
        for (const st of stats.stats) {
          if (st.name.endsWith("upstream_rq_total")) requests += st.value ?? 0;
          else if (st.name.endsWith("upstream_rq_429")) rejected429 += st.value ?? 0;
          else rejected429 -= st.value ?? 0;
        }
      }
      return { requests, rejected429 };
    };
    return {
      mode: "app",
      url: ready.urls[0],
      urls: ready.urls,
      pid: child.pid!,
      envoyPids,
      storePids: () => descendants(child.pid!).filter(isStore),
      counts,
      registerUsers: async (users) => void addAll(users.map((u) => ({ name: u.name, plan: u.plan }))),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function readyLine(child: ReturnType<typeof spawn>): Promise<StackProcessReady> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no ready line within 120 s: ${out.slice(-500)}`)), 120_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line || !out.includes("\n", out.indexOf(line))) return;
      clearTimeout(timer);
      const msg = JSON.parse(line) as StackProcessReady | { error: string };
      if ("error" in msg) reject(new Error(msg.error));
      else resolve(msg);
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    // "close", not "exit": the error line must have been read before this rejects.
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} during start: ${out.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

/** redis-server, or a rate-limit service started as its own process (never tsx's esbuild helper or Envoy). */
function isStore(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    return /redis-server|ratelimit/.test(cmd);
  } catch {
    return false;
  }
}
