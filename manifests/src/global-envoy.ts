// The Envoy side of global limits in filter mode, for Istio: one EnvoyFilter on the access sidecar's
// inbound listener that
//  1. inserts Envoy's native envoy.filters.http.ratelimit right before the router, i.e. after every
//     WasmPlugin (Istio places those before the router; the patches apply to the generated chain),
//     failing closed (503) when the rate-limit service or its Redis cannot answer;
//  2. merges the virtual host's rate_limits: one descriptor (pull, plan, user) from the pull marker
//     rate-limit sets on verified manifest GETs and the identity token-auth sets — no marker, no call;
//  3. maps the ratelimit filter's failure (response flag RLSE) to the registry's 503 UNAVAILABLE body;
//  4. routes GET /v2/_quota (after token-auth) to the rate-limit service's HTTP port, which answers
//     from the bucket it enforces.
// The values follow image-hub/global.ts of branch rls (domain, descriptor keys, marker header, 503
// body) so the local run and the cluster behave alike; after that branch is merged they should be
// imported from there instead of written here (one source of truth).
// The gRPC and HTTP targets are the outbound clusters Istio already builds for the ratelimit Service,
// so the calls carry mesh mTLS: a plain-text cluster added by a CLUSTER patch would be refused by the
// rate-limit pod's sidecar under the namespace's STRICT PeerAuthentication.
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import type { ManifestParams } from "./params.ts";

/** Name of the EnvoyFilter. */
export const RATELIMIT_ENVOY_FILTER = "image-hub-global-ratelimit";
/** The rate-limit domain the service answers for (image-hub/ratelimit/service.ts RATELIMIT_DOMAIN). */
export const RATELIMIT_DOMAIN = "image-hub";
/** Descriptor entries: the marker rate-limit sets on a verified pull, then the identity token-auth set. */
export const DESCRIPTOR_HEADERS = [
  { header: "x-hub-pull", key: "pull" },
  { header: "x-hub-plan", key: "plan" },
  { header: "x-hub-user", key: "user" },
] as const;
/** How long the sidecar waits for ShouldRateLimit before failing closed (Envoy's own default is 20 ms). */
export const RATELIMIT_TIMEOUT = "2s";
/** The registry's 503 when the limit store cannot answer: the access service's body in app mode. */
export const STORE_UNAVAILABLE_BODY = JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "pull rate limit store unavailable", detail: null }] });

/** Istio's name of the outbound cluster of `service:port` in namespace `ns`. */
export function outboundCluster(service: string, port: number, ns: string): string {
  return `outbound|${port}||${service}.${ns}.svc.cluster.local`;
}

/** Istio's name of the access sidecar's inbound virtual host (HTTP on the access port). */
export function inboundVhost(p: ManifestParams): string {
  return `inbound|http|${p.ports.access}`;
}

const HCM = "envoy.filters.network.http_connection_manager";

/** The EnvoyFilter for `ratelimit` (gRPC and HTTP ports) in the parameters' namespace. Pure. */
export function globalRatelimitEnvoyFilter(p: ManifestParams, ratelimit = { name: "ratelimit", grpcPort: 8081, httpPort: 8082 }): IEnvoyFilter {
  const inbound = { context: "SIDECAR_INBOUND" as const };
  const vhost = { ...inbound, routeConfiguration: { vhost: { name: inboundVhost(p) } } };
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: RATELIMIT_ENVOY_FILTER, namespace: p.namespace, labels: { "app.kubernetes.io/part-of": "image-hub" } },
    spec: {
      workloadSelector: { labels: { app: "access" } },
      configPatches: [
        {
          applyTo: "HTTP_FILTER",
          match: { ...inbound, listener: { filterChain: { filter: { name: HCM, subFilter: { name: "envoy.filters.http.router" } } } } },
          patch: {
            operation: "INSERT_BEFORE",
            value: {
              name: "envoy.filters.http.ratelimit",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
                domain: RATELIMIT_DOMAIN,
                timeout: RATELIMIT_TIMEOUT,
                failure_mode_deny: true,
                status_on_error: { code: "ServiceUnavailable" },
                disable_x_envoy_ratelimited_header: true,
                rate_limit_service: { transport_api_version: "V3", grpc_service: { envoy_grpc: { cluster_name: outboundCluster(ratelimit.name, ratelimit.grpcPort, p.namespace) } } },
              },
            },
          },
        },
        {
          // Every action lacks skip_if_absent: a request without the pull marker yields no descriptor, so no call.
          applyTo: "VIRTUAL_HOST",
          match: vhost,
          patch: { operation: "MERGE", value: { rate_limits: [{ actions: DESCRIPTOR_HEADERS.map((d) => ({ request_headers: { header_name: d.header, descriptor_key: d.key } })) }] } },
        },
        {
          applyTo: "NETWORK_FILTER",
          match: { ...inbound, listener: { filterChain: { filter: { name: HCM } } } },
          patch: {
            operation: "MERGE",
            value: {
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                local_reply_config: {
                  mappers: [
                    {
                      filter: { response_flag_filter: { flags: ["RLSE"] } },
                      status_code: 503,
                      headers_to_add: [{ header: { key: "retry-after", value: "1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
                      body_format_override: { text_format_source: { inline_string: STORE_UNAVAILABLE_BODY }, content_type: "application/json" },
                    },
                  ],
                },
              },
            },
          },
        },
        {
          // The quota comes from the service that enforces; token-auth has already verified the caller.
          applyTo: "HTTP_ROUTE",
          match: vhost,
          patch: {
            operation: "INSERT_FIRST",
            value: {
              name: "image-hub-quota",
              match: { path: "/v2/_quota" },
              route: { cluster: outboundCluster(ratelimit.name, ratelimit.httpPort, p.namespace), timeout: "5s" },
              request_headers_to_add: [{ header: { key: "x-hub-sidecar", value: p.sidecarSecret }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
              response_headers_to_remove: ["x-envoy-upstream-service-time"],
            },
          },
        },
      ],
    },
  };
}
