// plan-enforcement alone in the emulator, against build/filters/plan-enforcement.wasm and .debug.wasm.
// The identity headers token-auth would set are given directly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChainStartError } from "proxy-wasm-host-emulator";
import { loadCatalog, type Catalog } from "../../image-hub/catalog.ts";
import { EXAMPLE_REALM, exampleConfigs } from "../../image-hub/filter-configs.ts";
import { challengeFor } from "../../test/policy/cases.ts";
import { BUILDS, header, registryError, startPolicy } from "../../test/policy/emulator.ts";

const only = ["plan-enforcement"] as const;
const identity = (plan: string, access: string, user = "alice") => ({ "x-hub-user": user, "x-hub-plan": plan, "x-hub-access": access });
const full = "repository:alice/app:pull,push,delete repository:bob/lib:pull";

/** The CONTRACT.md route table: every row with the action it needs. */
const routes: [string, string, string][] = [
  ["GET", "/v2/", "none"],
  ["HEAD", "/v2/", "none"],
  ["GET", "/v2/_catalog?n=10", "none"],
  ["GET", "/v2/alice/app/manifests/latest", "pull"],
  ["HEAD", "/v2/alice/app/manifests/sha256:ab", "pull"],
  ["PUT", "/v2/alice/app/manifests/v1", "push"],
  ["DELETE", "/v2/alice/app/manifests/sha256:ab", "delete"],
  ["GET", "/v2/alice/app/blobs/sha256:ab", "pull"],
  ["HEAD", "/v2/alice/app/blobs/sha256:ab", "pull"],
  ["DELETE", "/v2/alice/app/blobs/sha256:ab", "delete"],
  ["POST", "/v2/alice/app/blobs/uploads/", "push"],
  ["PATCH", "/v2/alice/app/blobs/uploads/0f7c", "push"],
  ["PUT", "/v2/alice/app/blobs/uploads/0f7c?digest=sha256:ab", "push"],
  ["GET", "/v2/alice/app/blobs/uploads/0f7c", "push"],
  ["DELETE", "/v2/alice/app/blobs/uploads/0f7c", "push"],
  ["GET", "/v2/alice/app/tags/list?n=5", "pull"],
  ["GET", "/v2/alice/app/referrers/sha512:ab?artifactType=application%2Fspdx%2Bjson", "pull"],
];

for (const build of BUILDS) {
  describe(`plan-enforcement (${build.label})`, () => {
    it("should allow every route of the table for a Team user whose token grants the action", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      for (const [method, path] of routes) {
        const result = await policy.send(method, path, identity("team", full));
        assert.equal(result.status, 200, `${method} ${path}`);
        assert.equal(result.upstreamRequest?.path, path);
      }
      assert.equal(policy.chain.getMetric("image_hub.plan_enforcement.team.allowed"), BigInt(routes.length));
    });

    it("should challenge each route whose action the token does not grant with 401 insufficient_scope naming the scope it needs", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const scopeActions: Record<string, string> = { pull: "pull", push: "pull,push", delete: "delete" };
      for (const [method, path, action] of routes.filter(([, , a]) => a !== "none")) {
        const result = await policy.send(method, path, identity("team", "repository:alice/other:pull,push,delete"));
        assert.equal(result.status, 401, `${method} ${path}`);
        assert.deepEqual(registryError(result.body), { code: "UNAUTHORIZED", message: `token does not grant ${action} on alice/app`, detail: null });
        assert.equal(header(result.headers, "www-authenticate"), challengeFor(`repository:alice/app:${scopeActions[action]}`, EXAMPLE_REALM, "insufficient_scope"), `${method} ${path}`);
        assert.equal(result.upstreamRequest, undefined);
      }
      assert.equal(policy.seen.length, 0);
      assert.equal(policy.chain.getMetric("image_hub.plan_enforcement.team.denied"), BigInt(routes.filter(([, , a]) => a !== "none").length));
    });

    it("should challenge a pull-only token on an upload for pull,push, and let the pull,push token through", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const refused = await policy.send("POST", "/v2/alice/app/blobs/uploads/", identity("personal", "repository:alice/app:pull"));
      assert.equal(refused.status, 401);
      assert.equal(header(refused.headers, "www-authenticate"), challengeFor("repository:alice/app:pull,push", EXAMPLE_REALM, "insufficient_scope"));
      assert.equal(refused.logs[0]?.message, "plan-enforcement: 401: token does not grant push on alice/app");
      const allowed = await policy.send("POST", "/v2/alice/app/blobs/uploads/", identity("personal", "repository:alice/app:pull,push"));
      assert.equal(allowed.status, 200);
    });

    it("should refuse delete on the Personal plan even when the token grants it", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const result = await policy.send("DELETE", "/v2/alice/app/manifests/v1", identity("personal", full));
      assert.equal(result.status, 403);
      assert.equal(registryError(result.body).message, "plan personal does not allow delete");
      assert.equal(result.logs[0]?.message, "plan-enforcement: 403: plan personal does not allow delete");
      assert.equal(policy.chain.getMetric("image_hub.plan_enforcement.personal.denied"), 1n);
    });

    it("should need pull on the source of a cross-repository mount", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const mount = "/v2/alice/app/blobs/uploads/?mount=sha256:ab&from=bob%2Flib";
      assert.equal((await policy.send("POST", mount, identity("personal", full))).status, 200);
      const denied = await policy.send("POST", mount.replace("bob%2Flib", "carol%2Fsecret"), identity("personal", full));
      assert.equal(denied.status, 401);
      assert.equal(registryError(denied.body).message, "token does not grant pull on carol/secret");
      assert.equal(header(denied.headers, "www-authenticate"), challengeFor("repository:alice/app:pull,push repository:carol/secret:pull", EXAMPLE_REALM, "insufficient_scope"));
    });

    it("should refuse requests without identity, with an unknown plan or on an unknown route", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const cases: [string, string, Record<string, string>, number, string, string][] = [
        ["GET", "/v2/alice/app/manifests/x", {}, 403, "DENIED", "no verified identity"],
        ["GET", "/v2/alice/app/manifests/x", identity("gold", full), 403, "DENIED", "unknown plan gold"],
        ["POST", "/v2/alice/app/manifests/x", identity("team", full), 404, "UNSUPPORTED", "unsupported registry route"],
        ["HEAD", "/v2/alice/app/referrers/sha256:ab", identity("team", full), 404, "UNSUPPORTED", "unsupported registry route"],
        ["PUT", "/v2/_catalog", identity("team", full), 404, "UNSUPPORTED", "unsupported registry route"],
      ];
      for (const [method, path, headers, status, code, message] of cases) {
        const result = await policy.send(method, path, headers);
        assert.equal(result.status, status, `${method} ${path}`);
        assert.deepEqual(registryError(result.body), { code, message, detail: null });
      }
      assert.equal(policy.seen.length, 0);
      assert.equal(policy.chain.getMetric("image_hub.plan_enforcement.invalid"), 5n);
    });

    it("should answer 400 NAME_INVALID to names that break the OCI rules", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const names = ["alice/../bob", "alice%2fapp", "alice/%2e%2e", "Alice/app", "alice//app", "-alice/app", "alice/app-", "alice/a..b", "a___b", `a/${"b".repeat(254)}`, "alice/app/"];
      for (const name of names) {
        const result = await policy.send("GET", `/v2/${name}/manifests/latest`, identity("team", full));
        assert.equal(result.status, 400, name);
        assert.equal(registryError(result.body).code, "NAME_INVALID");
      }
      const valid = ["a", "a0/b-c", "a__b/c.d", "a--b", `a/${"b".repeat(253)}`];
      for (const name of valid) {
        const result = await policy.send("GET", `/v2/${name}/manifests/latest`, identity("team", `repository:${name}:pull`));
        assert.equal(result.status, 200, name);
      }
      assert.equal(policy.seen.length, valid.length);
    });

    describe("blob size limit (a catalog with small limits)", () => {
      const catalog: Catalog = { ...loadCatalog(), plans: loadCatalog().plans.map((p) => ({ ...p, maxBlobBytes: p.id === "personal" ? 1000 : p.maxBlobBytes })) };
      const upload = "/v2/alice/app/blobs/uploads/0f7c";

      it("should answer 413 naming the limit when Content-Length or Content-Range is over it", async () => {
        const policy = await startPolicy({ only, debug: build.debug, catalog });
        const over: Record<string, string>[] = [{ "content-length": "1001" }, { "content-range": "0-1000" }, { "content-range": "bytes 500-1500/2000" }];
        for (const headers of over) {
          const result = await policy.send("PATCH", upload, { ...identity("personal", full), ...headers });
          assert.equal(result.status, 413, JSON.stringify(headers));
          assert.deepEqual(registryError(result.body), {
            code: "SIZE_INVALID",
            message: "blob upload exceeds the personal plan limit of 1000 bytes",
            detail: { limit: 1000 },
          });
          assert.equal(result.upstreamRequest, undefined);
        }
        assert.equal(policy.chain.getMetric("image_hub.plan_enforcement.personal.too_large"), 3n);
      });

      it("should let an upload of exactly the limit through", async () => {
        const policy = await startPolicy({ only, debug: build.debug, catalog });
        const result = await policy.send("PATCH", upload, { ...identity("personal", full), "content-range": "0-999" }, "x".repeat(1000));
        assert.equal(result.status, 200);
        assert.equal(result.upstreamRequest?.body.length, 1000);
      });

      it("should count body bytes when no length was announced", async () => {
        const policy = await startPolicy({ only, debug: build.debug, catalog });
        const result = await policy.send("PUT", `${upload}?digest=sha256:ab`, { ...identity("personal", full), "transfer-encoding": "chunked" }, "x".repeat(1001));
        assert.equal(result.status, 413);
        assert.equal(registryError(result.body).code, "SIZE_INVALID");
      });
    });

    describe("configuration", () => {
      const base = exampleConfigs()["plan-enforcement"];
      const bad: [string, unknown, string][] = [
        ["an empty plan list", { ...base, plans: [] }, "plan-enforcement: config.plans: expected at least one plan"],
        ["an unknown action", { ...base, plans: [{ ...base.plans[0], actions: ["pull", "copy"] }] }, 'plan-enforcement: config.plans[0].actions[1]: expected "pull", "push" or "delete"'],
        ["a missing size", { ...base, plans: [{ id: "x", actions: [] }] }, "plan-enforcement: config.plans[0].maxBlobBytes: required field is missing"],
        ["a duplicate id", { ...base, plans: [base.plans[0], base.plans[0]] }, "plan-enforcement: config.plans[1].id: duplicate plan id"],
        ["a bad id", { ...base, plans: [{ ...base.plans[0], id: "Gold Plan" }] }, "plan-enforcement: config.plans[0].id: expected 1-64 characters of [a-z0-9-] starting with a letter"],
        ["a missing realm", { service: base.service, plans: base.plans }, "plan-enforcement: config.realm: required field is missing"],
        ["a quote in the service", { ...base, service: 'image"hub' }, "plan-enforcement: config.service: must not contain quotes, backslashes or control characters"],
        ["an empty realm", { ...base, realm: "" }, "plan-enforcement: config.realm: expected a non-empty string"],
      ];
      for (const [name, config, line] of bad) {
        it(`should refuse ${name} with one critical line naming the field`, async () => {
          await assert.rejects(startPolicy({ only, debug: build.debug, configOverride: { "plan-enforcement": JSON.stringify(config) } }), (err: unknown) => {
            assert.ok(err instanceof ChainStartError);
            const critical = err.logs.filter((l) => l.level === "critical");
            assert.equal(critical.length, 1);
            assert.ok(critical[0]!.message.startsWith(line), critical[0]!.message);
            return true;
          });
        });
      }
    });

    it("should pass paths outside /v2 without looking at identity", async () => {
      const policy = await startPolicy({ only, debug: build.debug });
      const result = await policy.send("DELETE", "/api/users/alice");
      assert.equal(result.status, 200);
      assert.equal(header(result.upstreamRequest!.headers, "x-hub-user"), undefined);
    });
  });
}
