// The three policy filters in real Envoy 1.40 (--concurrency 2), through the Envoy harness: the
// bad-input table, identity propagation, rate-limit exactness across both workers, and metrics.
// One Envoy serves every test: listener "chain" has token-auth → plan-enforcement → rate-limit,
// and one listener per filter runs it alone (separate vm ids, so separate shared data).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import autocannon from "autocannon";
import { EnvoyStartError, startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";
import { EXAMPLE_REALM, policyFilterChain, type PolicyFilterName } from "../../image-hub/filter-configs.ts";
import { parseQuotaFields } from "../../image-hub/ratelimit-fields.ts";
import { badInputCases, challengeFor } from "./cases.ts";
import { send, startUpstream, type RecordingUpstream } from "./http.ts";
import { mintToken } from "./tokens.ts";

const chain = policyFilterChain({ realm: EXAMPLE_REALM });
const alone = (name: PolicyFilterName) => chain.filter((f) => f.name === name).map((f) => ({ ...f, vmId: `${name}-alone` }));
/** rate-limit with a day-long window: refill is negligible, so any count above capacity is a lost update. */
const dayLimit = alone("rate-limit").map((f) => ({
  ...f,
  vmId: "rate-limit-day",
  configuration: JSON.stringify({ ...JSON.parse(f.configuration), windowSeconds: 86400, plans: [{ id: "personal", pullsPerWindow: 500 }] }),
}));

/** The chain with a day-long window: a burst or a metrics check never sees a refill, however slow the machine. */
const chainDay = chain.map((f) =>
  f.name === "rate-limit" ? { ...f, configuration: JSON.stringify({ ...JSON.parse(f.configuration), windowSeconds: 86400 }) } : f,
).map((f) => ({ ...f, vmId: `${f.name}-day` }));

let upstream: RecordingUpstream;
let envoy: EnvoyInstance;

before(async () => {
  for (const f of chain) assert.ok(existsSync(f.wasm), `${f.wasm} is missing: run node scripts/build.mjs --filters`);
  upstream = await startUpstream();
  envoy = await startEnvoy({
    clusters: [{ name: "app", port: upstream.port }],
    listeners: [
      { name: "chain", filters: chain },
      { name: "token_auth", filters: alone("token-auth") },
      { name: "plan_enforcement", filters: alone("plan-enforcement") },
      { name: "rate_limit", filters: alone("rate-limit") },
      { name: "rate_limit_day", filters: dayLimit },
      { name: "chain_day", filters: chainDay },
    ],
    concurrency: 2,
    componentLogLevel: { wasm: "debug" },
  });
});

after(async () => {
  await envoy?.stop();
  await upstream?.close();
});

/** Runs `fn` and returns how many requests reached the upstream meanwhile. */
async function upstreamHits(fn: () => Promise<void>): Promise<number> {
  const before = upstream.seen.length;
  await fn();
  return upstream.seen.length - before;
}

describe("policy chain in Envoy: bad inputs", () => {
  for (const c of badInputCases()) {
    it(`should answer ${c.status} ${c.code} to: ${c.name}`, async () => {
      let response = { status: 0, headers: {} as Record<string, unknown>, body: "" };
      const hits = await upstreamHits(async () => {
        response = await send(envoy.urls.chain!, { method: c.method, path: c.path, headers: c.headers });
      });
      // Check the answer.
      assert.equal(response.status, c.status);
      assert.equal(response.headers["content-type"], "application/json");
      const body = JSON.parse(response.body) as { errors: { code: string; message: string; detail: unknown }[] };
      assert.equal(body.errors.length, 1);
      assert.equal(body.errors[0]!.code, c.code);
      if (c.message) assert.equal(body.errors[0]!.message, c.message);
      assert.equal(response.headers["www-authenticate"], c.challenge);
      // Check that the upstream was not reached.
      assert.equal(hits, 0);
    });
  }
});

describe("policy chain in Envoy: allowed requests", () => {
  it("should forward a valid pull with the identity from the token, replacing client-sent x-hub-* headers", async () => {
    const token = mintToken({ sub: "carol", plan: "team", access: [{ name: "carol/app", actions: ["pull", "push", "delete"] }] });
    const response = await send(envoy.urls.chain!, {
      path: "/v2/carol/app/manifests/v1",
      headers: { authorization: `Bearer ${token}`, "x-hub-user": "mallory", "x-hub-plan": "enterprise", "x-hub-access": "repository:x/y:pull" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"ok":true}');
    assert.equal(response.headers["ratelimit-policy"], '"team";q=100;w=60');
    assert.equal(response.headers["ratelimit"], '"team";r=99;t=1');
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.path, "/v2/carol/app/manifests/v1");
    assert.equal(seen.headers["x-hub-user"], "carol");
    assert.equal(seen.headers["x-hub-plan"], "team");
    assert.equal(seen.headers["x-hub-access"], "repository:carol/app:pull,push,delete");
  });

  it("should pass paths outside /v2 untouched but still strip client identity headers", async () => {
    const response = await send(envoy.urls.chain!, { path: "/api/plans", headers: { "x-hub-user": "mallory", "x-hub-sidecar": "guess" } });
    assert.equal(response.status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.path, "/api/plans");
    assert.equal(seen.headers["x-hub-user"], undefined);
    assert.equal(seen.headers["x-hub-sidecar"], undefined);
  });

  it("should let a team user delete and a push-path 401 carry the push challenge", async () => {
    const token = mintToken({ sub: "dave", plan: "team", access: [{ name: "dave/app", actions: ["pull", "push", "delete"] }] });
    const deleted = await send(envoy.urls.chain!, { method: "DELETE", path: "/v2/dave/app/manifests/sha256:ab", headers: { authorization: `Bearer ${token}` } });
    assert.equal(deleted.status, 200);
    const refused = await send(envoy.urls.chain!, { method: "PUT", path: "/v2/dave/app/manifests/v1" });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["www-authenticate"], challengeFor("repository:dave/app:pull,push"));
  });
});

describe("rate-limit exactness in Envoy --concurrency 2", () => {
  it("should let exactly 10 of 50 concurrent pulls of one Personal user through and answer 429 to the rest", async (t) => {
    // Day-long window: 10 pulls, and not one refill during the burst whatever the machine's speed.
    const token = mintToken({ sub: "erin", plan: "personal", access: [{ name: "erin/app", actions: ["pull"] }] });
    const started = Date.now();
    let responses: Awaited<ReturnType<typeof send>>[] = [];
    const hits = await upstreamHits(async () => {
      responses = await Promise.all(
        Array.from({ length: 50 }, () => send(envoy.urls.chain_day!, { path: "/v2/erin/app/manifests/latest", headers: { authorization: `Bearer ${token}` } })),
      );
    });
    const elapsedSeconds = (Date.now() - started) / 1000;
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    assert.equal(ok.length, 10);
    assert.equal(limited.length, 40);
    assert.equal(hits, 10);
    for (const r of limited) {
      const body = JSON.parse(r.body) as { errors: { code: string; detail: { limit: number; windowSeconds: number; retryAfterSeconds: number } }[] };
      assert.equal(body.errors[0]!.code, "TOOMANYREQUESTS");
      assert.equal(body.errors[0]!.detail.limit, 10);
      assert.equal(body.errors[0]!.detail.windowSeconds, 86400);
      assert.equal(String(body.errors[0]!.detail.retryAfterSeconds), r.headers["retry-after"]);
      // One pull refills every 8640 s.
      assert.ok(Number(r.headers["retry-after"]) >= 8600 && Number(r.headers["retry-after"]) <= 8640, `retry-after ${r.headers["retry-after"]}`);
      // On a 429, RateLimit's t is the Retry-After.
      assert.equal(r.headers["ratelimit"], `"personal";r=0;t=${r.headers["retry-after"]}`);
      assert.equal(r.headers["ratelimit-policy"], '"personal";q=10;w=86400');
    }
    // Each allowed pull saw a distinct remaining count: no two workers spent the same token.
    const fields = ok.map((r) => parseQuotaFields((name) => r.headers[name]?.toString()));
    for (const f of fields) assert.deepEqual({ ...f, remaining: 0, resetSeconds: 0 }, { policy: "personal", limit: 10, windowSeconds: 86400, remaining: 0, resetSeconds: 0 });
    // t is the time until the bucket is full again: 8640 s per token taken, less the burst's own refill.
    for (const f of fields) {
      const early = 8640 * (10 - f!.remaining) - f!.resetSeconds;
      assert.ok(early >= 0 && early <= 30, JSON.stringify(f));
    }
    const remaining = fields.map((f) => f!.remaining).sort((a, b) => a - b);
    assert.deepEqual(remaining, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // How often a worker lost a CAS race and retried (absent when it never happened).
    t.diagnostic(`burst ${elapsedSeconds.toFixed(2)} s; CAS retries: ${JSON.stringify(await envoy.stats("cas_retries"))}`);
  });

  it("should count allowed, denied and limited requests per plan in /stats/prometheus", async () => {
    const names = [
      "image_hub_token_auth_allowed",
      "image_hub_token_auth_denied",
      "image_hub_token_auth_personal_allowed",
      "image_hub_rate_limit_personal_allowed",
      "image_hub_rate_limit_personal_limited",
      "image_hub_plan_enforcement_personal_allowed",
      "image_hub_plan_enforcement_personal_denied",
      "image_hub_plan_enforcement_team_allowed",
    ] as const;
    const read = async (): Promise<Record<string, number>> => {
      const text = await envoy.statsPrometheus();
      return Object.fromEntries(
        names.map((name) => {
          const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
          return [name, line === undefined ? 0 : Number(line.split(" ").at(-1))];
        }),
      );
    };
    const before = await read();
    const url = envoy.urls.chain_day!;
    const personal = `Bearer ${mintToken({ sub: "mia", plan: "personal", access: [{ name: "mia/app", actions: ["pull", "push", "delete"] }] })}`;
    const team = `Bearer ${mintToken({ sub: "noa", plan: "team", access: [{ name: "noa/app", actions: ["pull"] }] })}`;
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send(url, { path: "/v2/mia/app/manifests/v1", headers: { authorization: personal } })).status);
    statuses.push((await send(url, { method: "DELETE", path: "/v2/mia/app/manifests/v1", headers: { authorization: personal } })).status);
    statuses.push((await send(url, { path: "/v2/mia/app/manifests/v1", headers: { authorization: "Bearer a.b.c" } })).status);
    statuses.push((await send(url, { path: "/v2/noa/app/manifests/v1", headers: { authorization: team } })).status);
    assert.deepEqual(statuses, [...Array(10).fill(200), 429, 403, 401, 200]);
    const after = await read();
    const delta = Object.fromEntries(names.map((n) => [n, after[n]! - before[n]!]));
    // Exactly what these 14 requests did; nothing from other tests.
    assert.deepEqual(delta, {
      image_hub_token_auth_allowed: 13,
      image_hub_token_auth_denied: 1,
      image_hub_token_auth_personal_allowed: 12,
      image_hub_rate_limit_personal_allowed: 10,
      image_hub_rate_limit_personal_limited: 1,
      image_hub_plan_enforcement_personal_allowed: 11,
      image_hub_plan_enforcement_personal_denied: 1,
      image_hub_plan_enforcement_team_allowed: 1,
    });
  });
});

describe("rate-limit under a heavy burst in Envoy --concurrency 2", () => {
  it("should allow exactly the capacity of 500 out of 1500 pulls from 64 connections", async (t) => {
    const allowed = "wasmcustom.image_hub.rate_limit.personal.allowed";
    const before = (await envoy.stats("rate_limit"))[allowed] ?? 0;
    const hits = await upstreamHits(async () => {
      const result = await autocannon({
        url: `${envoy.urls.rate_limit_day!}/v2/zed/app/manifests/latest`,
        headers: { "x-hub-user": "zed", "x-hub-plan": "personal" },
        connections: 64,
        amount: 1500,
        timeout: 20,
      });
      assert.equal(result.errors, 0);
      assert.equal(result["2xx"], 500);
      assert.equal(result.non2xx, 1000);
    });
    assert.equal(hits, 500);
    const stats = await envoy.stats("rate_limit");
    assert.equal(stats[allowed]! - before, 500);
    t.diagnostic(`CAS retries: ${stats["wasmcustom.image_hub.rate_limit.cas_retries"] ?? 0}`);
  });
});

describe("each policy filter alone in Envoy", () => {
  it("token-auth alone: sets identity headers and refuses a bad token", async () => {
    const ok = await send(envoy.urls.token_auth!, { path: "/v2/alice/app/tags/list", headers: { authorization: `Bearer ${mintToken()}` } });
    assert.equal(ok.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers["x-hub-access"], "repository:alice/app:pull,push");
    const hits = await upstreamHits(async () => {
      const bad = await send(envoy.urls.token_auth!, { path: "/v2/alice/app/tags/list", headers: { authorization: "Bearer a.b.c" } });
      assert.equal(bad.status, 401);
    });
    assert.equal(hits, 0);
  });

  it("plan-enforcement alone: trusts the identity headers it is given (token-auth must run first)", async () => {
    const identity = { "x-hub-user": "frank", "x-hub-plan": "personal", "x-hub-access": "repository:frank/app:pull,push" };
    const ok = await send(envoy.urls.plan_enforcement!, { method: "POST", path: "/v2/frank/app/blobs/uploads/", headers: identity });
    assert.equal(ok.status, 200);
    const hits = await upstreamHits(async () => {
      const none = await send(envoy.urls.plan_enforcement!, { path: "/v2/frank/app/manifests/latest" });
      assert.equal(none.status, 403);
      assert.match(none.body, /no verified identity/);
    });
    assert.equal(hits, 0);
  });

  it("rate-limit alone: counts only manifest GETs", async () => {
    const identity = { "x-hub-user": "grace", "x-hub-plan": "personal" };
    for (let i = 0; i < 12; i++) {
      const blob = await send(envoy.urls.rate_limit!, { path: "/v2/grace/app/blobs/sha256:aa", headers: identity });
      assert.equal(blob.status, 200);
      assert.equal(blob.headers["ratelimit"], undefined);
      assert.equal(blob.headers["ratelimit-policy"], undefined);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send(envoy.urls.rate_limit!, { path: "/v2/grace/app/manifests/v1", headers: identity })).status);
    assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
  });
});

describe("bad configurations in Envoy", () => {
  const refusals: [PolicyFilterName, (config: Record<string, unknown>) => unknown, string][] = [
    ["token-auth", (c) => ({ ...c, keys: [{ kid: "a", alg: "HS384", k: "ZGVtby1vbmx5LWltYWdlLWh1Yi1zaWduaW5nLWtleS1h" }] }), "token-auth: config.keys[0].alg: only HS256 is supported"],
    ["plan-enforcement", (c) => ({ ...c, plans: [] }), "plan-enforcement: config.plans: expected at least one plan"],
    ["rate-limit", (c) => ({ ...c, windowSeconds: 0 }), "rate-limit: config.windowSeconds: expected an integer from 1 to 86400"],
  ];
  for (const [name, mutate, line] of refusals) {
    it(`should make Envoy refuse a bad ${name} configuration, logging the field`, async () => {
      const filters = chain.filter((f) => f.name === name).map((f) => ({ ...f, configuration: JSON.stringify(mutate(JSON.parse(f.configuration))) }));
      await assert.rejects(startEnvoy({ clusters: [{ name: "app", port: upstream.port }], filters }), (err: unknown) => {
        assert.ok(err instanceof EnvoyStartError);
        assert.deepEqual(err.wasmLogs.filter((l) => l.level === "critical").map((l) => l.message), [line]);
        return true;
      });
    });
  }
});
