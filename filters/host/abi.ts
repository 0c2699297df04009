/**
 * Numeric enums of the proxy-wasm ABI as Envoy's host uses them (proxy-wasm-host.md §2.3).
 * Values come from the spec and proxy-wasm-cpp-sdk; names are camelCase per project style.
 */

/** WasmResult: what every `env.proxy_*` hostcall returns. */
export const WasmResult = {
  ok: 0,
  notFound: 1,
  badArgument: 2,
  serializationFailure: 3,
  parseFailure: 4,
  badExpression: 5,
  invalidMemoryAccess: 6,
  empty: 7,
  casMismatch: 8,
  resultMismatch: 9,
  internalFailure: 10,
  brokenConnection: 11,
  unimplemented: 12,
} as const;

/** LogLevel as passed to `proxy_log` (0 trace … 5 critical). */
export const LogLevel = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 } as const;
/** A log level number, 0..5 (6 = off for `logLevel`). */
export type LogLevelNumber = 0 | 1 | 2 | 3 | 4 | 5 | 6;
/** Level names by number, for log records. */
export const logLevelNames = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;
/** A log level name. */
export type LogLevelName = (typeof logLevelNames)[number];

/** Header map types (proxy_get_header_map_* `map` argument). */
export const MapType = {
  requestHeaders: 0,
  requestTrailers: 1,
  responseHeaders: 2,
  responseTrailers: 3,
  grpcInitialMetadata: 4,
  grpcTrailingMetadata: 5,
  httpCallResponseHeaders: 6,
  httpCallResponseTrailers: 7,
} as const;

/** Buffer types (proxy_get_buffer_bytes `type` argument). */
export const BufferType = {
  requestBody: 0,
  responseBody: 1,
  downstreamData: 2,
  upstreamData: 3,
  httpCallResponseBody: 4,
  grpcReceiveBuffer: 5,
  vmConfiguration: 6,
  pluginConfiguration: 7,
  foreignFunctionArguments: 8,
} as const;

/** Stream types for continue/close. */
export const StreamType = { request: 0, response: 1, downstream: 2, upstream: 3 } as const;

/** Metric types; a metric id's low two bits carry its type. */
export const MetricType = { counter: 0, gauge: 1, histogram: 2 } as const;

/** Envoy's FailState of a VM instance. */
export type FailState =
  | "ok"
  | "unableToCreateVm"
  | "missingFunction"
  | "unableToInitializeCode"
  | "startFailed"
  | "configureFailed"
  | "runtimeError";

/** The Envoy filter status a guest callback result maps to (proxy-wasm-host.md §1.3). */
export type FilterStatus =
  | "Continue"
  | "StopIteration"
  | "StopAllIterationAndBuffer"
  | "StopAllIterationAndWatermark"
  | "StopIterationAndBuffer"
  | "StopIterationAndWatermark"
  | "StopIterationNoBuffer";

/**
 * mapHeadersStatus maps a guest's on_*_headers result to Envoy's status. `localReply` is true when
 * the callback sent a local response, which forces StopAllIterationAndWatermark.
 */
export function mapHeadersStatus(value: number, allowStopIteration: boolean, localReply: boolean): FilterStatus {
  if (localReply) return "StopAllIterationAndWatermark";
  switch (value >>> 0) {
    case 0:
    case 2:
      return "Continue";
    case 1:
      return allowStopIteration ? "StopIteration" : "StopAllIterationAndWatermark";
    case 3:
      return "StopAllIterationAndBuffer";
    default:
      return "StopAllIterationAndWatermark";
  }
}

/** mapDataStatus maps a guest's on_*_body result to Envoy's data status. */
export function mapDataStatus(value: number, localReply: boolean): FilterStatus {
  if (localReply) return "StopIterationNoBuffer";
  switch (value >>> 0) {
    case 0:
      return "Continue";
    case 1:
      return "StopIterationAndBuffer";
    case 2:
      return "StopIterationAndWatermark";
    default:
      return "StopIterationNoBuffer";
  }
}

/** mapTrailersStatus maps a guest's on_*_trailers result: 0 continues, anything else stops. */
export function mapTrailersStatus(value: number, localReply: boolean): FilterStatus {
  return !localReply && value >>> 0 === 0 ? "Continue" : "StopIteration";
}
