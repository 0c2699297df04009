// image-hub/filter-configs.ts: configs derived from the plan catalog, parameter checks, and the
// committed config.example.json files being current.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  DEMO_SIGNING_KEYS,
  exampleConfigPath,
  exampleConfigText,
  generateSigningKey,
  planEnforcementConfig,
  policyFilterChain,
  POLICY_FILTERS,
  rateLimitConfig,
  tokenAuthConfig,
} from "../../image-hub/filter-configs.ts";

/** The catalog read raw, so the check does not go through the code under test. */
const raw = JSON.parse(readFileSync(new URL("../../image-hub/plans.json", import.meta.url), "utf8")) as {
  windowSeconds: number;
  plans: { id: string; pullsPerWindow: number; actions: string[]; maxBlobBytes: number }[];
};

describe("filter-configs", () => {
  for (const name of POLICY_FILTERS) {
    it(`should have a current ${name}/config.example.json (regenerate: tsx image-hub/filter-configs.ts --write-examples)`, () => {
      assert.equal(readFileSync(exampleConfigPath(name), "utf8"), exampleConfigText(name));
    });
  }

  it("should take every plan number from image-hub/plans.json", () => {
    const limits = rateLimitConfig();
    assert.equal(limits.windowSeconds, raw.windowSeconds);
    assert.deepEqual(limits.plans, raw.plans.map((p) => ({ id: p.id, pullsPerWindow: p.pullsPerWindow })));
    assert.deepEqual(planEnforcementConfig({ realm: "http://x/api/token" }).plans, raw.plans.map((p) => ({ id: p.id, actions: p.actions, maxBlobBytes: p.maxBlobBytes })));
  });

  it("should follow a changed catalog", () => {
    const catalog = { windowSeconds: 30, defaultPlan: "solo", plans: [{ id: "solo", name: "Solo", pullsPerWindow: 3, actions: ["pull" as const], maxBlobBytes: 7, privateRepositories: 0, priceUsdPerMonth: 0 }] };
    assert.deepEqual(rateLimitConfig(catalog).plans, [{ id: "solo", pullsPerWindow: 3 }]);
    assert.equal(rateLimitConfig(catalog).windowSeconds, 30);
    assert.deepEqual(planEnforcementConfig({ realm: "http://x/api/token" }, catalog).plans, [{ id: "solo", actions: ["pull"], maxBlobBytes: 7 }]);
  });

  it("should give plan-enforcement token-auth's realm and service, refusing bad ones naming the parameter", () => {
    const params = { realm: "https://hub.example/api/token", service: "hub.example" };
    const plan = planEnforcementConfig(params);
    const token = tokenAuthConfig(params);
    assert.deepEqual({ realm: plan.realm, service: plan.service }, { realm: token.realm, service: token.service });
    assert.equal(planEnforcementConfig({ realm: "http://x" }).service, "image-hub");
    assert.throws(() => planEnforcementConfig({ realm: 'http://x/"' }), /realm/);
    assert.throws(() => planEnforcementConfig({ realm: "http://x", service: "a b" }), /service/);
  });

  it("should build token-auth's config from runtime parameters and refuse bad ones naming the parameter", () => {
    const key = generateSigningKey("k1");
    assert.equal(Buffer.from(key.k, "base64url").length, 32);
    const config = tokenAuthConfig({ realm: "https://hub.example/api/token", keys: [key] });
    assert.deepEqual(config.keys, [{ kid: "k1", alg: "HS256", k: key.k }]);
    assert.equal(config.realm, "https://hub.example/api/token");
    assert.equal(config.service, "image-hub");
    assert.throws(() => tokenAuthConfig({ realm: 'http://x/"' }), /realm/);
    assert.throws(() => tokenAuthConfig({ realm: "http://x", keys: [] }), /keys must hold/);
    assert.throws(() => tokenAuthConfig({ realm: "http://x", keys: [{ kid: "a", k: "c2hvcnQ" }] }), /keys\[0\]\.k/);
    assert.throws(() => tokenAuthConfig({ realm: "http://x", keys: [{ kid: "a b", k: key.k }] }), /keys\[0\]\.kid/);
    assert.throws(() => tokenAuthConfig({ realm: "http://x", keys: [key, key] }), /unique/);
    assert.throws(() => tokenAuthConfig({ realm: "http://x", service: "a\"b" }), /service/);
  });

  it("should list the chain in CONTRACT.md order, or a subset for single-filter runs", () => {
    const chain = policyFilterChain({ realm: "http://127.0.0.1:8080/api/token" });
    assert.deepEqual(chain.map((f) => f.name), ["token-auth", "plan-enforcement", "rate-limit"]);
    // What each filter is installed with, in Envoy (configuration) and in the emulator (pluginConfig),
    // checked against the raw catalog rather than against the generator's other output.
    const expected: Record<string, Record<string, unknown>> = {
      "plan-enforcement": {
        realm: "http://127.0.0.1:8080/api/token",
        service: "image-hub",
        plans: raw.plans.map((p) => ({ id: p.id, actions: p.actions, maxBlobBytes: p.maxBlobBytes })),
      },
    };
    for (const f of chain) {
      assert.match(f.wasm, new RegExp(`build/filters/${f.name}\\.wasm$`));
      assert.equal(f.failurePolicy, "FAIL_CLOSED");
      for (const text of [f.configuration, f.pluginConfig]) {
        const config = JSON.parse(text) as Record<string, unknown>;
        if (f.name === "token-auth") assert.equal(config.realm, "http://127.0.0.1:8080/api/token");
        if (f.name === "rate-limit") {
          assert.equal(config.windowSeconds, raw.windowSeconds);
          assert.deepEqual(config.plans, raw.plans.map((p) => ({ id: p.id, pullsPerWindow: p.pullsPerWindow })));
        }
        if (expected[f.name]) assert.deepEqual(config, expected[f.name]);
      }
    }
    assert.deepEqual(JSON.parse(chain[0]!.configuration).keys.map((k: { kid: string }) => k.kid), DEMO_SIGNING_KEYS.map((k) => k.kid));
    const single = policyFilterChain({ realm: "http://x" }, { only: ["rate-limit"], debug: true });
    assert.equal(single.length, 1);
    assert.match(single[0]!.wasm, /rate-limit\.debug\.wasm$/);
  });
});
