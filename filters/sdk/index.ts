// Public API of the AssemblyScript proxy-wasm SDK (ABI 0.2.1), package proxy-wasm-as-sdk. A filter's entry file does:
//   export * from "proxy-wasm-as-sdk/abi/exports";   // the ABI callbacks the host calls
//   import { RootContext, HttpContext, registerRootContext, ... } from "proxy-wasm-as-sdk";
// See README.md for a walkthrough.

export {
  BufferType,
  FilterDataStatus,
  FilterHeadersStatus,
  FilterStatus,
  FilterTrailersStatus,
  GrpcStatus,
  LogLevel,
  MapType,
  MetricType,
  PeerType,
  StreamType,
  WasmResult,
} from "./types";

export { BaseContext, CalloutHandler, HttpContext, RootContext, TcpContext } from "./context";
export { activeContextId, registerRootBuilder, registerRootContext, RootBuilder, RootFactory } from "./dispatcher";
export { ComposedHttp, ComposedRoot, Composition, registerComposition } from "./compose";

export { lastResult } from "./hostcalls/status";
export {
  log,
  logCritical,
  logDebug,
  logEnabled,
  logError,
  logInfo,
  logLevel,
  logTrace,
  logWarn,
  refreshLogLevel,
} from "./hostcalls/log";
export {
  fromPairs,
  grpcReceiveInitialMetadata,
  grpcReceiveTrailingMetadata,
  HeaderMap,
  HeaderPair,
  HeaderSnapshot,
  httpCallResponseHeaders,
  httpCallResponseTrailers,
  requestHeaders,
  requestTrailers,
  responseHeaders,
  responseTrailers,
  toPairs,
} from "./hostcalls/headers";
export {
  Buffer,
  downstreamData,
  foreignFunctionArguments,
  getPluginConfiguration,
  getPluginConfigurationString,
  getVmConfiguration,
  getVmConfigurationString,
  grpcReceiveBuffer,
  httpCallResponseBody,
  pluginConfiguration,
  requestBody,
  responseBody,
  upstreamData,
  vmConfiguration,
} from "./hostcalls/buffers";
export {
  closeStream,
  continueRequest,
  continueResponse,
  continueStream,
  getStatus,
  HostStatus,
  sendLocalResponse,
  sendLocalResponseBytes,
} from "./hostcalls/stream";
export {
  encodePropertyPath,
  getProperty,
  getPropertyBool,
  getPropertyInt,
  getPropertyMap,
  getPropertyString,
  setProperty,
  setPropertyString,
} from "./hostcalls/properties";
export {
  dequeueSharedQueue,
  enqueueSharedQueue,
  getSharedData,
  getSharedDataBytes,
  registerSharedQueue,
  resolveSharedQueue,
  setSharedData,
  setSharedDataBytes,
  SharedData,
} from "./hostcalls/shared";
export { Counter, defineMetric, Gauge, Histogram, Metric } from "./hostcalls/metrics";
export { grpcCall, grpcCancel, grpcClose, grpcSend, grpcStream, httpCall } from "./hostcalls/callouts";
export { callbackTimeNanoseconds, callForeignFunction, done, getCurrentTimeNanoseconds, setEffectiveContext, setTickPeriod } from "./hostcalls/misc";

export { deserializePairs, Pair, serializePairs } from "./pairs";
export {
  childPath,
  indexPath,
  JsonArray,
  JsonBool,
  JsonKind,
  JsonNumber,
  JsonObject,
  JsonResult,
  JsonString,
  JsonValue,
  parseJson,
} from "./json";
export { ConfigReader } from "./config";
export { decimal } from "./decimal";
export { asciiLower, decodeUtf8, encodeUtf8, isValidUtf8, REPLACEMENT_CHARACTER, utf8 } from "./utf8";
