// Filter mode in the meshes, on real Envoy 1.40: the access sidecar's inbound chain as each mesh builds
// it from the committed manifests (the three policy filters with their generated configs, then the
// sidecar secret the way the mesh adds it), in front of the real access and storage services. A
// registry request with a valid token must reach the access service WITH the secret (else it answers
// 401), a client's own `x-hub-sidecar` must not count, and /api/me's quota must come from the
// rate-limit filter asked at the ENFORCER_URL (the sidecar). Control: the same Lua added BEFORE
// token-auth, or not at all, leaves the access service refusing the request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type RequestListener, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBootstrap, startEnvoy, validateBootstrap, type EnvoyInstance, type HttpFilterSpec, type RouteSpec } from "proxy-wasm-host-emulator/envoy";
import { stringify } from "yaml";
import { createAccess, type Access } from "../../image-hub/access/app.ts";
import { signRegistryToken } from "../../image-hub/access/tokens.ts";
import { loadCatalog } from "../../image-hub/catalog.ts";
import { closeServer, listen } from "../../image-hub/services.ts";
import { createStorage, type Storage } from "../../image-hub/storage/app.ts";
import { readManifestDir } from "../src/files.ts";
import { sidecarSecretLua } from "../src/sidecar-secret.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const catalog = loadCatalog();
const objects = (mesh: string) => readManifestDir(join(root, "manifests", mesh)).map((l) => l.object as Record<string, any>);
const LUA = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua";
const FORGED = "forged-by-the-client-0123";

/** The chain Consul's access sidecar gets: envoyExtensions in list order, each inserted before the router. */
function consulChain(): { filters: HttpFilterSpec[]; planCluster: string } {
  const [access] = objects("consul").filter((o) => o.kind === "ServiceDefaults" && o.metadata.name === "access");
  let planCluster = "";
  const filters = (access.spec.envoyExtensions as Array<Record<string, any>>).map((e, i): HttpFilterSpec => {
    if (e.name === "builtin/wasm") {
      const pc = e.arguments.PluginConfig;
      planCluster ||= JSON.parse(pc.Configuration).planLookup?.cluster ?? "";
      return { name: pc.Name, wasm: join(root, "build/filters", `${pc.Name}.wasm`), rootId: pc.RootID, configuration: pc.Configuration, failurePolicy: "FAIL_CLOSED" };
    }
    assert.equal(e.name, "builtin/lua", `extension ${i}`);
    assert.deepEqual([e.arguments.ProxyType, e.arguments.Listener], ["connect-proxy", "inbound"]);
    // Consul's builtin/lua sets the filter's inline_code to the Script.
    return { kind: "native", name: `lua-${i}`, typedConfig: { "@type": LUA, inline_code: e.arguments.Script } };
  });
  return { filters, planCluster };
}

/** The WasmPlugins of the access sidecar in Istio's order (AUTHN, then AUTHZ; higher priority first). */
function istioChain(): { filters: HttpFilterSpec[]; planCluster: string } {
  const rank: Record<string, number> = { AUTHN: 0, AUTHZ: 1 };
  const plugins = objects("istio").filter((o) => o.kind === "WasmPlugin").sort((a, b) => rank[a.spec.phase] - rank[b.spec.phase] || b.spec.priority - a.spec.priority);
  const filters = plugins.map((p): HttpFilterSpec => ({ name: p.metadata.name, wasm: join(root, "build/filters", `${p.metadata.name}.wasm`), rootId: p.spec.pluginName, configuration: JSON.stringify(p.spec.pluginConfig), failurePolicy: "FAIL_CLOSED" }));
  return { filters, planCluster: plugins.find((p) => p.metadata.name === "token-auth")!.spec.pluginConfig.planLookup.cluster };
}

/** The only EnvoyFilter patch on the access sidecar's inbound side, with the workload selector it applies to. */
function istioSecretPatch(): Record<string, any> {
  const patches = objects("istio")
    .filter((o) => o.kind === "EnvoyFilter")
    .flatMap((o) => (o.spec.configPatches as Array<Record<string, any>>).map((c): Record<string, any> => ({ ...c, selector: o.spec.workloadSelector })))
    .filter((c) => c.match?.context === "SIDECAR_INBOUND");
  assert.equal(patches.length, 1, "one inbound patch");
  return patches[0];
}

function secretOf(mesh: string): { sidecarSecret: string; keys: Array<{ kid: string; k: string }> } {
  const s = objects(mesh).find((o) => o.kind === "Secret")!.stringData;
  return { sidecarSecret: s.sidecarSecret, keys: JSON.parse(s.signingKeys) };
}

/** Storage + access (filter mode) behind one Envoy running `filters` with `routes` to it. */
class Sidecar {
  envoy!: EnvoyInstance;
  private servers: Server[] = [];
  private access?: Access;
  private storage?: Storage;
  private dir = mkdtempSync(join(tmpdir(), "sidecar-secret-"));

  async start(mesh: string, filters: HttpFilterSpec[], planCluster: string, routeHeaders?: Record<string, string>): Promise<void> {
    const { sidecarSecret, keys } = secretOf(mesh);
    this.storage = createStorage({ dataDir: join(this.dir, "storage") });
    const storageServer = createServer(this.storage.app);
    this.servers.push(storageServer);
    const storageUrl = await listen(storageServer);
    // The access app needs the sidecar's URL as its enforcer, and the sidecar needs the app's port.
    let handler: RequestListener = (_req, res) => res.writeHead(503).end();
    const accessServer = createServer((req, res) => handler(req, res));
    this.servers.push(accessServer);
    const port = Number(new URL(await listen(accessServer)).port);
    const routes: RouteSpec[] = [{ prefix: "/", cluster: "inbound", timeoutMs: 0, ...(routeHeaders ? { requestHeadersToAdd: routeHeaders } : {}) }];
    this.envoy = await startEnvoy({ filters, routes, clusters: [{ name: "inbound", port }, { name: planCluster, port }] });
    this.access = createAccess({ dataDir: join(this.dir, "access"), storageUrl, catalog, keys, mode: "filter", realm: "http://localhost:8080/api/token", sidecarSecret, enforcerUrl: this.envoy.url, logError: () => undefined });
    handler = this.access.app;
  }

  async stop(): Promise<void> {
    await this.envoy?.stop();
    for (const s of this.servers) await closeServer(s);
    this.access?.close();
    this.storage?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Signs up `user`, then GET /v2/ with a valid registry token and a forged x-hub-sidecar. */
  async registryRequest(mesh: string, user: string): Promise<{ status: number; body: string; challenge: string | null }> {
    const signup = await fetch(`${this.envoy.url}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user, password: "correct-horse-1" }) });
    assert.equal(signup.status, 201, await signup.text());
    const { token } = await signRegistryToken(secretOf(mesh).keys, { user, plan: catalog.defaultPlan, access: [] });
    const res = await fetch(`${this.envoy.url}/v2/`, { headers: { authorization: `Bearer ${token}`, "x-hub-sidecar": FORGED } });
    return { status: res.status, body: await res.text(), challenge: res.headers.get("www-authenticate") };
  }
}

/** A 401 from the access service itself (registry error format, Basic challenge), not from token-auth. */
function assertRefusedByAccess(r: { status: number; body: string; challenge: string | null }): void {
  assert.equal(r.status, 401, r.body);
  assert.equal(JSON.parse(r.body).errors[0].code, "UNAUTHORIZED");
}

for (const mesh of ["consul", "istio"] as const) {
  describe(`${mesh}: the access sidecar adds the secret after the policy filters`, () => {
    const sidecar = new Sidecar();
    before(async () => {
      if (mesh === "consul") {
        const { filters, planCluster } = consulChain();
        await sidecar.start(mesh, filters, planCluster);
      } else {
        const { filters, planCluster } = istioChain();
        // The EnvoyFilter merges request_headers_to_add into the inbound route configuration; the
        // harness sets them on the route. Both are applied by the router, after every HTTP filter
        // (the exact patch is checked by `envoy --mode validate` below).
        const added = istioSecretPatch().patch.value.request_headers_to_add as Array<{ header: { key: string; value: string } }>;
        await sidecar.start(mesh, filters, planCluster, Object.fromEntries(added.map((h) => [h.header.key, h.header.value])));
      }
    });
    after(() => sidecar.stop());

    test("a valid registry request reaches the access service with the deployment's secret, not the client's", async () => {
      const r = await sidecar.registryRequest(mesh, "alice");
      assert.equal(r.status, 200, r.body);
    });

    test("a request without a token is still refused by token-auth (the secret grants nothing by itself)", async () => {
      const res = await fetch(`${sidecar.envoy.url}/v2/`, { headers: { "x-hub-sidecar": FORGED } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="http:\/\/localhost:8080\/api\/token"/);
    });

    test("/internal/plan through the sidecar gets the secret but not a client's x-hub-user: it answers no plan", async () => {
      const res = await fetch(`${sidecar.envoy.url}/internal/plan`, { headers: { "x-hub-user": "alice", "x-hub-sidecar": FORGED } });
      // alice signed up in the first test: 404 means the app saw no user, because token-auth removed the
      // client's x-hub-user; only token-auth's own callout (around the listener) names one.
      assert.equal(res.status, 404);
    });

    test("/api/me's quota comes from the rate-limit filter at ENFORCER_URL (the sidecar)", async () => {
      await fetch(`${sidecar.envoy.url}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bob", password: "correct-horse-1" }) });
      const res = await fetch(`${sidecar.envoy.url}/api/me`, { headers: { authorization: `Basic ${Buffer.from("bob:correct-horse-1").toString("base64")}` } });
      assert.equal(res.status, 200);
      const me = (await res.json()) as { quota: { plan: string; limit: number; remaining: number } | null };
      const plan = catalog.plans.find((p) => p.id === catalog.defaultPlan)!;
      assert.deepEqual(me.quota && { plan: me.quota.plan, limit: me.quota.limit, remaining: me.quota.remaining }, { plan: plan.id, limit: plan.pullsPerWindow, remaining: plan.pullsPerWindow });
    });
  });
}

describe("controls: the Consul chain with the Lua secret misplaced", () => {
  const { filters, planCluster } = consulChain();
  const lua = filters.filter((f) => f.kind === "native");
  const wasm = filters.filter((f) => f.kind !== "native");
  assert.equal(lua.length, 1, "one Lua filter");
  assert.deepEqual(filters.at(-1), lua[0], "the Lua filter is the last before the router");

  for (const [name, chain] of [["before token-auth", [...lua, ...wasm]], ["missing", wasm]] as const) {
    test(`${name}: the access service refuses the valid request`, async () => {
      const sidecar = new Sidecar();
      try {
        await sidecar.start("consul", [...chain], planCluster);
        assertRefusedByAccess(await sidecar.registryRequest("consul", "carol"));
      } finally {
        await sidecar.stop();
      }
    });
  }
});

test("istio: the inbound route patch is what Envoy accepts in a route configuration, and a typo is refused", async () => {
  const patch = istioSecretPatch();
  const port = Number(objects("istio").find((o) => o.kind === "Service" && o.metadata.name === "access")!.spec.ports[0].port);
  // Route headers are applied by the router, after every HTTP filter: a patch on the HTTP filter chain
  // (HTTP_FILTER) could land before the WasmPlugins.
  assert.deepEqual([patch.applyTo, patch.match.routeConfiguration.portNumber, patch.patch.operation], ["ROUTE_CONFIGURATION", port, "MERGE"]);
  assert.deepEqual(patch.selector, { labels: { app: "access" } }, "only the access sidecar");
  const merged = (value: Record<string, unknown>) => {
    const { config } = buildBootstrap({ filters: istioChain().filters, clusters: [{ name: "inbound", port: 1024 }, { name: istioChain().planCluster, port: 1024 }] });
    const hcm = (config.static_resources as any).listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.route_config = { ...hcm.route_config, ...value };
    return { config, yaml: stringify(config) };
  };
  const ok = await validateBootstrap(merged(patch.patch.value));
  assert.ok(ok.ok, ok.output.join("\n"));
  const bad = await validateBootstrap(merged({ request_header_to_add: patch.patch.value.request_headers_to_add }));
  assert.equal(bad.ok, false);
  assert.match(bad.output.join("\n"), /request_header_to_add/);
});

test("the Lua script carries any visible-ASCII secret exactly, quotes and backslashes included", async () => {
  const secret = `q"uote\\back\\"slash-0123456789`;
  const echo = createServer((req, res) => res.end(String(req.headers["x-hub-sidecar"])));
  const port = Number(new URL(await listen(echo)).port);
  const envoy = await startEnvoy({ filters: [{ kind: "native", name: "lua", typedConfig: { "@type": LUA, inline_code: sidecarSecretLua(secret) } }], clusters: [{ name: "echo", port }] });
  try {
    const res = await fetch(envoy.url, { headers: { "x-hub-sidecar": FORGED } });
    assert.equal(await res.text(), secret);
  } finally {
    await envoy.stop();
    await closeServer(echo);
  }
});
