// rate-limit with `"global": true` in the emulator: it counts nothing, marks verified pulls with
// x-hub-pull for Envoy's ratelimit filter, strips a client's marker, lets the quota through to the
// rate-limit service's route, and still refuses a pull without identity. (The whole global tier, with
// Envoy's ratelimit filter and the rate-limit service, runs in test/global.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { exampleConfigs } from "../../image-hub/filter-configs.ts";
import { BUILDS, header, registryError, startPolicy } from "../../test/policy/emulator.ts";

const only = ["rate-limit"] as const;
const identity = (user: string, plan = "personal") => ({ "x-hub-user": user, "x-hub-plan": plan });
const globalConfig = JSON.stringify({ ...exampleConfigs()["rate-limit"], global: true });

for (const build of BUILDS) {
  describe(`rate-limit, global mode (${build.label})`, () => {
    it("should mark every verified pull and count none of them", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 2, configOverride: { "rate-limit": globalConfig } });
      const results = await Promise.all(Array.from({ length: 30 }, () => policy.send("GET", "/v2/erin/app/manifests/latest", identity("erin"))));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
      assert.equal(policy.seen.length, 30);
      for (const request of policy.seen) assert.equal(header(request.headers, "x-hub-pull"), "1");
      // The RateLimit-* headers come from the rate-limit service through Envoy, not from this filter.
      for (const r of results) assert.equal(header(r.headers, "ratelimit-limit"), undefined);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.personal.allowed") ?? 0n, 0n);
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
