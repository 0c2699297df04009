// Hello in our SDK: adds `hello: world!` to every response, written the way the README teaches, so
// it compares with the same hello in the two peer SDKs (gcore-hello.ts, solo-hello.ts).
export * from "proxy-wasm-as-sdk/abi/headers";
import { FilterHeadersStatus, HttpContext, registerRootContext, responseHeaders, RootContext } from "proxy-wasm-as-sdk";

class Hello extends HttpContext {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    responseHeaders.add("hello", "world!");
    return FilterHeadersStatus.Continue;
  }
}

class HelloRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new Hello(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new HelloRoot(contextId));
