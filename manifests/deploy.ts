// `npm run deploy -- --mesh consul|istio [--limits global --enforce app|filter] [--context NAME] [--dry-run] [--timeout SECONDS]`
// Applies the committed manifests/<mesh>/*.yaml (with --limits global: manifests/<mesh>/global-<enforce>/*.yaml) with server-side apply, then waits for every Deployment
// to roll out and reports its status. --dry-run prints what would be applied and contacts nothing.
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { ApiException, AppsV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import { readManifestDir } from "./src/files.ts";

/** The field manager every apply uses, so re-running the deploy owns (and may change) the same fields. */
export const FIELD_MANAGER = "image-hub-deploy";

/** Options of one deploy run. */
export interface DeployOptions {
  mesh: "consul" | "istio";
  /** A global-limits variant (manifests/<mesh>/<variant>/) instead of the mesh's local-limits files. */
  variant?: GlobalVariant;
  /** kubeconfig context; defaults to the current one. */
  context?: string;
  dryRun: boolean;
  /** Rollout wait limit in ms. */
  timeoutMs: number;
  /** Poll interval of the rollout wait in ms. */
  pollMs?: number;
  /** Where manifests/<mesh>/ lives; defaults to this directory. */
  manifestsDir?: string;
  /** A loaded kubeconfig; defaults to KubeConfig.loadFromDefault() (KUBECONFIG or ~/.kube/config). */
  kubeConfig?: KubeConfig;
  /** Receives every report line; defaults to console.log. */
  log?: (line: string) => void;
}

/** The global-limits variants; Consul has only global-app (manifests/README.md, "Global limits"). */
export type GlobalVariant = "global-app" | "global-filter";

/** The directory under manifests/ a deploy applies. */
export function manifestSubdir(mesh: string, variant?: GlobalVariant): string {
  return variant ? `${mesh}/${variant}` : mesh;
}

/** What a deploy did. */
export interface DeployResult {
  applied: string[];
  /** Deployment name → final status line. */
  rollouts: Record<string, string>;
  ok: boolean;
}

/** CRDs first so the mesh knows protocols, filters and intentions before the pods start. */
const ORDER = [
  "Namespace",
  "ServiceDefaults", "ServiceIntentions", "ServiceRouter", "IngressGateway",
  "PeerAuthentication", "EnvoyFilter", "WasmPlugin", "Gateway", "VirtualService",
  "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Service", "Deployment",
];

function rank(kind: string): number {
  const i = ORDER.indexOf(kind);
  return i === -1 ? ORDER.length : i;
}

function label(o: KubernetesObject): string {
  return `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
}

/** The objects of manifests/<mesh>/ in apply order; throws when the directory or a document is bad. */
export function plannedObjects(mesh: string, manifestsDir = dirname(fileURLToPath(import.meta.url))): KubernetesObject[] {
  const objects = readManifestDir(join(manifestsDir, mesh)).map((l) => l.object as KubernetesObject);
  return objects.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o.kind!) - rank(b.o.kind!) || a.i - b.i).map((x) => x.o);
}

/** The object as printed by --dry-run: ConfigMap binaryData (the .wasm files) summarized, not dumped. */
function forDisplay(o: KubernetesObject): unknown {
  const data = (o as { binaryData?: Record<string, string> }).binaryData;
  if (!data) return o;
  const summary = Object.fromEntries(
    Object.entries(data).map(([k, v]) => {
      const bytes = Buffer.from(v, "base64");
      return [k, `<${bytes.length} bytes, sha256 ${createHash("sha256").update(bytes).digest("hex")}>`];
    }),
  );
  return { ...o, binaryData: summary };
}

function explain(err: unknown, o: KubernetesObject, mesh: string): Error {
  const message = (err as Error).message ?? String(err);
  // Discovery of the object's API group failed or does not list its kind: the CRDs are not installed.
  if (/Failed to fetch resource metadata|Unrecognized API version and kind/.test(message)) {
    const product = mesh === "consul" ? "Consul (consul-k8s with its CRDs)" : "Istio";
    return new Error(`apply ${label(o)} failed: the cluster does not serve ${o.apiVersion} ${o.kind}; is ${product} installed?`);
  }
  if (err instanceof ApiException) {
    let detail = String(err.body);
    try {
      detail = (JSON.parse(String(err.body)) as { message?: string }).message ?? detail;
    } catch {
      // the body was not JSON: keep it verbatim
    }
    return new Error(`apply ${label(o)} failed: HTTP ${err.code}: ${detail}`);
  }
  return new Error(`apply ${label(o)} failed: ${message}`);
}

interface DeploymentStatus {
  ready: boolean;
  line: string;
}

async function rolloutStatus(apps: AppsV1Api, name: string, namespace: string): Promise<DeploymentStatus> {
  const d = await apps.readNamespacedDeployment({ name, namespace });
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const ready = observed && updated >= want && total === updated && available >= updated;
  return { ready, line: `deployment/${name}: ${updated}/${want} updated, ${available}/${want} available${ready ? " — rolled out" : ""}` };
}

/**
 * Applies manifests/<mesh>/ and waits for the rollouts. Resolves with the result (ok=false when a
 * rollout did not finish in time); rejects with a message naming the object when an apply fails, or
 * when --context names no context of the kubeconfig.
 */
export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const dir = manifestSubdir(opts.mesh, opts.variant);
  const objects = plannedObjects(dir, opts.manifestsDir);
  const result: DeployResult = { applied: [], rollouts: {}, ok: true };
  if (opts.dryRun) {
    log(`dry run: would server-side apply ${objects.length} objects from manifests/${dir}/ (fieldManager=${FIELD_MANAGER}, force=true), in this order:`);
    for (const o of objects) log(`  ${label(o)}`);
    log(objects.map((o) => stringify(forDisplay(o), { lineWidth: 0 })).join("---\n"));
    return result;
  }
  const kc = opts.kubeConfig ?? new KubeConfig();
  if (!opts.kubeConfig) kc.loadFromDefault();
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) throw new Error(`--context: no context "${opts.context}" in the kubeconfig (have: ${names.join(", ") || "none"})`);
    kc.setCurrentContext(opts.context);
  }
  log(`deploying ${objects.length} objects from manifests/${dir}/ to ${kc.getCurrentCluster()?.server ?? "?"} (context ${kc.getCurrentContext()})`);
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) {
    try {
      // force: this tool owns these objects; take over fields another manager (e.g. kubectl) last set.
      await client.patch(structuredClone(o), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw explain(err, o, opts.mesh);
    }
    result.applied.push(label(o));
    log(`applied ${label(o)}`);
  }
  const apps = kc.makeApiClient(AppsV1Api);
  const pending = new Map(objects.filter((o) => o.kind === "Deployment").map((o) => [o.metadata!.name!, o.metadata!.namespace ?? "default"]));
  const deadline = Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 2000;
  for (;;) {
    for (const [name, namespace] of [...pending]) {
      const status = await rolloutStatus(apps, name, namespace);
      if (result.rollouts[name] !== status.line) log(status.line);
      result.rollouts[name] = status.line;
      if (status.ready) pending.delete(name);
    }
    if (pending.size === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  result.ok = pending.size === 0;
  log(result.ok ? `all ${Object.keys(result.rollouts).length} deployments rolled out` : `timed out waiting for: ${[...pending.keys()].join(", ")}`);
  return result;
}

/** Parses the deploy CLI; throws an Error naming the option on bad input. */
export function parseDeployArgs(argv: string[]): DeployOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      mesh: { type: "string" },
      context: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      timeout: { type: "string", default: "300" },
      limits: { type: "string", default: "local" },
      enforce: { type: "string", default: "filter" },
    },
    strict: true,
  });
  if (values.mesh !== "consul" && values.mesh !== "istio") throw new Error(`--mesh: must be consul or istio${values.mesh ? `, not "${values.mesh}"` : ""}`);
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`--timeout: must be a positive number of seconds, not "${values.timeout}"`);
  if (values.limits !== "local" && values.limits !== "global") throw new Error(`--limits: must be local or global, not "${values.limits}"`);
  if (values.enforce !== "filter" && values.enforce !== "app") throw new Error(`--enforce: must be filter or app, not "${values.enforce}"`);
  const options: DeployOptions = { mesh: values.mesh, context: values.context, dryRun: values["dry-run"] ?? false, timeoutMs: timeout * 1000 };
  if (values.limits === "local") {
    if (values.enforce === "app") throw new Error("--enforce app: the local-limits manifests run filter mode; app mode is shipped with --limits global");
    return options;
  }
  if (values.mesh === "consul" && values.enforce === "filter") {
    throw new Error("--enforce filter with --limits global: Consul has no supported way to add Envoy's ratelimit filter; use --enforce app (manifests/README.md, \"Global limits\")");
  }
  return { ...options, variant: values.enforce === "app" ? "global-app" : "global-filter" };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const result = await deploy(parseDeployArgs(process.argv.slice(2)));
    process.exitCode = result.ok ? 0 : 1;
  } catch (err) {
    console.error(`deploy: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
