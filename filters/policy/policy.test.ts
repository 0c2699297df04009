// The composed policy module (token-auth → plan-enforcement → rate-limit in one module) against the
// three separate modules, in the emulator (release and debug builds): every request of a table gets
// the same status, headers, body and upstream request, the same log lines and metrics; a request
// paused for the plan lookup resumes with the next filter; configuration errors name the same field.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ChainStartError, createChain, type CalloutOutcome, type ChainResult } from "proxy-wasm-host-emulator";
import { exampleComposedConfigText, exampleConfigs, PLAN_LOOKUP_PATH } from "../../image-hub/filter-configs.ts";
import { equivalenceSteps } from "../../test/policy/cases.ts";
import { BUILDS, header, startPolicy, type PolicyHarness, type StartPolicyOptions } from "../../test/policy/emulator.ts";
import { mintToken } from "../../test/policy/tokens.ts";

/** What the client and the upstream saw, and what the filters logged. */
function observed(r: ChainResult) {
  return {
    status: r.status,
    // The emulator times the upstream with the real clock.
    headers: r.headers.filter(([n]) => n !== "x-envoy-upstream-service-time"),
    body: r.body,
    // x-request-id is random per request by nature.
    upstream: r.upstreamRequest && { method: r.upstreamRequest.method, path: r.upstreamRequest.path, headers: r.upstreamRequest.headers.filter(([n]) => n !== "x-request-id") },
    logs: r.logs.map((l) => `${l.level} ${l.message}`),
  };
}

const METRICS = [
  "image_hub.token_auth.allowed",
  "image_hub.token_auth.denied",
  "image_hub.token_auth.team.allowed",
  "image_hub.plan_enforcement.personal.allowed",
  "image_hub.plan_enforcement.personal.denied",
  "image_hub.plan_enforcement.personal.too_large",
  "image_hub.plan_enforcement.invalid",
  "image_hub.rate_limit.personal.allowed",
  "image_hub.rate_limit.personal.limited",
  "image_hub.rate_limit.denied",
];

/** The same chain twice: three modules, and the composed one. */
async function both(options: StartPolicyOptions): Promise<[PolicyHarness, PolicyHarness]> {
  return [await startPolicy(options), await startPolicy({ ...options, composed: true })];
}

const SECRET = "emulator-sidecar-secret";
const lookupConfig = () =>
  JSON.stringify({
    ...exampleConfigs()["token-auth"],
    planLookup: { cluster: "access", authority: "access", path: PLAN_LOOKUP_PATH, secret: SECRET, ttlMs: 1000, timeoutMs: 500, slots: 8 },
  });

describe("policy: config.example.json", () => {
  it("should be current (generated from image-hub/plans.json) and accepted by the module", async () => {
    const text = readFileSync("filters/policy/config.example.json", "utf8");
    assert.equal(text, exampleComposedConfigText());
    const chain = await createChain({ filters: [{ name: "policy", rootId: "policy", wasm: readFileSync("build/filters/policy.wasm"), pluginConfig: text }] });
    const r = await chain.exchange({ method: "GET", path: "/v2/alice/app/manifests/latest" }, () => ({ status: 200 }));
    assert.equal(r.status, 401);
    assert.equal(r.upstreamRequest, undefined);
  });
});

for (const build of BUILDS) {
  describe(`policy: three filters in one module (${build.label})`, () => {
    it("should answer every request exactly as the three separate modules do", async () => {
      const [separate, composed] = await both({ debug: build.debug });
      for (const step of equivalenceSteps(separate.nowSeconds())) {
        const a = await separate.send(step.method, step.path, step.headers, step.body);
        const b = await composed.send(step.method, step.path, step.headers, step.body);
        assert.deepEqual(observed(b), observed(a), step.name);
      }
      assert.equal(composed.seen.length, separate.seen.length);
      for (const name of METRICS) assert.equal(composed.chain.getMetric(name), separate.chain.getMetric(name), name);
      // The table exercised every filter's refusals and passes (so the comparison compared something).
      assert.ok(separate.chain.getMetric("image_hub.rate_limit.personal.limited")! >= 2n);
      assert.ok(separate.chain.getMetric("image_hub.plan_enforcement.personal.too_large")! >= 1n);
    });

    it("should resume a request paused for the plan lookup with plan-enforcement and rate-limit, then the upstream", async () => {
      let answer: CalloutOutcome = { status: 200, headers: [["content-type", "text/plain"]], body: "team" };
      const handler = () => answer;
      const [separate, composed] = await both({ debug: build.debug, configOverride: { "token-auth": lookupConfig() }, clusters: { access: handler } });
      const now = separate.nowSeconds();
      const auth = (sub: string, actions: string[]) => ({ authorization: `Bearer ${mintToken({ now, sub, plan: "personal", access: [{ name: `${sub}/app`, actions }] })}` });
      const run = async (method: string, path: string, headers: Record<string, string>) => {
        const a = await separate.send(method, path, headers);
        const b = await composed.send(method, path, headers);
        assert.deepEqual(observed(b), observed(a), `${method} ${path}`);
        return b;
      };
      // Looked up (paused, resumed), then from the cache: the plan is the confirmed one, and rate-limit ran after the resume.
      for (let i = 0; i < 2; i++) {
        const r = await run("GET", "/v2/alice/app/manifests/v1", auth("alice", ["pull"]));
        assert.equal(r.status, 200);
        assert.equal(header(r.upstreamRequest!.headers, "x-hub-plan"), "team");
        assert.equal(header(r.headers, "ratelimit-policy"), '"team";q=100;w=60');
        assert.equal(header(r.headers, "ratelimit"), `"team";r=${99 - i};t=${i + 1}`);
      }
      // Resumed into a refusal by plan-enforcement: the confirmed plan forbids delete.
      answer = { status: 200, body: "personal" };
      const denied = await run("DELETE", "/v2/bob/app/manifests/v1", auth("bob", ["pull", "push", "delete"]));
      assert.equal(denied.status, 403);
      // Access down past the TTL: 503, never the token's claim.
      answer = { status: 503 };
      separate.chain.advanceTime(1000);
      composed.chain.advanceTime(1000);
      const down = await run("GET", "/v2/alice/app/manifests/v1", auth("alice", ["pull"]));
      assert.equal(down.status, 503);
      assert.equal(down.upstreamRequest, undefined);
      for (const name of [...METRICS, "image_hub.token_auth.plan_lookups", "image_hub.token_auth.plan_lookup_failures", "image_hub.plan_enforcement.team.allowed", "image_hub.rate_limit.team.allowed"]) {
        assert.equal(composed.chain.getMetric(name), separate.chain.getMetric(name), name);
      }
      assert.equal(composed.chain.getMetric("image_hub.rate_limit.team.allowed"), 2n);
    });

    it("should refuse a bad configuration with the filter's own error naming the field", async () => {
      /** The critical lines logged while the configuration was refused. */
      const refusal = async (options: StartPolicyOptions): Promise<string[]> => {
        const error = await startPolicy(options).then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.ok(error instanceof ChainStartError, "the configuration was refused");
        return error.logs.filter((l) => l.level === "critical").map((l) => l.message);
      };
      const badPlans = JSON.stringify({ ...exampleConfigs()["rate-limit"], plans: [] });
      for (const configOverride of [{ "rate-limit": badPlans }, { "token-auth": "{not json" }]) {
        const separate = await refusal({ debug: build.debug, configOverride });
        assert.equal(separate.length, 1);
        assert.match(separate[0]!, /^(token-auth|rate-limit): config/);
        assert.deepEqual(await refusal({ debug: build.debug, configOverride, composed: true }), separate);
      }
    });

    it("should refuse a configuration key that names no filter of the module", async () => {
      const error = await createChain({
        filters: [{ name: "policy", rootId: "policy", wasm: readFileSync(`build/filters/policy${build.debug ? ".debug" : ""}.wasm`), pluginConfig: JSON.stringify({ "rate-limits": {} }) }],
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(error instanceof ChainStartError);
      assert.deepEqual(
        error.logs.filter((l) => l.level === "critical").map((l) => l.message),
        ["policy: config.rate-limits: not a filter of this module (expected one of: token-auth, plan-enforcement, rate-limit)"],
      );
    });

    it("should keep the composed module's linear memory flat over 2,000 allowed pulls", async () => {
      const policy = await startPolicy({ debug: build.debug, composed: true });
      const token = mintToken({ now: policy.nowSeconds(), plan: "enterprise", lifetimeSeconds: 3000 });
      for (let i = 0; i < 200; i++) await policy.send("GET", "/v2/alice/app/manifests/latest", { authorization: `Bearer ${token}` });
      const warm = policy.chain.memoryPages(0, 0);
      for (let i = 0; i < 2000; i++) {
        const result = await policy.send("GET", `/v2/alice/app/manifests/v${i % 7}`, { authorization: `Bearer ${token}` });
        assert.equal(result.status, 200);
        policy.chain.advanceTime(100);
      }
      assert.ok(policy.chain.memoryPages(0, 0) - warm <= 1, `${warm} → ${policy.chain.memoryPages(0, 0)} pages`);
    });
  });
}
