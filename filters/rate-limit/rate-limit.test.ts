// rate-limit alone in the emulator (4 worker VMs), against build/filters/rate-limit.wasm and
// .debug.wasm. The identity headers token-auth would set are given directly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChainStartError } from "proxy-wasm-host-emulator";
import { exampleConfigs } from "../../image-hub/filter-configs.ts";
import { BUILDS, header, registryError, startPolicy, type PolicyHarness } from "../../test/policy/emulator.ts";

const only = ["rate-limit"] as const;
const identity = (user: string, plan = "personal") => ({ "x-hub-user": user, "x-hub-plan": plan });
const pull = (policy: PolicyHarness, user: string, plan = "personal") => policy.send("GET", `/v2/${user}/app/manifests/latest`, identity(user, plan));

/** Decodes one shard value (u8 length, user, 5 × f64) and returns the user names it holds. */
function shardUsers(value: Uint8Array): string[] {
  const users: string[] = [];
  for (let offset = 0; offset < value.length; ) {
    const length = value[offset]!;
    users.push(Buffer.from(value.subarray(offset + 1, offset + 1 + length)).toString("utf8"));
    offset += 1 + length + 40;
  }
  return users;
}

/** Returns a copy of a shard value in which `user` has one token less. */
function spendOne(value: Uint8Array, user: string): Uint8Array {
  const copy = new Uint8Array(value);
  const view = new DataView(copy.buffer);
  for (let offset = 0; offset < copy.length; ) {
    const length = copy[offset]!;
    if (Buffer.from(copy.subarray(offset + 1, offset + 1 + length)).toString("utf8") === user) {
      const at = offset + 1 + length;
      view.setFloat64(at, view.getFloat64(at, true) - 1, true);
    }
    offset += 1 + length + 40;
  }
  return copy;
}

for (const build of BUILDS) {
  describe(`rate-limit (${build.label})`, () => {
    it("should allow exactly the plan's pulls across 4 worker VMs, then answer 429 with Retry-After", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 4 });
      const results = await Promise.all(Array.from({ length: 50 }, () => pull(policy, "erin")));
      const allowed = results.filter((r) => r.status === 200);
      assert.equal(allowed.length, 10);
      assert.equal(policy.seen.length, 10);
      // r is the whole tokens left; t the seconds until the bucket is full again (6 s per token).
      const expected = Array.from({ length: 10 }, (_, r) => `"personal";r=${r};t=${6 * (10 - r)}`);
      assert.deepEqual(allowed.map((r) => header(r.headers, "ratelimit")).sort(), expected.sort());
      for (const r of allowed) assert.equal(header(r.headers, "ratelimit-policy"), '"personal";q=10;w=60');
      for (const r of results.filter((x) => x.status === 429)) {
        assert.equal(header(r.headers, "retry-after"), "6");
        // On a 429, t is the Retry-After (the draft: Retry-After never earlier than t).
        assert.equal(header(r.headers, "ratelimit"), '"personal";r=0;t=6');
        assert.equal(header(r.headers, "ratelimit-policy"), '"personal";q=10;w=60');
        assert.deepEqual(registryError(r.body), {
          code: "TOOMANYREQUESTS",
          message: "pull rate limit exceeded",
          detail: { limit: 10, windowSeconds: 60, retryAfterSeconds: 6 },
        });
        assert.equal(r.upstreamRequest, undefined);
      }
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.personal.limited"), 40n);
    });

    it("should answer GET /v2/_quota from the shared bucket without consuming, with used as a count", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 4 });
      const quota = async (user: string, plan = "personal") => {
        const r = await policy.send("GET", "/v2/_quota", identity(user, plan));
        assert.equal(r.status, 200);
        assert.equal(header(r.headers, "content-type"), "application/json");
        assert.equal(header(r.headers, "cache-control"), "no-store");
        assert.equal(r.upstreamRequest, undefined);
        return JSON.parse(r.body);
      };
      assert.deepEqual(await quota("olga"), { plan: "personal", limit: 10, used: 0, remaining: 10, resetSeconds: 0, windowSeconds: 60, usedResetSeconds: 0 });
      let last;
      for (let i = 0; i < 10; i++) last = await pull(policy, "olga");
      // Asking (on every worker) takes nothing: the pulls and the answer agree with the last pull's headers.
      for (let i = 0; i < 4; i++) {
        assert.deepEqual(await quota("olga"), { plan: "personal", limit: 10, used: 10, remaining: 0, resetSeconds: 60, windowSeconds: 60, usedResetSeconds: 60 });
      }
      assert.equal(header(last!.headers, "ratelimit"), '"personal";r=0;t=60');
      assert.equal((await pull(policy, "olga")).status, 429);
      // 30 s later five tokens are back but the count still says 10 pulls were served in this window.
      policy.chain.advanceTime(30_000);
      assert.deepEqual(await quota("olga"), { plan: "personal", limit: 10, used: 10, remaining: 5, resetSeconds: 30, windowSeconds: 60, usedResetSeconds: 30 });
      assert.equal((await pull(policy, "olga")).status, 200);
      assert.equal((await quota("olga")).used, 11);
      // Once the count window ends the next pull opens a new one.
      policy.chain.advanceTime(30_000);
      assert.equal((await quota("olga")).used, 0);
      assert.equal((await pull(policy, "olga")).status, 200);
      assert.equal((await quota("olga")).used, 1);
      assert.equal(policy.seen.length, 12);
      // Same identity rules as a pull: no identity is 403.
      assert.equal((await policy.send("GET", "/v2/_quota", {})).status, 403);
    });

    it("should refill continuously and never charge rejected pulls", async () => {
      const policy = await startPolicy({ only, debug: build.debug, workers: 2 });
      for (let i = 0; i < 10; i++) assert.equal((await pull(policy, "frank")).status, 200);
      // A hundred rejected pulls consume nothing ...
      for (let i = 0; i < 100; i++) assert.equal((await pull(policy, "frank")).status, 429);
      // ... so one refill period later exactly one pull is allowed again.
      policy.chain.advanceTime(5_999);
      const early = await pull(policy, "frank");
      assert.equal(early.status, 429);
      assert.equal(header(early.headers, "retry-after"), "1");
      assert.equal(header(early.headers, "ratelimit"), '"personal";r=0;t=1');
      policy.chain.advanceTime(1);
      assert.equal((await pull(policy, "frank")).status, 200);
      assert.equal((await pull(policy, "frank")).status, 429);
      // A full window refills the whole bucket and no more.
      policy.chain.advanceTime(120_000);
      const burst = [];
      for (let i = 0; i < 11; i++) burst.push((await pull(policy, "frank")).status);
      assert.deepEqual(burst, [...Array(10).fill(200), 429]);
      assert.equal(policy.seen.length, 21);
    });

    it("should count only manifest GETs and keep users and plans apart", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      for (let i = 0; i < 20; i++) {
        const blob = await policy.send("GET", "/v2/grace/app/blobs/sha256:aa", identity("grace"));
        assert.equal(blob.status, 200);
        assert.equal(header(blob.headers, "ratelimit"), undefined);
        assert.equal(header(blob.headers, "ratelimit-policy"), undefined);
        assert.equal((await policy.send("HEAD", "/v2/grace/app/manifests/v1", identity("grace"))).status, 200);
      }
      const team = [];
      for (let i = 0; i < 12; i++) team.push((await pull(policy, "heidi", "team")).status);
      assert.ok(team.every((s) => s === 200));
      const first = await pull(policy, "grace");
      assert.equal(first.status, 200);
      assert.equal(header(first.headers, "ratelimit"), '"personal";r=9;t=6');
      assert.equal(header(first.headers, "ratelimit-policy"), '"personal";q=10;w=60');
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.team.allowed"), 12n);
    });

    it("should refuse a manifest GET without identity or with an unknown plan (fail closed)", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const refused: Record<string, string>[] = [{}, { "x-hub-user": "ivan" }, identity("ivan", "gold"), identity("x".repeat(256))];
      for (const headers of refused) {
        const result = await policy.send("GET", "/v2/ivan/app/manifests/1", headers);
        assert.equal(result.status, 403);
        assert.equal(registryError(result.body).code, "DENIED");
      }
      assert.equal(policy.seen.length, 0);
      assert.equal(policy.chain.getMetric("image_hub.rate_limit.denied"), 4n);
    });

    it("should keep shared data bounded with many distinct users", async () => {
      const config = { ...exampleConfigs()["rate-limit"], shards: 4, maxUsersPerShard: 8 };
      const policy = await startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": JSON.stringify(config) } });
      for (let i = 0; i < 400; i++) assert.equal((await pull(policy, `user${i}`)).status, 200);
      let total = 0;
      for (let shard = 0; shard < 4; shard++) {
        const entry = policy.chain.runtime.getSharedData("", `image-hub.rate-limit.shard.${shard}`);
        assert.ok(entry, `shard ${shard} exists`);
        const users = shardUsers(entry.value);
        assert.ok(users.length <= 8, `shard ${shard} holds ${users.length}`);
        total += users.length;
      }
      assert.ok(total <= 32);
      // Once every bucket is full again, the next write of a shard drops them all but the writer.
      policy.chain.advanceTime(60_000);
      await pull(policy, "user0");
      const shards = [0, 1, 2, 3].map((s) => shardUsers(policy.chain.runtime.getSharedData("", `image-hub.rate-limit.shard.${s}`)!.value));
      assert.deepEqual(shards.find((users) => users.includes("user0")), ["user0"]);
    });

    describe("compare-and-swap", () => {
      /** Makes the next `times` guest reads of a shard be followed by a rival worker's pull of `user`. */
      function rivalAfterReads(policy: PolicyHarness, user: string, times: number): { rivalPulls: () => number } {
        const runtime = policy.chain.runtime;
        const original = runtime.getSharedData.bind(runtime);
        let left = times;
        let pulls = 0;
        runtime.getSharedData = (vmId: string, key: string) => {
          const entry = original(vmId, key);
          if (left > 0 && entry && key.startsWith("image-hub.rate-limit.shard.") && shardUsers(entry.value).includes(user)) {
            left--;
            pulls++;
            // The rival spends one of the user's tokens between this read and the guest's write.
            runtime.setSharedData(vmId, key, spendOne(entry.value, user), 0);
          }
          return entry;
        };
        return { rivalPulls: () => pulls };
      }

      it("should retry a write that lost the race and count the rival's pulls too", async () => {
        const policy = await startPolicy({ only, debug: build.debug, workers: 2 });
        assert.equal((await pull(policy, "kim")).status, 200);
        const rival = rivalAfterReads(policy, "kim", 3);
        const contended = await pull(policy, "kim");
        assert.equal(contended.status, 200);
        assert.equal(rival.rivalPulls(), 3);
        assert.equal(policy.chain.getMetric("image_hub.rate_limit.cas_retries"), 3n);
        // 10 - 1 (first pull) - 3 (rival) - 1 (this pull) tokens are left.
        assert.equal(header(contended.headers, "ratelimit"), '"personal";r=5;t=30');
        const rest = [];
        for (let i = 0; i < 6; i++) rest.push((await pull(policy, "kim")).status);
        assert.deepEqual(rest, [200, 200, 200, 200, 200, 429]);
      });

      it("should fail closed with Retry-After: 1 after casRetries lost races, consuming nothing", async () => {
        const config = { ...exampleConfigs()["rate-limit"], casRetries: 4 };
        const policy = await startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": JSON.stringify(config) } });
        assert.equal((await pull(policy, "lena")).status, 200);
        const rival = rivalAfterReads(policy, "lena", 4);
        const result = await pull(policy, "lena");
        assert.equal(result.status, 429);
        assert.equal(header(result.headers, "retry-after"), "1");
        assert.equal(header(result.headers, "ratelimit"), '"personal";r=0;t=1');
        assert.equal(rival.rivalPulls(), 4);
        assert.equal(policy.chain.getMetric("image_hub.rate_limit.cas_exhausted"), 1n);
        assert.equal(result.logs[0]?.message, "rate-limit: shared data unavailable or contended; refusing with Retry-After: 1");
        // 10 - 1 - 4 rival pulls leave exactly 5.
        const rest = [];
        for (let i = 0; i < 6; i++) rest.push((await pull(policy, "lena")).status);
        assert.deepEqual(rest, [200, 200, 200, 200, 200, 429]);
      });
    });

    describe("configuration", () => {
      const base = exampleConfigs()["rate-limit"];
      const bad: [string, unknown, string][] = [
        ["a zero limit", { ...base, plans: [{ id: "personal", pullsPerWindow: 0 }] }, "rate-limit: config.plans[0].pullsPerWindow: expected an integer from 1 to 1000000000"],
        ["a missing window", { ...base, windowSeconds: undefined }, "rate-limit: config.windowSeconds: required field is missing"],
        ["a fractional shard count", { ...base, shards: 1.5 }, "rate-limit: config.shards: expected an integer from 1 to 65536"],
        ["a plan that is not an object", { ...base, plans: ["personal"] }, "rate-limit: config.plans[0]: expected an object"],
        ["an unknown field", { ...base, burst: 5 }, "rate-limit: config.burst: unknown field"],
        ["an empty plan list", { ...base, plans: [] }, "rate-limit: config.plans: expected at least one plan"],
        ["a bad id", { ...base, plans: [{ id: "Gold Plan", pullsPerWindow: 5 }] }, "rate-limit: config.plans[0].id: expected 1-64 characters of [a-z0-9-] starting with a letter"],
        ["a duplicate id", { ...base, plans: [base.plans[0], base.plans[0]] }, "rate-limit: config.plans[1].id: duplicate plan id"],
      ];
      for (const [name, config, line] of bad) {
        it(`should refuse ${name} with one critical line naming the field`, async () => {
          await assert.rejects(startPolicy({ only, debug: build.debug, configOverride: { "rate-limit": JSON.stringify(config) } }), (err: unknown) => {
            assert.ok(err instanceof ChainStartError);
            const critical = err.logs.filter((l) => l.level === "critical");
            assert.equal(critical.length, 1);
            assert.ok(critical[0]!.message.startsWith(line), critical[0]!.message);
            return true;
          });
        });
      }
    });
  });
}
