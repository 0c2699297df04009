// Error and log message constants. Kept in one place and reused so binaries carry each string once
// (the AssemblyScript std util/error.ts habit).

// @ts-ignore: decorator
@lazy export const E_UNKNOWN_CONTEXT: string = "proxy-wasm sdk: callback for an unknown context id";
// @ts-ignore: decorator
@lazy export const E_NOT_HTTP_CONTEXT: string = "proxy-wasm sdk: HTTP callback on a non-HTTP context";
// @ts-ignore: decorator
@lazy export const E_NOT_TCP_CONTEXT: string = "proxy-wasm sdk: TCP callback on a non-TCP context";
// @ts-ignore: decorator
@lazy export const E_TCP_NOT_EXPORTED: string = "proxy-wasm sdk: TcpContext needs abi/tcp exports";
// @ts-ignore: decorator
@lazy export const E_GRPC_NOT_EXPORTED: string = "proxy-wasm sdk: gRPC callout needs abi/grpc exports";
// @ts-ignore: decorator
@lazy export const E_NO_ROOT_FACTORY: string = "proxy-wasm sdk: no root context registered for root id ";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_MESSAGE: string = "(no message)";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_FILE: string = "(unknown)";
