/**
 * HTTP callouts (proxy-wasm-host.md §4.5): records of proxy_http_call, answers from the test or a
 * configured cluster handler, Envoy's reset and timeout outcomes, and delivery to
 * proxy_on_http_call_response on the calling root context of the same worker VM.
 */
import { type CalloutOutcome, type CalloutRecord, type CalloutRequest, type CalloutResponse, type ClusterHandler } from "./callout-types.ts";
import { type RootContext } from "./context.ts";
import { HeaderMap, utf8ToLatin1 } from "./headers.ts";
import { type WasmVm, errorText } from "./vm.ts";

export type { CalloutFailure, CalloutOutcome, CalloutRecord, CalloutRequest, CalloutReset, CalloutResponse, ClusterHandler } from "./callout-types.ts";

/** The router's own reply when a callout times out (checked against Envoy 1.40). */
export const calloutTimeoutResponse: CalloutResponse = {
  status: 504,
  headers: [["content-length", "24"], ["content-type", "text/plain"]],
  body: "upstream request timeout",
};

const resetBody = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
/** The router's own reply when the callout's upstream resets (checked against Envoy 1.40). */
export const calloutResetResponse: CalloutResponse = {
  status: 503,
  headers: [["content-length", String(resetBody.length)], ["content-type", "text/plain"]],
  body: resetBody,
};

/**
 * dispatchCallout records the callout, starts its timeout on the runtime clock and, when the
 * cluster has a handler, asks it; the answer is delivered after the current event, never inside
 * the hostcall (Envoy's callbacks are asynchronous).
 */
export function dispatchCallout(vm: WasmVm, root: RootContext, request: CalloutRequest, token: number): CalloutRecord {
  const record: CalloutRecord = { ...request, token, worker: vm.worker, rootContextId: root.id, state: "pending", sentAt: vm.settings.runtime.clock.now() };
  vm.callouts.set(token, record);
  vm.calloutHistory.push(record);
  // Bounded so long benchmarks do not keep every callout alive: the newest 10 000 are kept.
  if (vm.calloutHistory.length > 20_000) vm.calloutHistory.splice(0, vm.calloutHistory.length - 10_000);
  const { runtime } = vm.settings;
  let timer: number | undefined;
  if (request.timeoutMs > 0) {
    timer = runtime.clock.schedule(request.timeoutMs, () => deliverCallout(vm, record, calloutTimeoutResponse, "timeout"));
  }
  const handler = vm.settings.clusters[request.cluster];
  if (handler) {
    const answer = (outcome: CalloutOutcome) => {
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
          (err) =>
            runtime.post(() => {
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
 * deliverCallout calls proxy_on_http_call_response for a pending callout. An upstream answer gets
 * the router's `x-envoy-upstream-service-time` appended; a reset becomes the router's 503. A late
 * answer (after a timeout or an earlier answer) is ignored; so is one for a failed VM or deleted
 * root context.
 */
export function deliverCallout(vm: WasmVm, record: CalloutRecord, outcome: CalloutOutcome, as?: "timeout"): void {
  if (record.state !== "pending") return;
  const root = vm.contexts.get(record.rootContextId) as RootContext | undefined;
  vm.callouts.delete(record.token);
  if (!root || root.deleted || vm.failed) {
    record.state = "cancelled";
    return;
  }
  if ("failure" in outcome) {
    record.state = "failed";
    root.statusCode = 11;
    root.statusMessage = "reset";
    root.callResponse = { headers: new HeaderMap("other"), trailers: new HeaderMap("other"), body: new Uint8Array(0) };
    vm.call(root, "proxy_on_http_call_response", root.id, record.token, 0, 0, 0);
  } else {
    record.state = as ?? ("reset" in outcome ? "reset" : "answered");
    const response = "reset" in outcome ? calloutResetResponse : outcome;
    const headers = HeaderMap.fromUtf8("responseHeaders", [[":status", String(response.status ?? 200)], ...(response.headers ?? [])]);
    if (!as && !("reset" in outcome)) headers.add("x-envoy-upstream-service-time", String(vm.settings.runtime.clock.now() - record.sentAt));
    const trailers = HeaderMap.fromUtf8("responseTrailers", response.trailers ?? []);
    const body = typeof response.body === "string" ? new Uint8Array(Buffer.from(utf8ToLatin1(response.body), "latin1")) : (response.body ?? new Uint8Array(0));
    root.callResponse = { headers, trailers, body };
    vm.call(root, "proxy_on_http_call_response", root.id, record.token, headers.size, body.length, trailers.size);
  }
  root.callResponse = undefined;
  root.statusMessage = "";
}
