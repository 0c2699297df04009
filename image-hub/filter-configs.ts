/**
 * filter-configs: the JSON plugin configuration of each policy filter (token-auth,
 * plan-enforcement, rate-limit), derived from the plan catalog (image-hub/plans.json) plus runtime
 * parameters (signing keys, token realm, service name). The services, the local run, the manifests
 * and the benchmarks call this module; nothing else writes plan numbers into a filter config.
 *
 * Run `tsx image-hub/filter-configs.ts --write-examples` to regenerate each filter's
 * config.example.json (a test checks that they are current).
 * @module
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadCatalog, type Action, type Catalog } from "./catalog.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Names of the policy filters, in the order of the HTTP filter chain (CONTRACT.md). */
export const POLICY_FILTERS = ["token-auth", "plan-enforcement", "rate-limit"] as const;
/** One policy filter's name. */
export type PolicyFilterName = (typeof POLICY_FILTERS)[number];

/** An HS256 signing key: `kid` names it in the JWT header; `k` is the key bytes in base64url (as a JWK "oct" key). */
export interface SigningKey {
  kid: string;
  k: string;
}

/**
 * DEMO_SIGNING_KEYS are DEMO KEYS ONLY, published in the repository for the local run and tests.
 * Never deploy them: pass freshly generated keys (generateSigningKey) to tokenAuthConfig instead.
 */
export const DEMO_SIGNING_KEYS: readonly SigningKey[] = Object.freeze([
  { kid: "demo-2026-a", k: "ZGVtby1vbmx5LWltYWdlLWh1Yi1zaWduaW5nLWtleS1h" },
  { kid: "demo-2026-b", k: "ZGVtby1vbmx5LWltYWdlLWh1Yi1zaWduaW5nLWtleS1i" },
]);

/** generateSigningKey returns a fresh random 32-byte HS256 key named `kid`; never fails. */
export function generateSigningKey(kid: string): SigningKey {
  return { kid, k: randomBytes(32).toString("base64url") };
}

/** The `iss` claim every registry token carries (CONTRACT.md). */
export const TOKEN_ISSUER = "image-hub";
/** The `aud` claim every registry token carries (CONTRACT.md). */
export const TOKEN_AUDIENCE = "image-hub-registry";
/** The registry service name in tokens and in the WWW-Authenticate challenge. */
export const REGISTRY_SERVICE = "image-hub";
/** Accepted clock skew on exp and nbf, in seconds (CONTRACT.md). */
export const CLOCK_SKEW_SECONDS = 30;
/** Longest `Authorization: Bearer` token token-auth reads; longer tokens get 401 without parsing. */
export const MAX_TOKEN_LENGTH = 4096;

/** Runtime parameters of token-auth. */
export interface TokenAuthParams {
  /** Absolute URL of the token endpoint, used as the challenge realm, e.g. `http://127.0.0.1:8080/api/token`. */
  realm: string;
  /** HS256 keys the filter accepts; the first one is the key new tokens should be signed with. */
  keys?: readonly SigningKey[];
  service?: string;
  /** Live plans: the Envoy cluster of the access service and the sidecar secret its callout sends. */
  planLookup?: { cluster: string; secret: string };
}

/** Path of the access service's plan answer for token-auth's callout (not routed by the ingress). */
export const PLAN_LOOKUP_PATH = "/internal/plan";
/** How long a confirmed plan is used before token-auth asks again: a plan change applies within it. */
export const PLAN_TTL_MS = 1000;

/** token-auth's plugin configuration (see filters/token-auth/README.md). */
export interface TokenAuthConfig {
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  maxTokenLength: number;
  realm: string;
  service: string;
  keys: { kid: string; alg: "HS256"; k: string }[];
  planLookup?: { cluster: string; authority: string; path: string; secret: string; ttlMs: number; timeoutMs: number; slots: number };
}

/** plan-enforcement's plugin configuration (see filters/plan-enforcement/README.md). */
export interface PlanEnforcementConfig {
  /** Same as token-auth's: the insufficient_scope challenge names the same token endpoint. */
  realm: string;
  service: string;
  plans: { id: string; actions: Action[]; maxBlobBytes: number }[];
}

/** rate-limit's plugin configuration (see filters/rate-limit/README.md). */
export interface RateLimitConfig {
  windowSeconds: number;
  plans: { id: string; pullsPerWindow: number }[];
  /** Number of shared-data keys the buckets are spread over (bounds memory; see the README). */
  shards: number;
  /** Most buckets kept per shard; full buckets are dropped first (see the README). */
  maxUsersPerShard: number;
  /** Bounded CAS retries per request; past them the filter fails closed (429, Retry-After: 1, nothing consumed). */
  casRetries: number;
  /** Global limits: mark pulls for Envoy's ratelimit filter instead of counting (absent: local). */
  global?: true;
}

function checkKey(key: SigningKey, index: number): void {
  if (typeof key.kid !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(key.kid)) {
    throw new Error(`filter-configs: keys[${index}].kid must be 1-64 characters of [A-Za-z0-9._-]`);
  }
  if (typeof key.k !== "string" || !/^[A-Za-z0-9_-]+$/.test(key.k) || Buffer.from(key.k, "base64url").length < 32) {
    throw new Error(`filter-configs: keys[${index}].k must be base64url of at least 32 key bytes`);
  }
}

/**
 * tokenAuthConfig builds token-auth's config; callable any time. Throws an Error naming the bad
 * parameter (realm, keys[i].kid, keys[i].k, service) when one is invalid.
 */
export function tokenAuthConfig(params: TokenAuthParams): TokenAuthConfig {
  const keys = params.keys ?? DEMO_SIGNING_KEYS;
  if (keys.length === 0) throw new Error("filter-configs: keys must hold at least one key");
  keys.forEach(checkKey);
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new Error("filter-configs: keys[].kid must be unique");
  const { realm, service } = challenge(params);
  return {
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    clockSkewSeconds: CLOCK_SKEW_SECONDS,
    maxTokenLength: MAX_TOKEN_LENGTH,
    realm,
    service,
    keys: keys.map((k) => ({ kid: k.kid, alg: "HS256" as const, k: k.k })),
    ...(params.planLookup
      ? { planLookup: { cluster: params.planLookup.cluster, authority: params.planLookup.cluster, path: PLAN_LOOKUP_PATH, secret: params.planLookup.secret, ttlMs: PLAN_TTL_MS, timeoutMs: 500, slots: 1024 } }
      : {}),
  };
}

/** The realm and service of the challenge, checked; throws an Error naming the bad one. */
function challenge(params: Pick<TokenAuthParams, "realm" | "service">): { realm: string; service: string } {
  if (typeof params.realm !== "string" || !/^https?:\/\/[^\s"\\]+$/.test(params.realm)) {
    throw new Error("filter-configs: realm must be an http(s) URL without spaces, quotes or backslashes");
  }
  const service = params.service ?? REGISTRY_SERVICE;
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(service)) throw new Error("filter-configs: service must be 1-64 characters of [A-Za-z0-9._:-]");
  return { realm: params.realm, service };
}

/**
 * planEnforcementConfig builds plan-enforcement's config from the catalog and the challenge's realm
 * and service; throws naming realm or service when one is invalid, or if the catalog is.
 */
export function planEnforcementConfig(params: Pick<TokenAuthParams, "realm" | "service">, catalog: Catalog = loadCatalog()): PlanEnforcementConfig {
  return {
    ...challenge(params),
    plans: catalog.plans.map((p) => ({ id: p.id, actions: [...p.actions], maxBlobBytes: p.maxBlobBytes })),
  };
}

/**
 * rateLimitConfig builds rate-limit's config from the catalog; `global` switches it to marking pulls
 * for the global tier (global.ts). Throws only if the catalog is invalid.
 */
export function rateLimitConfig(catalog: Catalog = loadCatalog(), options: { global?: boolean } = {}): RateLimitConfig {
  return {
    windowSeconds: catalog.windowSeconds,
    plans: catalog.plans.map((p) => ({ id: p.id, pullsPerWindow: p.pullsPerWindow })),
    shards: 256,
    maxUsersPerShard: 64,
    casRetries: 32,
    ...(options.global ? { global: true as const } : {}),
  };
}

/** The three configs, keyed by filter name. */
export interface PolicyConfigs {
  "token-auth": TokenAuthConfig;
  "plan-enforcement": PlanEnforcementConfig;
  "rate-limit": RateLimitConfig;
}

/** policyConfigs builds all three configs (rate-limit in global mode with `global`); throws like tokenAuthConfig on a bad parameter. */
export function policyConfigs(params: TokenAuthParams, catalog: Catalog = loadCatalog(), options: { global?: boolean } = {}): PolicyConfigs {
  return {
    "token-auth": tokenAuthConfig(params),
    "plan-enforcement": planEnforcementConfig(params, catalog),
    "rate-limit": rateLimitConfig(catalog, options),
  };
}

/**
 * One filter of the policy chain, in the shape both the Envoy harness (`wasm`, `configuration`)
 * and the emulator's chain runner (`pluginConfig`) take.
 */
export interface PolicyFilterSpec {
  name: PolicyFilterName;
  /** Path of the compiled module (release, or debug when asked). */
  wasm: string;
  /** The plugin configuration as JSON text (Envoy harness field name). */
  configuration: string;
  /** The same JSON text (emulator field name). */
  pluginConfig: string;
  rootId: string;
  /** Every policy filter fails closed (see each README). */
  failurePolicy: "FAIL_CLOSED";
}

/**
 * policyFilterChain lists the filters to install, in chain order; pass `only` to get a subset
 * (e.g. one filter for per-filter benchmarks); `global` configures rate-limit for global limits
 * (it then needs Envoy's ratelimit filter after it, see global.ts). Does not check that the wasm files exist. Throws
 * like tokenAuthConfig on a bad parameter.
 */
export function policyFilterChain(
  params: TokenAuthParams,
  options: { only?: readonly PolicyFilterName[]; debug?: boolean; catalog?: Catalog; global?: boolean } = {},
): PolicyFilterSpec[] {
  const configs = policyConfigs(params, options.catalog ?? loadCatalog(), { global: options.global });
  const names = POLICY_FILTERS.filter((n) => !options.only || options.only.includes(n));
  return names.map((name) => {
    const text = JSON.stringify(configs[name]);
    return {
      name,
      wasm: `${root}build/filters/${name}${options.debug ? ".debug" : ""}.wasm`,
      configuration: text,
      pluginConfig: text,
      rootId: name,
      failurePolicy: "FAIL_CLOSED" as const,
    };
  });
}

/** The composed module (filters/policy) in the shape of one chain filter; `name` and `rootId` are "policy". */
export interface ComposedPolicySpec extends Omit<PolicyFilterSpec, "name"> {
  name: "policy";
}

/**
 * composedConfigText renders the composed module's configuration: one JSON object keyed by filter
 * name (filters/sdk README "Composing filters"), each value that filter's own configuration.
 */
export function composedConfigText(chain: readonly PolicyFilterSpec[]): string {
  return JSON.stringify(Object.fromEntries(chain.map((f) => [f.name, JSON.parse(f.configuration) as unknown])));
}

/**
 * composedPolicyFilter is policyFilterChain's three filters as ONE module (filters/policy): same
 * configurations, same semantics, one wasm filter in the chain. Throws like policyFilterChain.
 */
export function composedPolicyFilter(params: TokenAuthParams, options: { debug?: boolean; catalog?: Catalog; global?: boolean } = {}): ComposedPolicySpec {
  const text = composedConfigText(policyFilterChain(params, options));
  return {
    name: "policy",
    wasm: `${root}build/filters/policy${options.debug ? ".debug" : ""}.wasm`,
    configuration: text,
    pluginConfig: text,
    rootId: "policy",
    failurePolicy: "FAIL_CLOSED",
  };
}

/** EXAMPLE_REALM is the token endpoint of the local run (`npm start`), used in the example configs. */
export const EXAMPLE_REALM = "http://127.0.0.1:8080/api/token";

/** exampleConfigs returns what each filters/<name>/config.example.json must contain (demo keys, local realm). */
export function exampleConfigs(): PolicyConfigs {
  return policyConfigs({ realm: EXAMPLE_REALM, keys: DEMO_SIGNING_KEYS });
}

/** exampleConfigText renders one example config exactly as it is stored on disk. */
export function exampleConfigText(name: PolicyFilterName): string {
  return `${JSON.stringify(exampleConfigs()[name], null, 2)}\n`;
}

/** exampleComposedConfigText renders filters/policy/config.example.json: the three example configs keyed by filter name. */
export function exampleComposedConfigText(): string {
  return `${JSON.stringify(exampleConfigs(), null, 2)}\n`;
}

/** exampleConfigPath is where one filter's config.example.json lives. */
export function exampleConfigPath(name: PolicyFilterName): string {
  return `${root}filters/${name}/config.example.json`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes("--write-examples")) {
  for (const name of POLICY_FILTERS) writeFileSync(exampleConfigPath(name), exampleConfigText(name));
  writeFileSync(`${root}filters/policy/config.example.json`, exampleComposedConfigText());
}
