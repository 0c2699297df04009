// The deploy command against a recording fake Kubernetes API on 127.0.0.1 (no cluster here): checks the
// apply paths, field manager, force, content type and bodies it sends, the rollout wait, and --dry-run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { deploy, FIELD_MANAGER, parseDeployArgs, plannedObjects } from "../deploy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/** Discovery documents: resource name, kind, namespaced. */
const DISCOVERY: Record<string, Array<[string, string, boolean]>> = {
  "/api/v1": [["namespaces", "Namespace", false], ["serviceaccounts", "ServiceAccount", true], ["services", "Service", true], ["secrets", "Secret", true], ["configmaps", "ConfigMap", true], ["persistentvolumeclaims", "PersistentVolumeClaim", true]],
  "/apis/apps/v1": [["deployments", "Deployment", true]],
  "/apis/consul.hashicorp.com/v1alpha1": [["servicedefaults", "ServiceDefaults", true], ["serviceintentions", "ServiceIntentions", true], ["servicerouters", "ServiceRouter", true], ["ingressgateways", "IngressGateway", true]],
  "/apis/extensions.istio.io/v1alpha1": [["wasmplugins", "WasmPlugin", true]],
  "/apis/networking.istio.io/v1": [["gateways", "Gateway", true], ["virtualservices", "VirtualService", true]],
  "/apis/networking.istio.io/v1alpha3": [["envoyfilters", "EnvoyFilter", true]],
  "/apis/security.istio.io/v1": [["peerauthentications", "PeerAuthentication", true]],
};

/** A fake API server; `readyAfter` = how many status reads of a Deployment answer "not ready yet". */
class FakeApi {
  requests: Recorded[] = [];
  server: Server;
  url = "";
  reads = new Map<string, number>();
  constructor(private readyAfter: number, private withoutGroup?: string) {
    this.server = createServer((req, res) => void this.handle(req).then(([status, body]) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    }));
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    const addr = this.server.address();
    if (!addr || typeof addr === "string") throw new Error("no address");
    this.url = `http://127.0.0.1:${addr.port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? "/", "http://x");
    this.requests.push({ method: req.method ?? "", path: url.pathname, query: url.searchParams, contentType: req.headers["content-type"], authorization: req.headers.authorization, body: raw ? JSON.parse(raw) : undefined });
    const discovery = DISCOVERY[url.pathname];
    if (req.method === "GET" && discovery) {
      if (this.withoutGroup && url.pathname.includes(this.withoutGroup)) return [404, { kind: "Status", message: "the server could not find the requested resource" }];
      const groupVersion = url.pathname.replace(/^\/apis?\//, "");
      return [200, { kind: "APIResourceList", groupVersion, resources: discovery.map(([name, kind, namespaced]) => ({ name, kind, namespaced, singularName: "", verbs: ["get", "patch"] })) }];
    }
    if (req.method === "PATCH") return [200, { ...(JSON.parse(raw) as object), metadata: { ...(JSON.parse(raw) as { metadata: object }).metadata, generation: 1 } }];
    const m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && m) {
      const n = (this.reads.get(m[2]) ?? 0) + 1;
      this.reads.set(m[2], n);
      const ready = n > this.readyAfter;
      return [200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: m[2], namespace: m[1], generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: ready ? 1 : 0, availableReplicas: ready ? 1 : 0 } }];
    }
    return [404, { kind: "Status", message: `no route ${req.method} ${url.pathname}` }];
  }
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig whose current context points at a closed port and whose "fake" context at the server. */
function writeKubeconfig(serverUrl: string): string {
  const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster: { server: "http://127.0.0.1:9" }
  - name: fake
    # client-node refuses plain http unless TLS verification is off; the fake server has no TLS.
    cluster: { server: "${serverUrl}", insecure-skip-tls-verify: true }
users:
  - name: tester
    user: { token: test-token }
contexts:
  - name: default
    context: { cluster: nowhere, user: tester }
  - name: fake
    context: { cluster: fake, user: tester }
current-context: default
`);
  return path;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "manifests/deploy.ts"), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const mesh of ["consul", "istio"] as const) {
  describe(`deploy --mesh ${mesh}`, () => {
    test("applies every object with server-side apply, then waits for the rollouts", async () => {
      const api = new FakeApi(2);
      await api.start();
      try {
        const kc = new KubeConfig();
        kc.loadFromFile(writeKubeconfig(api.url));
        const lines: string[] = [];
        const result = await deploy({ mesh, context: "fake", dryRun: false, timeoutMs: 20_000, pollMs: 10, kubeConfig: kc, log: (l) => lines.push(l) });
        const planned = plannedObjects(mesh);
        const patches = api.requests.filter((r) => r.method === "PATCH");
        assert.equal(patches.length, planned.length, "one apply per object");
        assert.equal(result.applied.length, planned.length);
        patches.forEach((p, i) => {
          const o = planned[i];
          const group = o.apiVersion!.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
          const plural = DISCOVERY[group].find(([, kind]) => kind === o.kind)![0];
          const expected = o.kind === "Namespace" ? `${group}/namespaces/${o.metadata!.name}` : `${group}/namespaces/${o.metadata!.namespace}/${plural}/${o.metadata!.name}`;
          assert.equal(p.path, expected);
          assert.equal(p.contentType, "application/apply-patch+yaml");
          assert.equal(p.query.get("fieldManager"), FIELD_MANAGER);
          assert.equal(p.query.get("force"), "true");
          assert.equal(p.authorization, "Bearer test-token");
          // The client must send the object as written: nothing of a CRD's spec may be dropped.
          assert.deepEqual(p.body, JSON.parse(JSON.stringify(o)));
        });
        assert.equal((patches[0].body as { kind: string }).kind, "Namespace", "namespace first");
        const kinds = patches.map((p) => (p.body as { kind: string }).kind);
        assert.ok(kinds.lastIndexOf("Deployment") === kinds.length - 1 && kinds.indexOf("Deployment") > kinds.indexOf("Service"), "deployments last");
        const deployments = planned.filter((o) => o.kind === "Deployment").map((o) => o.metadata!.name!);
        assert.deepEqual(Object.keys(result.rollouts).sort(), [...deployments].sort());
        for (const d of deployments) {
          assert.equal(api.reads.get(d), 3, `${d} polled until ready`);
          assert.ok(lines.includes(`deployment/${d}: 0/1 updated, 0/1 available`));
          assert.ok(lines.includes(`deployment/${d}: 1/1 updated, 1/1 available — rolled out`));
        }
        assert.equal(result.ok, true);
        assert.equal(lines.at(-1), `all ${deployments.length} deployments rolled out`);
      } finally {
        await api.stop();
      }
    });

    test("--dry-run prints the plan and contacts no server", async () => {
      const api = new FakeApi(0);
      await api.start();
      try {
        const out = await runCli(["--mesh", mesh, "--dry-run", "--context", "fake"], { KUBECONFIG: writeKubeconfig(api.url) });
        assert.equal(out.code, 0, out.stderr);
        const planned = plannedObjects(mesh);
        assert.match(out.stdout, new RegExp(`would server-side apply ${planned.length} objects from manifests/${mesh}/ \\(fieldManager=${FIELD_MANAGER}, force=true\\)`));
        for (const o of planned) assert.ok(out.stdout.includes(`  ${o.kind}/${o.kind === "Namespace" ? "" : `${o.metadata!.namespace}/`}${o.metadata!.name}\n`), `lists ${o.kind}/${o.metadata!.name}`);
        assert.ok(out.stdout.includes("kind: Deployment") && out.stdout.includes("image: "), "prints the YAML");
        // The filter server's ConfigMap is summarized (size and sha256), not dumped as base64.
        assert.match(out.stdout, /token-auth\.wasm: <\d+ bytes, sha256 [0-9a-f]{64}>/);
        assert.ok(out.stdout.length < 60_000, `dry-run output stays readable (${out.stdout.length} chars)`);
        assert.equal(api.requests.length, 0);
      } finally {
        await api.stop();
      }
    });
  });
}

test("the CLI applies through the --context it is given and exits 0", async () => {
  const api = new FakeApi(0);
  await api.start();
  try {
    const out = await runCli(["--mesh", "istio", "--context", "fake", "--timeout", "20"], { KUBECONFIG: writeKubeconfig(api.url) });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /applied WasmPlugin\/image-hub\/token-auth/);
    assert.match(out.stdout, /deployment\/access: 1\/1 updated, 1\/1 available — rolled out/);
    assert.equal(api.requests.filter((r) => r.method === "PATCH").length, plannedObjects("istio").length);
  } finally {
    await api.stop();
  }
});

test("a cluster without the mesh's CRDs gets a clear error and nothing after the failing object", async () => {
  const api = new FakeApi(0, "consul.hashicorp.com");
  await api.start();
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(writeKubeconfig(api.url));
    await assert.rejects(deploy({ mesh: "consul", context: "fake", dryRun: false, timeoutMs: 5000, kubeConfig: kc, log: () => {} }), /apply ServiceDefaults\/image-hub\/access failed: the cluster does not serve consul.hashicorp.com\/v1alpha1 ServiceDefaults; is Consul \(consul-k8s with its CRDs\) installed\?/);
    const patched = api.requests.filter((r) => r.method === "PATCH").map((r) => (r.body as { kind: string }).kind);
    assert.deepEqual(patched, ["Namespace"]);
  } finally {
    await api.stop();
  }
});

test("a rollout that never finishes ends with ok=false and names the deployments", async () => {
  const api = new FakeApi(Number.MAX_SAFE_INTEGER);
  await api.start();
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(writeKubeconfig(api.url));
    const lines: string[] = [];
    const result = await deploy({ mesh: "istio", context: "fake", dryRun: false, timeoutMs: 300, pollMs: 50, kubeConfig: kc, log: (l) => lines.push(l) });
    assert.equal(result.ok, false);
    assert.match(lines.at(-1)!, /^timed out waiting for: .*access/);
  } finally {
    await api.stop();
  }
});

test("an unknown --context and bad flags are refused with the option named", async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(writeKubeconfig("http://127.0.0.1:9"));
  await assert.rejects(deploy({ mesh: "istio", context: "nope", dryRun: false, timeoutMs: 1000, kubeConfig: kc, log: () => {} }), /--context: no context "nope" in the kubeconfig \(have: default, fake\)/);
  assert.throws(() => parseDeployArgs(["--mesh", "linkerd"]), /--mesh: must be consul or istio, not "linkerd"/);
  assert.throws(() => parseDeployArgs([]), /--mesh: must be consul or istio$/);
  assert.throws(() => parseDeployArgs(["--mesh", "istio", "--timeout", "-1"]), /--timeout/);
  assert.deepEqual(parseDeployArgs(["--mesh", "consul", "--context", "kind", "--dry-run"]), { mesh: "consul", context: "kind", dryRun: true, timeoutMs: 300_000 });
});
