/**
 * HTTP callouts (proxy-wasm-host.md §4.5): records of proxy_http_call, answers from the test or a
 * configured cluster handler, Envoy's reset and timeout outcomes, and delivery to
 * proxy_on_http_call_response on the calling root context of the same worker VM.
 */
import { type RootContext } from "./context.ts";
import { HeaderMap, utf8ToLatin1 } from "./headers.ts";
import { type WasmVm, errorText } from "./vm.ts";

/** What a callout asked for. */
export interface CalloutRequest {
  cluster: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  /** 0 means no timeout. */
  timeoutMs: number;
}

/** An answer to a callout. `:status` comes from `status` (default 200). */
export interface CalloutResponse {
  status?: number;
  headers?: [string, string][];
  body?: Uint8Array | string;
  trailers?: [string, string][];
}

/** A reset (connection failure): the guest sees (0,0,0) and get_status (11, "reset"). */
export interface CalloutReset {
  reset: true;
}

/** A cluster handler answers callouts to that cluster, synchronously or not. */
export type ClusterHandler = (request: CalloutRequest) => CalloutResponse | CalloutReset | Promise<CalloutResponse | CalloutReset>;

/** A recorded callout. */
export interface CalloutRecord extends CalloutRequest {
  token: number;
  worker: number;
  rootContextId: number;
  state: "pending" | "answered" | "reset" | "timeout" | "cancelled";
}

/** The router's own reply when a callout times out [I]. */
export const calloutTimeoutResponse: CalloutResponse = {
  status: 504,
  headers: [["content-length", "24"], ["content-type", "text/plain"]],
  body: "upstream request timeout",
};

/**
 * dispatchCallout records the callout, starts its timeout on the runtime clock and, when the
 * cluster has a handler, asks it; the answer is delivered after the current event, never inside
 * the hostcall (Envoy's callbacks are asynchronous).
 */
export function dispatchCallout(vm: WasmVm, root: RootContext, request: CalloutRequest, token: number): CalloutRecord {
  const record: CalloutRecord = { ...request, token, worker: vm.worker, rootContextId: root.id, state: "pending" };
  vm.callouts.set(token, record);
  const { runtime } = vm.settings;
  let timer: number | undefined;
  if (request.timeoutMs > 0) {
    timer = runtime.clock.schedule(request.timeoutMs, () => deliverCallout(vm, record, calloutTimeoutResponse, "timeout"));
  }
  const handler = vm.settings.clusters[request.cluster];
  if (handler) {
    const answer = (outcome: CalloutResponse | CalloutReset) => {
      runtime.clock.cancel(timer);
      deliverCallout(vm, record, outcome);
    };
    let result: ReturnType<ClusterHandler>;
    try {
      result = handler(request);
    } catch (err) {
      vm.hostLog(4, `emulator: cluster handler ${request.cluster} threw: ${errorText(err)}; resetting the callout`);
      result = { reset: true };
    }
    if (result instanceof Promise) {
      runtime.track(
        result.then(
          (r) => runtime.post(() => answer(r)),
          (err) => runtime.post(() => {
            vm.hostLog(4, `emulator: cluster handler ${request.cluster} rejected: ${errorText(err)}; resetting the callout`);
            answer({ reset: true });
          }),
        ),
      );
    } else {
      const settled = result;
      runtime.post(() => answer(settled));
    }
  }
  return record;
}

/**
 * deliverCallout calls proxy_on_http_call_response for a pending callout. A late answer (after a
 * timeout or an earlier answer) is ignored; so is one for a failed VM or deleted root context.
 */
export function deliverCallout(vm: WasmVm, record: CalloutRecord, outcome: CalloutResponse | CalloutReset, as?: "timeout"): void {
  if (record.state !== "pending") return;
  const root = vm.contexts.get(record.rootContextId) as RootContext | undefined;
  vm.callouts.delete(record.token);
  if (!root || root.deleted || vm.failed) {
    record.state = "cancelled";
    return;
  }
  if ("reset" in outcome) {
    record.state = "reset";
    root.statusCode = 11;
    root.statusMessage = "reset";
    root.callResponse = { headers: new HeaderMap("other"), trailers: new HeaderMap("other"), body: new Uint8Array(0) };
    vm.call(root, "proxy_on_http_call_response", root.id, record.token, 0, 0, 0);
  } else {
    record.state = as ?? "answered";
    const headers = HeaderMap.fromUtf8("responseHeaders", [[":status", String(outcome.status ?? 200)], ...(outcome.headers ?? [])]);
    const trailers = HeaderMap.fromUtf8("responseTrailers", outcome.trailers ?? []);
    const body = typeof outcome.body === "string" ? new Uint8Array(Buffer.from(utf8ToLatin1(outcome.body), "latin1")) : (outcome.body ?? new Uint8Array(0));
    root.callResponse = { headers, trailers, body };
    vm.call(root, "proxy_on_http_call_response", root.id, record.token, headers.size, body.length, trailers.size);
  }
  root.callResponse = undefined;
  root.statusMessage = "";
}
