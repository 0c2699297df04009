/**
 * Hostcalls for headers, buffers, local replies, stream control, properties, logging and context
 * handling (proxy-wasm-host.md §2.1, §4.2, §4.4). Each validates enums and guest memory and
 * returns a WasmResult; none throws into the guest.
 */
import { BufferType, MapType, StreamType, WasmResult as R } from "./abi.ts";
import { type BodyBuffer, type Context, HttpContext, RootContext } from "./context.ts";
import { type HeaderMap, latin1ToUtf8, lowerAscii } from "./headers.ts";
import { parsePairs } from "./pairs.ts";
import { getProperty, setProperty } from "./properties.ts";
import { type WasmVm } from "./vm.ts";

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");

/** serializeMap encodes a map in the pairs wire format (as serializePairs does), straight from its latin1 strings. */
function serializeMap(map: HeaderMap): Uint8Array {
  const n = map.size;
  let size = 4;
  for (let i = 0; i < n; i++) size += 8 + map.keyAt(i).length + 1 + map.valueAt(i).length + 1;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(n, 0);
  let pos = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const k = map.keyAt(i);
    const v = map.valueAt(i);
    out.writeUInt32LE(k.length, 4 + 8 * i);
    out.writeUInt32LE(v.length, 8 + 8 * i);
    pos += out.write(k, pos, "latin1") + 1;
    pos += out.write(v, pos, "latin1") + 1;
  }
  return out;
}

/** rootOf returns the root context a context belongs to. */
export function rootOf(ctx: Context): RootContext {
  return ctx instanceof RootContext ? ctx : ctx.root;
}

/** One shared empty value (nothing can change a zero-length array, and allocating one is slow). */
const noBytes = new Uint8Array(0);

/** What mutate() does to the map: no closure per hostcall. */
const MapOp = { add: 0, replace: 1, remove: 2 } as const;
type MapOp = (typeof MapOp)[keyof typeof MapOp];

interface MapAccess {
  map: HeaderMap | undefined;
  mutable: boolean;
}

/** Resolves a header map type for ctx; `create` lets a last-body-chunk mutation create trailers. */
function mapFor(ctx: Context, type: number, create: boolean): MapAccess {
  if (type === MapType.httpCallResponseHeaders || type === MapType.httpCallResponseTrailers) {
    const response = rootOf(ctx).callResponse;
    return { map: type === MapType.httpCallResponseHeaders ? response?.headers : response?.trailers, mutable: false };
  }
  if (!(ctx instanceof HttpContext) || type > MapType.responseTrailers) return { map: undefined, mutable: false };
  const mutable = !ctx.inLog;
  switch (type) {
    case MapType.requestHeaders:
      return { map: ctx.requestHeaders, mutable };
    case MapType.responseHeaders:
      return { map: ctx.responseHeaders, mutable };
    case MapType.requestTrailers:
      if (!ctx.requestTrailers && create && ctx.trailersCreatable === "request") ctx.requestTrailers = ctx.stream.addTrailers("request");
      return { map: ctx.requestTrailers, mutable };
    default:
      if (!ctx.responseTrailers && create && ctx.trailersCreatable === "response") ctx.responseTrailers = ctx.stream.addTrailers("response");
      return { map: ctx.responseTrailers, mutable };
  }
}

/** Resolves a buffer type: a BodyBuffer (mutable), bytes (immutable), or undefined (NOT_FOUND). */
function bufferFor(vm: WasmVm, ctx: Context, type: number): BodyBuffer | Uint8Array | undefined | "empty" {
  switch (type) {
    case BufferType.requestBody:
    case BufferType.responseBody: {
      // Envoy never reports body buffers missing: a null body reads as empty and refuses writes.
      if (!(ctx instanceof HttpContext)) return "empty";
      const body = type === BufferType.requestBody ? ctx.requestBody : ctx.responseBody;
      return body ?? "empty";
    }
    case BufferType.httpCallResponseBody:
      return rootOf(ctx).callResponse?.body;
    case BufferType.vmConfiguration:
      return vm.settings.vmConfig;
    case BufferType.pluginConfiguration:
      return ctx instanceof RootContext && ctx.pluginConfigReadable ? vm.settings.pluginConfig : undefined;
    default:
      return undefined;
  }
}

/** httpHostcalls builds the header, buffer, stream and context hostcalls for one VM. */
export function httpHostcalls(vm: WasmVm): Record<string, (...args: never[]) => number> {
  const mem = () => vm.memory;
  const ctx = (): Context => vm.target() ?? vm.contexts.get(1)!;
  const abi010 = vm.prepared.abiVersion === "0_1_0";

  const readKey = (ptr: number, size: number): string | undefined => {
    const key = mem().readLatin1(ptr, size);
    return key === undefined ? undefined : lowerAscii(key);
  };
  const mutate = (type: number, keyPtr: number, keySize: number, valPtr: number | undefined, valSize: number, op: MapOp): number => {
    if (type > MapType.httpCallResponseTrailers) return R.badArgument;
    const key = readKey(keyPtr, keySize);
    const value = valPtr === undefined ? "" : mem().readLatin1(valPtr, valSize);
    if (key === undefined || value === undefined) return R.invalidMemoryAccess;
    const { map, mutable } = mapFor(ctx(), type, true);
    if (!map || !mutable) return R.badArgument;
    if (op === MapOp.add) map.add(key, value);
    else if (op === MapOp.replace) map.set(key, value);
    else map.remove(key);
    return R.ok;
  };

  return {
    "env.proxy_log": (level: number, ptr: number, size: number) => {
      if (level >>> 0 > 5) return R.badArgument;
      const message = mem().readUtf8(ptr, size);
      if (message === undefined) return R.invalidMemoryAccess;
      vm.log(level, message, ctx());
      return R.ok;
    },
    "env.proxy_get_log_level": (ptr: number) => (mem().writeU32(ptr, vm.settings.logLevel) ? R.ok : R.invalidMemoryAccess),
    "env.proxy_get_header_map_value": (type: number, keyPtr: number, keySize: number, retPtr: number, retSize: number) => {
      if (type >>> 0 > MapType.httpCallResponseTrailers) return R.badArgument;
      const key = readKey(keyPtr, keySize);
      if (key === undefined) return R.invalidMemoryAccess;
      const c = ctx();
      const { map } = mapFor(c, type, false);
      if (!map) {
        if (c instanceof HttpContext && c.inLog) return abi010 ? mem().copyOut(noBytes, retPtr, retSize) : R.notFound;
        return R.badArgument;
      }
      const value = map.get(key);
      if (value === undefined) return abi010 ? mem().copyOut(noBytes, retPtr, retSize) : R.notFound;
      return mem().copyOutLatin1(value, retPtr, retSize);
    },
    "env.proxy_get_header_map_pairs": (type: number, retPtr: number, retSize: number) => {
      if (type >>> 0 > MapType.httpCallResponseTrailers) return R.badArgument;
      const { map } = mapFor(ctx(), type, false);
      if (!map || map.size === 0) return mem().copyOut(noBytes, retPtr, retSize);
      return mem().copyOut(serializeMap(map), retPtr, retSize);
    },
    "env.proxy_set_header_map_pairs": (type: number, ptr: number, size: number) => {
      if (type >>> 0 > MapType.httpCallResponseTrailers) return R.badArgument;
      const bytes = mem().read(ptr, size);
      if (bytes === undefined) return R.invalidMemoryAccess;
      const { map, mutable } = mapFor(ctx(), type, true);
      if (!map || !mutable) return R.badArgument;
      map.clear();
      for (const [k, v] of parsePairs(bytes)) map.add(lowerAscii(latin1(k)), latin1(v));
      return R.ok;
    },
    "env.proxy_add_header_map_value": (type: number, kp: number, ks: number, vp: number, vs: number) =>
      mutate(type >>> 0, kp, ks, vp, vs, MapOp.add),
    "env.proxy_replace_header_map_value": (type: number, kp: number, ks: number, vp: number, vs: number) =>
      mutate(type >>> 0, kp, ks, vp, vs, MapOp.replace),
    "env.proxy_remove_header_map_value": (type: number, kp: number, ks: number) =>
      mutate(type >>> 0, kp, ks, undefined, 0, MapOp.remove),
    "env.proxy_get_header_map_size": (type: number, retPtr: number) => {
      if (type >>> 0 > MapType.httpCallResponseTrailers) return R.badArgument;
      const { map } = mapFor(ctx(), type >>> 0, true);
      if (!map) return R.badArgument;
      return mem().writeU32(retPtr, map.byteSize()) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_get_buffer_status": (type: number, lenPtr: number, flagsPtr: number) => {
      if (type >>> 0 > BufferType.foreignFunctionArguments) return R.badArgument;
      const buffer = bufferFor(vm, ctx(), type >>> 0);
      if (buffer === undefined) return R.notFound;
      const length = buffer === "empty" ? 0 : buffer instanceof Uint8Array ? buffer.length : buffer.bytes.length;
      return mem().writeU32(lenPtr, length) && mem().writeU32(flagsPtr, 0) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_get_buffer_bytes": (type: number, start: number, maxSize: number, retPtr: number, retSize: number) => {
      if (type >>> 0 > BufferType.foreignFunctionArguments) return R.badArgument;
      const buffer = bufferFor(vm, ctx(), type >>> 0);
      if (buffer === undefined) return R.notFound;
      if ((start >>> 0) + (maxSize >>> 0) > 0xffffffff) return R.badArgument;
      const bytes = buffer === "empty" ? noBytes : buffer instanceof Uint8Array ? buffer : buffer.bytes;
      const from = Math.min(start >>> 0, bytes.length);
      return mem().copyOut(bytes.slice(from, Math.min(bytes.length, from + (maxSize >>> 0))), retPtr, retSize);
    },
    "env.proxy_set_buffer_bytes": (type: number, start: number, size: number, dataPtr: number, dataSize: number) => {
      if (type >>> 0 > BufferType.foreignFunctionArguments) return R.badArgument;
      const data = mem().read(dataPtr, dataSize);
      if (data === undefined) return R.invalidMemoryAccess;
      const buffer = bufferFor(vm, ctx(), type >>> 0);
      if (buffer === undefined) return R.notFound;
      if (buffer === "empty" || buffer instanceof Uint8Array) return R.badArgument;
      const current = buffer.bytes;
      const s = start >>> 0;
      if (s === 0) {
        const rest = current.subarray(Math.min(size >>> 0, current.length));
        const next = new Uint8Array(data.length + rest.length);
        next.set(data);
        next.set(rest, data.length);
        buffer.bytes = next;
      } else if (s >= current.length) {
        const next = new Uint8Array(current.length + data.length);
        next.set(current);
        next.set(data, current.length);
        buffer.bytes = next;
      } else return R.badArgument;
      return R.ok;
    },
    "env.proxy_send_local_response": (status: number, dp: number, ds: number, bp: number, bs: number, hp: number, hs: number, grpc: number) => {
      const details = mem().read(dp, ds);
      const body = mem().read(bp, bs);
      const headers = mem().read(hp, hs);
      if (!details || !body || !headers) return R.invalidMemoryAccess;
      const c = ctx();
      if (!(c instanceof HttpContext)) return R.badArgument;
      const reply = {
        status: status >>> 0,
        details: Buffer.from(details).toString("utf8").replace(/ /g, "_"),
        body,
        headers: parsePairs(headers).map(([k, v]): [string, string] => [latin1ToUtf8(lowerAscii(latin1(k))), latin1ToUtf8(latin1(v))]),
        grpcStatus: grpc >>> 0 <= 16 ? grpc >>> 0 : undefined,
      };
      c.localReplyInCallback = true;
      vm.defer(() => c.stream.sendLocalReply(reply));
      return R.ok;
    },
    "env.proxy_continue_stream": (type: number) => continueStream(vm, ctx(), type >>> 0),
    "env.proxy_continue_request": () => continueStream(vm, ctx(), StreamType.request),
    "env.proxy_continue_response": () => continueStream(vm, ctx(), StreamType.response),
    "env.proxy_clear_route_cache": () => R.ok,
    "env.proxy_close_stream": (type: number) => {
      if (type >>> 0 > StreamType.upstream) return R.badArgument;
      const c = ctx();
      if (c instanceof HttpContext && type >>> 0 <= StreamType.response) {
        vm.defer(() => c.stream.closeStream(type >>> 0 === StreamType.request ? "request" : "response"));
      }
      return R.ok;
    },
    "env.proxy_get_configuration": (retPtr: number, retSize: number) => {
      const c = ctx();
      const config = c instanceof RootContext && c.pluginConfigReadable ? vm.settings.pluginConfig : vm.settings.vmConfig;
      return mem().copyOut(config, retPtr, retSize);
    },
    "env.proxy_get_property": (pathPtr: number, pathSize: number, retPtr: number, retSize: number) => {
      const path = mem().read(pathPtr, pathSize);
      if (path === undefined) return R.invalidMemoryAccess;
      const { result, value } = getProperty(ctx(), path, vm.settings, vm.settings.properties, vm.settings.runtime.clock.nowNs());
      return result === R.ok ? mem().copyOut(value!, retPtr, retSize) : result;
    },
    "env.proxy_set_property": (pathPtr: number, pathSize: number, valPtr: number, valSize: number) => {
      const path = mem().read(pathPtr, pathSize);
      const value = mem().read(valPtr, valSize);
      if (path === undefined || value === undefined) return R.invalidMemoryAccess;
      return setProperty(ctx(), path, value);
    },
    "env.proxy_set_effective_context": (id: number) => {
      const target = vm.contexts.get(id >>> 0);
      if (!target || target.deleted) return R.badArgument;
      vm.effective = target;
      return R.ok;
    },
    "env.proxy_done": () => {
      const c = ctx();
      if (!(c instanceof RootContext) || !c.pendingDone) return R.notFound;
      c.pendingDone = false;
      vm.defer(() => deleteContext(vm, c));
      return R.ok;
    },
    "env.proxy_get_status": (codePtr: number, msgPtr: number, msgSize: number) => {
      const root = rootOf(ctx());
      if (!mem().writeU32(codePtr, root.statusCode)) return R.invalidMemoryAccess;
      return mem().copyOut(new TextEncoder().encode(root.statusMessage), msgPtr, msgSize);
    },
    "env.proxy_call_foreign_function": (np: number, ns: number, ap: number, as: number, retPtr: number, retSize: number) => {
      const name = mem().read(np, ns);
      const args = mem().read(ap, as);
      if (name === undefined || args === undefined) return R.invalidMemoryAccess;
      const fn = vm.settings.foreignFunctions.get(Buffer.from(name).toString("utf8"));
      if (!fn) return R.notFound;
      const result = fn(args) ?? noBytes;
      return retPtr === 0 ? R.ok : mem().copyOut(result, retPtr, retSize);
    },
  };
}

function continueStream(vm: WasmVm, c: Context, type: number): number {
  if (type > StreamType.upstream) return R.badArgument;
  if (type === StreamType.upstream) return R.unimplemented;
  if (c instanceof HttpContext && type <= StreamType.response) {
    const side = type === StreamType.request ? "request" : "response";
    vm.defer(() => c.stream.continueStream(side));
    // Envoy quirk: continuing either side drops access to the request-side maps and body.
    c.requestHeaders = undefined;
    c.requestBody = undefined;
    c.requestTrailers = undefined;
  }
  return R.ok;
}

/** deleteContext calls proxy_on_delete once and forgets the context. */
export function deleteContext(vm: WasmVm, c: Context): void {
  if (c.deleted) return;
  c.deleted = true;
  if (c instanceof RootContext) vm.settings.runtime.clock.cancel(c.tickTimer);
  vm.call(c, "proxy_on_delete", c.id);
  vm.contexts.delete(c.id);
}
