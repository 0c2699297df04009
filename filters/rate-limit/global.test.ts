// rate-limit with `"global": true` in the emulator: it counts nothing, marks verified pulls with
// x-hub-pull for Envoy's ratelimit filter, strips a client's marker, lets the quota through to the
// rate-limit service's route, and still refuses a pull without identity. Its first tier is charged
// only with pulls the global tier admitted (here the upstream stands in for Envoy's ratelimit filter:
// RateLimit fields on an admitted pull, 429 on a refused one, a bare 503 when it fails). (The whole global tier, with
// Envoy's ratelimit filter and the rate-limit service, runs in test/global.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { exampleConfigs } from "../../image-hub/filter-configs.ts";
import { BUILDS, header, registryError, startPolicy, type PolicyHarness } from "../../test/policy/emulator.ts";

const only = ["rate-limit"] as const;
const identity = (user: string, plan = "personal") => ({ "x-hub-user": user, "x-hub-plan": plan });
const globalConfig = JSON.stringify({ ...exampleConfigs()["rate-limit"], global: true });

/** A pull whose response the global tier shapes: admitted (200 + RateLimit fields), refused (429) or failed (503). */
function pullVia(policy: PolicyHarness, user: string, global: "admit" | "refuse" | "fail") {
  return policy.chain.exchange({ method: "GET", path: `/v2/${user}/app/manifests/latest`, headers: identity(user) }, (request) => {
    policy.seen.push(request);
    if (global === "admit") return { status: 200, headers: [["content-type", "application/json"], ["ratelimit-policy", '"personal";q=10;w=60'], ["ratelimit", '"personal";r=5;t=30']], body: "{}" };
    if (global === "refuse") return { status: 429, headers: [["content-type", "application/json"], ["ratelimit-policy", '"personal";q=10;w=60'], ["ratelimit", '"personal";r=0;t=6']], body: "{}" };
    return { status: 503, headers: [["content-type", "application/json"]], body: "{}" };
  });
}

for (const build of BUILDS) {
  describe(`rate-limit, global mode (${build.label})`, () => {
    it("should mark every verified pull and charge none the global tier did not admit", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 2, configOverride: { "rate-limit": globalConfig } });
      const results = await Promise.all(Array.from({ length: 30 }, () => policy.send("GET", "/v2/erin/app/manifests/latest", identity("erin"))));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
      assert.equal(policy.seen.length, 30);
      for (const request of policy.seen) assert.equal(header(request.headers, "x-hub-pull"), "1");
      // The RateLimit fields come from the rate-limit service through Envoy, not from this filter.
      for (const r of results) assert.equal(header(r.headers, "ratelimit"), undefined);
      for (const r of results) assert.equal(header(r.headers, "ratelimit-policy"), undefined);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.personal.allowed") ?? 0n, 0n);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.first_tier_limited") ?? 0n, 0n);
    });

    it("should refuse locally, without a round trip, once the pulls the global tier admitted empty its bucket", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 4, configOverride: { "rate-limit": globalConfig } });
      // Refused and failed pulls charge nothing: they all go on to the global tier.
      for (let i = 0; i < 15; i++) assert.equal((await pullVia(policy, "finn", "refuse")).status, 429);
      for (let i = 0; i < 15; i++) assert.equal((await pullVia(policy, "finn", "fail")).status, 503);
      assert.equal(policy.seen.length, 30);
      const admitted = await Promise.all(Array.from({ length: 10 }, () => pullVia(policy, "finn", "admit")));
      assert.deepEqual([...new Set(admitted.map((r) => r.status))], [200]);
      assert.equal(policy.seen.length, 40);
      const local = await pullVia(policy, "finn", "admit");
      assert.equal(local.status, 429);
      assert.equal(policy.seen.length, 40, "refused by the first tier, never sent on");
      assert.equal(header(local.headers, "retry-after"), "6");
      assert.equal(header(local.headers, "ratelimit"), '"personal";r=0;t=6');
      assert.equal(header(local.headers, "ratelimit-policy"), '"personal";q=10;w=60');
      assert.deepEqual(registryError(local.body), { code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", detail: { limit: 10, windowSeconds: 60, retryAfterSeconds: 6 } });
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.first_tier_limited"), 1n);
      // The first tier refills like the global bucket: one token after 6 s goes on to the global tier.
      policy.chain.advanceTime(6_000);
      assert.equal((await pullVia(policy, "finn", "admit")).status, 200);
      assert.equal(policy.seen.length, 41);
    });

    it("should drop a client's own marker on requests that are not pulls", async () => {
      const policy = await startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": globalConfig } });
      for (const path of ["/v2/erin/app/tags/list", "/v2/erin/app/blobs/sha256:" + "a".repeat(64), "/v2/"]) {
        const r = await policy.send("GET", path, { ...identity("erin"), "x-hub-pull": "1" });
        assert.equal(r.status, 200);
      }
      assert.equal(policy.seen.length, 3);
      for (const request of policy.seen) assert.equal(header(request.headers, "x-hub-pull"), undefined);
    });

    it("should let GET /v2/_quota through to the service's route, unmarked", async () => {
      const policy = await startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": globalConfig } });
      const r = await policy.send("GET", "/v2/_quota", identity("olga"));
      assert.equal(r.status, 200);
      assert.equal(policy.seen.length, 1);
      assert.equal(policy.seen[0]!.path, "/v2/_quota");
      assert.equal(header(policy.seen[0]!.headers, "x-hub-pull"), undefined);
    });

    it("should still refuse a pull without identity or with an unknown plan, unmarked and unsent", async () => {
      const policy = await startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": globalConfig } });
      for (const headers of [{}, identity("ivan", "gold")]) {
        const r = await policy.send("GET", "/v2/ivan/app/manifests/1", headers);
        assert.equal(r.status, 403);
        assert.equal(registryError(r.body).code, "DENIED");
      }
      assert.equal(policy.seen.length, 0);
    });
  });
}
