// The proxy-wasm ABI 0.2.1 callbacks of an HTTP filter: the root context's, the HTTP stream's and
// HTTP callout answers, with their exact spec names and signatures, dispatched to the context classes.
// An HTTP filter re-exports this set from its entry file:
//   export * from "proxy-wasm-as-sdk/abi/http";
// It is abi/headers.ts (root and stream life, request and response headers) plus bodies, trailers,
// timers, queues, foreign functions and HTTP callout answers; a filter that only touches headers can
// re-export abi/headers instead. Without the TCP exports (abi/tcp.ts) Envoy passes connections through
// without calling the module, and without the gRPC exports (abi/grpc.ts) gRPC callout answers never
// arrive; abi/exports.ts has all.
// Callbacks for context ids the SDK does not know abort (the VM fails), as in the Rust and Go SDKs.
import { refreshLogLevel } from "../hostcalls/log";
import { enter, leave, leaveWith } from "./gc";
import { markHttpLinked } from "./linked";
import { http, root } from "./lookup";
import { httpCallAnswerer } from "../hostcalls/callouts";

export * from "./headers";

markHttpLinked();

/** proxy_on_tick calls RootContext.onTick; aborts for an unknown root. */
export function proxy_on_tick(rootContextId: u32): void {
  enter();
  refreshLogLevel();
  root(rootContextId).onTick();
  leave();
}

/** proxy_on_queue_ready calls RootContext.onQueueReady; aborts for an unknown root. */
export function proxy_on_queue_ready(rootContextId: u32, queueToken: u32): void {
  enter();
  root(rootContextId).onQueueReady(queueToken);
  leave();
}

/** proxy_on_foreign_function calls RootContext.onForeignFunction; aborts for an unknown root. */
export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argumentsSize: u32): void {
  enter();
  root(rootContextId).onForeignFunction(functionId, argumentsSize);
  leave();
}

/** proxy_on_request_body calls HttpContext.onRequestBody; aborts for a non-HTTP context. */
export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onRequestBody(bodySize, endOfStream != 0));
}

/** proxy_on_request_trailers calls HttpContext.onRequestTrailers; aborts for a non-HTTP context. */
export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onRequestTrailers(numTrailers));
}

/** proxy_on_response_body calls HttpContext.onResponseBody; aborts for a non-HTTP context. */
export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onResponseBody(bodySize, endOfStream != 0));
}

/** proxy_on_response_trailers calls HttpContext.onResponseTrailers; aborts for a non-HTTP context. */
export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onResponseTrailers(numTrailers));
}

/** proxy_on_http_call_response calls the callout handler's onHttpCallResponse (through httpCallAnswerer, set by httpCall); unknown tokens are ignored. */
export function proxy_on_http_call_response(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  enter();
  const answer = httpCallAnswerer;
  if (answer !== null) answer(rootContextId, token, numHeaders, bodySize, numTrailers);
  leave();
}
