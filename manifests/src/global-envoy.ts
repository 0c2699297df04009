// The Envoy side of global limits in filter mode, for Istio: one EnvoyFilter on the access sidecar's
// inbound listener that
//  1. inserts Envoy's native envoy.filters.http.ratelimit right before the router, i.e. after every
//     WasmPlugin (Istio places those before the router; the patches apply to the generated chain),
//     failing closed (503) when the rate-limit service or its Redis cannot answer;
//  2. merges the virtual host's rate_limits: one descriptor (pull, plan, user) from the pull marker
//     rate-limit sets on verified manifest GETs and the identity token-auth sets — no marker, no call;
//  3. maps the ratelimit filter's failure (response flag RLSE), and a quota route whose service cannot
//     answer, to the registry's 503 UNAVAILABLE body;
//  4. routes GET /v2/_quota (after token-auth) to the rate-limit service's HTTP port, which answers
//     from the bucket it enforces.
// The filter's config, its descriptor actions and the local-reply mapping are image-hub/global.ts's,
// the very values `npm start -- --enforce filter --limits global` gives its Envoy; only the cluster
// names are Istio's, and the actions move from the filter to the virtual host (Envoy reads them there
// in every version Istio ships, while the filter-level `rate_limits` field is recent).
// The gRPC and HTTP targets are the outbound clusters Istio already builds for the ratelimit Service,
// so the calls carry mesh mTLS: a plain-text cluster added by a CLUSTER patch would be refused by the
// rate-limit pod's sidecar under the namespace's STRICT PeerAuthentication.
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import { globalLocalReply, globalRateLimitFilter } from "../../image-hub/global.ts";
import type { ManifestParams } from "./params.ts";

/** Name of the EnvoyFilter. */
export const RATELIMIT_ENVOY_FILTER = "image-hub-global-ratelimit";

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
export function globalRatelimitEnvoyFilter(p: ManifestParams, ratelimit: { name: string; grpcPort: number; httpPort: number }): IEnvoyFilter {
  const native = globalRateLimitFilter();
  const { rate_limits: rateLimits, rate_limit_service: service, ...filterConfig } = native.typedConfig as { rate_limits: unknown; rate_limit_service: { grpc_service: { envoy_grpc: Record<string, unknown> } } } & Record<string, unknown>;
  const rateLimitService = { ...service, grpc_service: { ...service.grpc_service, envoy_grpc: { ...service.grpc_service.envoy_grpc, cluster_name: outboundCluster(ratelimit.name, ratelimit.grpcPort, p.namespace) } } };
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
            value: { name: native.name, typed_config: { ...filterConfig, rate_limit_service: rateLimitService } },
          },
        },
        {
          // No pull marker (anything but a verified manifest GET), no descriptor, no call (image-hub/global.ts).
          applyTo: "VIRTUAL_HOST",
          match: vhost,
          patch: { operation: "MERGE", value: { rate_limits: rateLimits } },
        },
        {
          applyTo: "NETWORK_FILTER",
          match: { ...inbound, listener: { filterChain: { filter: { name: HCM } } } },
          patch: {
            operation: "MERGE",
            value: {
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                local_reply_config: globalLocalReply(),
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
