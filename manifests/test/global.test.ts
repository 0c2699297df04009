// The global-limits variants (manifests/<mesh>/global-<mode>/): replicas and Redis where they belong,
// Envoy's ratelimit filter after the wasm filters with descriptors from the identity headers (and its
// config accepted by real Envoy), limits still from plans.json, the deploy command's choice of
// directory, and the access entrypoint started with the app variant's env sharing one real Redis.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { envoyBinary } from "proxy-wasm-host-emulator/envoy";
import { readManifestDir } from "../src/files.ts";
import { manifestSubdir, parseDeployArgs, plannedObjects } from "../deploy.ts";
import { schemaCheckObjects, typecheckObjects } from "../src/validate.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const manifests = join(root, "manifests");
const plans = JSON.parse(readFileSync(join(root, "image-hub/plans.json"), "utf8")) as { windowSeconds: number; plans: Array<{ id: string; pullsPerWindow: number }> };

function objects(dir: string): Array<Record<string, any>> {
  return readManifestDir(join(manifests, dir)).map((l) => l.object as Record<string, any>);
}
function one(dir: string, kind: string, name: string): Record<string, any> {
  const o = objects(dir).find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${dir}: ${kind}/${name}`);
  return o;
}
function env(d: Record<string, any>): Record<string, any> {
  return Object.fromEntries((d.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));
}

const VARIANTS = ["consul/global-app", "istio/global-app", "istio/global-filter"];

test("every global variant runs 2 access replicas on one node, and one Redis pinned by tag", () => {
  for (const dir of VARIANTS) {
    const access = one(dir, "Deployment", "access");
    assert.equal(access.spec.replicas, 2, dir);
    // The replicas share access.db on a ReadWriteOnce volume, which attaches to one node.
    assert.deepEqual(access.spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution, [{ labelSelector: { matchLabels: { app: "access" } }, topologyKey: "kubernetes.io/hostname" }], dir);
    assert.equal(env(access).ENFORCE, dir.endsWith("app") ? "app" : "filter", dir);
    const redis = one(dir, "Deployment", "redis");
    assert.match(redis.spec.template.spec.containers[0].image, /^docker\.io\/library\/redis:\d+\.\d+\.\d+-alpine$/, `${dir}: redis pinned to a full tag`);
    assert.equal(one(dir, "Service", "redis").spec.ports[0].port, 6379);
    for (const name of ["ui", "storage"]) assert.equal(one(dir, "Deployment", name).spec.replicas, 1, `${dir} ${name}`);
  }
});

test("app mode: access reaches Redis through the mesh and no wasm filter is attached", () => {
  const consulAccess = one("consul/global-app", "Deployment", "access");
  assert.equal(env(consulAccess).REDIS_URL, "redis://127.0.0.1:6379", "Consul upstreams listen on loopback");
  assert.equal(consulAccess.spec.template.metadata.annotations["consul.hashicorp.com/connect-service-upstreams"], "storage:5001,redis:6379");
  assert.equal(env(one("istio/global-app", "Deployment", "access")).REDIS_URL, "redis://redis:6379");
  const consul = objects("consul/global-app");
  assert.equal(consul.filter((o) => o.kind === "ServiceDefaults" && o.spec.envoyExtensions).length, 0, "no builtin/wasm in app mode");
  assert.equal(one("consul/global-app", "ServiceDefaults", "redis").spec.protocol, "tcp");
  const intentions = consul.filter((o) => o.kind === "ServiceIntentions");
  assert.deepEqual(one("consul/global-app", "ServiceIntentions", "redis").spec.sources, [{ name: "access", action: "allow" }]);
  assert.equal(intentions.at(-1)!.metadata.name, "deny-all", "deny-all stays last");
  assert.equal(one("consul/global-app", "Deployment", "redis").spec.template.metadata.annotations["consul.hashicorp.com/connect-service-protocol"], "tcp");
  for (const dir of ["consul/global-app", "istio/global-app"]) {
    assert.equal(objects(dir).filter((o) => o.kind === "WasmPlugin" || o.kind === "ConfigMap" || o.metadata.name === "image-hub-filters").length, 0, dir);
  }
  assert.equal(existsSync(join(manifests, "consul/global-filter")), false, "Consul has no filter-mode global variant (README)");
});

test("filter mode (Istio): the wasm chain marks pulls, Envoy's ratelimit filter asks the rate-limit service", () => {
  const dir = "istio/global-filter";
  const plugins = objects(dir).filter((o) => o.kind === "WasmPlugin");
  const local = objects("istio").filter((o) => o.kind === "WasmPlugin");
  assert.deepEqual(plugins.map((p) => [p.metadata.name, p.spec.phase, p.spec.priority, p.spec.sha256]), local.map((p) => [p.metadata.name, p.spec.phase, p.spec.priority, p.spec.sha256]));
  const rateLimit = plugins.find((p) => p.metadata.name === "rate-limit")!;
  // Limits still derive from plans.json: the same plans as the local chain, plus the marker switch.
  assert.deepEqual(rateLimit.spec.pluginConfig, { ...local.find((p) => p.metadata.name === "rate-limit")!.spec.pluginConfig, global: true });
  assert.deepEqual(rateLimit.spec.pluginConfig.plans, plans.plans.map((p) => ({ id: p.id, pullsPerWindow: p.pullsPerWindow })));
  const filter = one(dir, "EnvoyFilter", "image-hub-global-ratelimit");
  assert.deepEqual(filter.spec.workloadSelector, { labels: { app: "access" } });
  const patch = (applyTo: string) => filter.spec.configPatches.find((c: any) => c.applyTo === applyTo);
  const http = patch("HTTP_FILTER");
  assert.equal(http.match.context, "SIDECAR_INBOUND");
  assert.deepEqual([http.match.listener.filterChain.filter.subFilter.name, http.patch.operation], ["envoy.filters.http.router", "INSERT_BEFORE"], "right before the router: after every WasmPlugin");
  const rl = http.patch.value.typed_config;
  assert.deepEqual([rl.domain, rl.failure_mode_deny, rl.status_on_error.code], ["image-hub", true, "ServiceUnavailable"]);
  const svc = one(dir, "Service", "ratelimit");
  const grpc = svc.spec.ports.find((p: any) => p.name === "grpc");
  assert.equal(grpc.appProtocol, "grpc", "Istio speaks HTTP/2 to the gRPC port");
  assert.equal(rl.rate_limit_service.grpc_service.envoy_grpc.cluster_name, `outbound|${grpc.port}||ratelimit.image-hub.svc.cluster.local`);
  assert.deepEqual(patch("VIRTUAL_HOST").patch.value.rate_limits[0].actions.map((a: any) => [a.request_headers.header_name, a.request_headers.descriptor_key, a.request_headers.skip_if_absent]), [["x-hub-pull", "pull", undefined], ["x-hub-plan", "plan", undefined], ["x-hub-user", "user", undefined]]);
  assert.equal(patch("VIRTUAL_HOST").match.routeConfiguration.vhost.name, `inbound|http|${one(dir, "Service", "access").spec.ports[0].port}`);
  const quota = patch("HTTP_ROUTE").patch.value;
  assert.equal(quota.route.cluster, `outbound|${svc.spec.ports.find((p: any) => p.name === "http").port}||ratelimit.image-hub.svc.cluster.local`);
  const secret = one(dir, "Secret", "image-hub-keys").stringData.sidecarSecret;
  assert.equal(quota.request_headers_to_add[0].header.value, secret);
  const rls = one(dir, "Deployment", "ratelimit");
  const c = rls.spec.template.spec.containers[0];
  assert.equal(c.image, one(dir, "Deployment", "access").spec.template.spec.containers[0].image, "the project image");
  assert.deepEqual(env(rls).RATELIMIT_SIDECAR_SECRET, { secretKeyRef: { name: "image-hub-keys", key: "sidecarSecret" } });
  assert.equal(env(rls).REDIS_URL, "redis://redis:6379");
  assert.equal(env(one(dir, "Deployment", "access")).REDIS_URL, undefined, "in filter mode the rate-limit service holds the buckets");
});

test("the rate-limit service's command names its entry point in the project image", { skip: existsSync(join(root, "image-hub/ratelimit")) ? false : "image-hub/ratelimit/ is on branch rls, not merged here yet" }, () => {
  const c = one("istio/global-filter", "Deployment", "ratelimit").spec.template.spec.containers[0];
  assert.deepEqual(c.command.slice(0, 3), ["node", "--import", "tsx"]);
  assert.ok(existsSync(join(root, c.command[3])), `${c.command[3]} exists`);
});

/**
 * What Istio builds from the EnvoyFilter's patches on an inbound HTTP listener, reduced to one
 * listener, the patched virtual host and the clusters the patches name: enough for Envoy to check
 * every field of every patch value against its own protos.
 */
function patchedBootstrap(filter: Record<string, any>): Record<string, unknown> {
  const patch = (applyTo: string) => filter.spec.configPatches.find((c: any) => c.applyTo === applyTo).patch.value;
  const vhostName = filter.spec.configPatches.find((c: any) => c.applyTo === "VIRTUAL_HOST").match.routeConfiguration.vhost.name;
  const { "@type": _t, ...hcmMerge } = patch("NETWORK_FILTER").typed_config;
  const ratelimit = patch("HTTP_FILTER");
  const quota = patch("HTTP_ROUTE");
  const cluster = (name: string, port: number, http2: boolean) => ({
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
    ...(http2 ? { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } } } : {}),
  });
  return {
    static_resources: {
      listeners: [
        {
          name: "virtualInbound",
          address: { socket_address: { address: "127.0.0.1", port_value: 15006 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "inbound_5000",
                    route_config: { name: "inbound|5000||", virtual_hosts: [{ name: vhostName, domains: ["*"], routes: [quota, { match: { prefix: "/" }, route: { cluster: "inbound|5000||" } }], ...patch("VIRTUAL_HOST") }] },
                    http_filters: [ratelimit, { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                    ...hcmMerge,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [cluster("inbound|5000||", 5000, false), cluster(ratelimit.typed_config.rate_limit_service.grpc_service.envoy_grpc.cluster_name, 8081, true), cluster(quota.route.cluster, 8082, false)],
    },
  };
}

test("the EnvoyFilter's own fields are checked like every manifest: a misspelled one fails with its name", () => {
  const filter = one("istio/global-filter", "EnvoyFilter", "image-hub-global-ratelimit");
  const bad = structuredClone(filter);
  bad.spec.workloadSelecter = bad.spec.workloadSelector;
  delete bad.spec.workloadSelector;
  const wrongEnum = structuredClone(filter);
  wrongEnum.spec.configPatches[0].patch.operation = "INSERT_AFTERWARDS";
  const findings = typecheckObjects([{ where: "bad", object: bad }, { where: "good", object: filter }]);
  assert.deepEqual(findings.map((f) => f.where), ["bad"]);
  assert.match(findings[0].message, /'"workloadSelecter"' does not exist/);
  assert.deepEqual(schemaCheckObjects([{ where: "good", object: filter }]), []);
  assert.match(schemaCheckObjects([{ where: "enum", object: wrongEnum }])[0]?.message ?? "", /operation must be equal to one of the allowed values/);
});

test("real Envoy accepts every patch value of the EnvoyFilter, and refuses a misspelled field", async () => {
  const envoy = await envoyBinary();
  const filter = one("istio/global-filter", "EnvoyFilter", "image-hub-global-ratelimit");
  const dir = mkdtempSync(join(tmpdir(), "global-envoyfilter-"));
  try {
    const validate = (config: unknown) => {
      const file = join(dir, "bootstrap.json");
      writeFileSync(file, JSON.stringify(config));
      return spawnSync(envoy, ["--mode", "validate", "-c", file, "--log-level", "warn"], { encoding: "utf8", timeout: 90_000 });
    };
    const ok = validate(patchedBootstrap(filter));
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout + ok.stderr, /configuration '.*bootstrap\.json' OK/);
    const bad = validate(JSON.parse(JSON.stringify(patchedBootstrap(filter)).replace('"failure_mode_deny"', '"failure_mode_deni"')));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout + bad.stderr, /failure_mode_deni/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run deploy -- --limits global picks the variant; Consul filter mode is refused with the reason", () => {
  assert.deepEqual(parseDeployArgs(["--mesh", "istio", "--limits", "global", "--enforce", "filter"]).variant, "global-filter");
  assert.deepEqual(parseDeployArgs(["--mesh", "consul", "--limits", "global", "--enforce", "app"]).variant, "global-app");
  assert.equal(parseDeployArgs(["--mesh", "consul"]).variant, undefined);
  assert.throws(() => parseDeployArgs(["--mesh", "consul", "--limits", "global"]), /Consul has no supported way to add Envoy's ratelimit filter; use --enforce app/);
  assert.throws(() => parseDeployArgs(["--mesh", "istio", "--enforce", "app"]), /--enforce app: the local-limits manifests run filter mode/);
  assert.throws(() => parseDeployArgs(["--mesh", "istio", "--limits", "world"]), /--limits: must be local or global, not "world"/);
  const kinds = plannedObjects(manifestSubdir("istio", "global-filter")).map((o) => o.kind);
  assert.ok(kinds.indexOf("EnvoyFilter") < kinds.indexOf("Deployment"), "the EnvoyFilter is applied before the pods start");
  assert.ok(kinds.includes("EnvoyFilter") && kinds.filter((k) => k === "Deployment").length === 6, kinds.join(","));
});
