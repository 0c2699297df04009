// Strict validation: every committed manifest passes, and the checks are strict enough that a
// misspelled field, a wrong type or bad builtin/wasm arguments fail with the field named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readManifestDir } from "../src/files.ts";
import { consulExtensionFindings, consulLuaArgumentsValidator, consulWasmArgumentsValidator, schemaCheckObjects, typecheckObjects, validateDeployments, type LocatedObject } from "../src/validate.ts";

const manifests = fileURLToPath(new URL("../", import.meta.url));
const dirs = ["consul", "consul/forked-build", "istio", "consul/global-app", "istio/global-app", "istio/global-filter"];

function load(dir: string): LocatedObject[] {
  return readManifestDir(join(manifests, dir), manifests);
}

function find(objects: LocatedObject[], kind: string, name: string): LocatedObject {
  const o = objects.find((l) => l.object.kind === kind && (l.object.metadata as { name: string }).name === name);
  assert.ok(o, `${kind}/${name} exists`);
  return { where: `${o.where} (mutated)`, object: structuredClone(o.object) };
}

test("every committed manifest validates strictly (tsc typed models, JSON schemas, builtin/wasm schema)", () => {
  const deployments = dirs.map(load);
  deployments.forEach((objects, i) => assert.ok(objects.length >= 10, `${dirs[i]} has its manifests`));
  assert.deepEqual(validateDeployments(deployments), []);
});

test("misspelled fields fail the typed-model check, each reported with its field", () => {
  const consul = load("consul");
  const istio = load("istio");
  const cases: Array<[LocatedObject, RegExp]> = [];
  const add = (lo: LocatedObject, mutate: (o: any) => void, field: string) => {
    mutate(lo.object);
    cases.push([lo, new RegExp(`'"${field}"' does not exist`)]);
  };
  add(find(consul, "Deployment", "access"), (o) => {
    o.spec.replica = o.spec.replicas;
    delete o.spec.replicas;
  }, "replica");
  add(find(consul, "Deployment", "storage"), (o) => {
    o.spec.template.spec.containers[0].imagee = o.spec.template.spec.containers[0].image;
    delete o.spec.template.spec.containers[0].image;
  }, "imagee");
  add(find(consul, "Service", "access"), (o) => {
    o.spec.ports[0].targetPrt = o.spec.ports[0].targetPort;
    delete o.spec.ports[0].targetPort;
  }, "targetPrt");
  add(find(istio, "WasmPlugin", "rate-limit"), (o) => {
    o.spec.pluginConfg = o.spec.pluginConfig;
    delete o.spec.pluginConfig;
  }, "pluginConfg");
  add(find(consul, "ServiceDefaults", "access"), (o) => {
    o.spec.envoyExtensions[0].arguments.ListenerTyp = "inbound";
  }, "ListenerTyp");
  add(find(consul, "ServiceIntentions", "storage"), (o) => {
    o.spec.sources[0].acton = "allow";
  }, "acton");
  add(find(consul, "IngressGateway", "ingress-gateway"), (o) => {
    o.spec.listeners[0].protocl = "http";
  }, "protocl");
  add(find(istio, "PeerAuthentication", "default"), (o) => {
    o.spec.mtls.mod = "STRICT";
  }, "mod");
  add(find(istio, "EnvoyFilter", "access-plan-lookup"), (o) => {
    o.spec.configPatches[0].aplyTo = "CLUSTER";
  }, "aplyTo");
  const untouched = find(istio, "Deployment", "ui");
  const findings = typecheckObjects([...cases.map(([lo]) => lo), untouched]);
  for (const [lo, pattern] of cases) {
    const mine = findings.filter((f) => f.where === lo.where);
    assert.equal(mine.length, 1, `${lo.where}: one finding, got ${JSON.stringify(mine)}`);
    assert.match(mine[0].message, pattern);
  }
  assert.equal(findings.length, cases.length, "the untouched manifest has no finding");
});

test("wrong types, enums and missing required fields fail the JSON-schema check", () => {
  const istio = load("istio");
  const deployment = find(istio, "Deployment", "access");
  (deployment.object as any).spec.replicas = "2";
  const plugin = find(istio, "WasmPlugin", "token-auth");
  (plugin.object as any).spec.failStrategy = "FAIL_CLOSED";
  const service = find(istio, "Service", "ui");
  delete (service.object as any).spec.ports[0].port;
  // networking.istio.io/v1 is checked against the v1beta1 schema it was promoted from (istio-types.ts).
  const gateway = find(istio, "Gateway", "image-hub");
  (gateway.object as any).spec.servers[0].port.number = "80";
  const pluginType = find(istio, "WasmPlugin", "rate-limit");
  (pluginType.object as any).spec.type = "HTTP_FILTER";
  const findings = schemaCheckObjects([deployment, plugin, service, gateway, pluginType]);
  assert.deepEqual(findings.map((f) => f.what), ["Deployment/access", "WasmPlugin/token-auth", "Service/ui", "Gateway/image-hub", "WasmPlugin/rate-limit"]);
  assert.match(findings[0].message, /spec\/replicas must be integer/);
  assert.match(findings[1].message, /spec\/failStrategy must be equal to one of the allowed values/);
  assert.match(findings[2].message, /must have required property '?port'?/);
  assert.match(findings[3].message, /number must be integer/);
  assert.match(findings[4].message, /spec\/type must be equal to one of the allowed values/);
  assert.deepEqual(schemaCheckObjects(load("istio")), [], "the generated Istio manifests pass");
});

test("builtin/wasm arguments are checked against the schema written from Consul's docs", () => {
  const validate = consulWasmArgumentsValidator();
  const consul = load("consul");
  const base = (find(consul, "ServiceDefaults", "access").object as any).spec.envoyExtensions[0].arguments;
  assert.equal(validate(base), true, JSON.stringify(validate.errors));
  const bad: Array<[string, (a: any) => void, RegExp]> = [
    ["no Protocol", (a) => delete a.Protocol, /^ must have required property 'Protocol'/],
    ["no ListenerType", (a) => delete a.ListenerType, /^ must have required property 'ListenerType'/],
    ["bad ListenerType", (a) => (a.ListenerType = "ingress"), /\/ListenerType must be equal to one of the allowed values/],
    ["Remote without SHA256", (a) => delete a.PluginConfig.VmConfig.Code.Remote.SHA256, /\/Remote must have required property 'SHA256'/],
    ["SHA256 not hex", (a) => (a.PluginConfig.VmConfig.Code.Remote.SHA256 = "sha256:abc"), /\/SHA256 must match pattern/],
    ["Remote without upstream Service", (a) => delete a.PluginConfig.VmConfig.Code.Remote.HttpURI.Service, /\/HttpURI must have required property 'Service'/],
    ["Configuration as a map", (a) => (a.PluginConfig.Configuration = JSON.parse(a.PluginConfig.Configuration)), /\/PluginConfig\/Configuration must be string/],
    ["Local and Remote", (a) => (a.PluginConfig.VmConfig.Code.Local = { Filename: "/x.wasm" }), /must match exactly one schema in oneOf/],
    ["misspelled key Consul would ignore", (a) => (a.PluginConfig.Configuraton = "{}"), /must NOT have additional properties/],
  ];
  for (const [label, mutate, pattern] of bad) {
    const args = structuredClone(base);
    mutate(args);
    assert.equal(validate(args), false, label);
    assert.match((validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("; "), pattern, label);
  }
});

test("builtin/lua arguments are checked against their schema, and a bad one is reported on the ServiceDefaults", () => {
  const consul = load("consul");
  const defaults = find(consul, "ServiceDefaults", "access");
  const base = (defaults.object as any).spec.envoyExtensions.find((e: { name: string }) => e.name === "builtin/lua").arguments;
  const validate = consulLuaArgumentsValidator();
  assert.equal(validate(base), true, JSON.stringify(validate.errors));
  const bad: Array<[string, (a: any) => void, RegExp]> = [
    ["no ProxyType (Consul has no default)", (a) => delete a.ProxyType, /^ must have required property 'ProxyType'/],
    ["ListenerType, the builtin/wasm spelling", (a) => ((a.ListenerType = a.Listener), delete a.Listener), /must have required property 'Listener'/],
    ["empty Script", (a) => (a.Script = ""), /\/Script must NOT have fewer than 1 characters/],
  ];
  for (const [label, mutate, pattern] of bad) {
    const args = structuredClone(base);
    mutate(args);
    assert.equal(validate(args), false, label);
    assert.match((validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("; "), pattern, label);
  }
  const broken = structuredClone(defaults);
  (broken.object as any).spec.envoyExtensions.at(-1).arguments.Listner = "inbound";
  const findings = consulExtensionFindings([find(consul, "Deployment", "access"), broken]);
  assert.equal(findings.length, 1);
  assert.match(findings[0].message, /spec\.envoyExtensions\[3\]\.arguments: must NOT have additional properties \(Listner\)/);
});

test("a Remote code service that is not an upstream of the proxy is reported", () => {
  const consul = load("consul");
  const access = find(consul, "Deployment", "access");
  const annotations = (access.object as any).spec.template.metadata.annotations;
  annotations["consul.hashicorp.com/connect-service-upstreams"] = "storage:5001";
  const defaults = find(consul, "ServiceDefaults", "access");
  const findings = consulExtensionFindings([access, defaults]);
  assert.equal(findings.length, 3);
  assert.match(findings[0].message, /Remote\.HttpURI\.Service\.Name: "image-hub-filters" is not an upstream of access/);
  const ok = consulExtensionFindings([find(consul, "Deployment", "access"), find(consul, "ServiceDefaults", "access")]);
  assert.deepEqual(ok, []);
});
