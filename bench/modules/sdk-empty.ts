// Our SDK's empty filter: the default RootContext, whose streams are default HttpContexts that
// continue every callback. Its cost over the floor is what the SDK itself adds per request.
export * from "proxy-wasm-as-sdk/abi/http";
import { registerRootContext, RootContext } from "proxy-wasm-as-sdk";

registerRootContext((contextId: u32): RootContext => new RootContext(contextId));
