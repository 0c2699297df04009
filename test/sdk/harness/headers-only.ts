// Test module built with the headers export set alone (abi/headers). It must export no body,
// trailers, timer, queue, foreign-function or HTTP-callout callback, and refuse an HTTP callout and a
// timer with Unimplemented instead of waiting for callbacks Envoy can never make.
//   each request adds `x-call: <token> <status>` (an httpCall) and `x-tick: <status>` (setTickPeriod)
export * from "proxy-wasm-as-sdk/abi/headers";
import {
  FilterHeadersStatus,
  HeaderPair,
  httpCall,
  HttpContext,
  lastResult,
  registerRootContext,
  requestHeaders,
  RootContext,
  setTickPeriod,
} from "proxy-wasm-as-sdk";

class Root extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new Stream(contextId, this);
  }
}

class Stream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = [new HeaderPair(":method", "GET"), new HeaderPair(":path", "/"), new HeaderPair(":authority", "backend")];
    const token = httpCall("backend", headers, null, new Array<HeaderPair>(), 1000, this);
    requestHeaders.add("x-call", token.toString() + " " + (<u32>lastResult()).toString());
    requestHeaders.add("x-tick", (<u32>setTickPeriod(1000)).toString());
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new Root(contextId));
