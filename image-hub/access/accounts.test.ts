// The accounts API (/api/*), the token endpoint's grants, and filter mode's trust in x-hub-*
// headers only from the sidecar.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { decodeJwt } from "jose";
import { catalogPath } from "../catalog.ts";
import { startServices } from "../services.ts";
import { buildImage } from "../seed/oci.ts";
import { json, startTestHub, TEST_PASSWORD, type TestHub } from "../test-support.ts";

const basic = (user: string, password = TEST_PASSWORD) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

describe("accounts API", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub("app");
  });
  after(() => hub.close());

  it("should serve the plan catalog from plans.json", async () => {
    const res = await fetch(`${hub.accessUrl}/api/plans`);
    assert.equal(res.status, 200);
    const expected = JSON.parse(readFileSync(catalogPath, "utf8"));
    delete expected.$comment;
    assert.deepEqual(await json(res), expected);
  });

  it("should sign up, refuse a duplicate with 409 and bad input with 400", async () => {
    let res = await post(`${hub.accessUrl}/api/signup`, { username: "dora", password: "long-enough", plan: "team" });
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.equal(body.user.username, "dora");
    assert.equal(body.user.plan, "team");
    assert.equal(decodeJwt(body.token).aud, "image-hub-api");
    res = await post(`${hub.accessUrl}/api/signup`, { username: "dora", password: "another-one" });
    assert.equal(res.status, 409);
    assert.deepEqual(await json(res), { error: { code: "USERNAME_TAKEN", message: "username dora is taken" } });
    res = await post(`${hub.accessUrl}/api/signup`, "{not json");
    assert.equal(res.status, 400);
    assert.deepEqual(await json(res), { error: { code: "BAD_REQUEST", message: "request body is not valid JSON" } });
    res = await post(`${hub.accessUrl}/api/signup`, { username: "Eve!", password: "long-enough" });
    assert.equal(res.status, 400);
    assert.match((await json(res)).error.message, /^username must be/);
    res = await post(`${hub.accessUrl}/api/signup`, { username: "eve", password: "long-enough", plan: "gold" });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error.message, "plan must be one of personal, team, enterprise");
  });

  it("should log in with the right password only", async () => {
    await hub.user("frank");
    let res = await post(`${hub.accessUrl}/api/login`, { username: "frank", password: "wrong-password" });
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error.code, "UNAUTHORIZED");
    res = await post(`${hub.accessUrl}/api/login`, { username: "nobody", password: TEST_PASSWORD });
    assert.equal(res.status, 401);
    res = await post(`${hub.accessUrl}/api/login`, { username: "frank", password: TEST_PASSWORD });
    assert.equal(res.status, 200);
    const { token } = await json(res);
    res = await fetch(`${hub.accessUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const me = await json(res);
    assert.equal(me.username, "frank");
    assert.deepEqual(me.quota, { plan: "personal", limit: 10, used: 0, remaining: 10, resetSeconds: 0, windowSeconds: 60, usedResetSeconds: 0 });
    assert.deepEqual(me.privateRepositories, { used: 0, limit: 1 });
    assert.equal((await fetch(`${hub.accessUrl}/api/me`)).status, 401);
  });

  it("should enforce the plan's private-repository count and refuse a downgrade that breaks it", async () => {
    await hub.user("gina", "team");
    const auth = { authorization: basic("gina") };
    for (const name of ["gina/one", "gina/two"]) {
      const res = await post(`${hub.accessUrl}/api/repositories`, { name, visibility: "private" }, auth);
      assert.equal(res.status, 201);
      assert.equal((await json(res)).visibility, "private");
    }
    let res = await post(`${hub.accessUrl}/api/plan`, { plan: "personal" }, auth);
    assert.equal(res.status, 409);
    assert.equal((await json(res)).error.code, "PLAN_CONFLICT");
    // Make one public, then the downgrade fits and a new private repository no longer does.
    res = await fetch(`${hub.accessUrl}/api/repositories/gina/two`, { method: "PATCH", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ visibility: "public" }) });
    assert.equal(res.status, 200);
    res = await post(`${hub.accessUrl}/api/plan`, { plan: "personal" }, auth);
    assert.equal(res.status, 200);
    assert.equal((await json(res)).plan, "personal");
    res = await post(`${hub.accessUrl}/api/repositories`, { name: "gina/three", visibility: "private" }, auth);
    assert.equal(res.status, 403);
    assert.equal((await json(res)).error.code, "DENIED");
    res = await post(`${hub.accessUrl}/api/repositories`, { name: "frank/mine", visibility: "public" }, auth);
    assert.equal(res.status, 403);
    // Others see the public repository but not the private one.
    const list = await json(await fetch(`${hub.accessUrl}/api/repositories?q=gina`));
    assert.deepEqual(list.repositories.map((r: { name: string }) => r.name), ["gina/two"]);
    assert.equal((await fetch(`${hub.accessUrl}/api/repositories/gina/one`)).status, 404);
    assert.equal((await fetch(`${hub.accessUrl}/api/repositories/gina/one`, { headers: auth })).status, 200);
  });

  it("should let exactly one of concurrent private-repository creations through on Personal", async () => {
    await hub.user("otto");
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(`${hub.accessUrl}/api/repositories`, { name: `otto/p${i}`, visibility: "private" }, { authorization: basic("otto") }).then((r) => r.status)),
    );
    assert.deepEqual(results.sort(), [201, 403, 403, 403, 403, 403]);
    const me = await json(await fetch(`${hub.accessUrl}/api/me`, { headers: { authorization: basic("otto") } }));
    assert.deepEqual(me.privateRepositories, { used: 1, limit: 1 });
  });

  it("should grant only what the user may do at the token endpoint", async () => {
    const helen = await hub.user("helen", "enterprise");
    await helen.pushImage("helen/public", "v1", await buildImage({ "a.txt": "a" }));
    await post(`${hub.accessUrl}/api/repositories`, { name: "helen/private", visibility: "private" }, { authorization: basic("helen") });
    await hub.user("ivan");
    const scopes = ["repository:ivan/app:pull,push,delete", "repository:helen/public:pull,push", "repository:helen/private:pull", "repository:BAD:pull"];
    const query = scopes.map((s) => `scope=${encodeURIComponent(s)}`).join("&");
    let res = await fetch(`${hub.accessUrl}/api/token?service=image-hub&${query}`, { headers: { authorization: basic("ivan") } });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    const claims = decodeJwt(body.token);
    assert.equal(claims.iss, "image-hub");
    assert.equal(claims.aud, "image-hub-registry");
    assert.equal(claims.sub, "ivan");
    assert.equal(claims.plan, "personal");
    assert.equal((claims.exp as number) - (claims.iat as number), 300);
    assert.deepEqual(claims.access, [
      { type: "repository", name: "ivan/app", actions: ["pull", "push"] },
      { type: "repository", name: "helen/public", actions: ["pull"] },
    ]);
    // So many scopes that the token would be longer than either mode accepts: refused, not issued.
    const many = Array.from({ length: 120 }, (_, i) => `scope=repository:ivan/app-${i}:pull`).join("&");
    res = await fetch(`${hub.accessUrl}/api/token?service=image-hub&${many}`, { headers: { authorization: basic("ivan") } });
    assert.equal(res.status, 400);
    const refused = (await json(res)).errors[0];
    assert.equal(refused.code, "UNSUPPORTED");
    assert.match(refused.message, /registry accepts at most 4096: ask for fewer repositories/);
    res = await fetch(`${hub.accessUrl}/api/token?service=image-hub&scope=repository:ivan/app:pull`, { headers: { authorization: basic("ivan", "wrong") } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Basic realm="image-hub"');
    assert.deepEqual(await json(res), { errors: [{ code: "UNAUTHORIZED", message: "invalid username, password or session", detail: null }] });
  });

  it("should keep plan changes across a restart", async () => {
    await hub.user("judy");
    const res = await post(`${hub.accessUrl}/api/plan`, { plan: "enterprise" }, { authorization: basic("judy") });
    assert.equal(res.status, 200);
    // Services restarted on the same data folder see the persisted plan.
    await hub.stop();
    const restarted = await startServices({ dataDir: hub.dataDir, mode: "app" });
    try {
      const me = await fetch(`${restarted.accessUrl}/api/me`, { headers: { authorization: basic("judy") } });
      assert.equal((await json(me)).plan, "enterprise");
    } finally {
      await restarted.stop();
    }
  });
});

describe("filter mode trust", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub("filter");
    await hub.user("kim");
  });
  after(() => hub.close());

  const identity = { "x-hub-user": "kim", "x-hub-plan": "personal", "x-hub-access": "repository:kim/app:pull,push" };

  it("should ignore identity headers without the sidecar secret, even with a valid token", async () => {
    const token = await (await hub.user("lea")).token("repository:lea/app:pull");
    const attempts: Record<string, string>[] = [identity, { ...identity, "x-hub-sidecar": "not-the-secret" }, { authorization: `Bearer ${token}` }];
    for (const headers of attempts) {
      const res = await fetch(`${hub.accessUrl}/v2/kim/app/tags/list`, { headers });
      assert.equal(res.status, 401);
      assert.equal((await json(res)).errors[0].code, "UNAUTHORIZED");
    }
  });

  it("should act on identity headers from the sidecar", async () => {
    const res = await fetch(`${hub.accessUrl}/v2/kim/app/blobs/uploads/`, { method: "POST", headers: { ...identity, "x-hub-sidecar": hub.sidecarSecret } });
    assert.equal(res.status, 202);
    assert.match(res.headers.get("location") ?? "", /^\/v2\/kim\/app\/blobs\/uploads\//);
    // The sidecar's grants still bound what the app does.
    const denied = await fetch(`${hub.accessUrl}/v2/lea/app/blobs/uploads/`, { method: "POST", headers: { ...identity, "x-hub-sidecar": hub.sidecarSecret } });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate") ?? "", /,scope="repository:lea\/app:pull,push",error="insufficient_scope"$/);
    assert.equal((await json(denied)).errors[0].message, "token does not grant push on lea/app");
  });

  it("should keep no quota of its own: /api/me asks the enforcer, and answers null when it cannot", async () => {
    const sidecar = { ...identity, "x-hub-sidecar": hub.sidecarSecret };
    // Without Envoy in front nothing answers /v2/_quota: the app says so instead of counting itself.
    const quota = await fetch(`${hub.accessUrl}/v2/_quota`, { headers: sidecar });
    assert.equal(quota.status, 503);
    assert.deepEqual(await json(quota), { errors: [{ code: "UNAVAILABLE", message: "quota unavailable: the rate-limit filter did not answer", detail: null }] });
    const me = await fetch(`${hub.accessUrl}/api/me`, { headers: { authorization: basic("kim") } });
    assert.equal(me.status, 200);
    assert.equal((await json(me)).quota, null);
  });
});
