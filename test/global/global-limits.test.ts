// Why global limits exist, on real Envoy + access replicas and a real redis-server (never a mock), in
// both enforcement modes: 50 concurrent clients of one Personal user, spread round-robin over two
// replicas (each Envoy at concurrency 2), get exactly the plan's pullsPerWindow manifest GETs with
// `--limits global` (3 runs in a row), and twice that with `--limits local`, where each replica keeps
// its own bucket. Then Redis is killed mid-run: pulls fail closed with 503 UNAVAILABLE (CONTRACT.md)
// and succeed again once Redis is back, with no restart.
// In filter mode the pulls are decided by Envoy's ratelimit filter asking image-hub/ratelimit over
// gRPC, and the quota is that service's answer. The window is stretched to an hour (same
// pullsPerWindow as plans.json) so that no token refills while a run is in flight on a loaded
// machine; the count then depends on the store alone.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EnforceMode } from "../../image-hub/access/policy.ts";
import { findPlan, loadCatalog, type Catalog } from "../../image-hub/catalog.ts";
import { startRateLimitService, type RateLimitServer } from "../../image-hub/ratelimit/start.ts";
import { startRedis, type RedisServer } from "../../image-hub/redis.ts";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { parseQuotaFields } from "../../image-hub/ratelimit-fields.ts";
import { buildImage } from "../../image-hub/seed/oci.ts";
import { startStack, type Limits, type Stack } from "../../image-hub/start.ts";

const PASSWORD = "global-limits-password";
const CLIENTS = 50;
const base = loadCatalog();
const catalog: Catalog = { ...base, windowSeconds: 3600 };
const personal = findPlan(base, "personal");
assert.ok(personal, "plans.json has a personal plan");
const LIMIT = personal.pullsPerWindow;
const MANIFEST = { accept: "application/vnd.oci.image.manifest.v1+json" };
const STORE_DOWN = { errors: [{ code: "UNAVAILABLE", message: "pull rate limit store unavailable", detail: null }] };

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;
}

/** Signs up a Personal user through the front and pushes `<user>/app:latest`. */
async function personalUserWithImage(stack: Stack, username: string): Promise<void> {
  const res = await fetch(`${stack.url}/api/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD, plan: "personal" }),
  });
  assert.equal(res.status, 201, await res.text());
  await new RegistryClient(stack.url, username, PASSWORD).pushImage(`${username}/app`, "latest", await buildImage({ "hello.txt": username }));
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends one manifest GET per client, all at once, client i through replica i mod N. */
async function burst(stack: Stack, username: string): Promise<Answer[]> {
  const scope = `repository:${username}/app:pull`;
  const clients = Array.from({ length: CLIENTS }, (_, i) => new RegistryClient(stack.replicas[i % stack.replicas.length].url, username, PASSWORD));
  await Promise.all(clients.map((c) => c.token(scope)));
  return Promise.all(
    clients.map(async (c) => {
      const res = await c.request("GET", `/v2/${username}/app/manifests/latest`, scope, { headers: MANIFEST });
      return { status: res.status, headers: res.headers, body: await res.text() };
    }),
  );
}

function countStatuses(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

/** Manifest GETs the storage service served to `user` (the usage history): refused pulls never reach it. */
async function servedPulls(stack: Stack, user: string): Promise<number> {
  const res = await fetch(`${stack.url}/api/me/usage`, { headers: { authorization: basic(user) } });
  assert.equal(res.status, 200);
  const usage = (await res.json()) as { repositories: { pulls: number[] }[] };
  return usage.repositories.reduce((sum, r) => sum + r.pulls.reduce((a, b) => a + b, 0), 0);
}

function startTwoReplicas(enforce: EnforceMode, limits: Limits, redisUrl?: string): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), `image-hub-${enforce}-${limits}-`));
  return startStack({ enforce, limits, replicas: 2, concurrency: 2, quiet: true, seed: false, dataDir, catalog, redisUrl });
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.stop();
  rmSync(stack.dataDir, { recursive: true, force: true });
}

for (const enforce of ["app", "filter"] as const) {
  describe(`global limits, ${enforce} mode, 2 replicas behind one front`, () => {
    let redis: RedisServer;
    let stack: Stack;
    before(async () => {
      redis = await startRedis();
      stack = await startTwoReplicas(enforce, "global", redis.url);
    });
    after(async () => {
      await stopStack(stack);
      await redis?.stop();
    });

    for (const run of [1, 2, 3]) {
      it(`run ${run}: admits exactly pullsPerWindow of ${CLIENTS} concurrent manifest GETs`, async () => {
        const user = `global${enforce}${run}`;
        await personalUserWithImage(stack, user);
        const answers = await burst(stack, user);
        assert.deepEqual(countStatuses(answers), { 200: LIMIT, 429: CLIENTS - LIMIT });
        assert.equal(await servedPulls(stack, user), LIMIT, "refused pulls never reached the registry");
        // The same answers as local limits: RateLimit-Policy and RateLimit on every pull, Retry-After
        // and the registry error on the 429 (the rate-limit service's raw_body and headers in filter mode).
        const admitted = answers.filter((a) => a.status === 200).map((a) => parseQuotaFields((name) => a.headers.get(name)));
        for (const f of admitted) {
          assert.deepEqual({ policy: f?.policy, limit: f?.limit, windowSeconds: f?.windowSeconds }, { policy: "personal", limit: LIMIT, windowSeconds: 3600 });
          // t: seconds until the bucket is full again, 360 s per pull taken (less the burst's own refill).
          const early = 360 * (LIMIT - f!.remaining) - f!.resetSeconds;
          assert.ok(early >= 0 && early <= 30, JSON.stringify(f));
        }
        assert.deepEqual(admitted.map((f) => f!.remaining).sort((a, b) => a - b), Array.from({ length: LIMIT }, (_, i) => i));
        for (const a of answers.filter((x) => x.status === 429)) {
          assert.equal(a.headers.get("ratelimit-policy"), `"personal";q=${LIMIT};w=3600`);
          assert.equal(a.headers.get("content-type"), "application/json");
          assert.equal(a.headers.get("x-envoy-ratelimited"), null);
          const retry = Number(a.headers.get("retry-after"));
          assert.ok(retry >= 1 && retry <= 360, `retry-after ${retry}`);
          // On a 429, RateLimit's t is the Retry-After.
          assert.equal(a.headers.get("ratelimit"), `"personal";r=0;t=${retry}`);
          assert.deepEqual(JSON.parse(a.body), { errors: [{ code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", detail: { limit: LIMIT, windowSeconds: 3600, retryAfterSeconds: retry } }] });
        }
        // Every replica reports the shared bucket and its count window from Redis (the UI's quota
        // comes from the component that enforces): /v2/_quota and /api/me agree, whichever answers.
        for (const r of stack.replicas) {
          const quota = await new RegistryClient(r.url, user, PASSWORD).request("GET", "/v2/_quota", `repository:${user}/app:pull`);
          assert.equal(quota.status, 200);
          const q = (await quota.json()) as Record<string, number | string>;
          assert.deepEqual({ ...q, resetSeconds: 0, usedResetSeconds: 0 }, { plan: "personal", limit: LIMIT, used: LIMIT, remaining: 0, resetSeconds: 0, windowSeconds: 3600, usedResetSeconds: 0 });
          assert.ok(Number(q.usedResetSeconds) > 3500 && Number(q.usedResetSeconds) <= 3600, `usedResetSeconds ${q.usedResetSeconds}`);
          const me = await fetch(`${r.url}/api/me`, { headers: { authorization: basic(user) } });
          assert.equal(me.status, 200);
          const mine = ((await me.json()) as { quota: Record<string, number | string> }).quota;
          assert.deepEqual({ used: mine.used, remaining: mine.remaining, usedResetSeconds: Number(mine.usedResetSeconds) > 3500 }, { used: LIMIT, remaining: 0, usedResetSeconds: true });
        }
      });
    }

    if (enforce === "filter") {
      it("counts only manifest GETs: a client's own pull marker on another request is dropped", async () => {
        const user = "markerfilter";
        await personalUserWithImage(stack, user);
        const client = new RegistryClient(stack.replicas[0].url, user, PASSWORD);
        for (let i = 0; i < 3; i++) {
          const tags = await client.request("GET", `/v2/${user}/app/tags/list`, `repository:${user}/app:pull`, { headers: { "x-hub-pull": "1" } });
          assert.equal(tags.status, 200);
          await tags.arrayBuffer();
        }
        const quota = await client.request("GET", "/v2/_quota", `repository:${user}/app:pull`);
        assert.equal(((await quota.json()) as { remaining: number }).remaining, LIMIT);
      });

      it("refuses on the sidecar, without asking the service, once the pulls it saw admitted use the plan", async () => {
        const user = "firsttier";
        await personalUserWithImage(stack, user);
        const scope = `repository:${user}/app:pull`;
        const via = (i: number) => new RegistryClient(stack.replicas[i].url, user, PASSWORD);
        const pull = async (c: RegistryClient) => {
          const res = await c.request("GET", `/v2/${user}/app/manifests/latest`, scope, { headers: MANIFEST });
          return { status: res.status, retry: res.headers.get("retry-after"), body: await res.text() };
        };
        // The service's decisions as replica 0's ratelimit filter counts them (ok, over_limit, error).
        const asked = async (i: number) => Object.values(await stack.replicas[i].envoy.stats("\\.ratelimit\\.(ok|over_limit|error)$")).reduce((a, b) => a + b, 0);
        const first = via(0);
        const start = await asked(0);
        for (let i = 0; i < LIMIT; i++) assert.equal((await pull(first)).status, 200);
        const before = [await asked(0), await asked(1)];
        assert.equal(before[0], start + LIMIT);
        const local = await pull(first);
        assert.equal(local.status, 429);
        assert.equal(JSON.parse(local.body).errors[0].code, "TOOMANYREQUESTS");
        assert.equal(await asked(0), before[0], "the first tier answered: replica 0 did not ask the service");
        // Replica 1's first tier saw none of them: it asks the service, which refuses from Redis.
        assert.equal((await pull(via(1))).status, 429);
        assert.equal(await asked(1), before[1] + 1);
      });
    }

    it("fails closed with 503 UNAVAILABLE while Redis is down and recovers by itself", async () => {
      const user = `redisdown${enforce}`;
      await personalUserWithImage(stack, user);
      const client = new RegistryClient(stack.replicas[1].url, user, PASSWORD);
      const scope = `repository:${user}/app:pull`;
      const pull = () => client.request("GET", `/v2/${user}/app/manifests/latest`, scope, { headers: MANIFEST });
      assert.equal((await pull()).status, 200);
      await redis.kill();
      const down = await pull();
      assert.equal(down.status, 503);
      assert.equal(down.headers.get("retry-after"), "1");
      assert.equal(down.headers.get("content-type"), "application/json");
      assert.equal(await down.text(), JSON.stringify(STORE_DOWN));
      // The quota cannot be read either: /v2/_quota fails closed the same way, /api/me says null.
      const quotaDown = await client.request("GET", "/v2/_quota", scope);
      assert.equal(quotaDown.status, 503);
      assert.deepEqual(await quotaDown.json(), STORE_DOWN);
      const meDown = await fetch(`${stack.replicas[1].url}/api/me`, { headers: { authorization: basic(user) } });
      assert.equal(meDown.status, 200);
      assert.equal(((await meDown.json()) as { quota: unknown }).quota, null);
      const port = redis.port;
      await redis.stop();
      redis = await startRedis({ port });
      let status = 0;
      for (const deadline = Date.now() + 15_000; status !== 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        const res = await pull();
        await res.arrayBuffer();
        status = res.status;
      }
      assert.equal(status, 200, "pulls succeed again once Redis is back");
    });
  });

  describe(`local limits, ${enforce} mode, 2 replicas behind one front`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startTwoReplicas(enforce, "local");
    });
    after(() => stopStack(stack));

    it("over-admits: each replica's own bucket lets the plan through, twice in all", async () => {
      const user = `local${enforce}`;
      await personalUserWithImage(stack, user);
      assert.deepEqual(countStatuses(await burst(stack, user)), { 200: 2 * LIMIT, 429: CLIENTS - 2 * LIMIT });
    });
  });
}

describe("global limits, filter mode, with a rate-limit service run elsewhere", () => {
  const SECRET = "global-limits-external-secret";
  let redis: RedisServer;
  let rls: RateLimitServer;
  let stack: Stack;
  before(async () => {
    redis = await startRedis();
    rls = await startRateLimitService({ redisUrl: redis.url, sidecarSecret: SECRET, catalog });
    const dataDir = mkdtempSync(join(tmpdir(), "image-hub-external-rls-"));
    const ratelimit = { grpcAddress: rls.grpcAddress, httpUrl: rls.httpUrl, sidecarSecret: SECRET };
    stack = await startStack({ enforce: "filter", limits: "global", replicas: 2, concurrency: 2, quiet: true, seed: false, dataDir, catalog, ratelimit });
  });
  after(async () => {
    await stopStack(stack);
    await rls?.stop();
    await redis?.stop();
  });

  it("fails closed with 503 UNAVAILABLE while the service is down and recovers by itself", async () => {
    const user = "rlsdown";
    await personalUserWithImage(stack, user);
    const client = new RegistryClient(stack.url, user, PASSWORD);
    const scope = `repository:${user}/app:pull`;
    const pull = () => client.request("GET", `/v2/${user}/app/manifests/latest`, scope, { headers: MANIFEST });
    assert.equal((await pull()).status, 200);
    const { grpcPort, httpPort } = rls;
    await rls.stop();
    for (const res of [await pull(), await client.request("GET", "/v2/_quota", scope)]) {
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(await res.text(), JSON.stringify(STORE_DOWN));
    }
    rls = await startRateLimitService({ redisUrl: redis.url, sidecarSecret: SECRET, catalog, grpcPort, httpPort });
    let status = 0;
    for (const deadline = Date.now() + 15_000; status !== 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const res = await pull();
      await res.arrayBuffer();
      status = res.status;
    }
    assert.equal(status, 200, "pulls succeed again once the service is back");
    const quota = await client.request("GET", "/v2/_quota", scope);
    assert.equal(((await quota.json()) as { used: number }).used, 2, "the bucket in Redis outlived the service");
  });
});

describe("global limits at start", () => {
  for (const enforce of ["app", "filter"] as const) {
    it(`names an unreachable Redis URL in one error line (${enforce} mode)`, async () => {
      const gone = await startRedis();
      await gone.stop();
      const dataDir = mkdtempSync(join(tmpdir(), "image-hub-noredis-"));
      try {
        await assert.rejects(startStack({ enforce, limits: "global", replicas: 2, quiet: true, seed: false, dataDir, redisUrl: gone.url }), {
          message: new RegExp(`^redis ${gone.url} is unreachable: [^\\n]+$`),
        });
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }

  it("names an unreachable rate-limit service address in one error line", async () => {
    const gone = await startRedis();
    await gone.stop();
    const address = `127.0.0.1:${gone.port}`;
    const dataDir = mkdtempSync(join(tmpdir(), "image-hub-norls-"));
    try {
      const ratelimit = { grpcAddress: address, httpUrl: `http://${address}`, sidecarSecret: "s".repeat(24) };
      await assert.rejects(startStack({ enforce: "filter", limits: "global", replicas: 2, quiet: true, seed: false, dataDir, ratelimit }), {
        message: new RegExp(`^rate-limit service ${address} is unreachable: [^\\n]+$`),
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
