// The one module that talks to Image Hub: accounts and plans under /api/, the registry under /v2/.
// Components never call fetch themselves, so every failure is turned into an ApiError here and shown
// by the pages instead of being swallowed. The session token is kept opaque: the plan shown in the
// UI always comes from GET /api/me, never from decoding a token in the browser.
import { type BearerChallenge, parseBearerChallenge } from "./challenge.ts";
import type { PlanCatalog, Quota, Me, Usage, EnforcementMode, Tag, Repository, PullResult } from "./model.ts";
import { parseQuotaFields } from "../../ratelimit-fields.ts";

export type { Plan, PlanCatalog, Quota, Me, Usage, EnforcementMode, Tag, Repository, PullResult } from "./model.ts";

/** Where a failure came from: the server answered with an error status, or no usable answer came at all. */
export type ApiErrorKind = "http" | "network" | "invalid-response";

/** Rate-limit details of a 429, from the registry error detail and the Retry-After header. */
export interface LimitDetail {
  limit: number;
  windowSeconds: number;
  retryAfterSeconds: number;
}

/** Every failure of this client. `status` is 0 when no HTTP answer arrived. */
export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly code: string;
  readonly limit: LimitDetail | null;
  readonly quota: Quota | null;
  /** The Bearer challenge of a 401, or null when the answer carried none. */
  readonly challenge: BearerChallenge | null;

  constructor(init: { kind: ApiErrorKind; status: number; code: string; message: string; limit?: LimitDetail | null; quota?: Quota | null; challenge?: BearerChallenge | null }) {
    super(init.message);
    this.name = "ApiError";
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.limit = init.limit ?? null;
    this.quota = init.quota ?? null;
    this.challenge = init.challenge ?? null;
  }

  /**
   * True for the token spec's 401 `insufficient_scope`: the caller is authenticated, but the token
   * does not grant the action. Logging in again cannot help, so it must not be shown as "log in".
   */
  get insufficientScope(): boolean {
    return this.status === 401 && this.challenge?.error === "insufficient_scope";
  }
}

/** Where the session token lives between page loads. */
export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

/** Options of createApi; every field has a browser default. */
export interface ApiOptions {
  /** Prefix for every URL; "" means same origin, which is how Envoy serves UI, /api/ and /v2/. */
  baseUrl?: string;
  fetch?: typeof fetch;
  tokens?: TokenStore;
}

/** The API client's operations; each returns a promise that rejects with ApiError only. */
export interface Api {
  plans(): Promise<PlanCatalog>;
  signUp(username: string, password: string, plan: string): Promise<void>;
  logIn(username: string, password: string): Promise<void>;
  logOut(): void;
  isLoggedIn(): boolean;
  me(): Promise<Me>;
  changePlan(plan: string): Promise<Me>;
  repositories(search?: string, signal?: AbortSignal): Promise<Repository[]>;
  repository(name: string): Promise<Repository>;
  pull(repository: string, reference: string): Promise<PullResult>;
  benchResults(): Promise<unknown | null>;
  usage(): Promise<Usage>;
  enforcement(): Promise<EnforcementMode>;
}

const sessionKey = "image-hub.session";

/**
 * A TokenStore on localStorage, falling back to memory where storage is unavailable (private mode,
 * tests without a DOM). Never throws.
 */
export function browserTokenStore(): TokenStore {
  let memory: string | null = null;
  const storage = (): Storage | null => {
    try {
      return typeof localStorage === "undefined" ? null : localStorage;
    } catch {
      return null;
    }
  };
  return {
    get: () => storage()?.getItem(sessionKey) ?? memory,
    set(token) {
      memory = token;
      const s = storage();
      if (!s) return;
      if (token === null) s.removeItem(sessionKey);
      else s.setItem(sessionKey, token);
    },
  };
}

const manifestAccept = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * Reads the contract's RateLimit-Policy and RateLimit fields (see image-hub/CONTRACT.md). Returns null
 * when the response has none, or malformed ones (e.g. a 401 that never reached the limiter).
 */
export function quotaFromHeaders(headers: Headers): Quota | null {
  const fields = parseQuotaFields((name) => headers.get(name));
  if (!fields) return null;
  return {
    limit: fields.limit,
    remaining: fields.remaining,
    used: Math.max(0, fields.limit - fields.remaining),
    resetSeconds: fields.resetSeconds,
    windowSeconds: fields.windowSeconds,
  };
}

/**
 * Turns an error response into an ApiError. Understands both the registry format
 * `{"errors":[{code,message,detail}]}` and the accounts format `{"error":{code,message}}`; anything
 * else keeps the status and says so.
 */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let detail: unknown = null;
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[]; error?: { code?: string; message?: string } };
    const first = body?.errors?.[0] ?? body?.error;
    if (typeof first?.code === "string") code = first.code;
    if (typeof first?.message === "string") message = first.message;
    detail = body?.errors?.[0]?.detail ?? null;
  } catch {
    if (text.trim()) message = text.trim().slice(0, 300);
  }
  const quota = quotaFromHeaders(res.headers);
  let limit: LimitDetail | null = null;
  if (res.status === 429) {
    const d = (detail ?? {}) as Partial<LimitDetail>;
    const retryHeader = Number(res.headers.get("retry-after"));
    limit = {
      limit: Number(d.limit ?? quota?.limit ?? NaN),
      windowSeconds: Number(d.windowSeconds ?? quota?.windowSeconds ?? NaN),
      retryAfterSeconds: Number(d.retryAfterSeconds ?? (Number.isFinite(retryHeader) ? retryHeader : NaN)),
    };
  }
  const challenge = parseBearerChallenge(res.headers.get("www-authenticate"));
  return new ApiError({ kind: "http", status: res.status, code, message, limit, quota, challenge });
}

/**
 * Creates the client. Safe to call at any time; nothing is sent until an operation is called.
 */
export function createApi(options: ApiOptions = {}): Api {
  const baseUrl = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const tokens = options.tokens ?? browserTokenStore();

  async function send(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(baseUrl + path, { cache: "no-store", ...init });
    } catch (err) {
      if ((err as Error)?.name === "AbortError") throw err;
      throw new ApiError({ kind: "network", status: 0, code: "NETWORK", message: `Image Hub could not be reached (${(err as Error)?.message ?? String(err)})` });
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await send(path, init);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : null) as T;
    } catch {
      throw new ApiError({ kind: "invalid-response", status: res.status, code: "INVALID_RESPONSE", message: `${path} answered with something that is not JSON` });
    }
  }

  function authHeaders(): Record<string, string> {
    const token = tokens.get();
    if (!token) throw new ApiError({ kind: "http", status: 401, code: "UNAUTHORIZED", message: "You are not logged in." });
    return { authorization: `Bearer ${token}` };
  }

  const jsonBody = (body: unknown): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  /**
   * Runs a call made with the session token; a 401 means the session is over, so it is forgotten,
   * except an `insufficient_scope` 401, which says the session is valid but lacks a permission.
   */
  async function withSession<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && !err.insufficientScope) tokens.set(null);
      throw err;
    }
  }

  const me = () => withSession(async () => normalizeMe(await json<RawMe>("/api/me", { headers: authHeaders() })));

  return {
    plans: () => json<PlanCatalog>("/api/plans"),
    async signUp(username, password, plan) {
      await json<unknown>("/api/signup", jsonBody({ username, password, plan }));
    },
    async logIn(username, password) {
      const body = await json<{ token?: string }>("/api/login", jsonBody({ username, password }));
      if (!body?.token) throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "Log-in answered without a session token" });
      tokens.set(body.token);
    },
    logOut: () => tokens.set(null),
    isLoggedIn: () => tokens.get() !== null,
    me,
    changePlan: (plan) =>
      withSession(async () => normalizeMe(await json<RawMe>("/api/plan", { ...jsonBody({ plan }), headers: { "content-type": "application/json", ...authHeaders() } }))),
    async repositories(search = "", signal) {
      const q = search.trim() ? `?q=${encodeURIComponent(search.trim())}` : "";
      const headers = tokens.get() ? authHeaders() : {};
      const body = await json<{ repositories?: RawRepository[] }>(`/api/repositories${q}`, { headers, signal });
      if (!Array.isArray(body?.repositories)) throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "The repository list answer has no repositories array" });
      return body.repositories.map(normalizeRepository);
    },
    async repository(name) {
      const headers = tokens.get() ? authHeaders() : {};
      return normalizeRepository(await json<RawRepository>(`/api/repositories/${name}`, { headers }));
    },
    async pull(repository, reference) {
      const scope = `repository:${repository}:pull`;
      const grant = await withSession(() => json<{ token?: string }>(`/api/token?service=image-hub&scope=${encodeURIComponent(scope)}`, { headers: authHeaders() }));
      if (!grant?.token) throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "The token endpoint answered without a token" });
      const res = await send(`/v2/${repository}/manifests/${encodeURIComponent(reference)}`, {
        headers: { authorization: `Bearer ${grant.token}`, accept: manifestAccept },
      });
      const body = await res.arrayBuffer();
      return {
        repository,
        reference,
        digest: res.headers.get("docker-content-digest") ?? "",
        mediaType: res.headers.get("content-type") ?? "",
        bytes: body.byteLength,
        quota: quotaFromHeaders(res.headers),
      };
    },
    async usage() {
      const body = await withSession(() => json<Usage>("/api/me/usage", { headers: authHeaders() }));
      if (!Array.isArray(body?.hours) || !Array.isArray(body.repositories)) throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "The usage answer has no hours or repositories" });
      return body;
    },
    async enforcement() {
      const body = await json<{ enforcement?: string }>("/api/status");
      if (body?.enforcement !== "filter" && body?.enforcement !== "app") throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "The status answer names no enforcement mode" });
      return body.enforcement;
    },
    async benchResults() {
      try {
        return await json<unknown>("/bench/latest.json");
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  };
}

// The Raw* shapes are what GET /api/me and /api/repositories answer (image-hub/access/accounts.ts);
// the normalizers keep the pages independent of optional fields.
interface RawMe {
  username: string;
  plan: string;
  planName?: string;
  quota?: Partial<Quota> | null;
}

function normalizeMe(raw: RawMe): Me {
  if (typeof raw?.username !== "string" || typeof raw.plan !== "string") {
    throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "The account answer has no username or plan" });
  }
  const plan = raw.plan;
  const q = raw.quota;
  const quota: Quota | null = q && Number.isFinite(q.limit)
    ? {
        limit: Number(q.limit),
        remaining: Number(q.remaining ?? 0),
        used: Number(q.used ?? Number(q.limit) - Number(q.remaining ?? 0)),
        resetSeconds: Number(q.resetSeconds ?? 0),
        windowSeconds: Number(q.windowSeconds ?? 0),
      }
    : null;
  return { username: raw.username, plan, planName: raw.planName ?? null, quota };
}

interface RawRepository {
  name: string;
  owner?: string;
  visibility?: string;
  tags?: Partial<Tag>[];
  tagCount?: number;
  size?: number | null;
  lastPushAt?: string | null;
  pulls?: number;
}

function normalizeRepository(raw: RawRepository): Repository {
  if (typeof raw?.name !== "string") throw new ApiError({ kind: "invalid-response", status: 200, code: "INVALID_RESPONSE", message: "A repository in the answer has no name" });
  const tags = (raw.tags ?? []).map((t) => ({
    name: t.name ?? "",
    digest: t.digest ?? "",
    size: t.size ?? null,
    pushedAt: t.pushedAt ?? null,
  }));
  return {
    name: raw.name,
    owner: raw.owner ?? raw.name.split("/")[0],
    visibility: raw.visibility === "private" ? "private" : "public",
    tagCount: raw.tagCount ?? tags.length,
    tags,
    size: raw.size ?? null,
    lastPushAt: raw.lastPushAt ?? null,
    pulls: raw.pulls ?? 0,
  };
}
