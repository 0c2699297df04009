// The smallest set of proxy-wasm ABI 0.2.1 callbacks for an HTTP filter that works on headers only:
// the root context's life (create, VM start, configure, done, delete), the HTTP stream's request and
// response headers, and its log and done callbacks. An HTTP filter whose contexts override nothing
// else (onVmStart, onConfigure, createHttpContext, onRequestHeaders, onResponseHeaders, onLog, onDone,
// onDelete) re-exports this set from its entry file and ships ≈ 0.4 KiB less than with abi/http:
//   export * from "proxy-wasm-as-sdk/abi/headers";
// Envoy skips the callbacks a module does not export (a body, trailers or timer event then continues
// without calling the module), so with this set onRequestBody, onResponseBody, the trailers
// callbacks, onTick, onQueueReady and onForeignFunction are never called; httpCall and setTickPeriod
// refuse (0 / Unimplemented, see lastResult()), since their answers could never arrive.
// abi/http.ts is this set plus those callbacks.
import { anyContext, createRoot, createStream, forgetContext, rootContext, setActiveContext } from "../dispatcher";
import { refreshLogLevel, refreshLogLevelForStream } from "../hostcalls/log";
import { enter, leave, leaveWith } from "./gc";
import { http } from "./lookup";
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

/** proxy_on_response_headers calls HttpContext.onResponseHeaders; aborts for a non-HTTP context. */
export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>http(contextId).onResponseHeaders(numHeaders, endOfStream != 0));
}
