/**
 * Hostcalls for time, ticks, shared data, shared queues, metrics, callouts and the stubs Envoy
 * registers (gRPC, DNS, pthread/emscripten helpers). proxy-wasm-host.md §2.1, §4.5–§4.8.
 */
import { MetricType, WasmResult as R } from "./abi.ts";
import { dispatchCallout } from "./callouts.ts";
import { type RootContext } from "./context.ts";
import { HeaderMap, latin1ToUtf8 } from "./headers.ts";
import { rootOf } from "./hostcalls-http.ts";
import { parsePairs } from "./pairs.ts";
import { type WasmVm } from "./vm.ts";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");
const metricTypes = ["counter", "gauge", "histogram"] as const;

/** armTick (re)starts the root's tick timer: first tick one period after, re-armed after each. */
export function armTick(vm: WasmVm, root: RootContext): void {
  const { clock } = vm.settings.runtime;
  clock.cancel(root.tickTimer);
  root.tickTimer = undefined;
  if (root.tickPeriodMs === 0 || vm.failed || root.deleted) return;
  const id = clock.schedule(root.tickPeriodMs, () => {
    if (vm.failed || root.deleted || root.tickTimer !== id) return;
    root.tickTimer = undefined;
    vm.call(root, "proxy_on_tick", root.id);
    // on_tick may have set a new period (and armed it); only re-arm when it did not.
    if (root.tickTimer === undefined) armTick(vm, root);
  });
  root.tickTimer = id;
}

/** stateHostcalls builds the process-state hostcalls for one VM. */
export function stateHostcalls(vm: WasmVm): Record<string, (...args: never[]) => number | void> {
  const mem = () => vm.memory;
  const root = (): RootContext => rootOf(vm.target() ?? vm.contexts.get(1)!);
  const { runtime, vmId } = vm.settings;

  return {
    "env.proxy_get_current_time_nanoseconds": (ptr: number) => (mem().writeU64(ptr, runtime.clock.nowNs()) ? R.ok : R.invalidMemoryAccess),
    "env.proxy_set_tick_period_milliseconds": (period: number) => {
      const r = root();
      r.tickPeriodMs = period >>> 0;
      armTick(vm, r);
      return R.ok;
    },
    "env.proxy_set_shared_data": (kp: number, ks: number, vp: number, vs: number, cas: number) => {
      const key = mem().read(kp, ks);
      const value = mem().read(vp, vs);
      if (key === undefined || value === undefined) return R.invalidMemoryAccess;
      return runtime.setSharedData(vmId, text(key), value, cas >>> 0) ? R.ok : R.casMismatch;
    },
    "env.proxy_get_shared_data": (kp: number, ks: number, retPtr: number, retSize: number, casPtr: number) => {
      const key = mem().read(kp, ks);
      if (key === undefined) return R.invalidMemoryAccess;
      const entry = runtime.getSharedData(vmId, text(key));
      if (!entry) return R.notFound;
      const copied = mem().copyOut(entry.value, retPtr, retSize);
      if (copied !== R.ok) return copied;
      return mem().writeU32(casPtr, entry.cas) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_register_shared_queue": (np: number, ns: number, tokenPtr: number) => {
      const name = mem().read(np, ns);
      if (name === undefined) return R.invalidMemoryAccess;
      const receiver = root();
      const token = runtime.registerQueue(vmId, text(name), (t) =>
        runtime.post(() => {
          if (!receiver.deleted) vm.call(receiver, "proxy_on_queue_ready", receiver.id, t);
        }),
      );
      return mem().writeU32(tokenPtr, token) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_resolve_shared_queue": (vp: number, vs: number, np: number, ns: number, tokenPtr: number) => {
      const vmIdBytes = mem().read(vp, vs);
      const name = mem().read(np, ns);
      if (vmIdBytes === undefined || name === undefined) return R.invalidMemoryAccess;
      const token = runtime.resolveQueue(vmIdBytes.length === 0 ? vmId : text(vmIdBytes), text(name));
      if (token === undefined) return R.notFound;
      return mem().writeU32(tokenPtr, token) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_enqueue_shared_queue": (token: number, dp: number, ds: number) => {
      const data = mem().read(dp, ds);
      if (data === undefined) return R.invalidMemoryAccess;
      const queue = runtime.queue(token >>> 0);
      if (!queue) return R.notFound;
      queue.items.push(data);
      queue.notify?.(queue.token);
      return R.ok;
    },
    "env.proxy_dequeue_shared_queue": (token: number, retPtr: number, retSize: number) => {
      const queue = runtime.queue(token >>> 0);
      if (!queue) return R.notFound;
      if (queue.items.length === 0) return R.empty;
      return mem().copyOut(queue.items.shift()!, retPtr, retSize);
    },
    "env.proxy_define_metric": (type: number, np: number, ns: number, idPtr: number) => {
      if (type >>> 0 > MetricType.histogram) return R.badArgument;
      const name = mem().read(np, ns);
      if (name === undefined) return R.invalidMemoryAccess;
      const kind = metricTypes[type >>> 0];
      const id = vm.nextMetricId[kind];
      vm.nextMetricId[kind] += 4;
      vm.metricIds.set(id, { name: text(name), type: kind });
      runtime.metric(text(name), kind);
      return mem().writeU32(idPtr, id) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_increment_metric": (id: number, offset: bigint) => {
      if ((id & 3) >= MetricType.histogram) return R.badArgument;
      const def = vm.metricIds.get(id >>> 0);
      if (!def) return R.notFound;
      const metric = runtime.metric(def.name, def.type);
      if (def.type === "counter") {
        if (offset <= 0n) return R.badArgument;
        metric.value = BigInt.asUintN(64, metric.value + offset);
      } else metric.value = BigInt.asUintN(64, metric.value + offset);
      return R.ok;
    },
    "env.proxy_record_metric": (id: number, value: bigint) => {
      const def = vm.metricIds.get(id >>> 0);
      if (!def) return R.notFound;
      const metric = runtime.metric(def.name, def.type);
      const v = BigInt.asUintN(64, value);
      if (def.type === "counter") metric.value = BigInt.asUintN(64, metric.value + v);
      else if (def.type === "gauge") metric.value = v;
      else metric.samples.push(v);
      return R.ok;
    },
    "env.proxy_get_metric": (id: number, retPtr: number) => {
      if ((id & 3) === MetricType.histogram) return R.badArgument;
      const def = vm.metricIds.get(id >>> 0);
      if (!def) return R.notFound;
      return mem().writeU64(retPtr, runtime.metric(def.name, def.type).value) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_http_call": (up: number, us: number, hp: number, hs: number, bp: number, bs: number, tp: number, ts: number, timeout: number, tokenPtr: number) => {
      const cluster = mem().read(up, us);
      const headerBytes = mem().read(hp, hs);
      const body = mem().read(bp, bs);
      const trailerBytes = mem().read(tp, ts);
      if (!cluster || !headerBytes || !body || !trailerBytes) return R.invalidMemoryAccess;
      if (timeout >>> 0 >= 2 ** 31) return R.badArgument;
      const clusterName = text(cluster);
      if (!Object.hasOwn(vm.settings.clusters, clusterName)) return R.badArgument;
      const headers = HeaderMap.fromUtf8("requestHeaders", []);
      for (const [k, v] of parsePairs(headerBytes)) headers.add(Buffer.from(k).toString("latin1"), Buffer.from(v).toString("latin1"));
      if (![":method", ":path", ":authority"].every((h) => headers.get(h) !== undefined)) return R.badArgument;
      if (body.length > 0) headers.set("content-length", String(body.length));
      const token = vm.nextCalloutToken;
      vm.nextCalloutToken += 4;
      const trailers = parsePairs(trailerBytes).map(([k, v]): [string, string] => [text(k), text(v)]);
      dispatchCallout(vm, root(), { cluster: clusterName, headers: headers.toUtf8(), body, trailers, timeoutMs: timeout >>> 0 }, token);
      return mem().writeU32(tokenPtr, token) ? R.ok : R.invalidMemoryAccess;
    },
    "env.proxy_grpc_call": (sp: number, ss: number) => grpcUnsupported(vm, sp, ss),
    "env.proxy_grpc_stream": (sp: number, ss: number) => grpcUnsupported(vm, sp, ss),
    "env.proxy_grpc_send": (token: number) => grpcToken(token, 2),
    "env.proxy_grpc_cancel": (token: number) => grpcToken(token),
    "env.proxy_grpc_close": (token: number) => grpcToken(token),
    "env.envoy_resolve_dns": () => R.unimplemented,
    "env.pthread_equal": (a: number, b: number) => (a === b ? 1 : 0),
    "env.emscripten_notify_memory_growth": () => undefined,
  };
}

/** gRPC is not emulated: unknown clusters give PARSE_FAILURE as in Envoy, known ones UNIMPLEMENTED. */
function grpcUnsupported(vm: WasmVm, ptr: number, size: number): number {
  const service = vm.memory.read(ptr, size);
  if (service === undefined) return R.invalidMemoryAccess;
  return Object.hasOwn(vm.settings.clusters, latin1ToUtf8(Buffer.from(service).toString("latin1"))) ? R.unimplemented : R.parseFailure;
}

/** No gRPC call or stream ever exists, so a valid-looking token is NOT_FOUND. */
function grpcToken(token: number, requiredKind?: number): number {
  const kind = token & 3;
  if (kind !== 1 && kind !== 2) return R.badArgument;
  if (requiredKind !== undefined && kind !== requiredKind) return R.badArgument;
  return R.notFound;
}
