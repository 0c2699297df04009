// The rate-limit service over its real wire protocols (a gRPC client speaking rls.proto, plain HTTP)
// against a real redis-server: the decisions, headers and bodies Envoy relays, the read-only quota,
// the errors Envoy turns into its failure mode, and health while Redis is down.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { loadCatalog } from "../catalog.ts";
import { startRedis, type RedisServer } from "../redis.ts";
import { startRateLimitService, type RateLimitServer } from "./start.ts";

const SECRET = "ratelimit-test-sidecar-secret";
const catalog = { ...loadCatalog(), windowSeconds: 3600 };

type Call = (req: unknown) => Promise<Record<string, unknown>>;

function client(address: string): { call: Call; close(): void } {
  const pkg = protoLoader.loadSync(fileURLToPath(new URL("./rls.proto", import.meta.url)), { keepCase: true, longs: Number, enums: String, defaults: true });
  const Service = (grpc.loadPackageDefinition(pkg) as any).envoy.service.ratelimit.v3.RateLimitService as grpc.ServiceClientConstructor;
  const c = new Service(address, grpc.credentials.createInsecure()) as any;
  return {
    call: (req) => new Promise((resolve, reject) => c.ShouldRateLimit(req, (err: Error | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res)))),
    close: () => c.close(),
  };
}

const pull = (user: string, plan = "personal") => ({
  domain: "image-hub",
  descriptors: [{ entries: [{ key: "pull", value: "1" }, { key: "plan", value: plan }, { key: "user", value: user }] }],
});
const headers = (res: Record<string, unknown>) => Object.fromEntries((res.response_headers_to_add as { key: string; value: string }[]).map((h) => [h.key, h.value]));

describe("rate-limit service", () => {
  let redis: RedisServer;
  let rls: RateLimitServer;
  let rpc: ReturnType<typeof client>;
  const quota = (user: string, plan: string, secret = SECRET) =>
    fetch(`${rls.httpUrl}/v2/_quota`, { headers: { "x-hub-sidecar": secret, "x-hub-user": user, "x-hub-plan": plan } });
  before(async () => {
    redis = await startRedis();
    rls = await startRateLimitService({ redisUrl: redis.url, sidecarSecret: SECRET, catalog });
    rpc = client(rls.grpcAddress);
  });
  after(async () => {
    rpc?.close();
    await rls?.stop();
    await redis?.stop();
  });

  it("admits the plan's pulls with RateLimit-Policy and RateLimit, then answers OVER_LIMIT with the registry's 429", async () => {
    for (let i = 1; i <= 10; i++) {
      const res = await rpc.call(pull("ann"));
      assert.equal(res.overall_code, "OK");
      // t: seconds until the bucket is full again, 360 s per pull taken.
      assert.deepEqual(headers(res), { "ratelimit-policy": '"personal";q=10;w=3600', ratelimit: `"personal";r=${10 - i};t=${360 * i}` });
      assert.equal((res.raw_body as Buffer).length, 0);
    }
    const over = await rpc.call(pull("ann"));
    assert.equal(over.overall_code, "OVER_LIMIT");
    // On the 429, t is the Retry-After.
    assert.deepEqual(headers(over), { "retry-after": "360", "ratelimit-policy": '"personal";q=10;w=3600', ratelimit: '"personal";r=0;t=360', "content-type": "application/json" });
    assert.deepEqual(JSON.parse((over.raw_body as Buffer).toString()), { errors: [{ code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", detail: { limit: 10, windowSeconds: 3600, retryAfterSeconds: 360 } }] });
    // Another user and another plan have their own buckets.
    assert.deepEqual(headers(await rpc.call(pull("bob", "team"))), { "ratelimit-policy": '"team";q=100;w=3600', ratelimit: '"team";r=99;t=36' });
  });

  it("answers the quota read-only from the same bucket, only to the sidecar", async () => {
    await rpc.call(pull("cat"));
    for (let i = 0; i < 3; i++) {
      const res = await quota("cat", "personal");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const q = await res.json();
      assert.deepEqual({ ...q, resetSeconds: 0, usedResetSeconds: 0 }, { plan: "personal", limit: 10, used: 1, remaining: 9, resetSeconds: 0, windowSeconds: 3600, usedResetSeconds: 0 });
    }
    const spoofed = await quota("cat", "personal", "not-the-secret");
    assert.equal(spoofed.status, 403);
    assert.deepEqual(await spoofed.json(), { errors: [{ code: "DENIED", message: "no verified identity or unknown plan", detail: null }] });
    assert.equal((await quota("cat", "platinum")).status, 403);
  });

  for (const [name, req, message] of [
    ["another domain", { ...pull("dan"), domain: "other" }, 'domain: expected "image-hub", got "other"'],
    ["no descriptor", { domain: "image-hub", descriptors: [] }, "descriptors: expected exactly one (pull, plan, user), got 0"],
    ["no pull marker", { domain: "image-hub", descriptors: [{ entries: [{ key: "plan", value: "personal" }, { key: "user", value: "dan" }] }] }, "descriptors[0]: expected the entries pull, plan and user"],
    ["an unknown plan", pull("dan", "platinum"), 'descriptors[0].plan: unknown plan "platinum"'],
    ["hits_addend 2", { ...pull("dan"), hits_addend: 2 }, "hits_addend: only 1 is supported, got 2"],
  ] as const) {
    it(`refuses ${name} with INVALID_ARGUMENT (Envoy fails closed)`, async () => {
      await assert.rejects(rpc.call(req), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && err.details === message);
    });
  }

  it("answers UNAVAILABLE, a 503 quota and an unhealthy /healthz while Redis is down, and recovers", async () => {
    assert.equal((await fetch(`${rls.httpUrl}/healthz`)).status, 200);
    await redis.kill();
    await assert.rejects(rpc.call(pull("eve")), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    const q = await quota("eve", "personal");
    assert.equal(q.status, 503);
    assert.equal(q.headers.get("retry-after"), "1");
    assert.deepEqual(await q.json(), { errors: [{ code: "UNAVAILABLE", message: "pull rate limit store unavailable", detail: null }] });
    assert.equal((await fetch(`${rls.httpUrl}/healthz`)).status, 503);
    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port });
    let code = "";
    for (const deadline = Date.now() + 10_000; code !== "OK" && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      code = await rpc.call(pull("eve")).then((r) => String(r.overall_code), () => "");
    }
    assert.equal(code, "OK");
  });

  it("names an unreachable Redis in one line", async () => {
    const gone = await startRedis();
    await gone.stop();
    await assert.rejects(startRateLimitService({ redisUrl: gone.url, sidecarSecret: SECRET }), { message: new RegExp(`^redis ${gone.url} is unreachable: [^\\n]+$`) });
  });
});
