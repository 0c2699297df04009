// Every proxy-wasm ABI 0.2.1 callback: the HTTP set (root, HTTP streams, HTTP callouts), the TCP
// set and the gRPC callout set, plus the HTTP/2 metadata callbacks. A filter re-exports this module
// from its entry file when it wants everything:
//   export * from "proxy-wasm-as-sdk/abi/exports";
// An HTTP-only filter can re-export "proxy-wasm-as-sdk/abi/http" instead and ship 0.5–1 KiB less
// (filters/sdk/PERFORMANCE.md); nothing else changes for it.
export * from "./http";
export * from "./tcp";
export * from "./grpc";

// Envoy calls these for HTTP/2 metadata frames.
/** proxy_on_request_metadata always continues (HTTP/2 metadata is outside ABI 0.2.1). */
export function proxy_on_request_metadata(contextId: u32, numElements: u32): u32 {
  return 0;
}

/** proxy_on_response_metadata always continues (HTTP/2 metadata is outside ABI 0.2.1). */
export function proxy_on_response_metadata(contextId: u32, numElements: u32): u32 {
  return 0;
}
