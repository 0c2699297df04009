// Istio: the same workloads with sidecar injection, one WasmPlugin per policy filter (fetched over HTTP
// from the in-cluster filter server and pinned by sha256), a Gateway + VirtualService, and STRICT mTLS.
import type { IGateway, IPeerAuthentication, IVirtualService, IWasmPlugin } from "./istio-types.ts";
import type { FilterArtifact } from "./inputs.ts";
import type { FilterName, ManifestParams } from "./params.ts";
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
  // The access service trusts x-hub-* identity headers only with this secret (CONTRACT.md); `set`
  // overwrites whatever a client sent.
  const headers = { request: { set: { "x-hub-sidecar": p.sidecarSecret } } };
  const virtualService: IVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: meta("image-hub", p),
    spec: {
      hosts: ["*"],
      gateways: ["image-hub"],
      http: [
        { name: "registry", match: [{ uri: { exact: "/v2" } }, { uri: { prefix: "/v2/" } }], route: [toAccess], headers },
        { name: "api", match: [{ uri: { prefix: "/api/" } }], route: [toAccess], headers },
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
    "wasm-plugins.yaml": filters.map((f) => wasmPlugin(f, p)),
    "gateway.yaml": [gateway, virtualService],
    "peer-authentication.yaml": [peerAuthentication],
  };
}
