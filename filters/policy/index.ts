// policy: token-auth → plan-enforcement → rate-limit in ONE module (README.md). Each filter is built
// from its own folder's filter.ts, keeps its own configuration, metrics, log prefix and errors, and
// behaves as it does as a separate Envoy filter in that order; the module pays Envoy's per-filter
// call boundary once instead of three times, and the three share one read of the request headers.
export * from "proxy-wasm-as-sdk/abi/http";
import { Composition, registerComposition } from "proxy-wasm-as-sdk";
import { FILTER as TOKEN_AUTH, newTokenAuthRoot } from "../token-auth/filter";
import { FILTER as PLAN_ENFORCEMENT, newPlanEnforcementRoot } from "../plan-enforcement/filter";
import { FILTER as RATE_LIMIT, newRateLimitRoot } from "../rate-limit/filter";

registerComposition(
  new Composition("policy").add(TOKEN_AUTH, newTokenAuthRoot).add(PLAN_ENFORCEMENT, newPlanEnforcementRoot).add(RATE_LIMIT, newRateLimitRoot),
  "policy",
);
