// Every proxy-wasm ABI 0.2.1 callback, with its exact spec name and signature, dispatched to the
// context classes. A filter re-exports this module from its entry file:
//   export * from "proxy-wasm-as-sdk/abi/exports";
// Callbacks for context ids the SDK does not know abort (the VM fails), as in the Rust and Go SDKs.
import { HttpContext, TcpContext } from "../context";
import {
  contextExists,
  createRoot,
  createStream,
  dropCallout,
  findCallout,
  forgetContext,
  httpContext,
  rootContext,
  setActiveContext,
  tcpContext,
} from "../dispatcher";
import { E_NOT_HTTP_CONTEXT, E_NOT_TCP_CONTEXT, E_UNKNOWN_CONTEXT } from "../errors";
import { refreshLogLevel } from "../hostcalls/log";
import { enter, leave, leaveWith } from "./gc";
import { setEffectiveContext } from "../hostcalls/misc";
import { PeerType } from "../types";
// Loads the @global replacements that asconfig "use" maps abort, trace and seed onto.
import "./globals";

export { malloc, malloc as proxy_on_memory_allocate } from "./malloc";

/** proxy_abi_version_0_2_1 marks the ABI version for the host; it is never called. */
export function proxy_abi_version_0_2_1(): void {}

function http(contextId: u32): HttpContext {
  setActiveContext(contextId);
  const ctx = httpContext(contextId);
  if (ctx === null) throw new Error(E_NOT_HTTP_CONTEXT);
  return ctx;
}

function tcp(contextId: u32): TcpContext {
  setActiveContext(contextId);
  const ctx = tcpContext(contextId);
  if (ctx === null) throw new Error(E_NOT_TCP_CONTEXT);
  return ctx;
}

/** proxy_on_context_create creates the root context (parent 0) from the registered factory, or a stream context from its root. */
export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enter();
  setActiveContext(contextId);
  // The one place per stream the SDK asks for the log level, so a level changed at runtime applies to the next stream.
  refreshLogLevel();
  if (parentContextId == 0) createRoot(contextId);
  else createStream(contextId, parentContextId);
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
  setActiveContext(rootContextId);
  refreshLogLevel();
  const root = rootContext(rootContextId);
  if (root === null) throw new Error(E_UNKNOWN_CONTEXT);
  root.onTick();
  leave();
}

/** proxy_on_queue_ready calls RootContext.onQueueReady; aborts for an unknown root. */
export function proxy_on_queue_ready(rootContextId: u32, queueToken: u32): void {
  enter();
  setActiveContext(rootContextId);
  const root = rootContext(rootContextId);
  if (root === null) throw new Error(E_UNKNOWN_CONTEXT);
  root.onQueueReady(queueToken);
  leave();
}

/** proxy_on_foreign_function calls RootContext.onForeignFunction; aborts for an unknown root. */
export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argumentsSize: u32): void {
  enter();
  setActiveContext(rootContextId);
  const root = rootContext(rootContextId);
  if (root === null) throw new Error(E_UNKNOWN_CONTEXT);
  root.onForeignFunction(functionId, argumentsSize);
  leave();
}

/** proxy_on_done calls onDone on any context; 1 for a context that was never created. */
export function proxy_on_done(contextId: u32): u32 {
  enter();
  setActiveContext(contextId);
  const h = httpContext(contextId);
  if (h !== null) return leaveWith(h.onDone() ? 1 : 0);
  const t = tcpContext(contextId);
  if (t !== null) return leaveWith(t.onDone() ? 1 : 0);
  const r = rootContext(contextId);
  if (r !== null) return leaveWith(r.onDone() ? 1 : 0);
  // A root that never got created (missing factory) has nothing to finish.
  return leaveWith(1);
}

/** proxy_on_log calls onLog on a stream or connection context. */
export function proxy_on_log(contextId: u32): void {
  enter();
  setActiveContext(contextId);
  const h = httpContext(contextId);
  if (h !== null) {
    h.onLog();
    leave();
    return;
  }
  const t = tcpContext(contextId);
  if (t !== null) t.onLog();
  leave();
}

/** proxy_on_delete calls onDelete, then forgets the context. */
export function proxy_on_delete(contextId: u32): void {
  enter();
  setActiveContext(contextId);
  const h = httpContext(contextId);
  if (h !== null) h.onDelete();
  else {
    const t = tcpContext(contextId);
    if (t !== null) t.onDelete();
    else {
      const r = rootContext(contextId);
      if (r !== null) r.onDelete();
    }
  }
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

/** proxy_on_new_connection calls TcpContext.onNewConnection; aborts for a non-TCP context. */
export function proxy_on_new_connection(contextId: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onNewConnection());
}

/** proxy_on_downstream_data calls TcpContext.onDownstreamData; aborts for a non-TCP context. */
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onDownstreamData(dataSize, endOfStream != 0));
}

/** proxy_on_upstream_data calls TcpContext.onUpstreamData; aborts for a non-TCP context. */
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onUpstreamData(dataSize, endOfStream != 0));
}

/** proxy_on_downstream_connection_close calls TcpContext.onDownstreamConnectionClose; aborts for a non-TCP context. */
export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  enter();
  tcp(contextId).onDownstreamConnectionClose(<PeerType>peerType);
  leave();
}

/** proxy_on_upstream_connection_close calls TcpContext.onUpstreamConnectionClose; aborts for a non-TCP context. */
export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  enter();
  tcp(contextId).onUpstreamConnectionClose(<PeerType>peerType);
  leave();
}

// Callout answers arrive on the root. The handler runs with the issuing stream as the effective context;
// if that stream is already gone the answer is dropped (the Go SDK does the same).
function enterCallout(rootContextId: u32, issuer: u32): bool {
  setActiveContext(rootContextId);
  if (issuer == 0 || issuer == rootContextId) return true;
  if (!contextExists(issuer)) return false;
  setEffectiveContext(issuer);
  setActiveContext(issuer);
  return true;
}

/** proxy_on_http_call_response calls the callout handler's onHttpCallResponse; unknown tokens are ignored. */
export function proxy_on_http_call_response(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  enter();
  const pending = findCallout(token);
  if (pending === null) {
    leave();
    return;
  }
  dropCallout(token);
  if (!enterCallout(rootContextId, pending.contextId)) {
    leave();
    return;
  }
  pending.handler.onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
  leave();
}

/** proxy_on_grpc_receive_initial_metadata calls the gRPC handler's onGrpcReceiveInitialMetadata. */
export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const pending = findCallout(token);
  if (pending === null || !enterCallout(rootContextId, pending.contextId)) {
    leave();
    return;
  }
  pending.handler.onGrpcReceiveInitialMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_receive calls the gRPC handler's onGrpcReceive. */
export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  enter();
  const pending = findCallout(token);
  if (pending === null || !enterCallout(rootContextId, pending.contextId)) {
    leave();
    return;
  }
  pending.handler.onGrpcReceive(token, messageSize);
  leave();
}

/** proxy_on_grpc_receive_trailing_metadata calls the gRPC handler's onGrpcReceiveTrailingMetadata. */
export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const pending = findCallout(token);
  if (pending === null || !enterCallout(rootContextId, pending.contextId)) {
    leave();
    return;
  }
  pending.handler.onGrpcReceiveTrailingMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_close calls the gRPC handler's onGrpcClose and forgets the call. */
export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  enter();
  const pending = findCallout(token);
  if (pending === null) {
    leave();
    return;
  }
  dropCallout(token);
  if (!enterCallout(rootContextId, pending.contextId)) {
    leave();
    return;
  }
  pending.handler.onGrpcClose(token, statusCode);
  leave();
}

// Envoy calls these for HTTP/2 metadata frames.
/** proxy_on_request_metadata always continues (HTTP/2 metadata is outside ABI 0.2.1). */
export function proxy_on_request_metadata(contextId: u32, numElements: u32): u32 {
  return 0;
}

/** proxy_on_response_metadata always continues (HTTP/2 metadata is outside ABI 0.2.1). */
export function proxy_on_response_metadata(contextId: u32, numElements: u32): u32 {
  return 0;
}
