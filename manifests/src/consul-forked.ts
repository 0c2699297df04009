// FOR THE FORKED CONSUL BUILD ONLY (nicholasjackson/consul-k8s-dev, used by the original 2020 demo).
// That fork read `consul.hashicorp.com/connect-wasm-filter-<root_id>: <path>` pod annotations and loaded
// the file from the sidecar image's own disk. Official Consul has no such annotation: use consul.ts.
import type { ManifestParams } from "./params.ts";
import type { FilterArtifact } from "./inputs.ts";
import { consulMesh } from "./consul.ts";
import { appWorkloads, type MeshDecoration } from "./workloads.ts";

/** Directory inside the custom sidecar image (Helm `global.imageEnvoy`) that holds the .wasm files. */
export const FORKED_FILTER_DIR = "/filters";

/** Header comment of every forked-build file. */
export const FORKED_WARNING = [
  "FORKED CONSUL BUILD ONLY: for the experimental consul-k8s build of the original demo",
  "(global.imageK8S: nicholasjackson/consul-k8s-dev). Official Consul ignores the",
  "connect-wasm-filter-* annotations; use manifests/consul/ instead. The fork passes no plugin",
  "configuration and checks no sha256, so the policy filters refuse to start (they need a config):",
  "kept only to show what the original attached and why the ServiceDefaults route replaced it.",
];

/** The workloads with the fork's annotations on the access pod; pure, never throws. */
export function forkedConsulManifests(p: ManifestParams, filters: FilterArtifact[]): Record<string, unknown[]> {
  const forked: MeshDecoration = {
    ...consulMesh,
    podAnnotations(svc) {
      const base = consulMesh.podAnnotations(svc);
      if (svc === "filter-server" || svc.name !== "access") return base;
      const wasm = Object.fromEntries(filters.map((f) => [`consul.hashicorp.com/connect-wasm-filter-${f.name}`, `${FORKED_FILTER_DIR}/${f.name}.wasm`]));
      // The fork loads the filters from the sidecar's disk, so access needs no filter-server upstream.
      return { ...base, "consul.hashicorp.com/connect-service-upstreams": `storage:${p.ports.storage}`, ...wasm };
    },
  };
  const app = appWorkloads(p, forked);
  return { "image-hub.yaml": [app.namespace, ...app.workloads] };
}

/** Helm values of the fork: the filters are baked into a custom sidecar image at FORKED_FILTER_DIR. */
export function forkedHelmValues(): Record<string, unknown> {
  return {
    global: {
      datacenter: "image-hub",
      image: "nicholasjackson/consul-envoy:dev-dev",
      imageK8S: "nicholasjackson/consul-k8s-dev:latest",
      imageEnvoy: "<your Envoy image with build/filters/*.wasm copied to /filters/>",
    },
    connectInject: { enabled: true, default: false },
    centralConfig: { enabled: true, defaultProtocol: "http" },
  };
}
