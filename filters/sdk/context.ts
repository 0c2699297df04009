// Context base classes. Every callback does nothing by default and returns Continue / true, so a filter
// overrides only what it uses. The SDK creates contexts through the factory given to registerRootContext.
import { isTcpLinked } from "./abi/linked";
import { E_TCP_NOT_EXPORTED } from "./errors";
import { logCritical } from "./hostcalls/log";
import { FilterDataStatus, FilterHeadersStatus, FilterStatus, FilterTrailersStatus, PeerType } from "./types";

/**
 * CalloutHandler receives the answers to HTTP and gRPC callouts. AssemblyScript has no closures, so a
 * callout takes an object: pass the context itself (every context is a CalloutHandler) or any subclass
 * carrying the state the answer needs. The SDK makes the originating stream the effective context before
 * calling it; if that stream is gone, the answer is dropped.
 */
export class CalloutHandler {
  /** onHttpCallResponse is called with the callout's token; numHeaders == 0 means the call failed (reset or timeout). */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}
  /** onGrpcReceiveInitialMetadata is called when a gRPC call or stream receives its initial metadata. */
  onGrpcReceiveInitialMetadata(token: u32, numElements: u32): void {}
  /** onGrpcReceive is called with each gRPC message (read it from grpcReceiveBuffer). */
  onGrpcReceive(token: u32, messageSize: u32): void {}
  /** onGrpcReceiveTrailingMetadata is called when a gRPC call or stream receives its trailing metadata. */
  onGrpcReceiveTrailingMetadata(token: u32, numElements: u32): void {}
  /** onGrpcClose is called once when a gRPC call or stream ends, with its gRPC status code. */
  onGrpcClose(token: u32, statusCode: u32): void {}
}

/** BaseContext holds the context id the host assigned; its lifecycle callbacks are shared by all contexts. */
export class BaseContext extends CalloutHandler {
  constructor(readonly contextId: u32) {
    super();
  }
  /** onDone is called when the host is done with the context; return false to finish later with done(). */
  onDone(): bool {
    return true;
  }
  /** onLog is called in the access-log phase (after the stream ended, before onDone in Envoy). */
  onLog(): void {}
  /** onDelete is the last callback; the SDK forgets the context after it. */
  onDelete(): void {}
}

/**
 * RootContext is the per-plugin context: configuration, timers, queues and stream creation.
 * Override createHttpContext (or createTcpContext) to return your stream context.
 */
export class RootContext extends BaseContext {
  /** onVmStart is called once per root context; vmConfigurationSize is the size of vmConfiguration. Return false to fail the VM. */
  onVmStart(vmConfigurationSize: u32): bool {
    return true;
  }
  /** onConfigure is called with each plugin configuration (read it with getPluginConfiguration*). Return false to reject it. */
  onConfigure(pluginConfigurationSize: u32): bool {
    return true;
  }
  /** onTick is called every period set by setTickPeriod. */
  onTick(): void {}
  /** onQueueReady is called once per item enqueued on a queue this root registered. */
  onQueueReady(queueToken: u32): void {}
  /** onForeignFunction is called when the host invokes a foreign function on this plugin. */
  onForeignFunction(functionId: u32, argumentsSize: u32): void {}
  /** createTcpContext returns the context for a new TCP connection, or null (the default) when the plugin is not a network filter. */
  createTcpContext(contextId: u32): TcpContext | null {
    return null;
  }
  /** createHttpContext returns the context for a new HTTP stream; the default passes everything through. */
  createHttpContext(contextId: u32): HttpContext {
    return new HttpContext(contextId, this);
  }
}

/** HttpContext is the per-stream context of an HTTP filter; every callback continues by default. */
export class HttpContext extends BaseContext {
  constructor(contextId: u32, readonly root: RootContext) {
    super(contextId);
  }
  /** onRequestHeaders is called once with the request headers (requestHeaders is readable and writable). */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  /** onRequestBody is called per body chunk (requestBody). */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  /** onRequestTrailers is called with the request trailers (requestTrailers). */
  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
  /** onResponseHeaders is called once with the response headers (responseHeaders). */
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  /** onResponseBody is called per response body chunk (responseBody). */
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  /** onResponseTrailers is called with the response trailers (responseTrailers). */
  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
}

/**
 * TcpContext is the per-connection context of a network filter; every callback continues by default.
 * Without the TCP exports (abi/tcp) Envoy never calls it, so constructing one then logs a critical line.
 */
export class TcpContext extends BaseContext {
  constructor(contextId: u32, readonly root: RootContext) {
    super(contextId);
    // Checked here, not in the dispatcher, so a module without TcpContexts carries neither check nor text.
    if (!isTcpLinked()) logCritical(E_TCP_NOT_EXPORTED);
  }
  /** onNewConnection is called when the downstream connection is established. */
  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }
  /** onDownstreamData is called with data from the client (downstreamData). */
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }
  /** onUpstreamData is called with data from the upstream (upstreamData). */
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }
  /** onDownstreamConnectionClose is called when the client side closes. */
  onDownstreamConnectionClose(peerType: PeerType): void {}
  /** onUpstreamConnectionClose is called when the upstream side closes. */
  onUpstreamConnectionClose(peerType: PeerType): void {}
}
