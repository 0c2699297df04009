// HTTP and gRPC callouts. The answer goes to the CalloutHandler passed here (often the calling context);
// the SDK restores the calling stream as the effective context first.
import {
  proxy_grpc_call,
  proxy_grpc_cancel,
  proxy_grpc_close,
  proxy_grpc_send,
  proxy_grpc_stream,
  proxy_http_call,
} from "../abi/imports";
import { isGrpcLinked } from "../abi/linked";
import { callout } from "../abi/lookup";
import { retPtr } from "../abi/malloc";
import { CalloutHandler } from "../context";
import { rememberCallout } from "../dispatcher";
import { E_GRPC_NOT_EXPORTED } from "../errors";
import { logCritical } from "./log";
import { serializePairs } from "../pairs";
import { WasmResult } from "../types";
import { HeaderPair, toPairs } from "./headers";
import { httpSetMissing, setLastResult } from "./status";
import { encodeUtf8 } from "../utf8";

/**
 * httpCallAnswerer delivers HTTP callout answers (proxy_on_http_call_response); httpCall sets it. A
 * module that never calls httpCall thus links no answer dispatch (the token lookup, the issuing
 * stream's restore, the handlers' onHttpCallResponse calls), and an answer it never asked for finds
 * nothing, as an unknown token does.
 */
export let httpCallAnswerer: ((rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32) => void) | null = null;

// Hands an HTTP callout's answer to its handler, with the issuing stream active; unknown tokens are ignored.
function answerHttpCall(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  const handler = callout(rootContextId, token, true);
  if (handler !== null) handler.onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
}

/**
 * httpCall sends a request to the cluster `upstream`. `headers` must hold ":method", ":path" and
 * ":authority"; timeoutMs 0 means no timeout. Returns the token, or 0 when the host refused
 * (lastResult(): BadArgument for an unknown cluster or missing pseudo-headers, InternalFailure;
 * Unimplemented in a module that re-exports only abi/headers, which has no
 * proxy_on_http_call_response). `handler.onHttpCallResponse` receives the answer.
 */
export function httpCall(
  upstream: string,
  headers: Array<HeaderPair>,
  body: ArrayBuffer | null,
  trailers: Array<HeaderPair>,
  timeoutMs: u32,
  handler: CalloutHandler,
): u32 {
  if (httpSetMissing()) return 0;
  const up = encodeUtf8(upstream);
  const h = serializePairs(toPairs(headers));
  const t = serializePairs(toPairs(trailers));
  const b = body === null ? new ArrayBuffer(0) : body;
  store<u32>(retPtr(), 0);
  const r = setLastResult(
    proxy_http_call(
      changetype<usize>(up),
      <usize>up.byteLength,
      changetype<usize>(h),
      <usize>h.byteLength,
      changetype<usize>(b),
      <usize>b.byteLength,
      changetype<usize>(t),
      <usize>t.byteLength,
      timeoutMs,
      retPtr(),
    ),
  );
  if (r != WasmResult.Ok) return 0;
  const token = load<u32>(retPtr());
  rememberCallout(token, handler);
  httpCallAnswerer = answerHttpCall;
  return token;
}

// A gRPC answer needs the gRPC exports (abi/grpc.ts); without them the call could never complete.
function refuseGrpc(): u32 {
  setLastResult(WasmResult.Unimplemented);
  logCritical(E_GRPC_NOT_EXPORTED);
  return 0;
}

/**
 * grpcCall starts a unary gRPC call; `upstream` is a cluster name (or a serialized GrpcService).
 * Returns the token, or 0 when refused (ParseFailure for an unknown cluster; Unimplemented, logged, when the
 * module does not export the gRPC callbacks, see abi/grpc.ts). `handler` receives
 * the metadata, message and close callbacks.
 */
export function grpcCall(
  upstream: string,
  service: string,
  method: string,
  initialMetadata: Array<HeaderPair>,
  message: ArrayBuffer,
  timeoutMs: u32,
  handler: CalloutHandler,
): u32 {
  if (!isGrpcLinked()) return refuseGrpc();
  const up = encodeUtf8(upstream);
  const svc = encodeUtf8(service);
  const m = encodeUtf8(method);
  const md = serializePairs(toPairs(initialMetadata));
  store<u32>(retPtr(), 0);
  const r = setLastResult(
    proxy_grpc_call(
      changetype<usize>(up),
      <usize>up.byteLength,
      changetype<usize>(svc),
      <usize>svc.byteLength,
      changetype<usize>(m),
      <usize>m.byteLength,
      changetype<usize>(md),
      <usize>md.byteLength,
      changetype<usize>(message),
      <usize>message.byteLength,
      timeoutMs,
      retPtr(),
    ),
  );
  if (r != WasmResult.Ok) return 0;
  const token = load<u32>(retPtr());
  rememberCallout(token, handler);
  return token;
}

/** grpcStream opens a streaming gRPC call; returns its token or 0 when refused. Send with grpcSend. */
export function grpcStream(
  upstream: string,
  service: string,
  method: string,
  initialMetadata: Array<HeaderPair>,
  handler: CalloutHandler,
): u32 {
  if (!isGrpcLinked()) return refuseGrpc();
  const up = encodeUtf8(upstream);
  const svc = encodeUtf8(service);
  const m = encodeUtf8(method);
  const md = serializePairs(toPairs(initialMetadata));
  store<u32>(retPtr(), 0);
  const r = setLastResult(
    proxy_grpc_stream(
      changetype<usize>(up),
      <usize>up.byteLength,
      changetype<usize>(svc),
      <usize>svc.byteLength,
      changetype<usize>(m),
      <usize>m.byteLength,
      changetype<usize>(md),
      <usize>md.byteLength,
      retPtr(),
    ),
  );
  if (r != WasmResult.Ok) return 0;
  const token = load<u32>(retPtr());
  rememberCallout(token, handler);
  return token;
}

/** grpcSend sends one message on a gRPC stream; NotFound for an unknown token, BadArgument for a unary call token. */
export function grpcSend(token: u32, message: ArrayBuffer, endStream: bool): WasmResult {
  return <WasmResult>proxy_grpc_send(token, changetype<usize>(message), <usize>message.byteLength, endStream ? 1 : 0);
}

/** grpcCancel cancels a gRPC call or stream (no further callbacks); NotFound for an unknown token. */
export function grpcCancel(token: u32): WasmResult {
  return <WasmResult>proxy_grpc_cancel(token);
}

/** grpcClose half-closes a gRPC call or stream; NotFound for an unknown token. */
export function grpcClose(token: u32): WasmResult {
  return <WasmResult>proxy_grpc_close(token);
}
