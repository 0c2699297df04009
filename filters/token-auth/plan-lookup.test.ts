// token-auth's live plans (README "Live plans") in the emulator, 2 worker VMs: the plan passed on is
// the one the access cluster confirms, cached in shared data for ttlMs across workers; a lookup that
// fails is a 503 that never reaches the upstream, and never falls back to the token's claim.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChainStartError, type CalloutOutcome, type CalloutRequest } from "proxy-wasm-host-emulator";
import { exampleConfigs, PLAN_LOOKUP_PATH } from "../../image-hub/filter-configs.ts";
import { BUILDS, header, registryError, startPolicy } from "../../test/policy/emulator.ts";
import { mintToken } from "../../test/policy/tokens.ts";

const only = ["token-auth"] as const;
const SECRET = "emulator-sidecar-secret";
const lookup = { cluster: "access", authority: "access", path: PLAN_LOOKUP_PATH, secret: SECRET, ttlMs: 1000, timeoutMs: 500, slots: 8 };
const config = (extra: Record<string, unknown> = {}) => JSON.stringify({ ...exampleConfigs()["token-auth"], planLookup: { ...lookup, ...extra } });

/** An access cluster whose answers the test sets; records every lookup it receives. */
function accessCluster(answer: (user: string) => CalloutOutcome) {
  const asked: CalloutRequest[] = [];
  const handler = (request: CalloutRequest) => {
    asked.push(request);
    return answer(request.headers.find(([n]) => n === "x-hub-user")?.[1] ?? "");
  };
  return { asked, handler };
}

for (const build of BUILDS) {
  describe(`token-auth plan lookup (${build.label})`, () => {
    it("should pass the confirmed plan, not the token's claim, and ask again only after the TTL", async () => {
      const plans: Record<string, string> = { alice: "team" };
      const access = accessCluster((user) => (plans[user] ? { status: 200, headers: [["content-type", "text/plain"]], body: plans[user] } : { status: 404 }));
      const policy = await startPolicy({ only, debug: build.debug, workers: 2, configOverride: { "token-auth": config() }, clusters: { access: access.handler } });
      const auth = { authorization: `Bearer ${mintToken({ now: policy.nowSeconds(), plan: "personal" })}` };
      const planSeen = async () => {
        const r = await policy.send("GET", "/v2/alice/app/manifests/v1", auth);
        assert.equal(r.status, 200, r.body);
        return header(r.upstreamRequest!.headers, "x-hub-plan");
      };
      // Four requests over both workers: one lookup, the rest from the shared cache.
      assert.deepEqual([await planSeen(), await planSeen(), await planSeen(), await planSeen()], ["team", "team", "team", "team"]);
      assert.equal(access.asked.length, 1);
      assert.deepEqual(access.asked[0]!.headers.filter(([n]) => n !== "content-length"), [
        [":method", "GET"],
        [":path", PLAN_LOOKUP_PATH],
        [":authority", "access"],
        ["x-hub-sidecar", SECRET],
        ["x-hub-user", "alice"],
      ]);
      // A downgrade is seen once the confirmed answer is ttlMs old, not before.
      plans.alice = "personal";
      policy.chain.advanceTime(999);
      assert.equal(await planSeen(), "team");
      policy.chain.advanceTime(1);
      assert.equal(await planSeen(), "personal");
      assert.equal(access.asked.length, 2);
      assert.equal(policy.chain.getMetric("image_hub.token_auth.plan_lookups"), 2n);
    });

    it("should keep up to four users per shared-data key, so users sharing a key do not evict each other", async () => {
      const access = accessCluster((user) => ({ status: 200, body: user === "u0" ? "team" : "personal" }));
      const policy = await startPolicy({ only, debug: build.debug, workers: 2, configOverride: { "token-auth": config({ slots: 1 }) }, clusters: { access: access.handler } });
      const now = policy.nowSeconds();
      const users = ["u0", "u1", "u2", "u3"];
      for (let round = 0; round < 3; round++) {
        for (const user of users) {
          const r = await policy.send("GET", `/v2/${user}/app/manifests/v1`, { authorization: `Bearer ${mintToken({ now, sub: user, access: [{ name: `${user}/app`, actions: ["pull"] }] })}` });
          assert.equal(r.status, 200);
          assert.equal(header(r.upstreamRequest!.headers, "x-hub-plan"), user === "u0" ? "team" : "personal");
        }
      }
      // One lookup per user: the three later rounds were all answered from the one shared key.
      assert.deepEqual(access.asked.map((a) => a.headers.find(([n]) => n === "x-hub-user")?.[1]), users);
    });

    it("should fail closed (503, Retry-After: 1) when the plan cannot be confirmed, and 401 for a user that is gone", async () => {
      let outcome: CalloutOutcome = { status: 200, body: "team" };
      const access = accessCluster((user) => (user === "gone" ? { status: 404 } : outcome));
      const policy = await startPolicy({ only, debug: build.debug, workers: 2, configOverride: { "token-auth": config() }, clusters: { access: access.handler } });
      const now = policy.nowSeconds();
      const auth = { authorization: `Bearer ${mintToken({ now, plan: "enterprise" })}` };
      assert.equal((await policy.send("GET", "/v2/alice/app/manifests/v1", auth)).status, 200);
      const failures: [string, CalloutOutcome][] = [
        ["a 500", { status: 500, body: "team" }],
        ["a reset", { reset: true }],
        ["a failed call", { failure: true }],
        ["a body that is not a plan id", { status: 200, body: "Team!" }],
        ["an empty body", { status: 200, body: "" }],
      ];
      for (const [name, failure] of failures) {
        outcome = failure;
        // Past the TTL of the last confirmation: the confirmed Team plan is not used any more.
        policy.chain.advanceTime(1000);
        const r = await policy.send("GET", "/v2/alice/app/manifests/v1", auth);
        assert.equal(r.status, 503, name);
        assert.equal(header(r.headers, "retry-after"), "1", name);
        assert.deepEqual(registryError(r.body), { code: "UNAVAILABLE", message: "current plan could not be confirmed", detail: null }, name);
        assert.equal(r.localReply?.details, "token_auth_plan_unavailable", name);
        assert.equal(r.logs.at(-1)?.message, "token-auth: 503: plan lookup failed", name);
        assert.equal(r.upstreamRequest, undefined, name);
      }
      const gone = await policy.send("GET", "/v2/gone/app/manifests/v1", { authorization: `Bearer ${mintToken({ now, sub: "gone" })}` });
      assert.equal(gone.status, 401);
      assert.equal(registryError(gone.body).code, "UNAUTHORIZED");
      assert.equal(gone.logs.at(-1)?.message, "token-auth: 401: user gone no longer exists");
      assert.equal(policy.seen.length, 1);
      assert.equal(policy.chain.getMetric("image_hub.token_auth.plan_lookup_failures"), BigInt(failures.length));
      assert.equal(policy.chain.getMetric("image_hub.token_auth.plan_lookups"), BigInt(failures.length + 2));
    });

    it("should time out a lookup that never answers and refuse the request", async () => {
      const policy = await startPolicy({ only, debug: build.debug, configOverride: { "token-auth": config() }, clusters: { access: () => new Promise<CalloutOutcome>(() => undefined) } });
      const pending = policy.send("GET", "/v2/alice/app/manifests/v1", { authorization: `Bearer ${mintToken({ now: policy.nowSeconds() })}` });
      await new Promise((wait) => setImmediate(wait));
      policy.chain.advanceTime(500);
      const r = await pending;
      assert.equal(r.status, 503);
      assert.equal(policy.seen.length, 0);
    });

    const bad: [string, string, string][] = [
      ["a TTL over a second", config({ ttlMs: 5000 }), "token-auth: config.planLookup.ttlMs: expected an integer from 0 to 1000"],
      ["an empty secret", config({ secret: "" }), "token-auth: config.planLookup.secret: expected a non-empty string"],
      ["an unknown lookup field", config({ retries: 2 }), "token-auth: config.planLookup.retries: unknown field"],
    ];
    for (const [name, text, line] of bad) {
      it(`should refuse ${name} with one critical line naming the field`, async () => {
        await assert.rejects(startPolicy({ only, debug: build.debug, configOverride: { "token-auth": text } }), (err: unknown) => {
          assert.ok(err instanceof ChainStartError);
          const critical = err.logs.filter((l) => l.level === "critical");
          assert.equal(critical.length, 1);
          assert.ok(critical[0]!.message.startsWith(line), critical[0]!.message);
          return true;
        });
      });
    }
  });
}
