// Test filter for the abort path: a request carrying "x-abort: <message>" makes onRequestHeaders throw,
// which AssemblyScript turns into a call of the SDK's abort handler.
export * from "proxy-wasm-as-sdk/abi/exports";
import { FilterHeadersStatus, HttpContext, registerRootContext, requestHeaders, RootContext } from "proxy-wasm-as-sdk";

class AbortRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new AbortStream(contextId, this);
  }
}

class AbortStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const message = requestHeaders.get("x-abort");
    if (message !== null) throw new Error(message);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AbortRoot(contextId));
