// Scenario (e), the native anchor: Envoy's own jwt_authn (HS256 via a local JWKS "oct" key) and
// local_ratelimit configured to the same policy as the wasm chain — one token bucket per user,
// sized by the user's plan from the catalog, counting manifest GETs only.
import { jwks, type BenchKey } from "./identity.ts";

/** Plan limits as the catalog gives them. */
export interface PlanLimit {
  id: string;
  pullsPerWindow: number;
}

/** Entries of jwt_authn's token cache: more than the benchmark's users, so every valid token stays cached. */
export const NATIVE_JWT_CACHE_SIZE = 1000;

const LOCAL_RATELIMIT = "envoy.filters.http.local_ratelimit";
const LRL_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

/** The two native HTTP filters, in chain order, as the Envoy harness takes them. */
export function nativeFilters(key: BenchKey): { kind: "native"; name: string; typedConfig: Record<string, unknown> }[] {
  return [
    {
      kind: "native",
      name: "envoy.filters.http.jwt_authn",
      typedConfig: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        providers: {
          hub: {
            issuer: "image-hub",
            audiences: ["image-hub-registry"],
            local_jwks: { inline_string: jwks(key) },
            clock_skew_seconds: 30,
            // Envoy's verified-token cache (an LRU per worker keyed by the token, entries dropped at
            // `exp`): what an operator who cares about latency runs. Without it every request pays
            // the HMAC and the JSON parse again, which is not the native cost to compare against.
            jwt_cache_config: { jwt_cache_size: NATIVE_JWT_CACHE_SIZE },
            // The same identity headers token-auth sets; `access` is an array claim, which
            // claim_to_headers cannot copy, so the app receives user and plan only.
            claim_to_headers: [
              { header_name: "x-hub-user", claim_name: "sub" },
              { header_name: "x-hub-plan", claim_name: "plan" },
            ],
          },
        },
        rules: [{ match: { prefix: "/v2/" }, requires: { provider_name: "hub" } }],
      },
    },
    // Enabled per route below; on other routes it does nothing.
    { kind: "native", name: LOCAL_RATELIMIT, typedConfig: { "@type": LRL_TYPE, stat_prefix: "pulls" } },
  ];
}

/**
 * The per-route local_ratelimit config for manifest-GET routes: a dynamic bucket per (plan, user)
 * of `pullsPerWindow` tokens refilled one at a time every `windowSeconds / pullsPerWindow`, which
 * is the contract's continuous refill rounded to Envoy's discrete fills. Throws on a plan whose
 * refill interval would fall under Envoy's 50 ms minimum.
 */
export function nativeRateLimitRoute(plans: PlanLimit[], windowSeconds: number): Record<string, unknown> {
  const descriptors = plans.map((p) => {
    const intervalMs = Math.round((windowSeconds * 1000) / p.pullsPerWindow);
    if (intervalMs < 50) throw new Error(`plans[${p.id}].pullsPerWindow: refill every ${intervalMs} ms is below Envoy's 50 ms minimum fill interval`);
    return {
      entries: [{ key: "plan", value: p.id }, { key: "user" }],
      token_bucket: { max_tokens: p.pullsPerWindow, tokens_per_fill: 1, fill_interval: `${intervalMs / 1000}s` },
    };
  });
  const always = { default_value: { numerator: 100, denominator: "HUNDRED" } };
  return {
    [LOCAL_RATELIMIT]: {
      "@type": LRL_TYPE,
      stat_prefix: "pulls",
      // Requests that match no descriptor (no plan header) fall to this effectively unlimited bucket;
      // jwt_authn has already refused them unless they carry a valid token.
      token_bucket: { max_tokens: 1_000_000, tokens_per_fill: 1_000_000, fill_interval: "1s" },
      filter_enabled: { runtime_key: "pulls_enabled", ...always },
      filter_enforced: { runtime_key: "pulls_enforced", ...always },
      descriptors,
      max_dynamic_descriptors: 100_000,
      // The client learns its quota from every answer, as from the wasm rate-limit filter (which
      // sends the IETF draft's fields): Envoy's only built-in form is draft 03's three
      // x-ratelimit-* headers, written in C++ on the response.
      enable_x_ratelimit_headers: "DRAFT_VERSION_03",
      rate_limits: [
        {
          actions: [
            { request_headers: { header_name: "x-hub-plan", descriptor_key: "plan" } },
            { request_headers: { header_name: "x-hub-user", descriptor_key: "user" } },
          ],
        },
      ],
    },
  };
}
