// Property-based fuzzing of each policy filter (and the chain) in the emulator: random methods,
// paths, headers and tokens — including tokens correctly signed over random JSON, so the claim
// checks see hostile input too. Nothing may trap, and every answer must be a pass to the upstream
// or a well-formed registry error from one of the policy filters.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type PolicyFilterName } from "../../image-hub/filter-configs.ts";
import { BUILDS, registryError, startPolicy, type PolicyHarness } from "./emulator.ts";
import { mintToken, rawToken } from "./tokens.ts";

const EXPECTED: Record<number, string[]> = {
  400: ["NAME_INVALID"],
  401: ["UNAUTHORIZED"],
  403: ["DENIED"],
  404: ["UNSUPPORTED"],
  413: ["SIZE_INVALID"],
  429: ["TOOMANYREQUESTS"],
};

const segment = fc.oneof(
  fc.constantFrom("alice", "app", "bob", "manifests", "blobs", "uploads", "tags", "list", "_catalog", "latest", "sha256:ab", "..", ".", "", "%2f", "%", "A", "a-b", "a__b", "-", "v2", "é", "a\u0000b"),
  fc.string({ maxLength: 12 }),
);
const path = fc.oneof(
  { arbitrary: fc.constantFrom("/v2/alice/app/manifests/latest", "/v2/alice/app/manifests/sha256:ab"), weight: 2 },
  fc.array(segment, { maxLength: 8 }).map((parts) => `/v2/${parts.join("/")}`),
  fc.tuple(fc.array(segment, { maxLength: 5 }), fc.string({ maxLength: 30 })).map(([parts, query]) => `/v2/${parts.join("/")}/blobs/uploads/?${query}`),
  fc.constantFrom("/v2", "/v2/", "/v2/_quota", "/", "/api/token", "/v2/alice/app/blobs/uploads/?mount=sha256:1&from=bob%2Flib", "/v2/alice/app/blobs/uploads/?from=%zz&mount="),
  fc.string({ maxLength: 60 }).map((s) => `/${s}`),
);
const method = fc.oneof({ arbitrary: fc.constant("GET"), weight: 3 }, fc.constantFrom("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"), fc.stringMatching(/^[A-Z]{1,8}$/));

/** Tokens from "valid" through "subtly broken" to "random bytes". */
function tokenArbitrary(now: number): fc.Arbitrary<string> {
  const valid = mintToken({ now, plan: "team", access: [{ name: "alice/app", actions: ["pull", "push", "delete"] }] });
  return fc.oneof(
    fc.constant(valid),
    fc.tuple(fc.nat({ max: valid.length - 1 }), fc.constantFrom("A", "-", "_", ".", "=", "+", "/", " ")).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 })).map(([h, p]) => rawToken(JSON.stringify(h), JSON.stringify(p))),
    fc.record({ alg: fc.constant("HS256"), kid: fc.constant("demo-2026-a") }).chain((h) =>
      fc
        .record(
          {
            iss: fc.oneof(fc.constant("image-hub"), fc.string()),
            aud: fc.oneof(fc.constant("image-hub-registry"), fc.array(fc.string()), fc.integer()),
            sub: fc.oneof(fc.constant("alice"), fc.string({ maxLength: 300 })),
            plan: fc.oneof(fc.constantFrom("personal", "team", "enterprise"), fc.string()),
            exp: fc.oneof(fc.constant(now + 300), fc.double(), fc.string()),
            nbf: fc.oneof(fc.constant(now), fc.double()),
            access: fc.oneof(
              fc.array(fc.record({ type: fc.constantFrom("repository", "registry", ""), name: fc.oneof(segment, fc.constant("alice/app")), actions: fc.array(fc.oneof(fc.constantFrom("pull", "push", "delete", "*"), fc.integer())) }), { maxLength: 4 }),
              fc.jsonValue({ maxDepth: 3 }),
            ),
          },
          { requiredKeys: [] },
        )
        .map((claims) => rawToken(JSON.stringify(h), JSON.stringify(claims))),
    ),
    fc.array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(".")),
    fc.string({ maxLength: 200 }),
  );
}

function headersArbitrary(now: number): fc.Arbitrary<Record<string, string>> {
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    { arbitrary: fc.constantFrom("personal", "team", "alice", "repository:alice/app:pull,push,delete"), weight: 3 },
  );
  return fc.record(
    {
      authorization: fc.oneof(tokenArbitrary(now).map((t) => `Bearer ${t}`), fc.string({ maxLength: 40 }), fc.constant("Bearer")),
      "x-hub-user": value,
      "x-hub-plan": value,
      "x-hub-access": value,
      "content-length": fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 }), fc.constant("99999999999999999999999")),
      "content-range": fc.oneof(fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}-${b}`), fc.string({ maxLength: 20 })),
      "x-other": fc.string({ maxLength: 40 }),
    },
    { requiredKeys: [] },
  );
}

/** Header values a real HTTP client can send: no CR, LF or NUL (the HTTP codec refuses those first). */
function sendable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace(/[\r\n\0]/g, "")]));
}

async function fuzz(policy: PolicyHarness, filters: readonly PolicyFilterName[], label: string): Promise<void> {
  const now = policy.nowSeconds();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(method, path, headersArbitrary(now), fc.option(fc.string({ maxLength: 64 }), { nil: undefined }), async (m, p, h, body) => {
      const result = await policy.send(m, p, sendable(h), body);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      if (result.status === 200 && result.localReply) {
        // The one 200 a filter answers itself: rate-limit's read-only quota for GET /v2/_quota.
        assert.equal(result.localReply.filter, "rate-limit");
        assert.equal(m, "GET");
        assert.match(p, /^\/v2\/_quota(\?|#|$)/);
        assert.deepEqual(Object.keys(JSON.parse(result.body)), ["plan", "limit", "used", "remaining", "resetSeconds", "windowSeconds", "usedResetSeconds"]);
        return;
      }
      if (result.status === 200) {
        assert.ok(result.upstreamRequest, "200 must come from the upstream");
        return;
      }
      assert.ok(EXPECTED[result.status], `unexpected status ${result.status} (${result.details})`);
      assert.ok(result.localReply && filters.includes(result.localReply.filter as PolicyFilterName), `reply from ${result.localReply?.filter}`);
      assert.equal(result.upstreamRequest, undefined);
      assert.equal(result.headers.find(([n]) => n === "content-type")?.[1], "application/json");
      const error = registryError(result.body);
      assert.ok(EXPECTED[result.status]!.includes(error.code), `${result.status} with ${error.code}`);
    }),
    { numRuns: 150, interruptAfterTimeLimit: 15_000, seed: 20261125 + label.length },
  );
  // The inputs reached both outcomes: some passed, some were refused.
  assert.ok((statuses.get(200) ?? 0) > 0 && statuses.size >= 2, `statuses seen: ${JSON.stringify([...statuses])}`);
  if (process.env.FUZZ_REPORT) console.log(label, JSON.stringify([...statuses].sort()));
  // No VM of any filter may have failed along the way.
  for (const plugin of policy.chain.plugins) for (const vm of plugin.vms) assert.equal(vm.failed, false);
  assert.equal(policy.chain.getLogs("critical").length, 0);
}

const targets: { label: string; only: readonly PolicyFilterName[] }[] = [
  { label: "token-auth", only: ["token-auth"] },
  { label: "plan-enforcement", only: ["plan-enforcement"] },
  { label: "rate-limit", only: ["rate-limit"] },
  { label: "the chain", only: ["token-auth", "plan-enforcement", "rate-limit"] },
];

for (const build of BUILDS) {
  describe(`fuzzing the policy filters (${build.label})`, () => {
    for (const target of targets) {
      it(`should never trap and always answer well-formed: ${target.label}`, async () => {
        const policy = await startPolicy({ only: target.only, debug: build.debug, workers: 2 });
        await fuzz(policy, target.only, target.label);
      });
    }
  });
}
