/**
 * Runs the fuzz generator through the policy filters, in the emulator or in real Envoy, checking
 * every answer against the oracle. Runs are bounded by count, never cut by time; the seed comes
 * from FUZZ_SEED when set (to replay a failure) and every failure report prints it.
 * @module
 */
import fc from "fast-check";
import { type PolicyFilterName } from "../../image-hub/filter-configs.ts";
import { header, startPolicy, type PolicyHarness } from "./emulator.ts";
import { requestArbitrary, type RequestSpec, type UserSpec } from "./fuzz-gen.ts";
import { mismatches, Oracle, type Observed, type Target } from "./fuzz-oracle.ts";
import { send, type RecordingUpstream } from "./http.ts";

/** seedFor returns FUZZ_SEED when set, else the fixed regression seed of `label` (targets never share one). */
export function seedFor(label: string, regression: number): number {
  const env = process.env.FUZZ_SEED;
  if (env !== undefined && env !== "") {
    const seed = Number(env);
    if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${env}`);
    return seed;
  }
  let hash = regression;
  for (const c of label) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) | 0;
  return hash;
}

/** countFor returns FUZZ_COUNT when set, else `fallback`. */
export function countFor(fallback: number): number {
  const count = Number(process.env.FUZZ_COUNT ?? fallback);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`FUZZ_COUNT must be a positive integer, got ${process.env.FUZZ_COUNT}`);
  return count;
}

/** What one run saw. */
export interface FuzzReport {
  requests: number;
  /** Requests the oracle expected the filters to answer with the quota (GET /v2/_quota, 200). */
  quotaAnswers: number;
  statuses: Record<number, number>;
  seconds: number;
  failures: string[];
}

const IDENTITY_HEADERS = ["x-hub-user", "x-hub-plan", "x-hub-access", "x-hub-sidecar"] as const;

/** The users of one run: `nonce` keeps runs that share an Envoy from sharing buckets. */
export function usersFor(nonce: string): UserSpec[] {
  return [
    { sub: `${nonce}-ann`, plan: "personal" },
    { sub: `${nonce}-ben`, plan: "personal" },
    { sub: `${nonce}-cat`, plan: "team" },
    { sub: `${nonce}-dan`, plan: "enterprise" },
  ];
}

const clip = (value: unknown): string => {
  const text = JSON.stringify(value, (_, v: unknown) => (typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v));
  return text.length > 3000 ? `${text.slice(0, 3000)}…` : text;
};

function failure(label: string, seed: number, index: number, spec: RequestSpec, request: unknown, expected: unknown, observed: Observed, problems: string[]): string {
  return [
    `${label}: request #${index} differs from the oracle (replay: FUZZ_SEED=${seed})`,
    ...problems.map((p) => `  - ${p}`),
    `  generated: ${clip({ route: spec.route, auth: spec.auth, identity: spec.identity, contentRange: spec.contentRange })}`,
    `  request: ${clip(request)}`,
    `  expected: ${clip(expected)}`,
    `  observed: ${clip(observed)}`,
  ].join("\n");
}

const TARGET_FILTERS: Record<Target, readonly PolicyFilterName[]> = {
  chain: ["token-auth", "plan-enforcement", "rate-limit"],
  "token-auth": ["token-auth"],
  "plan-enforcement": ["plan-enforcement"],
  "rate-limit": ["rate-limit"],
};

/** fuzzEmulator sends `count` generated requests through `target` in the emulator (manual clock); resolves with the report and the harness. */
export async function fuzzEmulator(target: Target, options: { debug: boolean; seed: number; count: number; maxFailures?: number }): Promise<FuzzReport & { policy: PolicyHarness }> {
  const policy = await startPolicy({ only: TARGET_FILTERS[target], debug: options.debug, workers: 2 });
  const oracle = new Oracle(target, 60, true);
  const specs = fc.sample(requestArbitrary({ wire: false, users: usersFor("u"), unknownPlan: "gold" }), { seed: options.seed, numRuns: options.count });
  const report: FuzzReport = { requests: 0, quotaAnswers: 0, statuses: {}, seconds: 0, failures: [] };
  const started = performance.now();
  for (const [index, spec] of specs.entries()) {
    if (spec.advanceMs > 0) policy.chain.advanceTime(spec.advanceMs);
    const now = policy.clock.now();
    const m = oracle.materialize(spec, now, String(index));
    const expected = oracle.expect(spec, m, now);
    const result = await policy.send(m.method, m.path, m.headers as unknown as Record<string, string>, m.body);
    const names = new Set(result.headers.map(([n]) => n));
    const observed: Observed = {
      status: result.status,
      headers: Object.fromEntries([...names].map((n) => [n, header(result.headers, n)])),
      body: result.body,
      head: m.method === "HEAD",
      upstream: result.upstreamRequest && Object.fromEntries(IDENTITY_HEADERS.map((n) => [n, result.upstreamRequest!.headers.filter(([h]) => h === n).map(([, v]) => v)])) as Observed["upstream"],
    };
    report.requests++;
    if (expected.json) report.quotaAnswers++;
    report.statuses[result.status] = (report.statuses[result.status] ?? 0) + 1;
    const problems = mismatches(expected, observed, 60);
    if (problems.length > 0) {
      report.failures.push(failure(`${target} (${options.debug ? "debug" : "release"})`, options.seed, index, spec, { ...m, token: undefined }, expected, observed, problems));
      if (report.failures.length >= (options.maxFailures ?? 3)) break;
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return { ...report, policy };
}

/**
 * fuzzEnvoy sends `count` generated requests to `url` (the three filters in chain, rate-limit window
 * `windowSeconds`) with `lanes` concurrent connections. A user's requests stay in one lane, in order,
 * so the bucket model sees them as the filter does. `upstream` must be the listener's recording upstream.
 */
export async function fuzzEnvoy(
  url: string,
  upstream: RecordingUpstream,
  options: { seed: number; count: number; windowSeconds: number; lanes?: number; maxFailures?: number },
): Promise<FuzzReport> {
  const nonce = `f${options.seed >>> 0}x${Date.now().toString(36)}`;
  const users = usersFor(nonce);
  const oracle = new Oracle("chain", options.windowSeconds, false);
  const arbitrary = requestArbitrary({ wire: true, users, unknownPlan: "gold" });
  const specs = fc.sample(arbitrary, { seed: options.seed, numRuns: options.count });
  const lanes = options.lanes ?? 8;
  const report: FuzzReport = { requests: 0, quotaAnswers: 0, statuses: {}, seconds: 0, failures: [] };
  const byId = new Map<string, (typeof upstream.seen)[number]>();
  const laneOf = (spec: RequestSpec, index: number): number => {
    const sub = spec.auth.kind === "token" ? spec.auth.token.user.sub : "";
    const user = users.findIndex((u) => sub.startsWith(u.sub));
    return user >= 0 ? user % lanes : index % lanes;
  };
  const queues: [number, RequestSpec][][] = Array.from({ length: lanes }, () => []);
  specs.forEach((spec, index) => queues[laneOf(spec, index)]!.push([index, spec]));
  const started = performance.now();
  let stop = false;
  await Promise.all(
    queues.map(async (queue) => {
      for (const [index, spec] of queue) {
        if (stop) return;
        const now = Date.now();
        const id = `${nonce}-${index}`;
        const m = oracle.materialize(spec, now, id);
        const expected = oracle.expect(spec, m, now);
        const headers: Record<string, string | string[]> = {};
        for (const [n, v] of m.headers) headers[n] = n in headers ? [headers[n]!].flat().concat(v) : v;
        const response = await send(url, { method: m.method, path: m.path, headers: headers as Record<string, string>, body: m.body === undefined ? undefined : Buffer.from(m.body, "latin1") });
        for (const seen of upstream.seen.splice(0)) byId.set(String(seen.headers["x-fuzz-id"]), seen);
        const seen = byId.get(id);
        byId.delete(id);
        const observed: Observed = {
          status: response.status,
          headers: Object.fromEntries(Object.entries(response.headers).map(([n, v]) => [n, Array.isArray(v) ? v.join(", ") : v])),
          body: response.body,
          head: m.method === "HEAD",
          upstream: seen && (Object.fromEntries(IDENTITY_HEADERS.map((n) => [n, seen.headers[n] === undefined ? [] : [seen.headers[n]].flat()])) as Observed["upstream"]),
        };
        report.requests++;
        if (expected.json) report.quotaAnswers++;
        report.statuses[response.status] = (report.statuses[response.status] ?? 0) + 1;
        const problems = mismatches(expected, observed, options.windowSeconds);
        if (problems.length > 0) {
          report.failures.push(failure("chain in Envoy", options.seed, index, spec, { ...m, token: undefined }, expected, observed, problems));
          if (report.failures.length >= (options.maxFailures ?? 3)) stop = true;
        }
      }
    }),
  );
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
