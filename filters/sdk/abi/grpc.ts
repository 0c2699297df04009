// The proxy-wasm ABI 0.2.1 callbacks that deliver gRPC callout answers (grpcCall, grpcStream), with
// their exact spec names and signatures. A filter that makes gRPC callouts re-exports them next to
// the HTTP set, or uses abi/exports.ts:
//   export * from "proxy-wasm-as-sdk/abi/http";
//   export * from "proxy-wasm-as-sdk/abi/grpc";
import { calloutIssuer, dropCallout, findCallout } from "../dispatcher";
import { enter, leave } from "./gc";
import { markGrpcLinked } from "./linked";
import { enterCallout } from "./lookup";

markGrpcLinked();

/** proxy_on_grpc_receive_initial_metadata calls the gRPC handler's onGrpcReceiveInitialMetadata. */
export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const handler = findCallout(token);
  if (handler === null || !enterCallout(rootContextId, calloutIssuer())) {
    leave();
    return;
  }
  handler.onGrpcReceiveInitialMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_receive calls the gRPC handler's onGrpcReceive. */
export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  enter();
  const handler = findCallout(token);
  if (handler === null || !enterCallout(rootContextId, calloutIssuer())) {
    leave();
    return;
  }
  handler.onGrpcReceive(token, messageSize);
  leave();
}

/** proxy_on_grpc_receive_trailing_metadata calls the gRPC handler's onGrpcReceiveTrailingMetadata. */
export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  enter();
  const handler = findCallout(token);
  if (handler === null || !enterCallout(rootContextId, calloutIssuer())) {
    leave();
    return;
  }
  handler.onGrpcReceiveTrailingMetadata(token, numElements);
  leave();
}

/** proxy_on_grpc_close calls the gRPC handler's onGrpcClose and forgets the call. */
export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  enter();
  const handler = findCallout(token);
  if (handler === null) {
    leave();
    return;
  }
  dropCallout(token);
  if (!enterCallout(rootContextId, calloutIssuer())) {
    leave();
    return;
  }
  handler.onGrpcClose(token, statusCode);
  leave();
}
