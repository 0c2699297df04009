// The same hello with @solo-io/proxy-runtime 0.1.8, compiled by AssemblyScript 0.14.13 (the npm
// alias assemblyscript-legacy), which that SDK requires. onConfigure is overridden because 0.1.8's
// default passes the configuration size as an out-pointer and corrupts static data (see
// test/fixtures/proxy-runtime-0.1.8); this hello needs no configuration.
export * from "../../node_modules/@solo-io/proxy-runtime/assembly/proxy";
import { Context, FilterHeadersStatusValues, registerRootContext, RootContext, stream_context } from "../../node_modules/@solo-io/proxy-runtime/assembly/index";

class HelloRoot extends RootContext {
  onConfigure(configurationSize: u32): bool {
    return true;
  }
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
