/**
 * Who is calling `/v2/*` and what they may do. In `filter` mode the identity comes from the
 * sidecar's `x-hub-*` headers (trusted only with the per-run sidecar secret) and the filters have
 * already enforced plan and rate limit. In `app` mode this module verifies the JWT and enforces the
 * same rules, with the same statuses, headers and bodies, as token-auth → plan-enforcement →
 * rate-limit (CONTRACT.md).
 * @module
 */
import type { NextFunction, Request, Response } from "express";
import { findPlan, type Action, type Catalog, type Plan } from "../catalog.ts";
import { HttpError } from "../http-error.ts";
import { quotaFieldPairs } from "../ratelimit-fields.ts";
import { BucketsUnavailable, type BucketState, type PullBuckets } from "./bucket.ts";
import { mapRegistryRequest, type RegistryRoute } from "./routes-map.ts";
import { allows, parseAccess, SERVICE, verifyRegistryToken, type Identity, type SigningKeys } from "./tokens.ts";

/** How plan and rate limits are enforced; chosen at start. */
export type EnforceMode = "filter" | "app";

/** What the policy middleware needs. */
export interface PolicyOptions {
  mode: EnforceMode;
  catalog: Catalog;
  keys: SigningKeys;
  buckets: PullBuckets;
  /** Token endpoint URL for the `WWW-Authenticate` realm. */
  realm: string;
  /** Value of `x-hub-sidecar` that marks a request as coming through the sidecar (filter mode). */
  sidecarSecret: string;
  /**
   * App mode: the user's plan now (undefined for an unknown user). The enforced plan is the current
   * one, never the token's `plan` claim, so a plan change applies to tokens already issued.
   */
  currentPlan: (user: string) => string | undefined;
}

/** The quota answer of `GET /v2/_quota` (CONTRACT.md "Quota"), identical in both modes. */
export interface Quota {
  plan: string;
  limit: number;
  /** Pulls served in the current count window. */
  used: number;
  remaining: number;
  resetSeconds: number;
  windowSeconds: number;
  usedResetSeconds: number;
}

/** quotaOf renders an app-mode bucket state as the quota answer, keys in the filter's order. */
export function quotaOf(plan: Plan, s: BucketState): Quota {
  return { plan: plan.id, limit: s.limit, used: s.used, remaining: s.remaining, resetSeconds: s.resetSeconds, windowSeconds: s.windowSeconds, usedResetSeconds: s.usedResetSeconds };
}

/** What the policy middleware leaves on `res.locals` for the handlers. */
export interface RegistryLocals {
  identity: Identity;
  plan: Plan;
  route: RegistryRoute;
}

/** rawPathOf returns the undecoded request path below `/v2` (no query). */
export function rawPathOf(req: Request): string {
  const url = req.originalUrl;
  const q = url.indexOf("?");
  return (q < 0 ? url : url.slice(0, q)).slice("/v2".length);
}

/** The challenge of CONTRACT.md: every scope the route needs, and the token-spec `error` when given. */
function challenge(options: PolicyOptions, route: RegistryRoute, error?: string): string {
  let value = `Bearer realm="${options.realm}",service="${SERVICE}"`;
  if (route.name !== undefined && route.scopeActions) {
    const scopes = [`repository:${route.name}:${route.scopeActions}`];
    if (route.mountFrom !== undefined && route.mountFrom !== route.name) scopes.push(`repository:${route.mountFrom}:pull`);
    value += `,scope="${scopes.join(" ")}"`;
  }
  return error ? `${value},error="${error}"` : value;
}

function unauthorized(options: PolicyOptions, route: RegistryRoute): HttpError {
  return new HttpError(401, "UNAUTHORIZED", "authentication required", null, { "WWW-Authenticate": challenge(options, route) });
}

/**
 * A valid token without the scope the route needs: the token spec's 401 `insufficient_scope`, so a
 * client that asked for less (oras asks for pull before push) fetches the named scope and retries.
 */
function insufficientScope(options: PolicyOptions, route: RegistryRoute, message: string): HttpError {
  return new HttpError(401, "UNAUTHORIZED", message, null, { "WWW-Authenticate": challenge(options, route, "insufficient_scope") });
}

async function identify(req: Request, options: PolicyOptions, route: RegistryRoute): Promise<Identity> {
  if (options.mode === "filter") {
    const user = req.headers["x-hub-user"];
    const plan = req.headers["x-hub-plan"];
    if (req.headers["x-hub-sidecar"] !== options.sidecarSecret || typeof user !== "string" || typeof plan !== "string") throw unauthorized(options, route);
    return { user, plan, access: parseAccess(String(req.headers["x-hub-access"] ?? "")) };
  }
  // Parsed as token-auth does: case-insensitive scheme, then the rest trimmed.
  const auth = req.headers.authorization ?? "";
  const token = auth.length >= 8 && auth.slice(0, 7).toLowerCase() === "bearer " ? auth.slice(7).trim() : "";
  if (token === "") throw unauthorized(options, route);
  let identity: Identity;
  try {
    identity = await verifyRegistryToken(options.keys, token);
  } catch {
    throw unauthorized(options, route);
  }
  const plan = options.currentPlan(identity.user);
  if (plan === undefined) throw unauthorized(options, route);
  return { ...identity, plan };
}

/** The body size a blob upload announces (Content-Length, or Content-Range end + 1); -1 when none. */
function announcedBytes(req: Request): number {
  const length = /^\d+$/.test(String(req.headers["content-length"] ?? "")) ? Number(req.headers["content-length"]) : -1;
  const range = /^(\d+)-(\d+)$/.exec(String(req.headers["content-range"] ?? ""));
  return Math.max(length, range ? Number(range[2]) + 1 : -1);
}

/** tooLarge is the 413 both modes send; the storage service's own limit is reported the same way. */
export function tooLarge(plan: Plan): HttpError {
  return new HttpError(413, "SIZE_INVALID", `blob upload exceeds the ${plan.id} plan limit of ${plan.maxBlobBytes} bytes`, { limit: plan.maxBlobBytes });
}

/** The plan's DENIED message of CONTRACT.md, or undefined when the plan allows every action needed. */
function planDenial(plan: Plan, route: RegistryRoute): string | undefined {
  const needed = new Set<Action>(route.action ? [route.action] : []);
  if (route.mountFrom !== undefined) needed.add("pull");
  for (const a of ["pull", "push", "delete"] as Action[]) if (needed.has(a) && !plan.actions.includes(a)) return `plan ${plan.id} does not allow ${a}`;
  return undefined;
}

/** The message naming the grant the token lacks, or undefined when it grants what the route needs. */
function missingGrant(identity: Identity, route: RegistryRoute): string | undefined {
  if (route.action && !allows(identity.access, route.name as string, route.action)) return `token does not grant ${route.action} on ${route.name}`;
  if (route.mountFrom !== undefined && !allows(identity.access, route.mountFrom, "pull")) return `token does not grant pull on ${route.mountFrom}`;
  return undefined;
}

/**
 * The shared store's failure mode (CONTRACT.md, "Global limits"): fail closed. A pull whose bucket
 * cannot be read is refused with 503 UNAVAILABLE rather than admitted past the plan; a quota that
 * cannot be read is 503 too, never a guess.
 */
async function fromStore(op: () => BucketState | Promise<BucketState>): Promise<BucketState> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof BucketsUnavailable) throw new HttpError(503, "UNAVAILABLE", "pull rate limit store unavailable", null, { "Retry-After": "1" });
    throw err;
  }
}

/** Sets the quota fields of a pull answered from `s` (CONTRACT.md "Rate limit"); a 429 passes its Retry-After. */
function rateHeaders(res: Response, plan: Plan, s: BucketState, retryAfterSeconds?: number): void {
  for (const [name, value] of quotaFieldPairs(plan.id, s, retryAfterSeconds)) res.setHeader(name, value);
}

/**
 * registryPolicy returns the middleware for `/v2/*`. It passes to the handlers with
 * `res.locals` set ({@link RegistryLocals}) or fails the request with 401 / 400 NAME_INVALID /
 * 403 DENIED (plan) / 401 insufficient_scope (token) / 413 SIZE_INVALID / 429 TOOMANYREQUESTS, in
 * the contract's order.
 */
export function registryPolicy(options: PolicyOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const route = mapRegistryRequest(req.method, rawPathOf(req), new URLSearchParams(req.originalUrl.split("?")[1] ?? ""));
    const identity = await identify(req, options, route);
    if (route.kind === "invalidName") throw new HttpError(400, "NAME_INVALID", "invalid repository name", null);
    if (route.kind === "unsupported") throw new HttpError(404, "UNSUPPORTED", "unsupported registry route", null);
    const plan = findPlan(options.catalog, identity.plan);
    if (!plan) throw new HttpError(403, "DENIED", `unknown plan ${identity.plan}`, null);
    const denied = planDenial(plan, route);
    if (denied !== undefined) throw new HttpError(403, "DENIED", denied, null);
    const missing = missingGrant(identity, route);
    if (missing !== undefined) throw insufficientScope(options, route, missing);
    if (options.mode === "app" && route.isBlobUpload && announcedBytes(req) > plan.maxBlobBytes) throw tooLarge(plan);
    if (route.kind === "quota") {
      // In filter mode rate-limit answers this itself; reaching here means no enforcer saw it, and the
      // app keeps no copy of the sidecar's count to answer with.
      if (options.mode === "filter") throw new HttpError(503, "UNAVAILABLE", "quota unavailable: the rate-limit filter did not answer", null);
      const body = quotaOf(plan, await fromStore(() => options.buckets.peek(identity.user, plan.pullsPerWindow)));
      res.status(200).setHeader("Cache-Control", "no-store").setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify(body)));
      return;
    }
    if (route.countsAsPull && options.mode === "app") {
      // Filter mode counts nothing here: the rate-limit filter's bucket is the only count.
      const state = await fromStore(() => options.buckets.take(identity.user, plan.pullsPerWindow));
      if (!state.allowed) {
        const retry = Math.max(1, state.retryAfterSeconds);
        rateHeaders(res, plan, state, retry);
        const detail = { limit: state.limit, windowSeconds: state.windowSeconds, retryAfterSeconds: retry };
        throw new HttpError(429, "TOOMANYREQUESTS", "pull rate limit exceeded", detail, { "Retry-After": String(retry) });
      }
      rateHeaders(res, plan, state);
    }
    const locals: RegistryLocals = { identity, plan, route };
    Object.assign(res.locals, locals);
    next();
  };
}
