// Enums of the proxy-wasm ABI 0.2.1 with the values Envoy uses. Names are camelCase-friendly versions
// of the spec's (proxy_status_t → WasmResult, proxy_map_type_t → MapType, ...).

/** WasmResult is the status every hostcall returns (proxy_status_t, plus the codes Envoy also uses). */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** LogLevel of proxy_log and proxy_get_log_level; Off (6) is what Envoy reports when logging is off. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
  Off = 6,
}

/** FilterHeadersStatus is what onRequestHeaders/onResponseHeaders return (Envoy's 0–4 mapping). */
export enum FilterHeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** FilterDataStatus is what onRequestBody/onResponseBody return. */
export enum FilterDataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** FilterTrailersStatus is what onRequestTrailers/onResponseTrailers return. */
export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** FilterStatus is what the TCP callbacks return (proxy_action_t: Continue or Pause). */
export enum FilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** BufferType selects the buffer of proxy_get_buffer_bytes / proxy_set_buffer_bytes. */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
}

/** MapType selects the header map of the proxy_*_header_map_* hostcalls. */
export enum MapType {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** PeerType tells which side closed a TCP connection. */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** StreamType selects the stream of proxy_continue_stream / proxy_close_stream. */
export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

/** MetricType is the kind passed to proxy_define_metric. */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** GrpcStatus codes for sendLocalResponse; InvalidCode (-1) means "no grpc-status header". */
export enum GrpcStatus {
  InvalidCode = -1,
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}
