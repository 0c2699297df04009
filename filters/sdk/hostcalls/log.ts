// Logging through proxy_log, skipped below the host's log level so a disabled debug line costs no
// string encoding and no hostcall. The level is cached and refreshed by the SDK on proxy_on_configure,
// proxy_on_tick and every LOG_LEVEL_REFRESH_STREAMS new streams (never inside _initialize, where Envoy
// forbids the call). Asking on every stream was one hostcall per request, a third of what an empty
// filter cost in Envoy (filters/sdk/PERFORMANCE.md).
import { proxy_get_log_level, proxy_log } from "../abi/imports";
import { retPtr } from "../abi/malloc";
import { LogLevel, WasmResult } from "../types";
import { encodeUtf8 } from "../utf8";

/**
 * LOG_LEVEL_REFRESH_STREAMS bounds how late a log level changed at runtime (Envoy's admin /logging)
 * takes effect: from the next configure or tick, and at the latest on the LOG_LEVEL_REFRESH_STREAMS-th
 * stream created after the change.
 */
export const LOG_LEVEL_REFRESH_STREAMS: i32 = 32;

// Until the first refresh the level is unknown, so everything is sent and the host filters.
let cachedLevel: LogLevel = LogLevel.Trace;
// New streams left until the next query; 0 makes the first stream ask.
let streamsUntilRefresh: i32 = 0;

/** refreshLogLevel asks the host for its current level; on failure the cached level is kept. */
export function refreshLogLevel(): WasmResult {
  streamsUntilRefresh = LOG_LEVEL_REFRESH_STREAMS;
  const result = <WasmResult>proxy_get_log_level(retPtr());
  if (result == WasmResult.Ok) cachedLevel = <LogLevel>load<u32>(retPtr());
  return result;
}

/** refreshLogLevelForStream is called by the SDK when a stream starts; it asks the host every LOG_LEVEL_REFRESH_STREAMS streams. */
export function refreshLogLevelForStream(): void {
  if (--streamsUntilRefresh <= 0) refreshLogLevel();
}

/** logLevel returns the cached host log level (Trace until the SDK first asked the host). */
export function logLevel(): LogLevel {
  return cachedLevel;
}

/** logEnabled tells whether a message at `level` would be sent; use it to skip building expensive messages. */
export function logEnabled(level: LogLevel): bool {
  return level >= cachedLevel && level <= LogLevel.Critical;
}

/** log sends `message` at `level` when the host's level allows it; returns Ok when skipped. */
export function log(level: LogLevel, message: string): WasmResult {
  if (!logEnabled(level)) return WasmResult.Ok;
  return logBytes(level, encodeUtf8(message));
}

/** logBytes is log for a message already in UTF-8 (the SDK's own lines built from host bytes); Ok when skipped. */
export function logBytes(level: LogLevel, message: ArrayBuffer): WasmResult {
  if (!logEnabled(level)) return WasmResult.Ok;
  return <WasmResult>proxy_log(<u32>level, changetype<usize>(message), <usize>message.byteLength);
}

/** logTrace logs at trace level (see log). */
export function logTrace(message: string): WasmResult {
  return log(LogLevel.Trace, message);
}
/** logDebug logs at debug level (see log). */
export function logDebug(message: string): WasmResult {
  return log(LogLevel.Debug, message);
}
/** logInfo logs at info level (see log). */
export function logInfo(message: string): WasmResult {
  return log(LogLevel.Info, message);
}
/** logWarn logs at warn level (see log). */
export function logWarn(message: string): WasmResult {
  return log(LogLevel.Warn, message);
}
/** logError logs at error level (see log). */
export function logError(message: string): WasmResult {
  return log(LogLevel.Error, message);
}
/** logCritical logs at critical level (see log). */
export function logCritical(message: string): WasmResult {
  return log(LogLevel.Critical, message);
}
