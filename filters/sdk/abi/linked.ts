// Which optional export sets the module was built with. abi/tcp.ts and abi/grpc.ts mark themselves at
// start-up (their top-level code runs in _initialize), so a filter built with the HTTP set alone
// refuses gRPC callouts and reports TCP contexts loudly instead of waiting for callbacks Envoy can
// never make.

let tcpLinked = false;
let grpcLinked = false;

/** markTcpLinked is called by abi/tcp.ts at start-up. */
export function markTcpLinked(): void {
  tcpLinked = true;
}

/** markGrpcLinked is called by abi/grpc.ts at start-up. */
export function markGrpcLinked(): void {
  grpcLinked = true;
}

/** isTcpLinked tells whether the module exports the TCP callbacks (abi/tcp.ts or abi/exports.ts). */
export function isTcpLinked(): bool {
  return tcpLinked;
}

/** isGrpcLinked tells whether the module exports the gRPC callout callbacks (abi/grpc.ts or abi/exports.ts). */
export function isGrpcLinked(): bool {
  return grpcLinked;
}
