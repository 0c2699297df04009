// The same hello with G-Core's @gcoredev/proxy-wasm-sdk-as 1.2.3 (AssemblyScript 0.28 with the
// @assemblyscript/wasi-shim config), as its README's first example writes it.
export * from "../../node_modules/@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import { Context, FilterHeadersStatusValues, registerRootContext, RootContext, stream_context } from "../../node_modules/@gcoredev/proxy-wasm-sdk-as/assembly/index";

class HelloRoot extends RootContext {
  createContext(contextId: u32): Context {
    return new Hello(contextId, this);
  }
}

class Hello extends Context {
  constructor(contextId: u32, root: HelloRoot) {
    super(contextId, root);
  }
  onResponseHeaders(headers: u32, endOfStream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("hello", "world!");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((contextId: u32) => {
  return new HelloRoot(contextId);
}, "hello");
