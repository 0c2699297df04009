// Test filter that uses the AssemblyScript globals Envoy has no imports for (console, Date.now, trace,
// Math.random); asconfig "use" maps them into the SDK, so the module still imports only env.proxy_*
// and WASI functions.
export * from "proxy-wasm-as-sdk/abi/exports";
import { FilterHeadersStatus, HttpContext, registerRootContext, requestHeaders, RootContext } from "proxy-wasm-as-sdk";

class GlobalsRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new GlobalsStream(contextId, this);
  }
}

class GlobalsStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    console.log("now " + Date.now().toString());
    console.warn("careful");
    trace("traced", 2, 1.5, 42);
    const r = Math.random();
    requestHeaders.add("x-random-in-range", r >= 0 && r < 1 ? "yes" : "no");
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new GlobalsRoot(contextId));
