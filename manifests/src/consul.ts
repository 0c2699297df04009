// Consul on Kubernetes (consul-k8s, official builds): connect-injected workloads, ServiceDefaults whose
// envoyExtensions attach the policy filters with builtin/wasm, intentions that deny by default, and an
// ingress gateway routing /v2/ and /api/ to access and everything else to ui.
import type { ConsulEnvoyExtension, IIngressGateway, IServiceDefaults, IServiceIntentions, IServiceRouter } from "./consul-types.ts";
import { withPlanLookup, type FilterArtifact } from "./inputs.ts";
import type { ManifestParams } from "./params.ts";
import { consulSidecarSecretExtension } from "./sidecar-secret.ts";
import { appWorkloads, FILTER_SERVER, filterServer, type AppService, type MeshDecoration } from "./workloads.ts";

/** Consul service name of the ingress gateway (Helm `ingressGateways.gateways[0].name`, see helm/values.yaml). */
export const INGRESS_GATEWAY = "ingress-gateway";
/** Port of the ingress gateway's HTTP listener. */
export const INGRESS_PORT = 8080;
/**
 * The Envoy cluster token-auth's plan lookup calls in the access sidecar: `local_app`, the static
 * cluster every Consul sidecar has for its own service instance (127.0.0.1 at the service port), the
 * one the sidecar forwards inbound requests to after the filters. Not the access service's mesh
 * upstream: Consul names that `access.default.<dc>.internal.<trust-domain>.consul` (the trust domain is
 * the cluster's CA id, unknown here), and it would loop back through the access sidecar's own inbound
 * filters, where token-auth strips the `x-hub-user` the callout carries. So no intention is needed:
 * the callout never leaves the pod.
 */
export const CONSUL_PLAN_CLUSTER = "local_app";

/** Consul connect-inject annotations; upstreams are explicit so builtin/wasm can fetch from the filter server. */
export const consulMesh: MeshDecoration = {
  namespaceLabels: {},
  podLabels: () => ({}),
  podAnnotations(svc: AppService | "filter-server") {
    const base = {
      "consul.hashicorp.com/connect-inject": "true",
      "consul.hashicorp.com/connect-service-protocol": "http",
      // Transparent proxy redirects all inbound traffic through the sidecar, so nothing reaches a pod
      // around the filters or the intentions.
      "consul.hashicorp.com/transparent-proxy": "true",
    };
    if (svc === "filter-server") return { ...base, "consul.hashicorp.com/connect-service": FILTER_SERVER };
    const upstreams = svc.upstreams.map((u) => `${u.name}:${u.port}`).join(",");
    return {
      ...base,
      "consul.hashicorp.com/connect-service": svc.name,
      "consul.hashicorp.com/connect-service-port": "http",
      ...(upstreams ? { "consul.hashicorp.com/connect-service-upstreams": upstreams } : {}),
    };
  },
  // Explicit upstreams listen on the pod's loopback at the upstream's port.
  serviceUrl: (_name, port) => `http://127.0.0.1:${port}`,
};

function meta(name: string, p: ManifestParams) {
  return { name, namespace: p.namespace, labels: { "app.kubernetes.io/part-of": "image-hub" } };
}

/** The builtin/wasm extension of one filter: Remote code from the in-mesh filter server, pinned by SHA256. */
export function wasmExtension(f: FilterArtifact): ConsulEnvoyExtension {
  return {
    name: "builtin/wasm",
    // Fail closed: if the extension cannot be applied, Consul does not hand the proxy a config without it.
    required: true,
    arguments: {
      Protocol: "http",
      ListenerType: "inbound",
      ProxyType: "connect-proxy",
      PluginConfig: {
        Name: f.name,
        RootID: f.name,
        VmConfig: {
          VmID: f.name,
          Runtime: "v8",
          Code: {
            Remote: {
              HttpURI: { Service: { Name: FILTER_SERVER }, URI: `http://${FILTER_SERVER}/${f.name}.wasm`, Timeout: "5s" },
              SHA256: f.sha256,
              RetryPolicy: { RetryBackOff: { BaseInterval: "1s", MaxInterval: "10s" }, NumRetries: 5 },
            },
          },
        },
        Configuration: JSON.stringify(f.config),
      },
    },
  };
}

function serviceDefaults(name: string, p: ManifestParams, extensions?: ConsulEnvoyExtension[]): IServiceDefaults {
  return {
    apiVersion: "consul.hashicorp.com/v1alpha1",
    kind: "ServiceDefaults",
    metadata: meta(name, p),
    spec: { protocol: "http", ...(extensions ? { envoyExtensions: extensions } : {}) },
  };
}

function intentions(destination: string, allowed: string[], p: ManifestParams): IServiceIntentions {
  return {
    apiVersion: "consul.hashicorp.com/v1alpha1",
    kind: "ServiceIntentions",
    metadata: meta(destination === "*" ? "deny-all" : destination, p),
    spec: {
      destination: { name: destination },
      sources: destination === "*"
        ? [{ name: "*", action: "deny", description: "default deny: only the allow intentions of this file apply" }]
        : allowed.map((name) => ({ name, action: "allow" as const })),
    },
  };
}

/**
 * All Consul manifests, grouped by output file. Pure; throws only when the filters do not fit the
 * filter server's ConfigMap.
 */
export function consulManifests(p: ManifestParams, filters: FilterArtifact[]): Record<string, unknown[]> {
  const app = appWorkloads(p, consulMesh);
  const router: IServiceRouter = {
    apiVersion: "consul.hashicorp.com/v1alpha1",
    kind: "ServiceRouter",
    metadata: meta("ui", p),
    spec: {
      // The same split as the local Envoy (image-hub/start.ts): the registry and the API go to access.
      routes: [{ pathExact: "/v2" }, { pathPrefix: "/v2/" }, { pathPrefix: "/api/" }].map((http) => ({ match: { http }, destination: { service: "access" } })),
    },
  };
  const gateway: IIngressGateway = {
    apiVersion: "consul.hashicorp.com/v1alpha1",
    kind: "IngressGateway",
    metadata: meta(INGRESS_GATEWAY, p),
    spec: {
      listeners: [
        {
          port: INGRESS_PORT,
          protocol: "http",
          services: [
            // No x-hub-sidecar here: token-auth would strip it; the access sidecar adds it after its
            // filters (sidecar-secret.ts).
            { name: "ui", hosts: ["*"] },
          ],
        },
      ],
    },
  };
  return {
    "namespace.yaml": [app.namespace],
    "workloads.yaml": app.workloads,
    "filter-server.yaml": filterServer(p, consulMesh, filters),
    "service-defaults.yaml": [
      // builtin/wasm and builtin/lua insert each filter immediately before the router, so list order is
      // chain order: the three policy filters, then the sidecar secret for the access service.
      serviceDefaults("access", p, [...withPlanLookup(filters, p, CONSUL_PLAN_CLUSTER).map(wasmExtension), consulSidecarSecretExtension(p)]),
      serviceDefaults("storage", p),
      serviceDefaults("ui", p),
      serviceDefaults(FILTER_SERVER, p),
    ],
    "intentions.yaml": [
      // access→access: the access service asks its own sidecar's rate-limit filter for /api/me's quota.
      intentions("access", [INGRESS_GATEWAY, "ui", "access"], p),
      intentions("storage", ["access"], p),
      intentions("ui", [INGRESS_GATEWAY], p),
      intentions(FILTER_SERVER, ["access"], p),
      intentions("*", [], p),
    ],
    "gateway.yaml": [router, gateway],
  };
}
