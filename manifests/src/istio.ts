// Istio: the same workloads with sidecar injection, one WasmPlugin per policy filter (fetched over HTTP
// from the in-cluster filter server and pinned by sha256), a Gateway + VirtualService, and STRICT mTLS.
import type { IEnvoyFilter, IGateway, IPeerAuthentication, IVirtualService, IWasmPlugin } from "./istio-types.ts";
import { withPlanLookup, type FilterArtifact } from "./inputs.ts";
import type { FilterName, ManifestParams } from "./params.ts";
import { istioSidecarSecretFilter } from "./sidecar-secret.ts";
import { appWorkloads, FILTER_SERVER, filterServer, type AppService, type MeshDecoration } from "./workloads.ts";

/**
 * Where each filter goes in the sidecar's chain. Istio orders by phase (AUTHN before AUTHZ) and, within
 * one phase, by descending priority, which yields token-auth → plan-enforcement → rate-limit.
 */
export const ISTIO_PLACEMENT: Record<FilterName, { phase: "AUTHN" | "AUTHZ"; priority: number }> = {
  "token-auth": { phase: "AUTHN", priority: 10 },
  "plan-enforcement": { phase: "AUTHZ", priority: 20 },
  "rate-limit": { phase: "AUTHZ", priority: 10 },
};

/**
 * The Envoy cluster token-auth's plan lookup calls in the access sidecar: a static cluster to the
 * access container over the pod's loopback, added by `planLookupCluster`. Istio has no usable cluster
 * for it: the inbound one (`inbound|<port>||`) is ORIGINAL_DST since Istio 1.10 and finds no host for a
 * callout (no downstream connection), and the outbound one (`outbound|<port>||access.<ns>.svc.cluster.local`)
 * loops back through the access sidecar's own inbound WasmPlugins, where token-auth strips the
 * `x-hub-user` the callout carries. The callout never leaves the pod, so no AuthorizationPolicy is involved.
 */
export const ISTIO_PLAN_CLUSTER = "image-hub-access-local";

/** Istio sidecar injection on the namespace; the filter server opts out (see `podLabels`). */
export const istioMesh: MeshDecoration = {
  namespaceLabels: { "istio-injection": "enabled" },
  // istio-agent downloads WasmPlugin URLs itself, in plain HTTP and outside the mesh; with STRICT mTLS a
  // sidecar on the filter server would refuse that download, so the filter server runs without one.
  podLabels: (svc: AppService | "filter-server"): Record<string, string> => (svc === "filter-server" ? { "sidecar.istio.io/inject": "false" } : {}),
  podAnnotations: () => ({}),
  serviceUrl: (name, port) => `http://${name}:${port}`,
};

function meta(name: string, p: ManifestParams) {
  return { name, namespace: p.namespace, labels: { "app.kubernetes.io/part-of": "image-hub" } };
}

/** The WasmPlugin of one filter, attached to the access service's inbound sidecar. */
export function wasmPlugin(f: FilterArtifact, p: ManifestParams): IWasmPlugin {
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: meta(f.name, p),
    spec: {
      selector: { matchLabels: { app: "access" } },
      url: `http://${FILTER_SERVER}.${p.namespace}.svc.cluster.local:${p.ports.filterServer}/${f.name}.wasm`,
      sha256: f.sha256,
      imagePullPolicy: "IfNotPresent",
      pluginName: f.name,
      phase: ISTIO_PLACEMENT[f.name].phase,
      priority: ISTIO_PLACEMENT[f.name].priority,
      failStrategy: "FAIL_CLOSE",
      type: "HTTP",
      match: [{ mode: "SERVER" }],
      pluginConfig: f.config,
    },
  };
}

/**
 * The EnvoyFilter that adds ISTIO_PLAN_CLUSTER (127.0.0.1 at the access port, plain HTTP: the app in
 * the same pod) to the access sidecar only. Sidecar traffic to 127.0.0.1 is not redirected by Istio's
 * iptables rules, and the access container listens on 0.0.0.0.
 */
export function planLookupCluster(p: ManifestParams): IEnvoyFilter {
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: meta("access-plan-lookup", p),
    spec: {
      workloadSelector: { labels: { app: "access" } },
      configPatches: [
        {
          applyTo: "CLUSTER",
          match: { context: "SIDECAR_OUTBOUND" },
          patch: {
            operation: "ADD",
            value: {
              name: ISTIO_PLAN_CLUSTER,
              type: "STATIC",
              connect_timeout: "1s",
              load_assignment: {
                cluster_name: ISTIO_PLAN_CLUSTER,
                endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: p.ports.access } } } }] }],
              },
            },
          },
        },
      ],
    },
  };
}

/** All Istio manifests, grouped by output file. Pure; throws only when the filters outgrow the ConfigMap. */
export function istioManifests(p: ManifestParams, filters: FilterArtifact[]): Record<string, unknown[]> {
  const app = appWorkloads(p, istioMesh);
  const gateway: IGateway = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: meta("image-hub", p),
    spec: {
      selector: { istio: "ingressgateway" },
      servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
    },
  };
  const toAccess = { destination: { host: "access", port: { number: p.ports.access } } };
  // No x-hub-sidecar here: token-auth would strip it; the access sidecar adds it after its filters
  // (sidecar-secret.yaml).
  const virtualService: IVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: meta("image-hub", p),
    spec: {
      hosts: ["*"],
      gateways: ["image-hub"],
      http: [
        { name: "registry", match: [{ uri: { exact: "/v2" } }, { uri: { prefix: "/v2/" } }], route: [toAccess] },
        { name: "api", match: [{ uri: { prefix: "/api/" } }], route: [toAccess] },
        { name: "ui", route: [{ destination: { host: "ui", port: { number: p.ports.ui } } }] },
      ],
    },
  };
  const peerAuthentication: IPeerAuthentication = {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: meta("default", p),
    spec: { mtls: { mode: "STRICT" } },
  };
  return {
    "namespace.yaml": [app.namespace],
    "workloads.yaml": app.workloads,
    "filter-server.yaml": filterServer(p, istioMesh, filters),
    "wasm-plugins.yaml": withPlanLookup(filters, p, ISTIO_PLAN_CLUSTER).map((f) => wasmPlugin(f, p)),
    "plan-lookup.yaml": [planLookupCluster(p)],
    "sidecar-secret.yaml": [istioSidecarSecretFilter(p)],
    "gateway.yaml": [gateway, virtualService],
    "peer-authentication.yaml": [peerAuthentication],
  };
}
