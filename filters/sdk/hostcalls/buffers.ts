// Body and data buffers, configuration buffers and callout payloads. Reads return null when the buffer
// is not available (lastResult() says why); writes return the WasmResult.
import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "../abi/imports";
import { clearRet, retPtr, takeResult } from "../abi/malloc";
import { BufferType, WasmResult } from "../types";
import { setLastResult } from "./status";
import { decodeUtf8, encodeUtf8 } from "../utf8";

// What a composition (compose.ts) shows one of its filters as the plugin configuration; null: the host's.
let configurationOverride: ArrayBuffer | null = null;

/**
 * setPluginConfigurationOverride makes pluginConfiguration read `bytes` instead of the host's buffer
 * until called with null. A Composition uses it to hand each filter its own part of the configuration.
 */
export function setPluginConfigurationOverride(bytes: ArrayBuffer | null): void {
  configurationOverride = bytes;
}

/** Buffer wraps one of the host's buffers; use the exported instances (requestBody, pluginConfiguration, ...). */
export class Buffer {
  constructor(readonly type: BufferType) {}

  /** length returns the buffer's current size, or 0 with lastResult() != Ok when it is not available. */
  length(): u32 {
    const replaced = configurationOverride;
    if (replaced !== null && this.type == BufferType.PluginConfiguration) {
      setLastResult(WasmResult.Ok);
      return <u32>replaced.byteLength;
    }
    clearRet();
    const r = setLastResult(proxy_get_buffer_status(<u32>this.type, retPtr(), retPtr() + 4));
    return r == WasmResult.Ok ? load<u32>(retPtr()) : 0;
  }

  /** read returns up to maxSize bytes from `start` (all by default); null when the buffer is not available. */
  read(start: u32 = 0, maxSize: u32 = 0xffffffff): ArrayBuffer | null {
    // Envoy rejects start + maxSize overflowing u32, so clamp the default "everything" to fit.
    const size = maxSize > 0xffffffff - start ? 0xffffffff - start : maxSize;
    const replaced = configurationOverride;
    if (replaced !== null && this.type == BufferType.PluginConfiguration) {
      setLastResult(WasmResult.Ok);
      const from = <i32>min(start, <u32>replaced.byteLength);
      return replaced.slice(from, <i32>min(<u64>from + <u64>size, <u64>replaced.byteLength));
    }
    clearRet();
    const r = setLastResult(proxy_get_buffer_bytes(<u32>this.type, start, size, retPtr(), retPtr() + 4));
    if (r != WasmResult.Ok) return null;
    return takeResult();
  }

  /** readString returns the whole buffer decoded as UTF-8; null when the buffer is not available. */
  readString(): string | null {
    const bytes = this.read();
    return bytes === null ? null : decodeUtf8(bytes);
  }

  /** replace swaps the whole buffer content for `data` (body rewrite). */
  replace(data: ArrayBuffer): WasmResult {
    clearRet();
    const status = <WasmResult>proxy_get_buffer_status(<u32>this.type, retPtr(), retPtr() + 4);
    if (status != WasmResult.Ok) return status;
    const len = load<u32>(retPtr());
    return <WasmResult>proxy_set_buffer_bytes(<u32>this.type, 0, len, changetype<usize>(data), <usize>data.byteLength);
  }

  /** append adds `data` after the current content. */
  append(data: ArrayBuffer): WasmResult {
    clearRet();
    const status = <WasmResult>proxy_get_buffer_status(<u32>this.type, retPtr(), retPtr() + 4);
    if (status != WasmResult.Ok) return status;
    const len = load<u32>(retPtr());
    return <WasmResult>proxy_set_buffer_bytes(<u32>this.type, len, 0, changetype<usize>(data), <usize>data.byteLength);
  }

  /** prepend inserts `data` before the current content. */
  prepend(data: ArrayBuffer): WasmResult {
    return <WasmResult>proxy_set_buffer_bytes(<u32>this.type, 0, 0, changetype<usize>(data), <usize>data.byteLength);
  }

  /** replaceString is replace with UTF-8 text. */
  replaceString(text: string): WasmResult {
    return this.replace(encodeUtf8(text));
  }

  /** appendString is append with UTF-8 text. */
  appendString(text: string): WasmResult {
    return this.append(encodeUtf8(text));
  }

  /** prependString is prepend with UTF-8 text. */
  prependString(text: string): WasmResult {
    return this.prepend(encodeUtf8(text));
  }
}

// The buffers are @lazy: only those a module uses are allocated at start-up and visited by the collector.
/** requestBody: the current request body chunk (the whole buffered body after StopIterationAndBuffer). */
// @ts-ignore: decorator
@lazy export const requestBody = new Buffer(BufferType.HttpRequestBody);
/** responseBody: the current response body chunk. */
// @ts-ignore: decorator
@lazy export const responseBody = new Buffer(BufferType.HttpResponseBody);
/** downstreamData: TCP data from the client, in onDownstreamData. */
// @ts-ignore: decorator
@lazy export const downstreamData = new Buffer(BufferType.DownstreamData);
/** upstreamData: TCP data from the upstream, in onUpstreamData. */
// @ts-ignore: decorator
@lazy export const upstreamData = new Buffer(BufferType.UpstreamData);
/** httpCallResponseBody: read-only, inside onHttpCallResponse. */
// @ts-ignore: decorator
@lazy export const httpCallResponseBody = new Buffer(BufferType.HttpCallResponseBody);
/** grpcReceiveBuffer: read-only, inside onGrpcReceive. */
// @ts-ignore: decorator
@lazy export const grpcReceiveBuffer = new Buffer(BufferType.GrpcReceiveBuffer);
/** vmConfiguration: read-only, always readable. */
// @ts-ignore: decorator
@lazy export const vmConfiguration = new Buffer(BufferType.VmConfiguration);
/** pluginConfiguration: read-only, inside onConfigure. */
// @ts-ignore: decorator
@lazy export const pluginConfiguration = new Buffer(BufferType.PluginConfiguration);
/** foreignFunctionArguments: read-only, inside onForeignFunction. */
// @ts-ignore: decorator
@lazy export const foreignFunctionArguments = new Buffer(BufferType.ForeignFunctionArguments);

/** getPluginConfiguration returns the plugin configuration bytes (empty when none); call it in onConfigure. */
export function getPluginConfiguration(): ArrayBuffer {
  const bytes = pluginConfiguration.read();
  return bytes === null ? new ArrayBuffer(0) : bytes;
}

/** getPluginConfigurationString returns the plugin configuration as UTF-8 text ("" when none). */
export function getPluginConfigurationString(): string {
  return decodeUtf8(getPluginConfiguration());
}

/** getVmConfiguration returns the VM configuration bytes (empty when none). */
export function getVmConfiguration(): ArrayBuffer {
  const bytes = vmConfiguration.read();
  return bytes === null ? new ArrayBuffer(0) : bytes;
}

/** getVmConfigurationString returns the VM configuration as UTF-8 text ("" when none). */
export function getVmConfigurationString(): string {
  return decodeUtf8(getVmConfiguration());
}
