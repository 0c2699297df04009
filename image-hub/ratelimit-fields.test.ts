// The quota fields every enforcer sends and the UI reads (ratelimit-fields.ts): their exact text, and a
// parser that takes what the draft allows and ignores anything malformed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQuotaFields, policyField, quotaFieldPairs, rateLimitField } from "./ratelimit-fields.ts";

const fields = (policy: string | undefined, rateLimit: string | undefined) => parseQuotaFields((name) => ({ "ratelimit-policy": policy, ratelimit: rateLimit })[name]);

describe("RateLimit-Policy and RateLimit", () => {
  it("should write the plan as an sf-string with q, w, r and t as integers", () => {
    assert.equal(policyField("free", 10, 60), '"free";q=10;w=60');
    assert.equal(rateLimitField("free", 7, 18), '"free";r=7;t=18');
    const state = { limit: 10, remaining: 0, resetSeconds: 60, windowSeconds: 60 };
    assert.deepEqual(quotaFieldPairs("personal", state), [["ratelimit-policy", '"personal";q=10;w=60'], ["ratelimit", '"personal";r=0;t=60']]);
    // A 429 passes its Retry-After, which t then carries.
    assert.deepEqual(quotaFieldPairs("personal", state, 6)[1], ["ratelimit", '"personal";r=0;t=6']);
  });

  it("should refuse to write what an sf-string or integer cannot carry", () => {
    assert.throws(() => policyField("caf\u00e9", 10, 60));
    assert.throws(() => rateLimitField("free", 1.5, 3), RangeError);
    assert.throws(() => rateLimitField("free", 1, -3), RangeError);
    assert.throws(() => policyField("free", 10, 0), RangeError);
  });

  it("should read back what it writes, and the draft's other shapes", () => {
    const ok: [string, string | undefined, string | undefined, object][] = [
      ["our own fields", '"free";q=10;w=60', '"free";r=7;t=18', { policy: "free", limit: 10, windowSeconds: 60, remaining: 7, resetSeconds: 18 }],
      ["no t and no w (both optional)", '"free";q=10', '"free";r=7', { policy: "free", limit: 10, windowSeconds: 0, remaining: 7, resetSeconds: 0 }],
      ["unknown parameters, spaces after the semicolons", '"free"; q=10; w=60; acme-burst=5', '"free";r=7;t=18;acme-x=?1', { policy: "free", limit: 10, windowSeconds: 60, remaining: 7, resetSeconds: 18 }],
      ["several policies, the RateLimit member matched by name", '"burst";q=100;w=60, "daily";q=1000;w=86400', '"daily";r=5;t=30, "burst";r=50;t=9', { policy: "burst", limit: 100, windowSeconds: 60, remaining: 50, resetSeconds: 9 }],
      ["fields split over two lines, joined with a comma", '"a";q=1;w=1, "free";q=10;w=60', '"free";r=7;t=18', { policy: "a", limit: 1, windowSeconds: 1, remaining: 0, resetSeconds: 0 }],
    ];
    for (const [name, policy, rateLimit, want] of ok.slice(0, 4)) assert.deepEqual(fields(policy, rateLimit), want, name);
    // The first policy has no RateLimit member: nothing can be said about it.
    assert.equal(fields(ok[4]![1], ok[4]![2]), null);
  });

  it("should ignore malformed or missing fields (the draft: MUST be ignored) and never throw", () => {
    const bad: [string, string | undefined, string | undefined][] = [
      ["no fields", undefined, undefined],
      ["no RateLimit", '"free";q=10;w=60', undefined],
      ["no RateLimit-Policy", undefined, '"free";r=7;t=18'],
      ["the obsolete draft-06 form", "10;w=60", "7"],
      ["a token name where the draft wants a string", "free;q=10;w=60", "free;r=7;t=18"],
      ["no q", '"free";w=60', '"free";r=7;t=18'],
      ["no r", '"free";q=10;w=60', '"free";t=18'],
      ["a negative r", '"free";q=10;w=60', '"free";r=-1;t=18'],
      ["a string t", '"free";q=10;w=60', '"free";r=7;t="18"'],
      ["a boolean w", '"free";q=10;w', '"free";r=7;t=18'],
      ["names that do not match", '"free";q=10;w=60', '"team";r=7;t=18'],
      ["an unterminated string", '"free;q=10;w=60', '"free";r=7;t=18'],
      ["trailing garbage", '"free";q=10;w=60', '"free";r=7;t=18 x'],
      ["an integer past 15 digits", '"free";q=1000000000000000;w=60', '"free";r=7;t=18'],
    ];
    for (const [name, policy, rateLimit] of bad) assert.equal(fields(policy, rateLimit), null, name);
  });
});
