// The access sidecar's side of filter mode in the meshes: the sidecar secret the access service needs
// on every request, added on the inbound path AFTER the policy filters (token-auth strips any
// `x-hub-sidecar` it sees, so a client cannot forge it, and so would strip one set before it), and the
// enforcer URL the access service asks for `/api/me`'s quota. Locally, Envoy's route does the same
// (image-hub/start.ts `stackEnvoyOptions`).
import type { ConsulEnvoyExtension } from "./consul-types.ts";
import type { IEnvoyFilter } from "./istio-types.ts";
import type { ManifestParams } from "./params.ts";

/** The header the access service trusts `x-hub-*` identity headers with (image-hub/CONTRACT.md). */
export const SIDECAR_HEADER = "x-hub-sidecar";

/**
 * The Lua script that sets the sidecar secret on a request. Lua runs as an HTTP filter, so where it is
 * inserted decides what it adds to: Consul's builtin/lua puts it right before the router, after the
 * wasm filters listed before it. The secret is checked (params.ts) to be visible ASCII; quotes and
 * backslashes are escaped for Lua's string literal. Pure; never throws.
 */
export function sidecarSecretLua(secret: string): string {
  const literal = `"${secret.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return [
    "-- Image Hub: the access service trusts x-hub-* headers only with this secret (manifests/README.md).",
    "function envoy_on_request(request_handle)",
    `  request_handle:headers():replace("${SIDECAR_HEADER}", ${literal})`,
    "end",
    "",
  ].join("\n");
}

/**
 * Consul: the builtin/lua extension that sets the secret on the access sidecar's inbound listener.
 * List it after the three builtin/wasm extensions: Consul applies extensions in order and each inserts
 * its filter immediately before the router, so this one runs last. builtin/property-override cannot
 * add members to repeated fields such as request_headers_to_add (Consul's docs), so Lua is the
 * supported way.
 */
export function consulSidecarSecretExtension(p: ManifestParams): ConsulEnvoyExtension {
  return {
    name: "builtin/lua",
    // Fail closed: without the extension the access service would refuse every /v2 request anyway.
    required: true,
    arguments: { ProxyType: "connect-proxy", Listener: "inbound", Script: sidecarSecretLua(p.sidecarSecret) },
  };
}

/**
 * Istio: the EnvoyFilter that merges the secret into the request_headers_to_add of the access
 * sidecar's inbound route configuration (`inbound|<access port>||`). Route headers are applied by the
 * router, after every HTTP filter including the WasmPlugins, so token-auth cannot strip it and no
 * client can supply it. OVERWRITE_IF_EXISTS_OR_ADD: one value, whatever arrived.
 */
export function istioSidecarSecretFilter(p: ManifestParams): IEnvoyFilter {
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: "access-sidecar-secret", namespace: p.namespace, labels: { "app.kubernetes.io/part-of": "image-hub" } },
    spec: {
      workloadSelector: { labels: { app: "access" } },
      configPatches: [
        {
          applyTo: "ROUTE_CONFIGURATION",
          match: { context: "SIDECAR_INBOUND", routeConfiguration: { portNumber: p.ports.access } },
          patch: {
            operation: "MERGE",
            value: { request_headers_to_add: [{ header: { key: SIDECAR_HEADER, value: p.sidecarSecret }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }] },
          },
        },
      ],
    },
  };
}

/**
 * The enforcer URL of the access service (env ENFORCER_URL) in both meshes: its own Kubernetes
 * Service, so `GET /v2/_quota` goes out through the pod's sidecar and back in through the access
 * sidecar's inbound filters, where rate-limit answers from the bucket it enforces. (Consul: transparent
 * proxy sends it to the access service, allowed by an access→access intention; Istio: the service's
 * outbound cluster, then the inbound listener of the same pod.) Pure; never throws.
 */
export function enforcerUrl(p: ManifestParams): string {
  return `http://access.${p.namespace}.svc.cluster.local:${p.ports.access}`;
}
