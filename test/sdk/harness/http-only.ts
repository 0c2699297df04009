// Test module built with the HTTP export set alone (abi/http). It must export no TCP or gRPC
// callbacks, refuse a gRPC callout with a log line instead of waiting for an answer that cannot
// arrive, and report a TcpContext it cannot serve.
//   root id "grpc": each request tries a gRPC callout and adds `x-grpc: <token> <status>`
//   root id "tcp":  every new stream is a TcpContext
export * from "proxy-wasm-as-sdk/abi/http";
import {
  FilterHeadersStatus,
  grpcCall,
  HeaderPair,
  HttpContext,
  lastResult,
  registerRootContext,
  requestHeaders,
  RootContext,
  TcpContext,
} from "proxy-wasm-as-sdk";

class GrpcRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new GrpcStream(contextId, this);
  }
}

class GrpcStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const token = grpcCall("backend", "svc.Service", "Method", new Array<HeaderPair>(), new ArrayBuffer(0), 1000, this);
    requestHeaders.add("x-grpc", token.toString() + " " + (<u32>lastResult()).toString());
    return FilterHeadersStatus.Continue;
  }
}

class TcpRoot extends RootContext {
  createTcpContext(contextId: u32): TcpContext | null {
    return new TcpContext(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new GrpcRoot(contextId), "grpc");
registerRootContext((contextId: u32): RootContext => new TcpRoot(contextId), "tcp");
