/**
 * The Envoy side of global limits in filter mode (CONTRACT.md "Global limits"): Envoy's native
 * `envoy.filters.http.ratelimit`, placed after the wasm filters, builds one descriptor
 * (pull, plan, user) from the pull marker the rate-limit wasm filter sets and the identity token-auth
 * set, and asks the rate-limit service (image-hub/ratelimit) over gRPC. If the service or its Redis
 * cannot answer, the filter fails closed with 503 and the RLSE flag, which the local reply mapping here
 * turns into the registry's 503 UNAVAILABLE body, byte for byte the one app mode sends.
 * Used by start.ts and the manifests generator; pure data, never throws.
 * @module
 */
import type { NativeFilterSpec } from "proxy-wasm-host-emulator/envoy";
import { DESCRIPTOR_KEYS, RATELIMIT_DOMAIN } from "./ratelimit/service.ts";

/** The Envoy cluster of the rate-limit service's gRPC port (HTTP/2). */
export const RATELIMIT_GRPC_CLUSTER = "ratelimit";
/** The Envoy cluster of the rate-limit service's HTTP port (quota answer). */
export const RATELIMIT_HTTP_CLUSTER = "ratelimit-http";
/** How long Envoy waits for ShouldRateLimit before failing closed (Envoy's own default is 20 ms). */
export const RATELIMIT_TIMEOUT = "2s";

/** The 503 body of a store that cannot answer: the access service's in app mode, the same bytes. */
export const STORE_UNAVAILABLE_BODY = JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "pull rate limit store unavailable", detail: null }] });

/**
 * globalRateLimitFilter is the native ratelimit filter to append after the policy wasm filters.
 * Every action lacks skip_if_absent on purpose: a request without the pull marker (anything but a
 * verified manifest GET) produces no descriptor and so no call. (With skip_if_absent, Envoy 1.40 drops
 * only that entry and still sends the rest: seen while building this, when unmarked requests reached
 * the service. test/global checks that pushes, tag lists and a client's own marker consume nothing.)
 */
export function globalRateLimitFilter(): NativeFilterSpec {
  return {
    kind: "native",
    name: "envoy.filters.http.ratelimit",
    typedConfig: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
      domain: RATELIMIT_DOMAIN,
      timeout: RATELIMIT_TIMEOUT,
      failure_mode_deny: true,
      status_on_error: { code: "ServiceUnavailable" },
      // The 429 carries what local mode sends and nothing Envoy-specific.
      disable_x_envoy_ratelimited_header: true,
      rate_limits: [
        {
          actions: [
            { request_headers: { header_name: "x-hub-pull", descriptor_key: DESCRIPTOR_KEYS.pull } },
            { request_headers: { header_name: "x-hub-plan", descriptor_key: DESCRIPTOR_KEYS.plan } },
            { request_headers: { header_name: "x-hub-user", descriptor_key: DESCRIPTOR_KEYS.user } },
          ],
        },
      ],
      rate_limit_service: {
        transport_api_version: "V3",
        grpc_service: { envoy_grpc: { cluster_name: RATELIMIT_GRPC_CLUSTER } },
      },
    },
  };
}

/**
 * globalLocalReply is the connection manager's local_reply_config: the ratelimit filter's failure
 * (response flag RLSE), and a quota route whose rate-limit service cannot be reached or does not
 * answer (UF, UH, URX, UT on /v2/_quota), become 503 UNAVAILABLE with Retry-After: 1 and the
 * registry body, instead of Envoy's plain-text answers.
 */
export function globalLocalReply(): Record<string, unknown> {
  const storeDown = {
    status_code: 503,
    headers_to_add: [{ header: { key: "retry-after", value: "1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
    body_format_override: { text_format_source: { inline_string: STORE_UNAVAILABLE_BODY }, content_type: "application/json" },
  };
  const quotaRoute = { header_filter: { header: { name: ":path", string_match: { prefix: "/v2/_quota" } } } };
  return {
    mappers: [
      { filter: { response_flag_filter: { flags: ["RLSE"] } }, ...storeDown },
      { filter: { and_filter: { filters: [quotaRoute, { response_flag_filter: { flags: ["UF", "UH", "URX", "UT"] } }] } }, ...storeDown },
    ],
  };
}
