// Our SDK's empty filter: the default RootContext, whose streams are default HttpContexts that
// continue every callback. Its cost over the floor is what the SDK itself adds per request. Both
// bench modules of our SDK export its smallest set (abi/headers), as a headers-only filter should.
export * from "proxy-wasm-as-sdk/abi/headers";
import { registerRootContext, RootContext } from "proxy-wasm-as-sdk";

registerRootContext((contextId: u32): RootContext => new RootContext(contextId));
