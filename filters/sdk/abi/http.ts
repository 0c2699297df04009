// The proxy-wasm ABI 0.2.1 callbacks of an HTTP filter: the root context's, the HTTP stream's and
// HTTP callout answers, with their exact spec names and signatures, dispatched to the context classes.
// An HTTP filter that wants the smallest module re-exports only this set from its entry file:
//   export * from "proxy-wasm-as-sdk/abi/http";
// Without the TCP exports (abi/tcp.ts) Envoy passes connections through without calling the module,
// and without the gRPC exports (abi/grpc.ts) gRPC callout answers never arrive; abi/exports.ts has all.
// Callbacks for context ids the SDK does not know abort (the VM fails), as in the Rust and Go SDKs.
import { anyContext, createRoot, createStream, forgetContext, rootContext, setActiveContext } from "../dispatcher";
import { refreshLogLevel, refreshLogLevelForStream } from "../hostcalls/log";
import { enter, leave, leaveWith } from "./gc";
import { http, root } from "./lookup";
import { httpCallAnswerer } from "../hostcalls/callouts";
// Loads the @global replacements that asconfig "use" maps abort, trace and seed onto.
import "./globals";

export { malloc, malloc as proxy_on_memory_allocate } from "./malloc";

/** proxy_abi_version_0_2_1 marks the ABI version for the host; it is never called. */
export function proxy_abi_version_0_2_1(): void {}

/** proxy_on_context_create creates the root context (parent 0) from the registered factory, or a stream context from its root. */
export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enter();
  setActiveContext(contextId);
  if (parentContextId == 0) {
    refreshLogLevel();
    createRoot(contextId);
  } else {
    // Every LOG_LEVEL_REFRESH_STREAMS streams, not every stream: the query is a hostcall (hostcalls/log.ts).
    refreshLogLevelForStream();
    // A TcpContext in a module without the TCP exports reports itself (context.ts).
    createStream(contextId, parentContextId);
  }
  leave();
}

/** proxy_on_vm_start calls RootContext.onVmStart; 0 (VM start refused) when the root could not be created. */
export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): u32 {
  enter();
  setActiveContext(rootContextId);
  const root = rootContext(rootContextId);
  // A root whose factory was missing was already logged by createRoot; refusing fails the VM start.
  if (root === null) return leaveWith(0);
  return leaveWith(root.onVmStart(vmConfigurationSize) ? 1 : 0);
}

/** proxy_on_configure calls RootContext.onConfigure; 0 (configuration refused) when the root could not be created. */
export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): u32 {
  enter();
  setActiveContext(rootContextId);
  refreshLogLevel();
  const root = rootContext(rootContextId);
  if (root === null) return leaveWith(0);
  return leaveWith(root.onConfigure(pluginConfigurationSize) ? 1 : 0);
}

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

/** proxy_on_done calls onDone on any context; 1 for a context that was never created. */
export function proxy_on_done(contextId: u32): u32 {
  enter();
  setActiveContext(contextId);
  // A root that never got created (missing factory) has nothing to finish.
  const c = anyContext(contextId, true);
  return leaveWith(c === null || c.onDone() ? 1 : 0);
}

/** proxy_on_log calls onLog on a stream or connection context. */
export function proxy_on_log(contextId: u32): void {
  enter();
  setActiveContext(contextId);
  const c = anyContext(contextId, false);
  if (c !== null) c.onLog();
  leave();
}

/** proxy_on_delete calls onDelete, then forgets the context. */
export function proxy_on_delete(contextId: u32): void {
  enter();
  setActiveContext(contextId);
  const c = anyContext(contextId, true);
  if (c !== null) c.onDelete();
  forgetContext(contextId);
  leave();
}

/** proxy_on_request_headers calls HttpContext.onRequestHeaders; aborts for a non-HTTP context. */
export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onRequestHeaders(numHeaders, endOfStream != 0));
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

/** proxy_on_response_headers calls HttpContext.onResponseHeaders; aborts for a non-HTTP context. */
export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onResponseHeaders(numHeaders, endOfStream != 0));
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
