// Unit tests of the API client against the in-memory fake: what it sends, what it returns, and that
// every failure becomes an ApiError with the facts the pages need.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, createApi, errorFromResponse, quotaFromHeaders, type TokenStore } from "../src/api.ts";
import { parseBearerChallenge } from "../src/challenge.ts";
import { createFakeHub, manifestDigest } from "./fake-hub.ts";

function memoryTokens(): TokenStore & { value: string | null } {
  const store = { value: null as string | null, get: () => store.value, set: (t: string | null) => void (store.value = t) };
  return store;
}

async function loggedIn(plan = "personal") {
  const hub = createFakeHub();
  const tokens = memoryTokens();
  const api = createApi({ fetch: hub.fetch, tokens });
  await api.signUp("alice", "pw-alice", plan);
  await api.logIn("alice", "pw-alice");
  return { hub, tokens, api };
}

describe("api client", () => {
  it("reads the plan catalog from /api/plans", async () => {
    const hub = createFakeHub();
    const plans = await createApi({ fetch: hub.fetch, tokens: memoryTokens() }).plans();
    assert.deepEqual(plans.plans.map((p) => p.id), hub.catalog.plans.map((p) => p.id));
    assert.equal(plans.windowSeconds, hub.catalog.windowSeconds);
    assert.deepEqual(hub.seen.map((s) => `${s.method} ${s.path}`), ["GET /api/plans"]);
  });

  it("signs up with JSON, logs in and keeps the session token opaque", async () => {
    const { hub, tokens, api } = await loggedIn("team");
    const signup = hub.seen.find((s) => s.path === "/api/signup")!;
    assert.equal(signup.method, "POST");
    assert.equal(signup.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(signup.body), { username: "alice", password: "pw-alice", plan: "team" });
    assert.match(tokens.value!, /^session-/);
    const me = await api.me();
    assert.deepEqual({ username: me.username, plan: me.plan }, { username: "alice", plan: "team" });
    assert.equal(hub.seen.at(-1)!.headers.get("authorization"), `Bearer ${tokens.value}`);
    assert.equal(me.quota?.limit, hub.catalog.plans.find((p) => p.id === "team")!.pullsPerWindow);
  });

  it("turns a duplicate sign-up into a 409 ApiError with the server's message", async () => {
    const { api } = await loggedIn();
    const err = await api.signUp("alice", "x", "personal").then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "USERNAME_TAKEN");
    assert.equal(err.message, "user alice already exists");
  });

  it("rejects bad credentials with 401 and stores no token", async () => {
    const hub = createFakeHub();
    const tokens = memoryTokens();
    const api = createApi({ fetch: hub.fetch, tokens });
    await api.signUp("bob", "right", "personal");
    await assert.rejects(api.logIn("bob", "wrong"), (e: ApiError) => e.status === 401 && e.code === "UNAUTHORIZED");
    assert.equal(tokens.value, null);
    assert.equal(api.isLoggedIn(), false);
  });

  it("forgets a session the server refuses", async () => {
    const { api, tokens } = await loggedIn();
    tokens.set("session-expired");
    await assert.rejects(api.me(), (e: ApiError) => e.status === 401);
    assert.equal(tokens.value, null);
  });

  it("keeps the session when a call made with it gets 401 insufficient_scope: the session is valid", async () => {
    const tokens = memoryTokens();
    tokens.set("session-valid");
    const refusal = JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "token does not grant pull on carol/secret", detail: null }] });
    const challenge = 'Bearer realm="/api/token",service="image-hub",scope="repository:carol/secret:pull",error="insufficient_scope"';
    const api = createApi({ fetch: async () => new Response(refusal, { status: 401, headers: { "www-authenticate": challenge } }), tokens });
    await assert.rejects(api.me(), (e: ApiError) => e.insufficientScope && e.challenge?.scope === "repository:carol/secret:pull");
    assert.equal(tokens.value, "session-valid");
  });

  it("forgets an expired session when a pull's token request gets 401, and reaches no registry", async () => {
    const { hub, api, tokens } = await loggedIn();
    tokens.set("session-expired");
    const before = hub.seen.length;
    await assert.rejects(api.pull("demo/hello", "1.0"), (e: ApiError) => e.status === 401 && e.code === "UNAUTHORIZED");
    assert.equal(tokens.value, null);
    assert.deepEqual(hub.seen.slice(before).map((s) => s.path.split("?")[0]), ["/api/token"]);
  });

  it("reports a repository list without a repositories array as an invalid response", async () => {
    const api = createApi({ fetch: async () => new Response(JSON.stringify([{ name: "x" }]), { status: 200 }), tokens: memoryTokens() });
    await assert.rejects(api.repositories(), (e: ApiError) => e.kind === "invalid-response" && /no repositories array/.test(e.message));
  });

  it("refuses /api/me without a session and sends nothing", async () => {
    const hub = createFakeHub();
    const api = createApi({ fetch: hub.fetch, tokens: memoryTokens() });
    await assert.rejects(api.me(), (e: ApiError) => e.status === 401 && e.kind === "http");
    assert.equal(hub.seen.length, 0);
  });

  it("changes the plan and returns the account as the server now has it", async () => {
    const { hub, api } = await loggedIn();
    const me = await api.changePlan("team");
    assert.equal(me.plan, "team");
    assert.equal(hub.users.get("alice")!.plan, "team");
    const change = hub.seen.find((s) => s.path === "/api/plan")!;
    assert.deepEqual(JSON.parse(change.body), { plan: "team" });
  });

  it("lists repositories with the search in the query string", async () => {
    const hub = createFakeHub();
    const api = createApi({ fetch: hub.fetch, tokens: memoryTokens() });
    const repos = await api.repositories("tools");
    assert.deepEqual(repos.map((r) => r.name), ["demo/tools"]);
    assert.equal(repos[0].visibility, "private");
    assert.equal(hub.seen[0].path, "/api/repositories?q=tools");
    const one = await api.repository("demo/hello");
    assert.equal(one.tags[0].digest, manifestDigest);
  });

  it("pulls with a registry token from the token endpoint and reads the RateLimit headers", async () => {
    const { hub, api } = await loggedIn();
    const result = await api.pull("demo/hello", "1.0");
    const [tokenReq, manifestReq] = hub.seen.slice(-2);
    assert.equal(tokenReq.path, `/api/token?service=image-hub&scope=${encodeURIComponent("repository:demo/hello:pull")}`);
    assert.equal(manifestReq.path, "/v2/demo/hello/manifests/1.0");
    assert.equal(manifestReq.headers.get("authorization"), "Bearer registry-1");
    assert.match(manifestReq.headers.get("accept")!, /application\/vnd\.oci\.image\.manifest\.v1\+json/);
    assert.equal(result.digest, manifestDigest);
    assert.equal(result.mediaType, "application/vnd.oci.image.manifest.v1+json");
    const limit = hub.catalog.plans.find((p) => p.id === "personal")!.pullsPerWindow;
    assert.deepEqual(result.quota, { limit, remaining: limit - 1, used: 1, resetSeconds: Math.ceil(hub.catalog.windowSeconds / limit), windowSeconds: hub.catalog.windowSeconds });
  });

  it("reports a 429 with limit, window and retry time", async () => {
    const { hub, api } = await loggedIn();
    const limit = hub.catalog.plans.find((p) => p.id === "personal")!.pullsPerWindow;
    for (let i = 0; i < limit; i++) await api.pull("demo/hello", "1.0");
    const err = await api.pull("demo/hello", "1.0").then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 429);
    assert.equal(err.code, "TOOMANYREQUESTS");
    assert.deepEqual(err.limit, { limit, windowSeconds: hub.catalog.windowSeconds, retryAfterSeconds: Math.ceil(hub.catalog.windowSeconds / limit) });
    assert.equal(err.quota?.remaining, 0);
  });

  it("shows a failed connection as a network ApiError, never as success", async () => {
    const hub = createFakeHub();
    const api = createApi({ fetch: hub.fetch, tokens: memoryTokens() });
    hub.failNextWith = "connection refused";
    const err = await api.plans().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.kind, "network");
    assert.equal(err.status, 0);
    assert.match(err.message, /connection refused/);
  });

  it("reports a non-JSON success body as an invalid response", async () => {
    const api = createApi({ fetch: async () => new Response("<html>proxy page</html>", { status: 200 }), tokens: memoryTokens() });
    await assert.rejects(api.plans(), (e: ApiError) => e.kind === "invalid-response" && /not JSON/.test(e.message));
  });

  it("returns null for missing benchmark results and the document when present", async () => {
    const hub = createFakeHub();
    const api = createApi({ fetch: hub.fetch, tokens: memoryTokens() });
    assert.equal(await api.benchResults(), null);
    hub.benchResults = { schema: "image-hub-bench/1" };
    assert.deepEqual(await api.benchResults(), { schema: "image-hub-bench/1" });
  });
});

describe("response parsing", () => {
  it("reads the registry error format", async () => {
    const res = new Response(JSON.stringify({ errors: [{ code: "DENIED", message: "plan personal does not allow delete", detail: null }] }), { status: 403 });
    const err = await errorFromResponse(res);
    assert.deepEqual([err.status, err.code, err.message, err.limit], [403, "DENIED", "plan personal does not allow delete", null]);
  });

  it("reads the accounts error format", async () => {
    const err = await errorFromResponse(new Response(JSON.stringify({ error: { code: "BAD_REQUEST", message: "request body is not valid JSON" } }), { status: 400 }));
    assert.deepEqual([err.status, err.code, err.message], [400, "BAD_REQUEST", "request body is not valid JSON"]);
  });

  it("keeps a plain-text error body visible", async () => {
    const err = await errorFromResponse(new Response("upstream connect error", { status: 503, statusText: "Service Unavailable" }));
    assert.deepEqual([err.status, err.code, err.message], [503, "HTTP_503", "upstream connect error"]);
  });

  it("falls back to Retry-After and the RateLimit fields when a 429 has no detail", async () => {
    const res = new Response("", { status: 429, headers: { "retry-after": "7", "ratelimit-policy": '"personal";q=10;w=60', ratelimit: '"personal";r=0;t=7' } });
    const err = await errorFromResponse(res);
    assert.deepEqual(err.limit, { limit: 10, windowSeconds: 60, retryAfterSeconds: 7 });
  });

  it("reads the Bearer challenge of a 401: insufficient_scope with its scopes, or a plain challenge", async () => {
    const body = (message: string) => JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message, detail: null }] });
    const scoped = await errorFromResponse(new Response(body("token does not grant push on alice/app"), {
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1:8080/api/token",service="image-hub",scope="repository:alice/app:pull,push repository:bob/base:pull",error="insufficient_scope"' },
    }));
    assert.deepEqual([scoped.code, scoped.insufficientScope, scoped.challenge], ["UNAUTHORIZED", true, { error: "insufficient_scope", scope: "repository:alice/app:pull,push repository:bob/base:pull" }]);
    const plain = await errorFromResponse(new Response(body("authentication required"), { status: 401, headers: { "www-authenticate": 'Bearer realm="/api/token",service="image-hub",scope="repository:alice/app:pull"' } }));
    assert.deepEqual([plain.insufficientScope, plain.challenge], [false, { error: null, scope: "repository:alice/app:pull" }]);
    const basic = await errorFromResponse(new Response(body("authentication required"), { status: 401, headers: { "www-authenticate": 'Basic realm="image-hub"' } }));
    assert.deepEqual([basic.insufficientScope, basic.challenge], [false, null]);
    assert.deepEqual(parseBearerChallenge("bearer error=insufficient_scope, scope=\"a \\\"b\\\"\""), { error: "insufficient_scope", scope: 'a "b"' });
  });

  it("parses the RateLimit-Policy and RateLimit fields and ignores responses without them or with malformed ones", () => {
    const q = quotaFromHeaders(new Headers({ "ratelimit-policy": '"team";q=100;w=60', ratelimit: '"team";r=97;t=2' }));
    assert.deepEqual(q, { limit: 100, remaining: 97, used: 3, resetSeconds: 2, windowSeconds: 60 });
    assert.equal(quotaFromHeaders(new Headers()), null);
    // The obsolete fields of draft 06 and before are not read.
    assert.equal(quotaFromHeaders(new Headers({ "ratelimit-limit": "100", "ratelimit-remaining": "97", "ratelimit-reset": "2", "ratelimit-policy": "100;w=60" })), null);
    assert.equal(quotaFromHeaders(new Headers({ "ratelimit-policy": '"team";q=100;w=60', ratelimit: '"team";r=97;t=2;' })), null);
  });
});
