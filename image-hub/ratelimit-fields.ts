// Image Hub's quota fields, as draft-ietf-httpapi-ratelimit-headers-09/-10 defines them: two Structured
// Fields (RFC 9651) Lists, one member each, named by the plan (CONTRACT.md "Rate limit"):
//   RateLimit-Policy: "<plan>";q=<pullsPerWindow>;w=<windowSeconds>   (constant per plan)
//   RateLimit: "<plan>";r=<tokens left, floored>;t=<seconds>
// where t is the seconds until the bucket is full again (ceiled) on an allowed pull, and on a 429 the
// Retry-After value (the draft: Retry-After never earlier than t). The access service (app mode), the
// rate-limit service (global mode), the UI and the tests use this module; the rate-limit wasm filter
// writes the same bytes itself (filters/rate-limit/filter.ts). Serializing and parsing go through
// `structured-headers` so escaping and list joining follow the RFC rather than a regular expression.
import { parseList, serializeList } from "structured-headers";

/** The quota policy field's name, lower case as HTTP/2 and Node's `IncomingMessage.headers` carry it. */
export const RATELIMIT_POLICY = "ratelimit-policy";
/** The current service limit field's name, lower case. */
export const RATELIMIT = "ratelimit";

/** What an enforcer knows when it answers a pull (a BucketState has these fields). */
export interface BucketNumbers {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again, ceiled. */
  resetSeconds: number;
  windowSeconds: number;
}

/** The quota one response's two fields describe, as {@link parseQuotaFields} reads it. */
export interface QuotaFields {
  /** The policy name: the plan id. */
  policy: string;
  /** `q`: pulls per window. */
  limit: number;
  /** `w`: the window in seconds; 0 when the policy has none. */
  windowSeconds: number;
  /** `r`: whole pulls left. */
  remaining: number;
  /** `t`: seconds until more quota is available (see the module comment); 0 when absent. */
  resetSeconds: number;
}

/** The draft's parameters are non-negative Integers (w also non-zero); a JS number would serialize as a Decimal. */
function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name}: expected an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * policyField returns the RateLimit-Policy value of a plan, e.g. `"free";q=10;w=60`. Call it once per
 * plan. Throws SerializeError for a plan id an sf-string cannot carry (a plan id is [a-z0-9-], see
 * catalog.ts) and RangeError for a negative or fractional q or a w below 1.
 */
export function policyField(planId: string, limit: number, windowSeconds: number): string {
  return serializeList([[planId, new Map([["q", integer("q", limit, 0)], ["w", integer("w", windowSeconds, 1)]])]]);
}

/**
 * rateLimitField returns the RateLimit value for a plan's bucket, e.g. `"free";r=7;t=18`. Throws
 * SerializeError for a plan id an sf-string cannot carry and RangeError for a negative or fractional number.
 */
export function rateLimitField(planId: string, remaining: number, seconds: number): string {
  return serializeList([[planId, new Map([["r", integer("r", remaining, 0)], ["t", integer("t", seconds, 0)]])]]);
}

/**
 * quotaFieldPairs returns both fields, `[name, value]` in the order every enforcer sends them, for a
 * pull of `planId` answered from `s`. `retryAfterSeconds` is the 429's Retry-After: when given, `t`
 * carries it instead of the time until the bucket is full. Throws as {@link policyField}.
 */
export function quotaFieldPairs(planId: string, s: BucketNumbers, retryAfterSeconds?: number): [string, string][] {
  return [
    [RATELIMIT_POLICY, policyField(planId, s.limit, s.windowSeconds)],
    [RATELIMIT, rateLimitField(planId, s.remaining, retryAfterSeconds ?? s.resetSeconds)],
  ];
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * parseQuotaFields reads the two fields of a response through `get` (e.g. `headers.get.bind(headers)`
 * or a lookup in a header object). It takes the first RateLimit-Policy member whose name is an sf-string
 * with an integer `q`, and the RateLimit member of the same name with an integer `r`. Returns null when
 * a field is missing or malformed (the draft: malformed fields MUST be ignored); never throws.
 */
export function parseQuotaFields(get: (name: string) => string | null | undefined): QuotaFields | null {
  const policyText = get(RATELIMIT_POLICY);
  const limitText = get(RATELIMIT);
  if (typeof policyText !== "string" || typeof limitText !== "string") return null;
  try {
    for (const [name, params] of parseList(policyText)) {
      const limit = nonNegativeInteger(params.get("q"));
      if (typeof name !== "string" || limit === undefined) continue;
      const window = params.has("w") ? nonNegativeInteger(params.get("w")) : 0;
      if (window === undefined || (params.has("w") && window === 0)) return null;
      const current = parseList(limitText).find(([n]) => n === name);
      if (!current) return null;
      const remaining = nonNegativeInteger(current[1].get("r"));
      const reset = current[1].has("t") ? nonNegativeInteger(current[1].get("t")) : 0;
      if (remaining === undefined || reset === undefined) return null;
      return { policy: name, limit, windowSeconds: window, remaining, resetSeconds: reset };
    }
    return null;
  } catch {
    return null;
  }
}
