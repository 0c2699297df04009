/**
 * The fuzz oracle: turns a generated request (fuzz-gen.ts) into the exact outcome CONTRACT.md
 * promises — status, error code and message, challenge, RateLimit-Policy and RateLimit, whether the upstream saw
 * the request and which identity and plan reached it — and compares it with what a client got.
 * The rate-limit truth is the generator's own token-bucket model, fed only by requests the oracle
 * itself expects to be allowed.
 * @module
 */
import { loadCatalog } from "../../image-hub/catalog.ts";
import { EXAMPLE_REALM, REGISTRY_SERVICE } from "../../image-hub/filter-configs.ts";
import { parseQuotaFields } from "../../image-hub/ratelimit-fields.ts";
import { buildAuthorization, renderGrants, type Action, type RequestSpec, type TokenSpec } from "./fuzz-gen.ts";

export type Target = "token-auth" | "plan-enforcement" | "rate-limit" | "chain";

/** The identity that reaches the upstream in x-hub-user / x-hub-plan / x-hub-access. */
export interface Identity {
  user: string;
  plan: string;
  access: string;
}

/** The exact outcome the oracle expects. */
export interface Expected {
  status: number;
  code?: string;
  message?: string;
  /** Exact WWW-Authenticate of a 401. */
  challenge?: string;
  upstream: boolean;
  /** Identity the upstream must see: exact headers, or null for "none of them". Undefined: not checked (alone filters pass client headers). */
  identity?: Identity | null;
  /**
   * The RateLimit-Policy and RateLimit values: `reset` (RateLimit's t) and `retryAfter` only when the
   * time is exact; a 429's t is its Retry-After whatever the clock.
   */
  rate?: { plan: string; limit: number; remaining: number; reset?: number; retryAfter?: string; windowSeconds: number };
  /**
   * A 200 answered by the filter itself with a JSON body (GET /v2/_quota): these fields exactly, the
   * `ranges` fields within [min, max] (times read from Envoy's own clock), no other field.
   */
  json?: { exact: Record<string, unknown>; ranges: Record<string, [number, number]>; cacheControl: string };
}

/** What the client saw, from the emulator or from real Envoy. */
export interface Observed {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
  /** The request was a HEAD: the answer has no body. */
  head: boolean;
  /** Identity headers the upstream received; undefined when nothing reached it. */
  upstream: Record<"x-hub-user" | "x-hub-plan" | "x-hub-access" | "x-hub-sidecar", string[]> | undefined;
}

/** A request ready to send, with its expected outcome computed by `expect`. */
export interface Materialized {
  method: string;
  path: string;
  headers: [string, string][];
  body: string | undefined;
  /** What made the token valid or not (for failure reports). */
  tokenTruth: string;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  capacity: number;
  /** The count window of the quota answer: opened by the first served pull after the last one ended. */
  windowStartMs: number;
  used: number;
}

const ORDER: Action[] = ["pull", "push", "delete"];
const CHALLENGE = (scope?: string, error?: string): string =>
  `Bearer realm="${EXAMPLE_REALM}",service="${REGISTRY_SERVICE}"` + (scope ? `,scope="${scope}"` : "") + (error ? `,error="${error}"` : "");

/** Every scope a repository route needs, as its 401 challenge names them (a mount adds pull on its source). */
function scopeOf(route: RequestSpec["route"]["truth"]): string | undefined {
  if (route.kind !== "repository") return undefined;
  const own = `repository:${route.repository}:${route.action === "push" ? "pull,push" : route.action}`;
  return route.mountFrom && route.mountFrom !== route.repository ? `${own} repository:${route.mountFrom}:pull` : own;
}

/** Oracle keeps the rate-limit model of one run; create one per filter chain under test. */
export class Oracle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly plans = loadCatalog().plans;

  /**
   * @param target which filters the request goes through
   * @param windowSeconds the rate-limit window the filter is configured with
   * @param exactTime the clock the filter reads is the one passed to expect (emulator); otherwise reset
   *   and retry-after are checked only for range (real Envoy reads its own clock)
   */
  constructor(
    readonly target: Target,
    readonly windowSeconds: number,
    readonly exactTime: boolean,
  ) {}

  /** materialize builds the request bytes of `spec` at `nowMs`, tagging it with `id`. */
  materialize(spec: RequestSpec, nowMs: number, id: string): Materialized & { valid: boolean; token?: TokenSpec } {
    const headers: [string, string][] = [["x-fuzz-id", id]];
    let valid = false;
    let tokenTruth = "no authorization";
    if (spec.auth.kind === "token") {
      const built = buildAuthorization(spec.auth.token, nowMs / 1000);
      headers.push(["authorization", built.authorization]);
      valid = built.valid;
      tokenTruth = valid ? "valid" : `fault ${JSON.stringify(spec.auth.token.fault)}`;
    } else if (spec.auth.kind === "header") {
      headers.push(["authorization", spec.auth.value]);
      tokenTruth = "not a token";
    }
    const chained = this.target === "chain" || this.target === "token-auth";
    const { user, plan, access, duplicate } = spec.identity;
    if (user !== undefined) headers.push(["x-hub-user", user]);
    if (plan !== undefined) headers.push(["x-hub-plan", plan]);
    if (access !== undefined) headers.push(["x-hub-access", access]);
    if (chained) {
      headers.push(["x-hub-sidecar", "spoofed"]);
      if (duplicate) headers.push(["x-hub-user", "mallory"], ["x-hub-plan", "enterprise"]);
    }
    if (spec.contentRange) headers.push(["content-range", spec.contentRange.value]);
    headers.push(...spec.extras);
    const body = ["POST", "PUT", "PATCH"].includes(spec.route.method) ? spec.body : undefined;
    return { method: spec.route.method, path: spec.route.path, headers, body, tokenTruth, valid, token: spec.auth.kind === "token" ? spec.auth.token : undefined };
  }

  /** expect returns the outcome CONTRACT.md promises for `spec` (materialized as `m`) at `nowMs`, updating the bucket model. */
  expect(spec: RequestSpec, m: { valid: boolean; token?: TokenSpec }, nowMs: number): Expected {
    const route = spec.route.truth;
    const target = this.target;
    const throughTokenAuth = target === "chain" || target === "token-auth";
    if (route.kind === "outside") return { status: 200, upstream: true, identity: throughTokenAuth ? null : undefined };
    let identity: Identity | undefined;
    if (throughTokenAuth) {
      if (!m.valid) {
        return { status: 401, code: "UNAUTHORIZED", message: "authentication required", challenge: CHALLENGE(scopeOf(route)), upstream: false };
      }
      identity = { user: m.token!.user.sub, plan: m.token!.user.plan, access: renderGrants(m.token!.grants) };
      if (target === "token-auth") return { status: 200, upstream: true, identity };
    }
    const sent = spec.identity;
    const user = identity ? identity.user : sent.user;
    const plan = identity ? identity.plan : sent.plan;
    const access = identity ? identity.access : sent.access;
    const reached = identity ?? null;
    const pass = (): Expected => ({ status: 200, upstream: true, identity: target === "chain" ? reached : undefined });
    if (target === "chain" || target === "plan-enforcement") {
      const refusal = this.planEnforcement(spec, user, plan, access);
      if (refusal) return refusal;
    }
    const quota = route.kind === "quota";
    if (target === "plan-enforcement" || (!quota && (route.kind !== "repository" || !route.manifestGet))) return pass();
    // rate-limit: only manifest GETs count, and it answers GET /v2/_quota itself.
    const planLimit = this.plans.find((p) => p.id === plan);
    if (user === undefined || user.length === 0 || Buffer.byteLength(user) > 255 || planLimit === undefined) {
      return { status: 403, code: "DENIED", message: "no verified identity or unknown plan", upstream: false };
    }
    if (quota) return this.quota(user, planLimit.id, planLimit.pullsPerWindow, nowMs);
    return this.take(user, planLimit.id, planLimit.pullsPerWindow, nowMs, pass());
  }

  /** The bucket of `user` at `nowMs` under `capacity` (no bucket: full, nothing used); writes nothing. */
  private peek(user: string, capacity: number, nowMs: number): { tokens: number; bucket: Bucket | undefined } {
    const bucket = this.buckets.get(user);
    const tokens = bucket ? Math.min(capacity, bucket.tokens + (Math.max(0, nowMs - bucket.updatedMs) * capacity) / (this.windowSeconds * 1000)) : capacity;
    return { tokens, bucket };
  }

  /** CONTRACT.md "Quota": the caller's bucket and count, read-only (the model is not updated). */
  private quota(user: string, plan: string, capacity: number, nowMs: number): Expected {
    const windowMs = this.windowSeconds * 1000;
    const perSecond = capacity / this.windowSeconds;
    const { tokens, bucket } = this.peek(user, capacity, nowMs);
    const used = bucket && nowMs - bucket.windowStartMs < windowMs ? bucket.used : 0;
    const exact: Record<string, unknown> = { plan, limit: capacity, used, remaining: Math.floor(tokens), windowSeconds: this.windowSeconds };
    const timed = { resetSeconds: Math.ceil((capacity - tokens) / perSecond), usedResetSeconds: used > 0 ? Math.ceil((bucket!.windowStartMs + windowMs - nowMs) / 1000) : 0 };
    // Envoy reads its own clock: the times are checked for range there.
    const ranges: Record<string, [number, number]> = this.exactTime ? {} : { resetSeconds: [0, this.windowSeconds], usedResetSeconds: [0, this.windowSeconds] };
    return { status: 200, upstream: false, json: { exact: this.exactTime ? { ...exact, ...timed } : exact, ranges, cacheControl: "no-store" } };
  }

  private planEnforcement(spec: RequestSpec, user: string | undefined, plan: string | undefined, access: string | undefined): Expected | undefined {
    const route = spec.route.truth;
    const refuse = (status: number, code: string, message: string): Expected => ({ status, code, message, upstream: false });
    if (route.kind === "invalid-name") return refuse(400, "NAME_INVALID", "invalid repository name");
    if (route.kind === "unsupported") return refuse(404, "UNSUPPORTED", "unsupported registry route");
    if (user === undefined || plan === undefined) return refuse(403, "DENIED", "no verified identity");
    const entry = this.plans.find((p) => p.id === plan);
    if (!entry) return refuse(403, "DENIED", `unknown plan ${plan}`);
    if (route.kind !== "repository") return undefined;
    const needed = new Set<Action>([route.action, ...(route.mountFrom ? (["pull"] as Action[]) : [])]);
    for (const action of ORDER) if (needed.has(action) && !entry.actions.includes(action)) return refuse(403, "DENIED", `plan ${plan} does not allow ${action}`);
    const granted = (repository: string): Set<string> =>
      new Set(
        (access ?? "")
          .split(" ")
          .filter((e) => e.startsWith(`repository:${repository}:`))
          .flatMap((e) => e.slice(`repository:${repository}:`.length).split(",")),
      );
    // A plan's refusal is final (403); a token merely lacking the grant gets the token spec's
    // insufficient_scope challenge naming every scope the route needs.
    const insufficient = (message: string): Expected => ({ ...refuse(401, "UNAUTHORIZED", message), challenge: CHALLENGE(scopeOf(route), "insufficient_scope") });
    if (!granted(route.repository).has(route.action)) return insufficient(`token does not grant ${route.action} on ${route.repository}`);
    if (route.mountFrom && !granted(route.mountFrom).has("pull")) return insufficient(`token does not grant pull on ${route.mountFrom}`);
    const end = spec.contentRange?.end;
    if (route.blobUpload && end !== undefined && end >= entry.maxBlobBytes) {
      return refuse(413, "SIZE_INVALID", `blob upload exceeds the ${plan} plan limit of ${entry.maxBlobBytes} bytes`);
    }
    return undefined;
  }

  /** The token bucket of CONTRACT.md "Rate limit": capacity per window, refilled continuously, a refusal costs nothing. */
  private take(user: string, plan: string, capacity: number, nowMs: number, allowed: Expected): Expected {
    const windowMs = this.windowSeconds * 1000;
    const perSecond = capacity / this.windowSeconds;
    const bucket = this.buckets.get(user);
    const tokens = bucket ? Math.min(capacity, bucket.tokens + (Math.max(0, nowMs - bucket.updatedMs) * capacity) / windowMs) : capacity;
    const exact = this.exactTime;
    if (tokens < 1) {
      const retry = String(Math.max(1, Math.ceil((1 - tokens) / perSecond)));
      return {
        status: 429,
        code: "TOOMANYREQUESTS",
        message: "pull rate limit exceeded",
        upstream: false,
        rate: { plan, limit: capacity, remaining: Math.max(0, Math.floor(tokens)), windowSeconds: this.windowSeconds, retryAfter: exact ? retry : undefined, reset: exact ? Number(retry) : undefined },
      };
    }
    const left = tokens - 1;
    // A served pull opens a new count window when the last one has ended, and counts in it.
    const fresh = !bucket || nowMs - bucket.windowStartMs >= windowMs;
    this.buckets.set(user, { tokens: left, updatedMs: nowMs, capacity, windowStartMs: fresh ? nowMs : bucket.windowStartMs, used: (fresh ? 0 : bucket.used) + 1 });
    return { ...allowed, rate: { plan, limit: capacity, remaining: Math.floor(left), windowSeconds: this.windowSeconds, reset: exact ? Math.ceil((capacity - left) / perSecond) : undefined } };
  }
}

/** mismatches lists every way `observed` differs from `expected`; empty when they agree. */
export function mismatches(expected: Expected, observed: Observed, windowSeconds: number): string[] {
  const out: string[] = [];
  const check = (what: string, want: unknown, got: unknown): void => {
    if (JSON.stringify(want) !== JSON.stringify(got)) out.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  check("status", expected.status, observed.status);
  check("upstream reached", expected.upstream, observed.upstream !== undefined);
  // A HEAD answer has headers only.
  if (expected.status !== 200 && !(observed.head && observed.body === "")) {
    check("content-type", "application/json", observed.headers["content-type"]);
    let error: { code?: unknown; message?: unknown; detail?: Record<string, unknown> } = {};
    try {
      const parsed = JSON.parse(observed.body) as { errors?: unknown[] };
      check("error count", 1, parsed.errors?.length);
      error = (parsed.errors?.[0] ?? {}) as typeof error;
    } catch {
      out.push(`body is not JSON: ${JSON.stringify(observed.body.slice(0, 200))}`);
    }
    check("error code", expected.code, error.code);
    check("error message", expected.message, error.message);
  }
  check("www-authenticate", expected.challenge, observed.headers["www-authenticate"]);
  if (expected.json) {
    check("content-type", "application/json", observed.headers["content-type"]);
    check("cache-control", expected.json.cacheControl, observed.headers["cache-control"]);
    try {
      const body = JSON.parse(observed.body) as Record<string, unknown>;
      check("answer fields", [...Object.keys(expected.json.exact), ...Object.keys(expected.json.ranges)].sort(), Object.keys(body).sort());
      for (const [k, v] of Object.entries(expected.json.exact)) check(`answer ${k}`, v, body[k]);
      for (const [k, [min, max]] of Object.entries(expected.json.ranges)) {
        if (!(Number.isInteger(body[k]) && (body[k] as number) >= min && (body[k] as number) <= max)) out.push(`answer ${k}: ${JSON.stringify(body[k])} outside ${min}..${max}`);
      }
    } catch {
      out.push(`answer is not JSON: ${JSON.stringify(observed.body.slice(0, 200))}`);
    }
  }
  if (expected.identity !== undefined && observed.upstream) {
    const want = expected.identity;
    check("upstream x-hub-user", want ? [want.user] : [], observed.upstream["x-hub-user"]);
    check("upstream x-hub-plan", want ? [want.plan] : [], observed.upstream["x-hub-plan"]);
    check("upstream x-hub-access", want ? [want.access] : [], observed.upstream["x-hub-access"]);
    check("upstream x-hub-sidecar", [], observed.upstream["x-hub-sidecar"]);
  }
  const rate = expected.rate;
  check("ratelimit-policy", rate && `"${rate.plan}";q=${rate.limit};w=${rate.windowSeconds}`, observed.headers["ratelimit-policy"]);
  const current = observed.headers["ratelimit"];
  if (rate === undefined) check("ratelimit", undefined, current);
  else if (rate.reset !== undefined) check("ratelimit", `"${rate.plan}";r=${rate.remaining};t=${rate.reset}`, current);
  else {
    // Envoy's own clock: t within the window, and on a 429 exactly the Retry-After.
    const fields = parseQuotaFields((name) => observed.headers[name]);
    check("ratelimit r", rate.remaining, fields?.remaining);
    const t = fields?.resetSeconds ?? -1;
    if (expected.status === 429) check("ratelimit t", observed.headers["retry-after"], String(t));
    else if (!(t >= 1 && t <= windowSeconds)) out.push(`ratelimit t ${t} outside 1..${windowSeconds}: ${current}`);
  }
  for (const obsolete of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"]) check(obsolete, undefined, observed.headers[obsolete]);
  if (expected.status === 429) {
    const retry = observed.headers["retry-after"];
    if (rate?.retryAfter !== undefined) check("retry-after", rate.retryAfter, retry);
    else if (!(Number(retry) >= 1 && Number(retry) <= windowSeconds)) out.push(`retry-after ${retry} outside 1..${windowSeconds}`);
    if (!observed.head) try {
      const detail = (JSON.parse(observed.body) as { errors: { detail: Record<string, unknown> }[] }).errors[0]!.detail;
      check("429 detail", { limit: rate?.limit, windowSeconds, retryAfterSeconds: Number(retry) }, detail);
    } catch {
      out.push("429 without a detail");
    }
  }
  return out;
}
