// Generator parameters: bad values are refused with the field named, and an operator's own values
// (namespace, public URL, keys, secret) reach every place that needs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSigningKey } from "../../image-hub/filter-configs.ts";
import { parseGenerateArgs } from "../generate.ts";
import { renderAll } from "../src/generate.ts";
import { loadInputs } from "../src/inputs.ts";
import { checkParams, DEFAULT_PARAMS, type ManifestParams } from "../src/params.ts";

test("bad parameters are refused with the field named", () => {
  const bad: Array<[Partial<ManifestParams>, RegExp]> = [
    [{ namespace: "Image_Hub" }, /params\.namespace: "Image_Hub" is not a DNS-1123 label/],
    [{ appImage: "bad image" }, /params\.appImage/],
    [{ publicUrl: "hub.example.com" }, /params\.publicUrl: "hub.example.com" is not a URL/],
    [{ publicUrl: "ftp://hub.example.com" }, /params\.publicUrl: must be http or https/],
    [{ jwtKeys: [] }, /params\.jwtKeys: at least one key is required/],
    [{ sidecarSecret: "short" }, /params\.sidecarSecret: must be at least 16 characters/],
    [{ sidecarSecret: "sixteen chars and a space" }, /params\.sidecarSecret: must be visible ASCII/],
    [{ ports: { ...DEFAULT_PARAMS.ports, storage: DEFAULT_PARAMS.ports.access } }, /params\.ports\.storage: 5000 is used twice/],
    [{ ports: { ...DEFAULT_PARAMS.ports, ui: 80 } }, /params\.ports\.ui: must be an integer in 1024-65535/],
  ];
  for (const [change, pattern] of bad) assert.throws(() => checkParams({ ...DEFAULT_PARAMS, ...change }), pattern);
  assert.doesNotThrow(() => checkParams(DEFAULT_PARAMS));
});

test("the generate CLI parses an operator's values and refuses malformed keys", () => {
  const args = parseGenerateArgs(["--namespace", "hub", "--public-url", "https://hub.example.com", "--jwt-key", "k1=abc", "--jwt-key", "k2=def", "--sidecar-secret", "0123456789abcdefXYZ", "--out", "/tmp/x", "--check"]);
  assert.equal(args.out, "/tmp/x");
  assert.equal(args.check, true);
  assert.equal(args.params.namespace, "hub");
  assert.deepEqual(args.params.jwtKeys, [{ kid: "k1", k: "abc" }, { kid: "k2", k: "def" }]);
  assert.equal(args.params.sidecarSecret, "0123456789abcdefXYZ");
  assert.throws(() => parseGenerateArgs(["--jwt-key", "nokid"]), /--jwt-key: expected KID=BASE64URL, got "nokid"/);
  assert.throws(() => parseGenerateArgs(["--replicas", "3"]), /Unknown option '--replicas'/);
});

test("an operator's namespace, URL, keys and secret reach every manifest that needs them", () => {
  const key = generateSigningKey("prod-1");
  const params: ManifestParams = { ...DEFAULT_PARAMS, namespace: "hub-prod", publicUrl: "https://hub.example.com/", jwtKeys: [key], sidecarSecret: "prod-secret-0123456789" };
  const files = renderAll(loadInputs(params), params);
  const objects = files.filter((f) => !f.path.startsWith("consul/forked-build")).flatMap((f) => f.objects) as Array<Record<string, any>>;
  assert.ok(objects.length > 30);
  for (const o of objects) {
    if (o.kind === "Namespace") assert.equal(o.metadata.name, "hub-prod");
    else assert.equal(o.metadata.namespace, "hub-prod", `${o.kind}/${o.metadata.name}`);
  }
  const realm = "https://hub.example.com/api/token";
  const tokenAuth = objects.find((o) => o.kind === "WasmPlugin" && o.metadata.name === "token-auth")!;
  assert.equal(tokenAuth.spec.pluginConfig.realm, realm);
  assert.deepEqual(tokenAuth.spec.pluginConfig.keys, [{ kid: "prod-1", alg: "HS256", k: key.k }]);
  assert.equal(tokenAuth.spec.url, "http://image-hub-filters.hub-prod.svc.cluster.local:8080/token-auth.wasm");
  const defaults = objects.find((o) => o.kind === "ServiceDefaults" && o.metadata.name === "access" && o.spec.envoyExtensions)!;
  assert.equal(JSON.parse(defaults.spec.envoyExtensions[0].arguments.PluginConfig.Configuration).realm, realm);
  for (const secret of objects.filter((o) => o.kind === "Secret")) {
    assert.deepEqual(JSON.parse(secret.stringData.signingKeys), [key]);
    assert.equal(secret.stringData.sidecarSecret, "prod-secret-0123456789");
  }
  const access = objects.filter((o) => o.kind === "Deployment" && o.metadata.name === "access");
  // consul/, istio/ and the three global variants.
  assert.equal(access.length, 5);
  for (const d of access) assert.ok(d.spec.template.spec.containers[0].env.some((e: { name: string; value?: string }) => e.name === "REALM" && e.value === realm));
  // The access sidecars add the secret after the filters (Consul: builtin/lua; Istio: EnvoyFilter).
  const lua = defaults.spec.envoyExtensions.find((e: { name: string }) => e.name === "builtin/lua");
  assert.match(lua.arguments.Script, /replace\("x-hub-sidecar", "prod-secret-0123456789"\)/);
  const ef = objects.find((o) => o.kind === "EnvoyFilter" && o.metadata.name === "access-sidecar-secret")!;
  assert.equal(ef.spec.configPatches[0].patch.value.request_headers_to_add[0].header.value, "prod-secret-0123456789");
  // In filter mode /api/me asks the enforcer for the quota; app mode answers from its own buckets.
  const envOf = (d: Record<string, any>) => d.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
  for (const d of access.filter((x) => envOf(x).some((e) => e.name === "ENFORCE" && e.value === "filter"))) assert.ok(envOf(d).some((e) => e.name === "ENFORCER_URL" && e.value === "http://access.hub-prod.svc.cluster.local:5000"));
  const envoyFilter = objects.find((o) => o.kind === "EnvoyFilter" && o.metadata.name === "image-hub-global-ratelimit")!;
  const patchValue = (applyTo: string) => envoyFilter.spec.configPatches.find((c: { applyTo: string }) => c.applyTo === applyTo).patch.value;
  assert.equal(patchValue("HTTP_ROUTE").request_headers_to_add[0].header.value, "prod-secret-0123456789");
  assert.equal(patchValue("HTTP_ROUTE").route.cluster, "outbound|8082||ratelimit.hub-prod.svc.cluster.local");
  assert.equal(patchValue("HTTP_FILTER").typed_config.rate_limit_service.grpc_service.envoy_grpc.cluster_name, "outbound|8081||ratelimit.hub-prod.svc.cluster.local");
});
