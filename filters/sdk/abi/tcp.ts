// The proxy-wasm ABI 0.2.1 callbacks of a network (TCP) filter, with their exact spec names and
// signatures. A network filter re-exports them next to the HTTP set, or uses abi/exports.ts:
//   export * from "proxy-wasm-as-sdk/abi/http";
//   export * from "proxy-wasm-as-sdk/abi/tcp";
import { enter, leave, leaveWith } from "./gc";
import { markTcpLinked } from "./linked";
import { tcp } from "./lookup";
import { PeerType } from "../types";

markTcpLinked();

/** proxy_on_new_connection calls TcpContext.onNewConnection; aborts for a non-TCP context. */
export function proxy_on_new_connection(contextId: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onNewConnection());
}

/** proxy_on_downstream_data calls TcpContext.onDownstreamData; aborts for a non-TCP context. */
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onDownstreamData(dataSize, endOfStream != 0));
}

/** proxy_on_upstream_data calls TcpContext.onUpstreamData; aborts for a non-TCP context. */
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enter();
  return leaveWith(<u32>tcp(contextId).onUpstreamData(dataSize, endOfStream != 0));
}

/** proxy_on_downstream_connection_close calls TcpContext.onDownstreamConnectionClose; aborts for a non-TCP context. */
export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  enter();
  tcp(contextId).onDownstreamConnectionClose(<PeerType>peerType);
  leave();
}

/** proxy_on_upstream_connection_close calls TcpContext.onUpstreamConnectionClose; aborts for a non-TCP context. */
export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  enter();
  tcp(contextId).onUpstreamConnectionClose(<PeerType>peerType);
  leave();
}
