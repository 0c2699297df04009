// The Kubernetes workloads both meshes share: namespace, ServiceAccounts, Deployments and Services for
// ui, access and storage, the demo Secret, and the in-mesh filter server that serves the .wasm files.
// Mesh-specific metadata (Consul annotations, Istio labels) comes in through `MeshDecoration`.
import type { IConfigMap, IContainer, IEnvVar, INamespace, IPersistentVolumeClaim, ISecret, IService, IServiceAccount } from "kubernetes-models/v1";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { FilterArtifact } from "./inputs.ts";
import { DEMO_SIGNING_KEYS } from "../../image-hub/filter-configs.ts";
import { realm, type ManifestParams } from "./params.ts";
import { enforcerUrl } from "./sidecar-secret.ts";

/** One Image Hub service as deployed: its port, how it starts and which other services it calls. */
export interface AppService {
  name: "ui" | "access" | "storage";
  port: number;
  env: IEnvVar[];
  /** Services this one calls (Consul needs them as explicit upstreams). */
  upstreams: Array<{ name: string; port: number }>;
  /** Path that answers 200 when the service is ready. */
  readyPath: string;
  /** Keeps data on a PersistentVolumeClaim mounted at /data (single replica, Recreate). */
  persistent: boolean;
}

/** Per-mesh additions to the shared workloads. */
export interface MeshDecoration {
  namespaceLabels: Record<string, string>;
  podAnnotations(service: AppService | "filter-server"): Record<string, string>;
  podLabels(service: AppService | "filter-server"): Record<string, string>;
  /** How a service reaches another one: Consul upstream listeners are on localhost, Istio uses DNS. */
  serviceUrl(name: string, port: number): string;
}

/** Name of the in-mesh Service that serves the filters' .wasm files. */
export const FILTER_SERVER = "image-hub-filters";
const PART_OF = { "app.kubernetes.io/part-of": "image-hub" };
const SECRET = "image-hub-keys";

/** The three services with their ports, start commands and upstreams; callable any time, never fails. */
export function appServices(p: ManifestParams, mesh: MeshDecoration): AppService[] {
  const secretEnv = (name: string, key: string): IEnvVar => ({ name, valueFrom: { secretKeyRef: { name: SECRET, key } } });
  const listen = (port: number): IEnvVar[] => [
    { name: "PORT", value: String(port) },
    { name: "HOST", value: "0.0.0.0" },
  ];
  return [
    {
      name: "ui",
      port: p.ports.ui,
      env: listen(p.ports.ui),
      upstreams: [{ name: "access", port: p.ports.access }],
      readyPath: "/",
      persistent: false,
    },
    {
      name: "access",
      port: p.ports.access,
      env: [
        ...listen(p.ports.access),
        { name: "DATA_DIR", value: "/data" },
        { name: "STORAGE_URL", value: mesh.serviceUrl("storage", p.ports.storage) },
        { name: "REALM", value: realm(p) },
        { name: "ENFORCE", value: "filter" },
        { name: "ENFORCER_URL", value: enforcerUrl(p) },
        secretEnv("SIGNING_KEYS", "signingKeys"),
        secretEnv("SIDECAR_SECRET", "sidecarSecret"),
      ],
      upstreams: [
        { name: "storage", port: p.ports.storage },
        { name: FILTER_SERVER, port: p.ports.filterServer },
      ],
      readyPath: "/api/plans",
      persistent: true,
    },
    {
      name: "storage",
      port: p.ports.storage,
      env: [...listen(p.ports.storage), { name: "DATA_DIR", value: "/data" }],
      upstreams: [],
      readyPath: "/health",
      persistent: true,
    },
  ];
}


function meta(name: string, p: ManifestParams, labels: Record<string, string> = {}) {
  return { name, namespace: p.namespace, labels: { app: name, ...PART_OF, ...labels } };
}

function container(svc: AppService, p: ManifestParams): IContainer {
  return {
    name: svc.name,
    image: p.appImage,
    imagePullPolicy: "IfNotPresent",
    command: ["node", "--import", "tsx", "manifests/image/serve.ts"],
    args: [svc.name],
    env: svc.env,
    ports: [{ name: "http", containerPort: svc.port, protocol: "TCP" }],
    readinessProbe: { httpGet: { path: svc.readyPath, port: "http" }, periodSeconds: 5, failureThreshold: 3 },
    resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "384Mi" } },
    securityContext: { runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    volumeMounts: svc.persistent ? [{ name: "data", mountPath: "/data" }] : undefined,
  };
}

function deployment(svc: AppService, p: ManifestParams, mesh: MeshDecoration): IDeployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(svc.name, p),
    spec: {
      replicas: 1,
      // A volume with a SQLite database is single-writer: never run two pods on it at once.
      strategy: svc.persistent ? { type: "Recreate" } : { type: "RollingUpdate" },
      selector: { matchLabels: { app: svc.name } },
      template: {
        metadata: { labels: { app: svc.name, ...PART_OF, ...mesh.podLabels(svc) }, annotations: mesh.podAnnotations(svc) },
        spec: {
          serviceAccountName: svc.name,
          // The data volume must be writable by the non-root user the container runs as.
          securityContext: svc.persistent ? { fsGroup: 10001 } : undefined,
          containers: [container(svc, p)],
          volumes: svc.persistent ? [{ name: "data", persistentVolumeClaim: { claimName: `${svc.name}-data` } }] : undefined,
        },
      },
    },
  };
}

function service(name: string, port: number, p: ManifestParams): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, p),
    spec: {
      selector: { app: name },
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP", appProtocol: "http" }],
    },
  };
}

/** Namespace, Secret, ServiceAccounts, PVCs, Deployments and Services of ui, access and storage. */
export function appWorkloads(p: ManifestParams, mesh: MeshDecoration) {
  const services = appServices(p, mesh);
  const namespace: INamespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: p.namespace, labels: { ...PART_OF, ...mesh.namespaceLabels } } };
  const secret: ISecret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      ...meta(SECRET, p),
      ...(JSON.stringify(p.jwtKeys) === JSON.stringify(DEMO_SIGNING_KEYS)
        ? { annotations: { "image-hub/demo-values": "PUBLIC DEMO KEYS from image-hub/filter-configs.ts: regenerate with your own (manifests/README.md)" } }
        : {}),
    },
    type: "Opaque",
    stringData: { signingKeys: JSON.stringify(p.jwtKeys), sidecarSecret: p.sidecarSecret },
  };
  const accounts: IServiceAccount[] = services.map((s) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: meta(s.name, p) }));
  const claims: IPersistentVolumeClaim[] = services
    .filter((s) => s.persistent)
    .map((s) => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta(`${s.name}-data`, p),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: s.name === "storage" ? "5Gi" : "256Mi" } } },
    }));
  return {
    namespace,
    workloads: [
      secret,
      ...accounts,
      ...claims,
      ...services.map((s) => service(s.name, s.port, p)),
      ...services.map((s) => deployment(s, p, mesh)),
    ],
    services,
  };
}

/**
 * The filter server: a ConfigMap holding the release .wasm files (binaryData, so the manifests carry the
 * exact bytes whose sha256 they pin and no image registry is needed), served read-only by an unprivileged
 * static file server. ConfigMaps are limited to 1 MiB; throws when the filters outgrow that.
 */
export function filterServer(p: ManifestParams, mesh: MeshDecoration, filters: FilterArtifact[]) {
  const total = filters.reduce((n, f) => n + f.wasm.length, 0);
  if (total * 4 / 3 > 1_000_000) throw new Error(`filter server: ${total} bytes of wasm do not fit in one ConfigMap (1 MiB)`);
  const configMap: IConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(FILTER_SERVER, p),
    binaryData: Object.fromEntries(filters.map((f) => [`${f.name}.wasm`, f.wasm.toString("base64")])),
  };
  const checksum = filters.map((f) => `${f.name}=${f.sha256}`).join(",");
  const deploymentObj: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(FILTER_SERVER, p),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: FILTER_SERVER } },
      template: {
        metadata: {
          labels: { app: FILTER_SERVER, ...PART_OF, ...mesh.podLabels("filter-server") },
          // Changing a filter changes this annotation, which rolls the pod so it serves the new ConfigMap.
          annotations: { "image-hub/wasm-sha256": checksum, ...mesh.podAnnotations("filter-server") },
        },
        spec: {
          serviceAccountName: FILTER_SERVER,
          containers: [
            {
              name: "server",
              image: p.filterServerImage,
              ports: [{ name: "http", containerPort: p.ports.filterServer, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: `/${filters[0]?.name ?? "index"}.wasm`, port: "http" }, periodSeconds: 5 },
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
              securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "wasm", mountPath: "/usr/share/nginx/html", readOnly: true }],
            },
          ],
          volumes: [{ name: "wasm", configMap: { name: FILTER_SERVER } }],
        },
      },
    },
  };
  const account: IServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(FILTER_SERVER, p) };
  return [account, configMap, service(FILTER_SERVER, p.ports.filterServer, p), deploymentObj];
}
