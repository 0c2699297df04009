// token-auth alone in the emulator, against build/filters/token-auth.wasm and .debug.wasm.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChainStartError } from "proxy-wasm-host-emulator";
import { DEMO_SIGNING_KEYS, exampleConfigs } from "../../image-hub/filter-configs.ts";
import { answeredByTokenAuth, badInputCases, challengeFor } from "../../test/policy/cases.ts";
import { BUILDS, header, registryError, startPolicy } from "../../test/policy/emulator.ts";
import { mintToken, rawToken } from "../../test/policy/tokens.ts";

const only = ["token-auth"] as const;

for (const build of BUILDS) {
  describe(`token-auth (${build.label})`, () => {
    it("should answer 401 with the computed challenge to every bad token and reach no upstream", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const cases = badInputCases(policy.nowSeconds()).filter(answeredByTokenAuth);
      assert.ok(cases.length >= 20);
      for (const c of cases) {
        // Call onRequestHeaders through the chain.
        const result = await policy.send(c.method, c.path, c.headers);
        // Check the local response.
        assert.equal(result.status, 401, c.name);
        assert.equal(header(result.headers, "www-authenticate"), c.challenge, c.name);
        assert.deepEqual(registryError(result.body), { code: "UNAUTHORIZED", message: "authentication required", detail: null }, c.name);
        assert.equal(result.localReply?.details, "token_auth_unauthorized", c.name);
        // Check that the upstream was not reached and the reason was logged at debug level only.
        assert.equal(result.upstreamRequest, undefined, c.name);
        assert.equal(result.logs.length, 1, c.name);
        assert.match(result.logs[0]!.message, /^token-auth: 401: /, c.name);
      }
      assert.equal(policy.seen.length, 0);
      assert.equal(policy.chain.getMetric("image_hub.token_auth.denied"), BigInt(cases.length));
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed") ?? 0n, 0n);
    });

    it("should log why a token was refused", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const valid = mintToken({ now });
      const unsigned = valid.slice(0, valid.lastIndexOf(".") + 1);
      const kid = DEMO_SIGNING_KEYS[0].kid;
      // One row per reason the filter can reach from a request; the reasons are numbered texts in
      // one table (assembly/texts.ts), so this also checks the numbering from its first line to its last.
      const reasons: [string | null, string][] = [
        [null, "no bearer token"],
        ["a".repeat(5000), "token longer than maxTokenLength"],
        [mintToken({ now: now - 400 }), "expired"],
        [mintToken({ now, claims: { nbf: now + 100 } }), "not yet valid"],
        ["a.b.c.d", "more than three segments"],
        ["a.b.c!", "character outside base64url"],
        ["a.b", "fewer than three segments"],
        [mintToken({ now, header: { pad: "x".repeat(600) } }), "header segment too long"],
        [rawToken("[]", "{}"), "header is not a base64url JSON object"],
        [mintToken({ now, header: { alg: "none" } }), "alg is not HS256"],
        [mintToken({ now, header: { crit: ["exp"] } }), "crit header not supported"],
        [mintToken({ now, header: { typ: "JOSE" } }), "typ is not JWT"],
        [mintToken({ now, header: { kid: undefined } }), "kid missing"],
        [mintToken({ now, header: { kid: "old" } }), "unknown kid"],
        [unsigned + "AAAA", "signature length"],
        [unsigned + "A".repeat(42) + "B", "signature encoding"],
        [unsigned + "A".repeat(43), "bad signature"],
        [rawToken(JSON.stringify({ alg: "HS256", typ: "JWT", kid }), "[]"), "payload is not a base64url JSON object"],
        [mintToken({ now, claims: { iss: "x" } }), "wrong iss"],
        [mintToken({ now, claims: { aud: "x" } }), "wrong aud"],
        [mintToken({ now, claims: { exp: undefined } }), "exp missing"],
        [mintToken({ now, claims: { nbf: "soon" } }), "nbf not a number"],
        [mintToken({ now, claims: { iat: "now" } }), "iat not a number"],
        [mintToken({ now, sub: "a b" }), "sub missing or not a plain name"],
        [mintToken({ now, plan: "Team" }), "plan missing or malformed"],
        [mintToken({ now, claims: { access: undefined } }), "access missing"],
        [mintToken({ now, claims: { access: "all" } }), "access not an array"],
        [mintToken({ now, claims: { access: [1] } }), "access entry malformed"],
      ];
      for (const [token, reason] of reasons) {
        const result = await policy.send("GET", "/v2/", token === null ? {} : { authorization: `Bearer ${token}` });
        assert.equal(result.status, 401);
        assert.equal(result.logs[0]?.message, `token-auth: 401: ${reason}`);
        assert.equal(result.logs[0]?.level, "debug");
      }
    });

    it("should set the identity headers from the token and drop client-sent ones", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const token = mintToken({
        now: policy.nowSeconds(),
        sub: "alice",
        plan: "team",
        access: [
          { name: "alice/app", actions: ["push", "pull", "pull"] },
          { name: "bob/lib", actions: ["pull", "*"] },
          { name: "carol/x", actions: ["*"] },
        ],
        claims: { aud: ["other", "image-hub-registry"] },
      });
      const result = await policy.send("GET", "/v2/alice/app/tags/list", {
        authorization: `bearer ${token}`,
        "x-hub-user": "root",
        "x-hub-plan": "enterprise",
        "x-hub-access": "repository:alice/app:delete",
        "x-hub-sidecar": "forged",
      });
      assert.equal(result.status, 200);
      const headers = result.upstreamRequest!.headers;
      assert.deepEqual(
        headers.filter(([n]) => n.startsWith("x-hub-")),
        [
          ["x-hub-user", "alice"],
          ["x-hub-plan", "team"],
          ["x-hub-access", "repository:alice/app:pull,push repository:bob/lib:pull"],
        ],
      );
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed"), 1n);
      assert.equal(policy.chain.getMetric("image_hub.token_auth.team.allowed"), 1n);
    });

    it("should count allowed requests per plan for the first 16 plans only", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const plans = Array.from({ length: 18 }, (_, i) => `plan-${i}`);
      // Plan i is used i % 3 + 1 times, interleaved, so counters are found again after others were made.
      for (let round = 0; round < 3; round++) {
        for (const [i, plan] of plans.entries()) {
          if (round > i % 3) continue;
          const result = await policy.send("GET", "/v2/", { authorization: `Bearer ${mintToken({ now, sub: `u${i}`, plan })}` });
          assert.equal(result.status, 200, plan);
        }
      }
      for (const [i, plan] of plans.entries()) {
        assert.equal(policy.chain.getMetric(`image_hub.token_auth.${plan}.allowed`), i < 16 ? BigInt((i % 3) + 1) : undefined, plan);
      }
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed"), BigInt(plans.reduce((sum, _, i) => sum + (i % 3) + 1, 0)));
    });

    it("should list every combination of granted actions in pull, push, delete order", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const grants = [["delete", "pull"], ["push", "delete"], ["delete", "push", "pull", "delete"], ["delete"], ["push"], ["pull"], ["push", "pull"], ["tag"]];
      const token = mintToken({ now: policy.nowSeconds(), access: grants.map((actions, i) => ({ name: `r${i}`, actions })) });
      const result = await policy.send("GET", "/v2/", { authorization: `Bearer ${token}` });
      assert.equal(
        header(result.upstreamRequest!.headers, "x-hub-access"),
        "repository:r0:pull,delete repository:r1:push,delete repository:r2:pull,push,delete repository:r3:delete repository:r4:push repository:r5:pull repository:r6:pull,push",
      );
    });

    it("should leave exactly one verified value of each identity header when the client repeats them", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const token = mintToken({ now: policy.nowSeconds(), sub: "alice", plan: "team", access: [{ name: "alice/app", actions: ["pull"] }] });
      const forged: [string, string][] = [
        ["x-hub-access", "repository:evil/one:push"],
        ["x-hub-user", "mallory"],
        ["authorization", `Bearer ${token}`],
        ["x-hub-access", "repository:evil/two:push"],
        ["x-hub-user", "eve"],
        ["x-hub-plan", "enterprise"],
        ["x-hub-plan", "enterprise"],
      ];
      const result = await policy.chain.exchange({ method: "GET", path: "/v2/alice/app/manifests/v1", headers: forged }, () => ({ status: 200, headers: [], body: "" }));
      assert.equal(result.status, 200);
      assert.deepEqual(
        result.upstreamRequest!.headers.filter(([n]) => n.startsWith("x-hub-")),
        [
          ["x-hub-user", "alice"],
          ["x-hub-plan", "team"],
          ["x-hub-access", "repository:alice/app:pull"],
        ],
      );
    });

    it("should accept exp and nbf within the 30 s skew and refuse them just beyond it", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const statusFor = async (claims: Record<string, unknown>) =>
        (await policy.send("GET", "/v2/", { authorization: `Bearer ${mintToken({ now, claims })}` })).status;
      assert.equal(await statusFor({ exp: now - 29 }), 200);
      assert.equal(await statusFor({ exp: now - 30 }), 401);
      assert.equal(await statusFor({ nbf: now + 30 }), 200);
      assert.equal(await statusFor({ nbf: now + 31 }), 401);
      assert.equal(await statusFor({ exp: "soon" }), 401);
    });

    it("should refuse a signed token without an access claim or with a non-numeric iat (as app mode does)", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const send = (claims: Record<string, unknown>) => policy.send("GET", "/v2/", { authorization: `Bearer ${mintToken({ now, claims })}` });
      const missing = await send({ access: undefined });
      assert.equal(missing.status, 401);
      assert.equal(missing.logs[0]?.message, "token-auth: 401: access missing");
      assert.equal((await send({ access: [] })).status, 200, "an empty grant list is still a registry token");
      assert.equal((await send({ access: "all" })).status, 401);
      // Like exp and nbf, iat must be a NumericDate; its value is not checked.
      assert.equal((await send({ iat: "yesterday" })).status, 401);
      assert.equal((await send({ iat: now + 3600 })).status, 200);
      assert.equal(policy.seen.length, 2);
    });

    it("should re-check exp and nbf when the same token comes back (verified-token cache)", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const token = mintToken({ now, lifetimeSeconds: 60, claims: { nbf: now + 40 } });
      const status = async () => (await policy.send("GET", "/v2/", { authorization: `Bearer ${token}` })).status;
      // Not yet valid: refused, so nothing is remembered.
      assert.equal(await status(), 401);
      policy.chain.advanceTime(20_000);
      assert.equal(await status(), 200);
      assert.equal(await status(), 200);
      // exp = now + 60; with the 30 s skew the token dies at now + 90.
      policy.chain.advanceTime(69_000);
      assert.equal(await status(), 200);
      policy.chain.advanceTime(1_000);
      const expired = await policy.send("GET", "/v2/", { authorization: `Bearer ${token}` });
      assert.equal(expired.status, 401);
      assert.equal(expired.logs[0]?.message, "token-auth: 401: expired");
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed"), 3n);
    });

    it("should answer from the Authorization-value cache only for the exact bytes it verified", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      const users = Array.from({ length: 40 }, (_, i) => ({ sub: `user${i}`, token: mintToken({ now, sub: `user${i}`, access: [{ name: `user${i}/app`, actions: ["pull"] }] }) }));
      // Twice round: the second round is answered from the cache, each request with its own user.
      for (const round of [1, 2]) {
        for (const u of users) {
          const r = await policy.send("GET", `/v2/${u.sub}/app/manifests/latest`, { authorization: `Bearer ${u.token}` });
          assert.equal(r.status, 200, `round ${round}, ${u.sub}`);
          assert.equal(header(r.upstreamRequest!.headers, "x-hub-user"), u.sub);
        }
      }
      // The same token spelled differently is its own entry, verified on its own.
      const other = await policy.send("GET", "/v2/user3/app/manifests/latest", { authorization: `bearer ${users[3]!.token}` });
      assert.equal(header(other.upstreamRequest!.headers, "x-hub-user"), "user3");
      // Same length and same last bytes (the signature) as a cached value, one payload byte changed:
      // the cache compares every byte, so this one is verified, and refused.
      const [head, payload, signature] = users[5]!.token.split(".");
      const middle = Math.floor(payload!.length / 2);
      const tampered = `${head}.${payload!.slice(0, middle)}${payload![middle] === "A" ? "B" : "A"}${payload!.slice(middle + 1)}.${signature}`;
      const refused = await policy.send("GET", "/v2/user5/app/manifests/latest", { authorization: `Bearer ${tampered}` });
      assert.equal(refused.status, 401);
      assert.equal(refused.logs[0]?.message, "token-auth: 401: bad signature");
      assert.equal(policy.chain.getMetric("image_hub.token_auth.allowed"), 81n);
    });

    it("should keep linear memory flat while its token cache turns over (a slot's old value is freed)", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const now = policy.nowSeconds();
      // 3 × 1024 distinct tokens: the cache (1024 slots) overwrites most entries twice. Its values live
      // outside the collector's heap, so a slot that did not free its old value would grow memory by
      // ≈ 512 bytes per overwrite (≈ 16 pages between the two readings).
      const pull = async (i: number) => {
        const r = await policy.send("GET", "/v2/", { authorization: `Bearer ${mintToken({ now, sub: `churn${i}` })}` });
        assert.equal(r.status, 200, `token ${i}`);
      };
      for (let i = 0; i < 1024; i++) await pull(i);
      const pages = policy.chain.memoryPages(0, 0);
      for (let i = 1024; i < 3072; i++) await pull(i);
      assert.ok(policy.chain.memoryPages(0, 0) <= pages + 1, `${pages} pages after 1024 tokens, ${policy.chain.memoryPages(0, 0)} after 3072`);
    });

    it("should accept a token signed with the second configured key (rotation)", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const token = mintToken({ now: policy.nowSeconds(), key: DEMO_SIGNING_KEYS[1] });
      assert.equal((await policy.send("GET", "/v2/", { authorization: `Bearer ${token}` })).status, 200);
    });

    it("should pass other paths untouched except for the stripped identity headers", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const result = await policy.send("GET", "/api/plans?x=/v2/", { "x-hub-plan": "enterprise", authorization: "Basic abc" });
      assert.equal(result.status, 200);
      assert.equal(result.upstreamRequest!.path, "/api/plans?x=/v2/");
      assert.equal(header(result.upstreamRequest!.headers, "x-hub-plan"), undefined);
      assert.equal(header(result.upstreamRequest!.headers, "authorization"), "Basic abc");
    });

    it("should put the push and delete scopes in the challenge", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const push = await policy.send("PATCH", "/v2/alice/app/blobs/uploads/abc");
      assert.equal(header(push.headers, "www-authenticate"), challengeFor("repository:alice/app:pull,push"));
      const remove = await policy.send("DELETE", "/v2/alice/app/blobs/sha256:aa");
      assert.equal(header(remove.headers, "www-authenticate"), challengeFor("repository:alice/app:delete"));
      const invalid = await policy.send("GET", "/v2/Alice/manifests/x");
      assert.equal(header(invalid.headers, "www-authenticate"), challengeFor());
    });

    describe("configuration", () => {
      const base = exampleConfigs()["token-auth"];
      const bad: [string, unknown, string][] = [
        ["not JSON", "{", "token-auth: config: invalid JSON"],
        ["no keys", { ...base, keys: [] }, "token-auth: config.keys: expected at least one key"],
        ["an HS384 key", { ...base, keys: [{ ...base.keys[0], alg: "HS384" }] }, "token-auth: config.keys[0].alg: only HS256 is supported"],
        ["a short key", { ...base, keys: [{ ...base.keys[0], k: "c2hvcnQ" }] }, "token-auth: config.keys[0].k: expected base64url of at least 32 key bytes"],
        ["a duplicate kid", { ...base, keys: [base.keys[0], base.keys[0]] }, "token-auth: config.keys[1].kid: duplicate kid"],
        ["a quote in the realm", { ...base, realm: 'http://x/"' }, "token-auth: config.realm: must not contain quotes, backslashes or control characters"],
        ["a missing issuer", { ...base, issuer: undefined }, "token-auth: config.issuer: required field is missing"],
        ["an unknown field", { ...base, skew: 3 }, "token-auth: config.skew: unknown field"],
        ["a negative skew", { ...base, clockSkewSeconds: -1 }, "token-auth: config.clockSkewSeconds: expected an integer from 0 to 600"],
        ["an empty kid", { ...base, keys: [{ ...base.keys[0], kid: "" }] }, "token-auth: config.keys[0].kid: expected a non-empty string"],
        ["an unknown key field", { ...base, keys: [{ ...base.keys[0], use: "sig" }] }, "token-auth: config.keys[0].use: unknown field"],
        ["a control character in the service", { ...base, service: "a\u0001" }, "token-auth: config.service: must not contain quotes, backslashes or control characters"],
        ["a missing k", { ...base, keys: [{ ...base.keys[0], k: undefined }] }, "token-auth: config.keys[0].k: required field is missing"],
      ];
      for (const [name, config, line] of bad) {
        it(`should refuse ${name} with one critical line naming the field`, async () => {
          const text = typeof config === "string" ? config : JSON.stringify(config);
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
  });
}
