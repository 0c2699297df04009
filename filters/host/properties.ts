/**
 * The property tree behind proxy_get_property / proxy_set_property (proxy-wasm-host.md §4.9):
 * CEL-like top-level names, path walk on NUL-separated parts, Envoy's value encodings, and
 * availability rules (request.* only while the request headers are current, or in on_log).
 */
import { WasmResult } from "./abi.ts";
import { type Context, HttpContext } from "./context.ts";
import { type HeaderMap, latin1ToUtf8 } from "./headers.ts";
import { serializePairs } from "./pairs.ts";

/** A property value: scalars encode per Envoy; objects are maps; arrays are lists. */
export type PropertyValue =
  | string
  | Uint8Array
  | bigint
  | number
  | boolean
  | Date
  | PropertyValue[]
  | { [key: string]: PropertyValue };

/** Properties merged over the built-in tree, by top-level name (e.g. `{ xds: { node: { id: "n1" } } }`). */
export type PropertyOverrides = Record<string, PropertyValue>;

/** Plugin identity used for plugin_* properties. */
export interface PluginIdentity {
  name: string;
  rootId: string;
  vmId: string;
}

const utf8 = new TextEncoder();

/** encodeProperty turns a value into Envoy's wire encoding; undefined means "cannot serialize". */
export function encodeProperty(value: PropertyValue): Uint8Array | undefined {
  if (typeof value === "string") return utf8.encode(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  if (typeof value === "bigint" || value instanceof Date || typeof value === "number") {
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    if (value instanceof Date) view.setBigInt64(0, BigInt(value.getTime()) * 1_000_000n, true);
    else if (typeof value === "bigint") view.setBigInt64(0, BigInt.asIntN(64, value), true);
    else if (Number.isInteger(value)) view.setBigInt64(0, BigInt(value), true);
    else view.setFloat64(0, value, true);
    return out;
  }
  if (Array.isArray(value)) {
    const items = value.map(encodeProperty);
    if (items.some((i) => i === undefined)) return undefined;
    return serializePairs(items.map((i) => [i!, new Uint8Array(0)]));
  }
  const pairs: [Uint8Array, Uint8Array][] = [];
  for (const [k, v] of Object.entries(value)) {
    const encoded = encodeProperty(v);
    if (encoded === undefined) return undefined;
    pairs.push([utf8.encode(k), encoded]);
  }
  return serializePairs(pairs);
}

/** A protobuf-encoded xds.node (id = 1, cluster = 2); metadata is not encoded (see README). */
function encodeNode(node: { [key: string]: PropertyValue }): Uint8Array {
  const parts: number[] = [];
  for (const [field, key] of [[1, "id"], [2, "cluster"]] as const) {
    const v = node[key];
    if (typeof v !== "string" || v === "") continue;
    const bytes = utf8.encode(v);
    parts.push((field << 3) | 2);
    for (let n = bytes.length; ; n >>>= 7) {
      if (n < 0x80) {
        parts.push(n);
        break;
      }
      parts.push((n & 0x7f) | 0x80);
    }
    parts.push(...bytes);
  }
  return Uint8Array.from(parts);
}

function headerObject(map: HeaderMap): { [key: string]: PropertyValue } {
  const out: { [key: string]: string } = {};
  for (const { key, value } of map.pairs()) {
    const k = latin1ToUtf8(key);
    const v = latin1ToUtf8(value);
    out[k] = k in out ? `${out[k]},${v}` : v;
  }
  return out;
}

function splitAddress(address: string): { address: string; port: bigint } {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  return { address, port: BigInt(Number.isInteger(port) ? port : 0) };
}

/** Builds the request.* subtree from what is available to the context right now. */
function requestTree(ctx: HttpContext, nowNs: bigint): { [key: string]: PropertyValue } {
  const info = ctx.stream.info;
  const tree: { [key: string]: PropertyValue } = {
    time: new Date(Number(info.startTimeNs / 1_000_000n)),
    protocol: info.protocol,
    duration: BigInt.asIntN(64, nowNs - info.startTimeNs),
  };
  const headers = ctx.requestHeaders;
  if (!headers) return tree;
  const get = (k: string): string | undefined => {
    const v = headers.get(k);
    return v === undefined ? undefined : latin1ToUtf8(v);
  };
  const path = get(":path") ?? "";
  const q = path.indexOf("?");
  const query = q < 0 ? "" : path.slice(q + 1).split("#")[0];
  const length = get("content-length");
  const entries: [string, string | undefined][] = [
    ["path", path], ["url_path", q < 0 ? path.split("#")[0] : path.slice(0, q)], ["host", get(":authority")],
    ["scheme", get(":scheme")], ["method", get(":method")], ["referer", get("referer")],
    ["useragent", get("user-agent")], ["id", get("x-request-id")], ["query", query],
  ];
  for (const [k, v] of entries) if (v !== undefined) tree[k] = v;
  tree.headers = headerObject(headers);
  tree.size = BigInt(length !== undefined && /^\d+$/.test(length) ? Number(length) : info.requestBodyBytes);
  tree.total_size = BigInt(headers.byteSize() + info.requestBodyBytes);
  return tree;
}

/** Builds the whole top-level tree visible to ctx. */
function topLevel(ctx: Context, plugin: PluginIdentity, overrides: PropertyOverrides, nowNs: bigint): { [key: string]: PropertyValue } {
  const tree: { [key: string]: PropertyValue } = {
    plugin_name: plugin.name,
    plugin_root_id: plugin.rootId,
    plugin_vm_id: plugin.vmId,
    xds: { node: { id: "", cluster: "" } },
  };
  if (ctx instanceof HttpContext) {
    const info = ctx.stream.info;
    tree.request = requestTree(ctx, nowNs);
    const response: { [key: string]: PropertyValue } = { size: BigInt(info.responseBodyBytes) };
    if (info.responseCode !== undefined) response.code = BigInt(info.responseCode);
    if (info.responseCodeDetails !== undefined) response.code_details = info.responseCodeDetails;
    if (ctx.responseHeaders) response.headers = headerObject(ctx.responseHeaders);
    if (ctx.responseTrailers) response.trailers = headerObject(ctx.responseTrailers);
    tree.response = response;
    tree.source = splitAddress(info.sourceAddress);
    tree.destination = splitAddress(info.destinationAddress);
    tree.connection = { id: BigInt(info.connectionId), mtls: false };
    tree.connection_id = BigInt(info.connectionId);
    tree.xds = { ...(tree.xds as object), cluster_name: info.clusterName, route_name: info.routeName, listener_direction: 0n };
    if (info.upstreamAddress !== undefined) tree.upstream = splitAddress(info.upstreamAddress);
  }
  for (const [k, v] of Object.entries(overrides)) {
    const base = tree[k];
    tree[k] = isObject(base) && isObject(v) ? deepMerge(base, v) : v;
  }
  return tree;
}

function isObject(v: PropertyValue | undefined): v is { [key: string]: PropertyValue } {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date) && !Array.isArray(v);
}

function deepMerge(a: { [key: string]: PropertyValue }, b: { [key: string]: PropertyValue }): { [key: string]: PropertyValue } {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(out[k]) && isObject(v) ? deepMerge(out[k] as never, v) : v;
  return out;
}

/**
 * getProperty resolves a NUL-joined path for ctx. Returns OK with the encoded value, NOT_FOUND for
 * an unknown or unavailable name, SERIALIZATION_FAILURE for an empty path or unencodable value.
 */
export function getProperty(
  ctx: Context,
  rawPath: Uint8Array,
  plugin: PluginIdentity,
  overrides: PropertyOverrides,
  nowNs: bigint,
): { result: number; value?: Uint8Array } {
  const text = Buffer.from(rawPath).toString("utf8");
  const parts = text.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) return { result: WasmResult.serializationFailure };
  const tree = topLevel(ctx, plugin, overrides, nowNs);
  let value: PropertyValue | undefined = Object.hasOwn(tree, parts[0]) ? tree[parts[0]] : undefined;
  if (value === undefined && ctx instanceof HttpContext) {
    const state = ctx.stream.info.filterState.get(text.replace(/\0$/, ""));
    if (state) return { result: WasmResult.ok, value: state };
  }
  const root = parts[0];
  // request.headers.<name> (and response.*) look the name up in the map, as Envoy's CEL wrapper
  // does: repeats join with ",", and `host` finds `:authority`.
  if (ctx instanceof HttpContext && parts.length === 3 && (root === "request" || root === "response") && (parts[1] === "headers" || parts[1] === "trailers")) {
    const map = root === "request" ? (parts[1] === "headers" ? ctx.requestHeaders : undefined) : parts[1] === "headers" ? ctx.responseHeaders : ctx.responseTrailers;
    const values = map?.getAll(Buffer.from(parts[2], "utf8").toString("latin1"));
    if (!values || values.length === 0) return { result: WasmResult.notFound };
    return { result: WasmResult.ok, value: new Uint8Array(Buffer.from(values.join(","), "latin1")) };
  }
  for (const part of parts.slice(1)) {
    if (Array.isArray(value)) value = /^\d+$/.test(part) ? value[Number(part)] : undefined;
    else if (isObject(value)) value = Object.hasOwn(value, part) ? value[part] : undefined;
    else value = undefined;
    if (value === undefined) break;
  }
  if (value === undefined) return { result: WasmResult.notFound };
  if (root === "xds" && parts.length === 2 && parts[1] === "node" && isObject(value)) {
    return { result: WasmResult.ok, value: encodeNode(value) };
  }
  const encoded = encodeProperty(value);
  return encoded === undefined ? { result: WasmResult.serializationFailure } : { result: WasmResult.ok, value: encoded };
}

/** setProperty stores filter state `wasm.<path>`; NOT_FOUND outside a stream (no stream info). */
export function setProperty(ctx: Context, rawPath: Uint8Array, value: Uint8Array): number {
  if (!(ctx instanceof HttpContext)) return WasmResult.notFound;
  ctx.stream.info.filterState.set(Buffer.from(rawPath).toString("utf8").replace(/\0$/, ""), value);
  return WasmResult.ok;
}
