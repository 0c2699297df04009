// The three policy filters as one chain in the emulator (release and debug builds): the bad-input
// table, identity propagation, and rate-limit exactness across 4 worker VMs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { answeredByTokenAuth, badInputCases } from "./cases.ts";
import { BUILDS, header, registryError, startPolicy } from "./emulator.ts";
import { mintToken } from "./tokens.ts";

for (const build of BUILDS) {
  describe(`policy chain in the emulator (${build.label})`, () => {
    it("should refuse every bad input with the right status and keep it from the upstream", async () => {
      const policy = await startPolicy({ debug: build.debug });
      const cases = badInputCases(policy.nowSeconds());
      for (const c of cases) {
        // Send the hostile request.
        const result = await policy.send(c.method, c.path, c.headers);
        // Check the local response.
        assert.equal(result.status, c.status, c.name);
        assert.equal(header(result.headers, "content-type"), "application/json", c.name);
        const error = registryError(result.body);
        assert.equal(error.code, c.code, c.name);
        if (c.message) assert.equal(error.message, c.message, c.name);
        assert.equal(header(result.headers, "www-authenticate"), c.challenge, c.name);
        // Check that nothing reached the upstream and the refusal was logged.
        assert.equal(result.upstreamRequest, undefined, c.name);
        assert.ok(result.localReply, c.name);
        assert.equal(result.logs.filter((l) => l.level === "debug").length, 1, `${c.name}: one debug line`);
      }
      assert.equal(policy.seen.length, 0);
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed"), BigInt(cases.filter((c) => !answeredByTokenAuth(c)).length));
    });

    it("should forward a valid pull with identity headers and RateLimit headers", async () => {
      const policy = await startPolicy({ debug: build.debug });
      const token = mintToken({ now: policy.nowSeconds(), sub: "bob", plan: "team", access: [{ name: "bob/lib", actions: ["pull"] }] });
      const result = await policy.send("GET", "/v2/bob/lib/manifests/1.0", { authorization: `Bearer ${token}`, "x-hub-user": "mallory" });
      assert.equal(result.status, 200);
      assert.equal(result.body, '{"ok":true}');
      const upstream = result.upstreamRequest!;
      assert.equal(header(upstream.headers, "x-hub-user"), "bob");
      assert.equal(upstream.headers.filter(([n]) => n === "x-hub-user").length, 1);
      assert.equal(header(upstream.headers, "x-hub-plan"), "team");
      assert.equal(header(upstream.headers, "x-hub-access"), "repository:bob/lib:pull");
      assert.equal(header(result.headers, "ratelimit-policy"), '"team";q=100;w=60');
      assert.equal(header(result.headers, "ratelimit"), '"team";r=99;t=1');
      assert.deepEqual(result.logs, []);
    });

    it("should keep every filter's linear memory flat over 2,000 allowed pulls", async () => {
      const policy = await startPolicy({ debug: build.debug });
      const token = mintToken({ now: policy.nowSeconds(), plan: "enterprise", lifetimeSeconds: 3000 });
      const pages = () => [0, 1, 2].map((filter) => policy.chain.memoryPages(filter, 0));
      // The warm-up spans several collection periods (the SDK collects every 1024 callbacks, about 146
      // streams here), so the heap has reached its steady size before it is measured.
      for (let i = 0; i < 600; i++) await policy.send("GET", "/v2/alice/app/manifests/latest", { authorization: `Bearer ${token}` });
      const warm = pages();
      for (let i = 0; i < 2000; i++) {
        const result = await policy.send("GET", `/v2/alice/app/manifests/v${i % 7}`, { authorization: `Bearer ${token}` });
        assert.equal(result.status, 200);
        policy.chain.advanceTime(100);
      }
      const after = pages();
      after.forEach((p, i) => assert.ok(p - warm[i]! <= 1, `filter ${i}: ${warm[i]} → ${p} pages`));
    });

    it("should let exactly 10 of 50 concurrent Personal pulls through across 4 worker VMs", async () => {
      const policy = await startPolicy({ debug: build.debug, workers: 4 });
      const token = mintToken({ now: policy.nowSeconds(), sub: "erin", access: [{ name: "erin/app", actions: ["pull"] }] });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => policy.send("GET", "/v2/erin/app/manifests/latest", { authorization: `Bearer ${token}` })),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 10);
      assert.equal(results.filter((r) => r.status === 429).length, 40);
      assert.equal(policy.seen.length, 10);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.personal.allowed"), 10n);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.personal.limited"), 40n);
      const limited = results.find((r) => r.status === 429)!;
      assert.equal(header(limited.headers, "retry-after"), "6");
      assert.deepEqual(registryError(limited.body).detail, { limit: 10, windowSeconds: 60, retryAfterSeconds: 6 });
    });
  });
}
