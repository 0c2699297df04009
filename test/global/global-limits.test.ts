// Why global limits exist, on real Envoy + access replicas and a real redis-server (never a mock):
// 50 concurrent clients of one Personal user, spread round-robin over two replicas, get exactly the
// plan's pullsPerWindow manifest GETs with `--limits global` (3 runs in a row), and twice that with
// `--limits local`, where each replica keeps its own bucket. Then Redis is killed mid-run: pulls fail
// closed with 503 UNAVAILABLE (CONTRACT.md) and succeed again once Redis is back, with no restart.
// The window is stretched to an hour (same pullsPerWindow as plans.json) so that no token refills
// while a run is in flight on a loaded machine; the count then depends on the store alone.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findPlan, loadCatalog, type Catalog } from "../../image-hub/catalog.ts";
import { startRedis, type RedisServer } from "../../image-hub/redis.ts";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { buildImage } from "../../image-hub/seed/oci.ts";
import { startStack, type Limits, type Stack } from "../../image-hub/start.ts";

const PASSWORD = "global-limits-password";
const CLIENTS = 50;
const base = loadCatalog();
const catalog: Catalog = { ...base, windowSeconds: 3600 };
const personal = findPlan(base, "personal");
assert.ok(personal, "plans.json has a personal plan");
const LIMIT = personal.pullsPerWindow;

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;
}

/** Signs up a Personal user through the first replica and pushes `<user>/app:latest`. */
async function personalUserWithImage(stack: Stack, username: string): Promise<void> {
  const res = await fetch(`${stack.url}/api/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD, plan: "personal" }),
  });
  assert.equal(res.status, 201, await res.text());
  await new RegistryClient(stack.url, username, PASSWORD).pushImage(`${username}/app`, "latest", await buildImage({ "hello.txt": username }));
}

/** Sends one manifest GET per client, all at once, client i through replica i mod N; counts statuses. */
async function burst(stack: Stack, username: string): Promise<Map<number, number>> {
  const scope = `repository:${username}/app:pull`;
  const clients = Array.from({ length: CLIENTS }, (_, i) => new RegistryClient(stack.replicas[i % stack.replicas.length].url, username, PASSWORD));
  await Promise.all(clients.map((c) => c.token(scope)));
  const statuses = await Promise.all(
    clients.map(async (c) => {
      const res = await c.request("GET", `/v2/${username}/app/manifests/latest`, scope, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return counts;
}

function startTwoReplicas(limits: Limits, redisUrl?: string): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), `image-hub-${limits}-`));
  return startStack({ enforce: "app", limits, replicas: 2, concurrency: 2, quiet: true, seed: false, dataDir, catalog, redisUrl });
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.stop();
  rmSync(stack.dataDir, { recursive: true, force: true });
}

describe("global limits, app mode, 2 replicas", () => {
  let redis: RedisServer;
  let stack: Stack;
  before(async () => {
    redis = await startRedis();
    stack = await startTwoReplicas("global", redis.url);
  });
  after(async () => {
    await stopStack(stack);
    await redis?.stop();
  });

  for (const run of [1, 2, 3]) {
    it(`run ${run}: admits exactly pullsPerWindow of ${CLIENTS} concurrent manifest GETs`, async () => {
      const user = `global${run}`;
      await personalUserWithImage(stack, user);
      const counts = await burst(stack, user);
      assert.deepEqual(Object.fromEntries(counts), { 200: LIMIT, 429: CLIENTS - LIMIT });
      // Both replicas report the shared bucket and its count window from Redis (the UI's quota comes
      // from the bucket that enforces): /v2/_quota and /api/me agree, whichever replica answers.
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

  it("fails closed with 503 UNAVAILABLE while Redis is down and recovers by itself", async () => {
    const user = "redisdown";
    await personalUserWithImage(stack, user);
    const client = new RegistryClient(stack.replicas[1].url, user, PASSWORD);
    const scope = `repository:${user}/app:pull`;
    const pull = () => client.request("GET", `/v2/${user}/app/manifests/latest`, scope, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    assert.equal((await pull()).status, 200);
    await redis.kill();
    const down = await pull();
    assert.equal(down.status, 503);
    assert.equal(down.headers.get("retry-after"), "1");
    assert.deepEqual(await down.json(), { errors: [{ code: "UNAVAILABLE", message: "pull rate limit store unavailable", detail: null }] });
    // The quota cannot be read either: /v2/_quota fails closed the same way, /api/me says null.
    const quotaDown = await client.request("GET", "/v2/_quota", `repository:${user}/app:pull`);
    assert.equal(quotaDown.status, 503);
    assert.equal((await quotaDown.json()).errors[0].code, "UNAVAILABLE");
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

describe("local limits, app mode, 2 replicas", () => {
  let stack: Stack;
  before(async () => {
    stack = await startTwoReplicas("local");
  });
  after(() => stopStack(stack));

  it("over-admits: each replica's own bucket lets the plan through, twice in all", async () => {
    await personalUserWithImage(stack, "local1");
    const counts = await burst(stack, "local1");
    assert.deepEqual(Object.fromEntries(counts), { 200: 2 * LIMIT, 429: CLIENTS - 2 * LIMIT });
  });
});

describe("global limits at start", () => {
  it("names an unreachable Redis URL in one error line", async () => {
    const gone = await startRedis();
    await gone.stop();
    const dataDir = mkdtempSync(join(tmpdir(), "image-hub-noredis-"));
    try {
      await assert.rejects(startStack({ enforce: "app", limits: "global", replicas: 2, quiet: true, seed: false, dataDir, redisUrl: gone.url }), {
        message: new RegExp(`^redis ${gone.url} is unreachable: [^\\n]+$`),
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
