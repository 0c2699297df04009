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
import { decodeUtf8 } from "../utf8";

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
  const detailBytes = String.UTF8.encode(details);
  const headerBytes = serializePairs(toPairs(headers));
  return <WasmResult>(
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
}

/** sendLocalResponse is sendLocalResponseBytes with a UTF-8 text body. */
export function sendLocalResponse(
  statusCode: u32,
  details: string,
  body: string,
  headers: Array<HeaderPair>,
  grpcStatus: GrpcStatus = GrpcStatus.InvalidCode,
): WasmResult {
  return sendLocalResponseBytes(statusCode, details, String.UTF8.encode(body), headers, grpcStatus);
}

/** continueStream resumes a paused stream; Envoy answers Unimplemented for StreamType.Upstream. */
export function continueStream(streamType: StreamType): WasmResult {
  return <WasmResult>proxy_continue_stream(<u32>streamType);
}

/** closeStream resets the stream (HTTP) or closes the connection (TCP). */
export function closeStream(streamType: StreamType): WasmResult {
  return <WasmResult>proxy_close_stream(<u32>streamType);
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
