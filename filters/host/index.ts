/**
 * Public API of the proxy-wasm host emulator (package proxy-wasm-host-emulator). See README.md for an
 * example test; `proxy-wasm-host-emulator/envoy` is the real-Envoy harness and
 * `proxy-wasm-host-emulator/testing` the node:test helpers.
 *
 * - createHost: one plugin, proxytest style (call each callback yourself).
 * - createChain: a filter chain run through Envoy's filter-manager state machine.
 * - pair codec, WebAssembly binary reader and ABI enums, for tests of SDKs and modules.
 */
export { createHost, Host, HttpStream, toBytes, type Header, type HostOptions, type StreamOptions } from "./host.ts";
export {
  createChain,
  Chain,
  ChainStartError,
  type ChainFilter,
  type ChainOptions,
  type ChainRequest,
  type ChainResult,
  type Upstream,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./chain.ts";
export { type PluginOptions, type StartResult } from "./plugin.ts";
export { PluginLoadError } from "./module.ts";
export { type FailurePolicy, failStreamReply } from "./filter-stream.ts";
export {
  type CalloutFailure,
  type CalloutOutcome,
  type CalloutRecord,
  type CalloutRequest,
  type CalloutResponse,
  type CalloutReset,
  type ClusterHandler,
  calloutResetResponse,
  calloutTimeoutResponse,
} from "./callouts.ts";
export { type ChainState } from "./chain-types.ts";
export { ManualClock } from "./clock.ts";
export { Runtime, type LogEntry, type MetricValue, type SharedQueue } from "./runtime.ts";
export { type LocalReply, type StreamInfo } from "./context.ts";
export { type PropertyOverrides, type PropertyValue, encodeProperty } from "./properties.ts";
export { serializePairs, parsePairs, toBytePairs, toStringPairs, pairsMaxBytes, pairsMaxCount, type BytePair } from "./pairs.ts";
export { readModuleInfo, WasmBinaryError, type ModuleInfo, type FuncType, type ImportEntry, type ExportEntry, type ExternKind, type ValueType } from "./binary.ts";
export { envImportNames, wasiImportNames, type AbiVersion } from "./abi-table.ts";
export { HeaderMap, inlineHeaders, type HeaderEntry, type HeaderInput, type HeaderMapKind, type HeaderValue } from "./headers.ts";
export {
  WasmResult,
  LogLevel,
  MapType,
  BufferType,
  StreamType,
  MetricType,
  type FailState,
  type FilterStatus,
  type LogLevelName,
  type LogLevelNumber,
  logLevelNames,
} from "./abi.ts";
