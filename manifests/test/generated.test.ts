// The committed manifests against the project's sources: every listed filter is built and attached in
// order, checksums equal the built .wasm, configs equal image-hub/filter-configs.ts, nothing is stale,
// and the Envoy bootstrap passes `envoy --mode validate`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { envoyBinary } from "proxy-wasm-host-emulator/envoy";
import { generateAll } from "../src/generate.ts";
import { missingFilters, sha256Hex, wasmPath } from "../src/inputs.ts";
import { readManifestDir } from "../src/files.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const manifests = join(root, "manifests");

function builtSha(name: string): string {
  return sha256Hex(readFileSync(join(root, wasmPath(name))));
}

function objectsOf(dir: string, kind: string): Array<Record<string, any>> {
  return readManifestDir(join(manifests, dir)).map((l) => l.object as Record<string, any>).filter((o) => o.kind === kind);
}

/** CONTRACT.md's chain order, written here rather than imported from the generator under test. */
const FILTER_ORDER = ["token-auth", "plan-enforcement", "rate-limit"] as const;
/** Where each filter sits in Istio's chain (AUTHN before AUTHZ; within a phase, higher priority first). */
const ISTIO_PLACEMENT = {
  "token-auth": { phase: "AUTHN", priority: 10 },
  "plan-enforcement": { phase: "AUTHZ", priority: 20 },
  "rate-limit": { phase: "AUTHZ", priority: 10 },
};
/**
 * The configs the manifests must carry: the committed example configs (checked against plans.json
 * by test/policy/filter-configs.test.ts), with the local demo's public token endpoint as realm
 * wherever a filter names one in its challenges.
 */
const expectedConfigs = Object.fromEntries(
  FILTER_ORDER.map((name) => {
    const config = JSON.parse(readFileSync(join(root, "filters", name, "config.example.json"), "utf8")) as Record<string, unknown>;
    return [name, "realm" in config ? { ...config, realm: "http://localhost:8080/api/token" } : config];
  }),
);

/**
 * token-auth's config in a mesh: the example's, plus the live-plan lookup (CONTRACT.md "Live plans")
 * through `cluster` with the deployment's sidecar secret, a 1 s cache and a 500 ms timeout.
 */
function meshTokenAuth(cluster: string, secret: string): Record<string, unknown> {
  return { ...expectedConfigs["token-auth"], planLookup: { cluster, authority: cluster, path: "/internal/plan", secret, ttlMs: 1000, timeoutMs: 500, slots: 1024 } };
}

test("every listed policy filter has a source and a built release module", () => {
  const missing = missingFilters(root);
  assert.deepEqual(missing, [], `manifests need all of ${FILTER_ORDER.join(", ")}:\n  ${missing.join("\n  ")}`);
});

test("the committed manifests are what the generator produces now (not stale)", () => {
  const files = generateAll();
  for (const f of files) {
    const path = join(manifests, f.path);
    assert.ok(existsSync(path), `manifests/${f.path} is missing: run npx tsx manifests/generate.ts`);
    assert.equal(readFileSync(path, "utf8"), f.text, `manifests/${f.path} is stale: run npx tsx manifests/generate.ts`);
  }
  const committed: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".yaml")) committed.push(relative(manifests, p));
    }
  };
  for (const d of ["consul", "istio", "envoy"]) walk(join(manifests, d));
  assert.deepEqual(committed.sort(), files.map((f) => f.path).sort(), "no hand-made or orphaned YAML next to the generated files");
});

test("Consul ServiceDefaults attach every filter in order, pinned to the built .wasm", () => {
  const [access] = objectsOf("consul", "ServiceDefaults").filter((o) => o.metadata.name === "access");
  assert.equal(access.spec.protocol, "http");
  const all = access.spec.envoyExtensions as Array<Record<string, any>>;
  // Consul inserts each extension's filter right before the router, so list order is chain order: the
  // policy filters, then the Lua filter that adds the sidecar secret (sidecar-secret.test.ts runs it).
  assert.deepEqual(all.map((e) => e.name), [...FILTER_ORDER.map(() => "builtin/wasm"), "builtin/lua"]);
  const lua = all.at(-1)!;
  assert.equal(lua.required, true);
  assert.deepEqual([lua.arguments.ProxyType, lua.arguments.Listener], ["connect-proxy", "inbound"]);
  assert.match(lua.arguments.Script, new RegExp(`replace\\("x-hub-sidecar", "${objectsOf("consul", "Secret")[0].stringData.sidecarSecret}"\\)`));
  const ext = all.slice(0, -1);
  assert.deepEqual(ext.map((e) => e.arguments.PluginConfig.Name), [...FILTER_ORDER]);
  for (const e of ext) {
    const name = e.arguments.PluginConfig.Name as (typeof FILTER_ORDER)[number];
    assert.equal(e.name, "builtin/wasm");
    assert.equal(e.required, true);
    assert.equal(e.arguments.Protocol, "http");
    assert.equal(e.arguments.ListenerType, "inbound");
    const remote = e.arguments.PluginConfig.VmConfig.Code.Remote;
    assert.equal(remote.SHA256, builtSha(name), `${name}: SHA256 differs from ${wasmPath(name)}`);
    assert.equal(remote.HttpURI.Service.Name, "image-hub-filters");
    assert.equal(remote.HttpURI.URI, `http://image-hub-filters/${name}.wasm`);
    assert.equal(typeof e.arguments.PluginConfig.Configuration, "string");
    // token-auth asks its own access service through local_app, Consul's cluster for the sidecar's service.
    const secret = objectsOf("consul", "Secret")[0].stringData.sidecarSecret as string;
    assert.deepEqual(JSON.parse(e.arguments.PluginConfig.Configuration), name === "token-auth" ? meshTokenAuth("local_app", secret) : expectedConfigs[name]);
  }
});

test("Istio WasmPlugins run token-auth → plan-enforcement → rate-limit, fail closed, pinned to the built .wasm", () => {
  const plugins = objectsOf("istio", "WasmPlugin");
  assert.deepEqual(plugins.map((p) => p.metadata.name).sort(), [...FILTER_ORDER].sort());
  // Istio's order: AUTHN before AUTHZ before STATS; within a phase, higher priority first.
  const phaseRank: Record<string, number> = { AUTHN: 0, AUTHZ: 1, STATS: 2 };
  const order = [...plugins].sort((a, b) => phaseRank[a.spec.phase] - phaseRank[b.spec.phase] || b.spec.priority - a.spec.priority);
  assert.deepEqual(order.map((p) => p.metadata.name), [...FILTER_ORDER]);
  for (const p of plugins) {
    const name = p.metadata.name as (typeof FILTER_ORDER)[number];
    assert.equal(p.spec.failStrategy, "FAIL_CLOSE");
    assert.equal(p.spec.sha256, builtSha(name), `${name}: sha256 differs from ${wasmPath(name)}`);
    assert.equal(p.spec.url, `http://image-hub-filters.image-hub.svc.cluster.local:8080/${name}.wasm`);
    assert.deepEqual(p.spec.selector.matchLabels, { app: "access" });
    const secret = objectsOf("istio", "Secret")[0].stringData.sidecarSecret as string;
    assert.deepEqual(p.spec.pluginConfig, name === "token-auth" ? meshTokenAuth("image-hub-access-local", secret) : expectedConfigs[name]);
    assert.deepEqual({ phase: p.spec.phase, priority: p.spec.priority }, ISTIO_PLACEMENT[name]);
  }
  const [peer] = objectsOf("istio", "PeerAuthentication");
  assert.equal(peer.spec.mtls.mode, "STRICT");
});

test("Istio: the plan lookup's cluster reaches the access container over loopback, and Envoy accepts it", async () => {
  const [ef] = objectsOf("istio", "EnvoyFilter").filter((o) => o.metadata.name === "access-plan-lookup");
  assert.ok(ef, "EnvoyFilter access-plan-lookup");
  assert.deepEqual(ef.spec.workloadSelector.labels, { app: "access" }, "only the access sidecar gets the cluster");
  assert.equal(ef.spec.configPatches.length, 1);
  const [patch] = ef.spec.configPatches;
  assert.deepEqual([patch.applyTo, patch.match.context, patch.patch.operation], ["CLUSTER", "SIDECAR_OUTBOUND", "ADD"]);
  const cluster = patch.patch.value;
  const [plugin] = objectsOf("istio", "WasmPlugin").filter((p) => p.metadata.name === "token-auth");
  assert.equal(cluster.name, plugin.spec.pluginConfig.planLookup.cluster, "token-auth calls the cluster the EnvoyFilter adds");
  // The endpoint is the access container itself: its port, and it listens on every address (HOST unset or 0.0.0.0).
  const [deployment] = objectsOf("istio", "Deployment").filter((d) => d.metadata.name === "access");
  const container = deployment.spec.template.spec.containers[0];
  const endpoint = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  assert.equal(endpoint.address, "127.0.0.1");
  assert.equal(endpoint.port_value, Number(container.env.find((e: { name: string }) => e.name === "PORT").value));
  assert.ok([undefined, "0.0.0.0"].includes(container.env.find((e: { name: string }) => e.name === "HOST")?.value), "the access container listens on loopback too");
  // The cluster as Envoy 1.40 parses it (Istio passes the value through as an envoy.config.cluster.v3.Cluster).
  const envoy = await envoyBinary();
  const dir = mkdtempSync(join(tmpdir(), "plan-cluster-"));
  try {
    const bootstrap = (c: unknown) => JSON.stringify({ static_resources: { clusters: [c] } });
    writeFileSync(join(dir, "ok.json"), bootstrap(cluster));
    const ok = spawnSync(envoy, ["--mode", "validate", "-c", join(dir, "ok.json"), "--log-level", "warn"], { encoding: "utf8", timeout: 90_000 });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    writeFileSync(join(dir, "bad.json"), bootstrap({ ...cluster, conect_timeout: "1s" }));
    const bad = spawnSync(envoy, ["--mode", "validate", "-c", join(dir, "bad.json"), "--log-level", "warn"], { encoding: "utf8", timeout: 90_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout + bad.stderr, /conect_timeout/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the filter servers serve exactly the built bytes", () => {
  for (const mesh of ["consul", "istio"]) {
    const [cm] = objectsOf(mesh, "ConfigMap");
    assert.deepEqual(Object.keys(cm.binaryData).sort(), FILTER_ORDER.map((n) => `${n}.wasm`).sort());
    for (const n of FILTER_ORDER) assert.equal(sha256Hex(Buffer.from(cm.binaryData[`${n}.wasm`], "base64")), builtSha(n), `${mesh} ConfigMap ${n}.wasm`);
  }
});

test("Consul intentions allow ingress→access, ui→access, access→access, access→storage and deny everything else", () => {
  const byDest = Object.fromEntries(objectsOf("consul", "ServiceIntentions").map((o) => [o.spec.destination.name, o.spec.sources]));
  const allowed = (d: string) => (byDest[d] as Array<{ name: string; action: string }>).filter((s) => s.action === "allow").map((s) => s.name).sort();
  // access→access: /api/me's quota is asked at ENFORCER_URL, the access service through its own sidecar.
  assert.deepEqual(allowed("access"), ["access", "ingress-gateway", "ui"]);
  assert.deepEqual(allowed("storage"), ["access"]);
  assert.deepEqual(byDest["*"], [{ name: "*", action: "deny", description: "default deny: only the allow intentions of this file apply" }]);
  const forked = readFileSync(join(manifests, "consul/forked-build/image-hub.yaml"), "utf8");
  assert.ok(forked.startsWith("# FORKED CONSUL BUILD ONLY"), "the forked-build variant says so on its first line");
  for (const n of FILTER_ORDER) assert.match(forked, new RegExp(`consul.hashicorp.com/connect-wasm-filter-${n}: /filters/${n}.wasm`));
});

test("the Envoy bootstrap passes envoy --mode validate, and a misspelled field does not", async () => {
  const envoy = await envoyBinary();
  const ok = spawnSync(envoy, ["--mode", "validate", "-c", "manifests/envoy/bootstrap.yaml", "--log-level", "warn"], { cwd: root, encoding: "utf8", timeout: 90_000 });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout + ok.stderr, /configuration 'manifests\/envoy\/bootstrap.yaml' OK/);
  const text = readFileSync(join(manifests, "envoy/bootstrap.yaml"), "utf8");
  const config = parse(text);
  assert.deepEqual(
    config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.map((f: { name: string }) => f.name),
    // npm start's Envoy runs the three policy filters composed in one module (filters/policy).
    ["policy", "envoy.filters.http.router"],
  );
  const dir = mkdtempSync(join(tmpdir(), "bootstrap-typo-"));
  try {
    writeFileSync(join(dir, "bad.yaml"), text.replace("stat_prefix:", "stat_prefx:"));
    const bad = spawnSync(envoy, ["--mode", "validate", "-c", join(dir, "bad.yaml"), "--log-level", "warn"], { cwd: root, encoding: "utf8", timeout: 90_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout + bad.stderr, /stat_prefx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("both gateways send the registry and the API to access, the rest to ui, and never carry the sidecar secret", () => {
  const paths: Array<[string, "access" | "ui"]> = [["/v2", "access"], ["/v2/", "access"], ["/v2/alice/app/manifests/1", "access"], ["/api/plans", "access"], ["/", "ui"], ["/plans", "ui"], ["/v2x", "ui"], ["/apix", "ui"]];
  const [vs] = objectsOf("istio", "VirtualService");
  const secret = objectsOf("istio", "Secret")[0].stringData.sidecarSecret as string;
  const istioRoute = (path: string) =>
    (vs.spec.http as Array<Record<string, any>>).find((r) => !r.match || r.match.some((m: any) => (m.uri.exact !== undefined ? path === m.uri.exact : path.startsWith(m.uri.prefix))));
  for (const [path, service] of paths) {
    const r = istioRoute(path)!;
    assert.equal(r.route[0].destination.host, service, `istio ${path}`);
    // token-auth would strip it; the access sidecar adds it after its filters.
    assert.equal(r.headers, undefined, `istio ${path} headers`);
  }
  const [router] = objectsOf("consul", "ServiceRouter");
  const [gateway] = objectsOf("consul", "IngressGateway");
  assert.equal(router.metadata.name, gateway.spec.listeners[0].services[0].name, "the gateway exposes the routed service");
  const consulRoute = (path: string) =>
    (router.spec.routes as Array<Record<string, any>>).find((r) => (r.match.http.pathExact !== undefined ? path === r.match.http.pathExact : path.startsWith(r.match.http.pathPrefix)))?.destination.service ?? router.metadata.name;
  for (const [path, service] of paths) assert.equal(consulRoute(path), service, `consul ${path}`);
  assert.equal(gateway.spec.listeners[0].services[0].requestHeaders, undefined);
  for (const mesh of ["consul", "istio"]) {
    assert.doesNotMatch(readFileSync(join(manifests, mesh, "gateway.yaml"), "utf8"), new RegExp(`${secret}|x-hub-sidecar`), `${mesh}/gateway.yaml`);
  }
});
