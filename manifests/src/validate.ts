// Strict validation of generated manifests, three ways:
//  1. typed literals checked by tsc: each object becomes `export const m: IDeployment = {...}` and
//     tsc's excess-property check rejects any misspelled field (the JSON-schema models cannot: their
//     schemas allow additional properties);
//  2. the kubernetes-models JSON schemas at run time (types, required fields, enums);
//  3. Consul's builtin/wasm and builtin/lua arguments against schemas/consul-builtin-{wasm,lua}.schema.json,
//     because Consul itself silently ignores unknown argument keys.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { repoRoot } from "./inputs.ts";
import { ISTIO_MODELS, type ModelClass } from "./istio-types.ts";

/** A Kubernetes object from a manifest file, with where it came from. */
export interface LocatedObject {
  /** e.g. `consul/workloads.yaml#3` (document index from 0). */
  where: string;
  object: Record<string, unknown>;
}

/** One validation failure. */
export interface Finding {
  where: string;
  /** `Kind/name`. */
  what: string;
  message: string;
}

const consulTypes = fileURLToPath(new URL("./consul-types.ts", import.meta.url));
const istioTypes = fileURLToPath(new URL("./istio-types.ts", import.meta.url));

/** apiVersion/kind → [module, interface] of the typed model; every kind the generator emits is here. */
const TYPES: Record<string, [string, string]> = {
  "v1/Namespace": ["kubernetes-models/v1", "INamespace"],
  "v1/ServiceAccount": ["kubernetes-models/v1", "IServiceAccount"],
  "v1/Service": ["kubernetes-models/v1", "IService"],
  "v1/Secret": ["kubernetes-models/v1", "ISecret"],
  "v1/ConfigMap": ["kubernetes-models/v1", "IConfigMap"],
  "v1/PersistentVolumeClaim": ["kubernetes-models/v1", "IPersistentVolumeClaim"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1", "IDeployment"],
  "extensions.istio.io/v1alpha1/WasmPlugin": [istioTypes, "IWasmPlugin"],
  "networking.istio.io/v1alpha3/EnvoyFilter": [istioTypes, "IEnvoyFilter"],
  "networking.istio.io/v1/Gateway": [istioTypes, "IGateway"],
  "networking.istio.io/v1/VirtualService": [istioTypes, "IVirtualService"],
  "security.istio.io/v1/PeerAuthentication": [istioTypes, "IPeerAuthentication"],
  "consul.hashicorp.com/v1alpha1/ServiceDefaults": [consulTypes, "IServiceDefaults"],
  "consul.hashicorp.com/v1alpha1/ServiceIntentions": [consulTypes, "IServiceIntentions"],
  "consul.hashicorp.com/v1alpha1/ServiceRouter": [consulTypes, "IServiceRouter"],
  "consul.hashicorp.com/v1alpha1/IngressGateway": [consulTypes, "IIngressGateway"],
};

/** Runtime JSON-schema models (no Consul models exist; tsc and the wasm schema cover those). */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  ...ISTIO_MODELS,
};

function typeKey(o: Record<string, unknown>): string {
  return `${String(o.apiVersion)}/${String(o.kind)}`;
}

function what(o: Record<string, unknown>): string {
  const name = (o.metadata as { name?: unknown } | undefined)?.name;
  return `${String(o.kind)}/${String(name)}`;
}

/**
 * Type-checks every object against its model interface with `tsc --noEmit --strict` in a temp dir.
 * Returns one finding per tsc error (an unknown apiVersion/kind is a finding too); throws only when
 * tsc itself cannot run. tsc reports the first excess property of each object literal.
 */
export function typecheckObjects(objects: LocatedObject[], root = repoRoot): Finding[] {
  const findings: Finding[] = [];
  const imports = new Map<string, Set<string>>();
  const lines: string[] = [];
  const lineOwner: LocatedObject[] = [];
  objects.forEach((lo, i) => {
    const t = TYPES[typeKey(lo.object)];
    if (!t) {
      findings.push({ where: lo.where, what: what(lo.object), message: `no typed model for ${typeKey(lo.object)}` });
      return;
    }
    if (!imports.has(t[0])) imports.set(t[0], new Set());
    imports.get(t[0])!.add(t[1]);
    lineOwner[lines.length] = lo;
    // One object per line, so a tsc error's line number names the manifest it belongs to.
    lines.push(`export const m${i}: ${t[1]} = ${JSON.stringify(lo.object)};`);
  });
  const header = [...imports].map(([mod, names]) => `import type { ${[...names].join(", ")} } from ${JSON.stringify(mod)};`);
  const dir = mkdtempSync(join(tmpdir(), "manifests-tsc-"));
  try {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
    writeFileSync(join(dir, "manifests.ts"), [...header, ...lines].join("\n") + "\n");
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        types: [],
      },
      files: ["manifests.ts"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], { encoding: "utf8", timeout: 120_000 });
    if (tsc.error) throw new Error(`tsc could not run: ${tsc.error.message}`);
    const out = `${tsc.stdout}${tsc.stderr}`;
    for (const m of out.matchAll(/manifests\.ts\((\d+),\d+\): error (TS\d+: .*)/g)) {
      const owner = lineOwner[Number(m[1]) - 1 - header.length];
      findings.push(owner ? { where: owner.where, what: what(owner.object), message: m[2] } : { where: "imports", what: "-", message: m[2] });
    }
    if (tsc.status !== 0 && findings.length === 0) throw new Error(`tsc failed without a diagnostic:\n${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return findings;
}

/** Validates each object against its kubernetes-models JSON schema; returns the failures, never throws. */
export function schemaCheckObjects(objects: LocatedObject[]): Finding[] {
  return objects.flatMap((lo) => {
    const Model = MODELS[typeKey(lo.object)];
    if (!Model) return [];
    try {
      new Model(structuredClone(lo.object) as never).validate();
      return [];
    } catch (err) {
      return [{ where: lo.where, what: what(lo.object), message: (err as Error).message }];
    }
  });
}

let wasmSchema: ValidateFunction | undefined;
let luaSchema: ValidateFunction | undefined;

/** The compiled builtin/wasm arguments schema (schemas/consul-builtin-wasm.schema.json). */
export function consulWasmArgumentsValidator(): ValidateFunction {
  if (!wasmSchema) {
    const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../schemas/consul-builtin-wasm.schema.json", import.meta.url)), "utf8"));
    wasmSchema = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
  }
  return wasmSchema;
}

/** The compiled builtin/lua arguments schema (schemas/consul-builtin-lua.schema.json). */
export function consulLuaArgumentsValidator(): ValidateFunction {
  if (!luaSchema) {
    const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../schemas/consul-builtin-lua.schema.json", import.meta.url)), "utf8"));
    luaSchema = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
  }
  return luaSchema;
}

/**
 * Checks every ServiceDefaults' builtin/wasm and builtin/lua arguments against the schema, and that each Remote code
 * Service is an upstream of the workload the ServiceDefaults configures (Consul refuses otherwise with
 * "no upstream found for remote service"). Returns the failures; never throws.
 */
export function consulExtensionFindings(objects: LocatedObject[]): Finding[] {
  const validate = consulWasmArgumentsValidator();
  const upstreams = new Map<string, string[]>();
  for (const { object } of objects) {
    if (typeKey(object) !== "apps/v1/Deployment") continue;
    const pod = (object as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }).spec?.template?.metadata?.annotations ?? {};
    const service = pod["consul.hashicorp.com/connect-service"];
    const list = pod["consul.hashicorp.com/connect-service-upstreams"];
    if (service) upstreams.set(service, list ? list.split(",").map((u) => u.split(":")[0]) : []);
  }
  const findings: Finding[] = [];
  for (const lo of objects) {
    if (typeKey(lo.object) !== "consul.hashicorp.com/v1alpha1/ServiceDefaults") continue;
    const name = String((lo.object.metadata as { name?: unknown }).name);
    const extensions = ((lo.object.spec ?? {}) as { envoyExtensions?: Array<{ name?: string; arguments?: unknown }> }).envoyExtensions ?? [];
    extensions.forEach((ext, i) => {
      const at = `spec.envoyExtensions[${i}].arguments`;
      if (ext.name !== "builtin/wasm" && ext.name !== "builtin/lua") return;
      const check = ext.name === "builtin/wasm" ? validate : consulLuaArgumentsValidator();
      if (!check(ext.arguments)) {
        for (const e of check.errors ?? []) {
          const extra = e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : "";
          findings.push({ where: lo.where, what: what(lo.object), message: `${at}${e.instancePath.replaceAll("/", ".")}: ${e.message}${extra}` });
        }
        return;
      }
      if (ext.name === "builtin/lua") return;
      const remote = (ext.arguments as { PluginConfig: { VmConfig: { Code: { Remote?: { HttpURI: { Service: { Name: string } } } } } } }).PluginConfig.VmConfig.Code.Remote;
      const wanted = remote?.HttpURI.Service.Name;
      if (wanted && !(upstreams.get(name) ?? []).includes(wanted)) {
        findings.push({ where: lo.where, what: what(lo.object), message: `${at}.PluginConfig.VmConfig.Code.Remote.HttpURI.Service.Name: "${wanted}" is not an upstream of ${name}` });
      }
    });
  }
  return findings;
}

/**
 * All three checks over several deployments at once (e.g. consul/, istio/): one tsc run for all of
 * them, the schema and upstream checks per deployment. Returns every finding (empty when all pass).
 */
export function validateDeployments(deployments: LocatedObject[][], root = repoRoot): Finding[] {
  return [...typecheckObjects(deployments.flat(), root), ...deployments.flatMap((objects) => [...schemaCheckObjects(objects), ...consulExtensionFindings(objects)])];
}
