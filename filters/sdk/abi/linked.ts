// Which optional export sets the module was built with. abi/http.ts, abi/tcp.ts and abi/grpc.ts mark
// themselves at start-up (their top-level code runs in _initialize), so a filter built with the HTTP
// set alone refuses gRPC callouts and reports TCP contexts loudly, and one built with the headers set
// alone (abi/headers.ts) refuses HTTP callouts and timers, instead of waiting for callbacks Envoy can
// never make.

let httpLinked = false;
let tcpLinked = false;
let grpcLinked = false;

/** markHttpLinked is called by abi/http.ts at start-up. */
export function markHttpLinked(): void {
  httpLinked = true;
}

/** markTcpLinked is called by abi/tcp.ts at start-up. */
export function markTcpLinked(): void {
  tcpLinked = true;
}

/** markGrpcLinked is called by abi/grpc.ts at start-up. */
export function markGrpcLinked(): void {
  grpcLinked = true;
}

/** isHttpLinked tells whether the module exports the full HTTP set (abi/http.ts or abi/exports.ts), not only abi/headers.ts. */
export function isHttpLinked(): bool {
  return httpLinked;
}

/** isTcpLinked tells whether the module exports the TCP callbacks (abi/tcp.ts or abi/exports.ts). */
export function isTcpLinked(): bool {
  return tcpLinked;
}

/** isGrpcLinked tells whether the module exports the gRPC callout callbacks (abi/grpc.ts or abi/exports.ts). */
export function isGrpcLinked(): bool {
  return grpcLinked;
}
