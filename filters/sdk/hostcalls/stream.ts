// Stream control and local responses. Envoy defers all of these until the current callback returns.
import {
  proxy_close_stream,
  proxy_continue_stream,
  proxy_get_status,
  proxy_send_local_response,
} from "../abi/imports";
import { clearRet, retPtr, takeBlock } from "../abi/malloc";
import { serializePairs } from "../pairs";
import { GrpcStatus, StreamType, WasmResult } from "../types";
import { HeaderPair, toPairs } from "./headers";
import { setLastResult } from "./status";
import { decodeUtf8, encodeUtf8 } from "../utf8";

let localResponses: u32 = 0;
let closes: u32 = 0;

/**
 * localResponsesSent counts the local responses and stream closes the host accepted since the module
 * started. A composition compares it around each filter's callback to learn that the filter ended
 * the stream, which stops the filters after it (as Envoy stops a chain).
 */
export function localResponsesSent(): u32 {
  return localResponses + closes;
}

/**
 * StreamInterceptor lets a composition (compose.ts) see a filter's continueStream: a filter of the
 * composition that resumes must first hand the stream to the next filter of the same module. Return
 * -1 to let the call reach the host, or the WasmResult to answer.
 */
export class StreamInterceptor {
  /** intercept is called with every continueStream; the default lets it through. */
  intercept(streamType: StreamType): i32 {
    return -1;
  }
}

let interceptor: StreamInterceptor | null = null;

/** setStreamInterceptor installs the module's interceptor (compose.ts does; filters never need to). */
export function setStreamInterceptor(value: StreamInterceptor | null): void {
  interceptor = value;
}

/**
 * sendLocalResponseBytes answers the client directly with `statusCode`, `body` and extra `headers`
 * (no ":status"); `details` becomes the response-code details. Return a Stop status from the callback
 * after calling it. Fails only with InvalidMemoryAccess.
 */
export function sendLocalResponseBytes(
  statusCode: u32,
  details: string,
  body: ArrayBuffer,
  headers: Array<HeaderPair>,
  grpcStatus: GrpcStatus = GrpcStatus.InvalidCode,
): WasmResult {
  const detailBytes = encodeUtf8(details);
  const headerBytes = serializePairs(toPairs(headers));
  const r = <WasmResult>(
    proxy_send_local_response(
      statusCode,
      changetype<usize>(detailBytes),
      <usize>detailBytes.byteLength,
      changetype<usize>(body),
      <usize>body.byteLength,
      changetype<usize>(headerBytes),
      <usize>headerBytes.byteLength,
      <i32>grpcStatus,
    )
  );
  if (r == WasmResult.Ok) localResponses++;
  return r;
}

/** sendLocalResponse is sendLocalResponseBytes with a UTF-8 text body. */
export function sendLocalResponse(
  statusCode: u32,
  details: string,
  body: string,
  headers: Array<HeaderPair>,
  grpcStatus: GrpcStatus = GrpcStatus.InvalidCode,
): WasmResult {
  return sendLocalResponseBytes(statusCode, details, encodeUtf8(body), headers, grpcStatus);
}

/** continueStream resumes a paused stream; Envoy answers Unimplemented for StreamType.Upstream. */
export function continueStream(streamType: StreamType): WasmResult {
  const hook = interceptor;
  if (hook !== null) {
    const handled = hook.intercept(streamType);
    if (handled >= 0) return <WasmResult>handled;
  }
  return <WasmResult>proxy_continue_stream(<u32>streamType);
}

/** hostContinueStream is continueStream straight to the host, past any interceptor (for compose.ts). */
export function hostContinueStream(streamType: StreamType): WasmResult {
  return <WasmResult>proxy_continue_stream(<u32>streamType);
}

/** closeStream resets the stream (HTTP) or closes the connection (TCP). */
export function closeStream(streamType: StreamType): WasmResult {
  const r = <WasmResult>proxy_close_stream(<u32>streamType);
  if (r == WasmResult.Ok) closes++;
  return r;
}

/** continueRequest resumes a request paused by a Stop status (continueStream(HttpRequest)). */
export function continueRequest(): WasmResult {
  return continueStream(StreamType.HttpRequest);
}

/** continueResponse resumes a response paused by a Stop status (continueStream(HttpResponse)). */
export function continueResponse(): WasmResult {
  return continueStream(StreamType.HttpResponse);
}

/** HostStatus is the (code, message) pair of proxy_get_status, e.g. a gRPC close status or a callout reset (11, "reset"). */
export class HostStatus {
  constructor(readonly code: u32, readonly message: string) {}
}

/** getStatus returns the root context's last status; null (lastResult set) if the host refused. */
export function getStatus(): HostStatus | null {
  clearRet();
  const codePtr = retPtr() + 8;
  store<u32>(codePtr, 0);
  const r = setLastResult(proxy_get_status(codePtr, retPtr(), retPtr() + 4));
  if (r != WasmResult.Ok) return null;
  const code = load<u32>(codePtr);
  const message = takeBlock(<usize>load<u32>(retPtr()), <usize>load<u32>(retPtr() + 4));
  return new HostStatus(code, decodeUtf8(message));
}
