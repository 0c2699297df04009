// Error and log message constants. Kept in one place and reused so binaries carry each string once
// (the AssemblyScript std util/error.ts habit).
import { TextTable } from "./texts";

/** The dispatcher's fixed lines, in SDK_TEXTS; every module carries them, so they are UTF-8 (texts.ts). */
export const enum SdkText {
  UnknownContext,
  NotHttpContext,
  NotTcpContext,
  NoRootFactory,
}

/**
 * Lines of SdkText, in its order (the root-id line is followed by the id). Never read it from code the
 * runtime reaches (sdkAbort): a `@lazy` global is initialized where it is first compiled, and code
 * compiled with the runtime runs before the collector's lists exist (the first collection then
 * crashes; PERFORMANCE.md, fourth round).
 */
// @ts-ignore: decorator
@lazy export const SDK_TEXTS = new TextTable(`abort: proxy-wasm sdk: callback for an unknown context id
abort: proxy-wasm sdk: HTTP callback on a non-HTTP context
abort: proxy-wasm sdk: TCP callback on a non-TCP context
proxy-wasm sdk: no root context registered for root id `);

// @ts-ignore: decorator
@lazy export const E_TCP_NOT_EXPORTED: string = "proxy-wasm sdk: TcpContext needs abi/tcp exports";
// @ts-ignore: decorator
@lazy export const E_GRPC_NOT_EXPORTED: string = "proxy-wasm sdk: gRPC callout needs abi/grpc exports";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_MESSAGE: string = "(no message)";
// @ts-ignore: decorator
@lazy export const E_ABORT_NO_FILE: string = "(unknown)";
