// A small in-memory stand-in for the access service, for the UI's unit tests only (the end-to-end
// tests in test/ui-e2e run the real stack). It follows image-hub/CONTRACT.md for /v2/ and the
// access service's /api/ routes, and records every request so tests can assert what was sent.
import catalogJson from "../../plans.json" with { type: "json" };
import type { PlanCatalog } from "../src/api.ts";
import { quotaFieldPairs } from "../../ratelimit-fields.ts";

/** One request the fake received. */
export interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

interface User {
  password: string;
  plan: string;
  used: number;
}

/** The fake's state and its fetch function. */
export interface FakeHub {
  fetch: typeof fetch;
  seen: Seen[];
  users: Map<string, User>;
  catalog: PlanCatalog;
  /** When set, the next request fails at the network level with this message. */
  failNextWith: string | null;
  benchResults: unknown | null;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const apiError = (status: number, code: string, message: string) => json(status, { error: { code, message } });
const registryError = (status: number, code: string, message: string, detail: unknown = null, headers: Record<string, string> = {}) =>
  json(status, { errors: [{ code, message, detail }] }, headers);

/** Digest of the one manifest the fake serves (made up for the fixture). */
export const manifestDigest = "sha256:6f1c0d7e0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
const manifestBody = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] });

/** The repositories the fake lists; names and numbers exist only in this test fixture. */
export const fakeRepositories = [
  { name: "demo/hello", owner: "demo", visibility: "public", pulls: 42, size: 2048, lastPushAt: "2026-11-20T10:00:00Z", tags: [{ name: "1.0", digest: manifestDigest, size: 2048, pushedAt: "2026-11-20T10:00:00Z" }] },
  { name: "demo/tools", owner: "demo", visibility: "private", pulls: 3, size: 5 * 1024 * 1024, lastPushAt: null, tags: [] },
  { name: "demo/secret", owner: "demo", visibility: "private", pulls: 0, size: 2048, lastPushAt: "2026-11-21T10:00:00Z", tags: [{ name: "1.0", digest: manifestDigest, size: 2048, pushedAt: "2026-11-21T10:00:00Z" }] },
];

/** Creates a fake with no users; sessions are opaque strings unrelated to any JWT. */
export function createFakeHub(): FakeHub {
  const sessions = new Map<string, string>();
  // Registry token -> its user and the repositories it may pull.
  const registryTokens = new Map<string, { user: string; pull: Set<string> }>();
  // What GET /api/plans serves: the catalog's fields, not the file's $comment.
  const { $comment: _comment, ...catalogFields } = catalogJson as PlanCatalog & { $comment?: string };
  const catalog = catalogFields as PlanCatalog;
  const hub: FakeHub = { seen: [], users: new Map(), catalog, failNextWith: null, benchResults: null, fetch: undefined as unknown as typeof fetch };

  const planOf = (id: string) => catalog.plans.find((p) => p.id === id)!;
  const sessionUser = (h: Headers) => sessions.get((h.get("authorization") ?? "").replace(/^Bearer /, ""));

  hub.fetch = async (input, init = {}) => {
    const url = new URL(String(input), "http://127.0.0.1:8080");
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    const body = typeof init.body === "string" ? init.body : "";
    hub.seen.push({ method, path: url.pathname + url.search, headers, body });
    if (hub.failNextWith) {
      const message = hub.failNextWith;
      hub.failNextWith = null;
      throw new TypeError(message);
    }
    const route = `${method} ${url.pathname}`;
    if (route === "GET /api/plans") return json(200, catalog);
    if (route === "POST /api/signup") {
      let b: { username?: string; password?: string; plan?: string };
      try {
        b = JSON.parse(body);
      } catch {
        return apiError(400, "BAD_REQUEST", "request body is not valid JSON");
      }
      if (!b.username || !b.password || !b.plan || !catalog.plans.some((p) => p.id === b.plan)) return apiError(400, "BAD_REQUEST", "username, password and a known plan are required");
      if (hub.users.has(b.username)) return apiError(409, "USERNAME_TAKEN", `user ${b.username} already exists`);
      hub.users.set(b.username, { password: b.password, plan: b.plan, used: 0 });
      return json(201, { username: b.username, plan: b.plan });
    }
    if (route === "POST /api/login") {
      const b = JSON.parse(body) as { username: string; password: string };
      const u = hub.users.get(b.username);
      if (!u || u.password !== b.password) return apiError(401, "UNAUTHORIZED", "bad username or password");
      const token = `session-${sessions.size + 1}-${b.username}`;
      sessions.set(token, b.username);
      return json(200, { user: { username: b.username, plan: u.plan }, token, expiresIn: 3600 });
    }
    if (url.pathname.startsWith("/api/repositories")) {
      const name = url.pathname.slice("/api/repositories/".length);
      if (name) {
        const repo = fakeRepositories.find((r) => r.name === name);
        return repo ? json(200, repo) : apiError(404, "NOT_FOUND", "repository not found");
      }
      const q = url.searchParams.get("q") ?? "";
      const list = fakeRepositories.filter((r) => r.name.includes(q)).map(({ tags, ...r }) => ({ ...r, tagCount: tags.length }));
      return json(200, { total: list.length, repositories: list });
    }
    if (route === "GET /api/status") return json(200, { enforcement: "filter" });
    if (route === "GET /bench/latest.json") return hub.benchResults === null ? apiError(404, "NOT_FOUND", "no results") : json(200, hub.benchResults);

    const username = sessionUser(headers);
    if (url.pathname.startsWith("/api/") && url.pathname !== "/api/token" && !username) return apiError(401, "UNAUTHORIZED", "log in first");
    if (route === "GET /api/me/usage") {
      const hour = Math.floor(Date.now() / 3_600_000);
      const hours = Array.from({ length: 24 }, (_, i) => new Date((hour - 23 + i) * 3_600_000).toISOString());
      const used = hub.users.get(username!)!.used;
      return json(200, { hours, repositories: used > 0 ? [{ name: "alice/hello", pulls: [...Array(23).fill(0), used] }] : [] });
    }
    if (route === "GET /api/me") {
      const u = hub.users.get(username!)!;
      const limit = planOf(u.plan).pullsPerWindow;
      return json(200, { username, plan: u.plan, planName: planOf(u.plan).name, quota: { limit, used: u.used, remaining: limit - u.used, resetSeconds: u.used ? 6 * u.used : 0, windowSeconds: catalog.windowSeconds } });
    }
    if (route === "POST /api/plan") {
      const { plan } = JSON.parse(body) as { plan: string };
      if (!catalog.plans.some((p) => p.id === plan)) return apiError(400, "BAD_REQUEST", `unknown plan ${plan}`);
      const u = hub.users.get(username!)!;
      u.plan = plan;
      const limit = planOf(plan).pullsPerWindow;
      return json(200, { username, plan, planName: planOf(plan).name, quota: { limit, used: u.used, remaining: Math.max(0, limit - u.used), resetSeconds: 0, windowSeconds: catalog.windowSeconds } });
    }
    if (route === "GET /api/token") {
      if (!username) return registryError(401, "UNAUTHORIZED", "authentication required");
      const token = `registry-${registryTokens.size + 1}`;
      // As the contract's token endpoint: it grants only what the user may do (no pull on another's private repository).
      const pull = new Set<string>();
      for (const s of (url.searchParams.get("scope") ?? "").split(" ")) {
        const [, name, actions] = /^repository:(.+):([^:]+)$/.exec(s) ?? [];
        const repo = fakeRepositories.find((r) => r.name === name);
        if (repo && actions.split(",").includes("pull") && (repo.visibility === "public" || repo.owner === username)) pull.add(repo.name);
      }
      registryTokens.set(token, { user: username, pull });
      return json(200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m && method === "GET") {
      const grant = registryTokens.get((headers.get("authorization") ?? "").replace(/^Bearer /, ""));
      const challenge = `Bearer realm="/api/token",service="image-hub",scope="repository:${m[1]}:pull"`;
      if (!grant) return registryError(401, "UNAUTHORIZED", "authentication required", null, { "www-authenticate": challenge });
      if (!grant.pull.has(m[1])) return registryError(401, "UNAUTHORIZED", `token does not grant pull on ${m[1]}`, null, { "www-authenticate": `${challenge},error="insufficient_scope"` });
      const u = hub.users.get(grant.user)!;
      const limit = planOf(u.plan).pullsPerWindow;
      const w = catalog.windowSeconds;
      const rate = (used: number, retryAfterSeconds?: number) =>
        Object.fromEntries(quotaFieldPairs(u.plan, { limit, remaining: limit - used, resetSeconds: Math.ceil((used * w) / limit), windowSeconds: w }, retryAfterSeconds));
      if (u.used >= limit) {
        const retry = Math.ceil(w / limit);
        return registryError(429, "TOOMANYREQUESTS", "pull rate limit exceeded", { limit, windowSeconds: w, retryAfterSeconds: retry }, { ...rate(u.used, retry), "retry-after": String(retry) });
      }
      u.used++;
      return new Response(manifestBody, {
        status: 200,
        headers: { ...rate(u.used), "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": manifestDigest },
      });
    }
    return apiError(404, "NOT_FOUND", `no route ${route}`);
  };
  return hub;
}
