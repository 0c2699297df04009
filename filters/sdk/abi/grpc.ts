// The proxy-wasm ABI 0.2.1 callbacks that deliver gRPC callout answers (grpcCall, grpcStream), with
// their exact spec names and signatures. A filter that makes gRPC callouts re-exports them next to
// the HTTP set, or uses abi/exports.ts:
//   export * from "proxy-wasm-as-sdk/abi/http";
//   export * from "proxy-wasm-as-sdk/abi/grpc";
import { enter, leave } from "./gc";
import { markGrpcLinked } from "./linked";
import { callout } from "./lookup";

markGrpcLinked();

/** proxy_on_grpc_receive_initial_metadata calls the gRPC handler's onGrpcReceiveInitialMetadata. */
export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const handler = callout(rootContextId, token, false);
  if (handler !== null) handler.onGrpcReceiveInitialMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_receive calls the gRPC handler's onGrpcReceive. */
export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  enter();
  const handler = callout(rootContextId, token, false);
  if (handler !== null) handler.onGrpcReceive(token, messageSize);
  leave();
}

/** proxy_on_grpc_receive_trailing_metadata calls the gRPC handler's onGrpcReceiveTrailingMetadata. */
export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const handler = callout(rootContextId, token, false);
  if (handler !== null) handler.onGrpcReceiveTrailingMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_close calls the gRPC handler's onGrpcClose and forgets the call. */
export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  enter();
  const handler = callout(rootContextId, token, true);
  if (handler !== null) handler.onGrpcClose(token, statusCode);
  leave();
}
