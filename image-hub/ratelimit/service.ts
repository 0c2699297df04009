/**
 * The rate-limit service of global filter mode: Envoy's `envoy.filters.http.ratelimit` asks it
 * `ShouldRateLimit` (envoy.service.ratelimit.v3, gRPC) for each pull the rate-limit wasm filter marked,
 * and it answers from the same Redis token bucket and count window as app mode (RedisBuckets), with the
 * same RateLimit-Policy and RateLimit fields and, on 429, the same Retry-After and registry error body (raw_body). Its
 * HTTP side answers `GET /v2/_quota` read-only from that bucket (Envoy routes the verified user there)
 * and `GET /healthz`.
 *
 * Why its own service and not envoyproxy/ratelimit: `npm start` must run on a machine without Go, and
 * the answers must be the registry's exact ones (body, Retry-After), which that service cannot produce.
 * @module
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { findPlan, type Catalog, type Plan } from "../catalog.ts";
import { HttpError, toHttpError } from "../http-error.ts";
import { BucketsUnavailable, type BucketState, type PullBuckets } from "../access/bucket.ts";
import { quotaOf } from "../access/policy.ts";
import { quotaFieldPairs } from "../ratelimit-fields.ts";

/** The rate-limit domain Envoy's filter sends (CONTRACT.md "Global limits"). */
export const RATELIMIT_DOMAIN = "image-hub";
/** Descriptor entry keys, in the order Envoy's actions produce them. */
export const DESCRIPTOR_KEYS = { pull: "pull", plan: "plan", user: "user" } as const;

/** The decoded RateLimitRequest (field names as rls.proto spells them). */
export interface RateLimitRequest {
  domain?: string;
  descriptors?: { entries?: { key?: string; value?: string }[]; hits_addend?: { value?: number | string } | null }[];
  hits_addend?: number;
}

/** The RateLimitResponse this service sends. */
export interface RateLimitResponse {
  overall_code: "OK" | "OVER_LIMIT";
  statuses: { code: "OK" | "OVER_LIMIT"; limit_remaining: number }[];
  response_headers_to_add: { key: string; value: string }[];
  request_headers_to_add: { key: string; value: string }[];
  raw_body: Buffer;
}

/** A request the service cannot answer; `grpc` is the gRPC status name it maps to. */
export class RateLimitError extends Error {
  constructor(
    readonly grpc: "INVALID_ARGUMENT" | "UNAVAILABLE",
    message: string,
  ) {
    super(message);
  }
}

/** What createRateLimitService needs. */
export interface RateLimitServiceOptions {
  buckets: PullBuckets;
  catalog: Catalog;
  /** The secret Envoy's quota route adds as x-hub-sidecar; quota requests without it are refused. */
  sidecarSecret: string;
  /** Resolves when the bucket store answers; rejects when it does not (for /healthz). */
  health: () => Promise<void>;
  /** Called with each unexpected error; defaults to console.error. */
  logError?: (err: unknown) => void;
}

/** The service: the gRPC method's logic and the HTTP app. */
export interface RateLimitService {
  /**
   * Decides one ShouldRateLimit call: consumes `hits` tokens of the user's bucket when available.
   * Rejects with RateLimitError (INVALID_ARGUMENT for a request it does not understand, UNAVAILABLE
   * when Redis cannot answer), which Envoy turns into its failure mode.
   */
  shouldRateLimit(request: RateLimitRequest): Promise<RateLimitResponse>;
  /** GET /v2/_quota and GET /healthz. */
  app: express.Express;
}

/** The quota fields of a pull answered from `s`, as every pull answer carries them (CONTRACT.md "Rate limit"). */
function rateHeaders(plan: Plan, s: BucketState, retryAfterSeconds?: number): { key: string; value: string }[] {
  return quotaFieldPairs(plan.id, s, retryAfterSeconds).map(([key, value]) => ({ key, value }));
}

/** The one descriptor of a pull: its plan and user. Throws RateLimitError naming what is wrong. */
function pullOf(request: RateLimitRequest, catalog: Catalog): { plan: Plan; user: string; hits: number } {
  if (request.domain !== RATELIMIT_DOMAIN) throw new RateLimitError("INVALID_ARGUMENT", `domain: expected "${RATELIMIT_DOMAIN}", got ${JSON.stringify(request.domain ?? "")}`);
  const descriptors = request.descriptors ?? [];
  if (descriptors.length !== 1) throw new RateLimitError("INVALID_ARGUMENT", `descriptors: expected exactly one (pull, plan, user), got ${descriptors.length}`);
  const entries = new Map((descriptors[0].entries ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
  const planId = entries.get(DESCRIPTOR_KEYS.plan);
  const user = entries.get(DESCRIPTOR_KEYS.user);
  if (!entries.has(DESCRIPTOR_KEYS.pull) || !planId || !user) throw new RateLimitError("INVALID_ARGUMENT", "descriptors[0]: expected the entries pull, plan and user");
  const plan = findPlan(catalog, planId);
  if (!plan) throw new RateLimitError("INVALID_ARGUMENT", `descriptors[0].plan: unknown plan ${JSON.stringify(planId)}`);
  // Envoy sends hits_addend 0 for "one"; only single pulls are counted, so anything else is refused.
  const hits = Number(descriptors[0].hits_addend?.value ?? 0) || request.hits_addend || 1;
  if (hits !== 1) throw new RateLimitError("INVALID_ARGUMENT", `hits_addend: only 1 is supported, got ${hits}`);
  return { plan, user, hits };
}

/**
 * createRateLimitService builds the service over a bucket store; never throws. The same function
 * serves the local run (in process) and server.ts (its own process).
 */
export function createRateLimitService(options: RateLimitServiceOptions): RateLimitService {
  const { buckets, catalog } = options;
  const logError = options.logError ?? ((err: unknown) => console.error("ratelimit:", err));

  async function shouldRateLimit(request: RateLimitRequest): Promise<RateLimitResponse> {
    const { plan, user } = pullOf(request, catalog);
    let state: BucketState;
    try {
      state = await buckets.take(user, plan.pullsPerWindow);
    } catch (err) {
      if (err instanceof BucketsUnavailable) throw new RateLimitError("UNAVAILABLE", err.message);
      throw err;
    }
    if (state.allowed) {
      return { overall_code: "OK", statuses: [{ code: "OK", limit_remaining: state.remaining }], response_headers_to_add: rateHeaders(plan, state), request_headers_to_add: [], raw_body: Buffer.alloc(0) };
    }
    // The 429 of CONTRACT.md, as the rate-limit filter and the access service send it.
    const retry = Math.max(1, state.retryAfterSeconds);
    const headers = rateHeaders(plan, state, retry);
    const detail = { limit: state.limit, windowSeconds: state.windowSeconds, retryAfterSeconds: retry };
    const body = { errors: [{ code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", detail }] };
    return {
      overall_code: "OVER_LIMIT",
      statuses: [{ code: "OVER_LIMIT", limit_remaining: state.remaining }],
      response_headers_to_add: [{ key: "retry-after", value: String(retry) }, ...headers, { key: "content-type", value: "application/json" }],
      request_headers_to_add: [],
      raw_body: Buffer.from(JSON.stringify(body)),
    };
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/healthz", async (_req, res) => {
    try {
      await options.health();
      res.status(200).setHeader("Content-Type", "application/json").send(Buffer.from('{"status":"ok"}'));
    } catch (err) {
      res.status(503).setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify({ status: "unavailable", error: (err as Error).message })));
    }
  });
  // The verified identity comes from token-auth through Envoy's quota route, which adds the secret.
  app.get("/v2/_quota", async (req, res) => {
    const user = req.headers["x-hub-user"];
    const plan = findPlan(catalog, String(req.headers["x-hub-plan"] ?? ""));
    if (req.headers["x-hub-sidecar"] !== options.sidecarSecret || typeof user !== "string" || user === "" || !plan) {
      throw new HttpError(403, "DENIED", "no verified identity or unknown plan", null);
    }
    let state: BucketState;
    try {
      state = await buckets.peek(user, plan.pullsPerWindow);
    } catch (err) {
      if (err instanceof BucketsUnavailable) throw new HttpError(503, "UNAVAILABLE", "pull rate limit store unavailable", null, { "Retry-After": "1" });
      throw err;
    }
    res.status(200).setHeader("Cache-Control", "no-store").setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify(quotaOf(plan, state))));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err);
    // An unreachable store is an expected answer (503), not a fault to log.
    if (e.status >= 500 && !(err instanceof HttpError)) logError(err);
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    res.status(e.status).setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: e.detail ?? null }] })));
  });
  app.use((_req, res) => {
    res.status(404).setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify({ errors: [{ code: "NOT_FOUND", message: "not found", detail: null }] })));
  });
  return { shouldRateLimit, app };
}
