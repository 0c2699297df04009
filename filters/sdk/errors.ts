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
@lazy export const E_JSON_UNEXPECTED_END: string = "unexpected end of input";
// @ts-ignore: decorator
@lazy export const E_JSON_UNEXPECTED_CHAR: string = "unexpected character";
// @ts-ignore: decorator
@lazy export const E_JSON_BAD_ESCAPE: string = "invalid escape sequence";
// @ts-ignore: decorator
@lazy export const E_JSON_BAD_NUMBER: string = "invalid number";
// @ts-ignore: decorator
@lazy export const E_JSON_CONTROL_CHAR: string = "control character in string";
// @ts-ignore: decorator
@lazy export const E_JSON_TRAILING: string = "unexpected data after the JSON value";
// @ts-ignore: decorator
@lazy export const E_JSON_TOO_DEEP: string = "nesting too deep";
// @ts-ignore: decorator
@lazy export const E_JSON_DUPLICATE_KEY: string = "duplicate key";
// @ts-ignore: decorator
@lazy export const E_CONFIG_MISSING: string = "required field is missing";
// @ts-ignore: decorator
@lazy export const E_CONFIG_EMPTY: string = "configuration is empty";
// @ts-ignore: decorator
@lazy export const E_CONFIG_UNKNOWN_FIELD: string = "unknown field";
// @ts-ignore: decorator
@lazy export const E_CONFIG_INVALID_JSON: string = "invalid JSON at offset ";
// @ts-ignore: decorator
@lazy export const E_CONFIG_EXPECTED: string = "expected ";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_MESSAGE: string = "(no message)";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_FILE: string = "(unknown)";
