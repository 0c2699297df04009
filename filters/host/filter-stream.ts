/**
 * One plugin's filter instance on one HTTP stream (Envoy's wasm Context as an HTTP filter): lazy
 * context creation, the per-callback availability of maps and bodies (§4.2), result mapping
 * (§1.3), the failure policy (§4.10) and the on_log → on_done → on_delete end (§4.3).
 */
import { type FilterStatus, mapDataStatus, mapHeadersStatus, mapTrailersStatus } from "./abi.ts";
import { type BodyBuffer, HttpContext, type LocalReply, type RootContext, type StreamHandle } from "./context.ts";
import { type HeaderMap } from "./headers.ts";
import { deleteContext } from "./hostcalls-http.ts";
import { type WasmVm } from "./vm.ts";

/** Failure policy of a plugin (Envoy's failure_policy / fail_open). */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** The reply Envoy sends for a failed VM under fail-closed. */
export const failStreamReply: LocalReply = {
  status: 503,
  details: "wasm_fail_stream",
  body: new Uint8Array(0),
  headers: [],
  grpcStatus: 14,
};

type Callback = "headers" | "data" | "trailers";

/** The maps on_log may read (read-only during on_log). */
export interface FinalMaps {
  requestHeaders?: HeaderMap;
  responseHeaders?: HeaderMap;
  responseTrailers?: HeaderMap;
}
const stopped: Record<Callback, FilterStatus> = {
  headers: "StopAllIterationAndWatermark",
  data: "StopIterationNoBuffer",
  trailers: "StopIteration",
};

/** FilterStream drives one plugin's callbacks for one stream on one worker VM. */
export class FilterStream {
  /** The stream context, or undefined when the filter is not installed (fail-open on a failed VM). */
  readonly ctx: HttpContext | undefined;
  private failReplied = false;
  private skip: boolean;
  private readonly abi010: boolean;

  constructor(
    readonly vm: WasmVm,
    root: RootContext,
    private readonly handle: StreamHandle,
    private readonly policy: FailurePolicy,
  ) {
    this.skip = vm.failed && policy === "FAIL_OPEN";
    this.abi010 = vm.prepared.abiVersion === "0_1_0";
    this.ctx = this.skip || vm.failed ? undefined : vm.newHttpContext(root, handle);
  }

  /** decodeHeaders: lazily creates the context, then on_request_headers. */
  requestHeaders(map: HeaderMap, endOfStream: boolean): FilterStatus {
    const ctx = this.enter("headers", true);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.requestHeaders = map;
    const r = this.abi010 ? this.vm.call(ctx, "proxy_on_request_headers", ctx.id, map.size) : this.vm.call(ctx, "proxy_on_request_headers", ctx.id, map.size, endOfStream ? 1 : 0);
    const status = mapHeadersStatus(r ?? 0, this.vm.settings.allowOnHeadersStopIteration, ctx.localReplyInCallback);
    if (status === "Continue") ctx.requestHeaders = undefined;
    return this.leave(ctx, status, "headers", true);
  }

  /** decodeData: on_request_body with the (possibly accumulated) buffer. */
  requestBody(buffer: BodyBuffer, endOfStream: boolean): FilterStatus {
    const ctx = this.enter("data", true);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.requestBody = buffer;
    ctx.trailersCreatable = endOfStream && !ctx.requestTrailers ? "request" : undefined;
    const r = this.vm.call(ctx, "proxy_on_request_body", ctx.id, buffer.bytes.length, endOfStream ? 1 : 0);
    ctx.trailersCreatable = undefined;
    const status = mapDataStatus(r ?? 0, ctx.localReplyInCallback);
    if (status === "Continue") ctx.requestBody = undefined;
    return this.leave(ctx, status, "data", true);
  }

  /** decodeTrailers: on_request_trailers. */
  requestTrailers(map: HeaderMap): FilterStatus {
    const ctx = this.enter("trailers", true);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.requestTrailers = map;
    const status = mapTrailersStatus(this.vm.call(ctx, "proxy_on_request_trailers", ctx.id, map.size) ?? 0, ctx.localReplyInCallback);
    if (status === "Continue") ctx.requestTrailers = undefined;
    return this.leave(ctx, status, "trailers", true);
  }

  /** encodeHeaders: on_response_headers (skipped when no decode callback created the context). */
  responseHeaders(map: HeaderMap, endOfStream: boolean): FilterStatus {
    const ctx = this.enter("headers", false);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.responseHeaders = map;
    const r = this.abi010 ? this.vm.call(ctx, "proxy_on_response_headers", ctx.id, map.size) : this.vm.call(ctx, "proxy_on_response_headers", ctx.id, map.size, endOfStream ? 1 : 0);
    const status = mapHeadersStatus(r ?? 0, this.vm.settings.allowOnHeadersStopIteration, ctx.localReplyInCallback);
    if (status === "Continue") ctx.responseHeaders = undefined;
    return this.leave(ctx, status, "headers", false);
  }

  /** encodeData: on_response_body. */
  responseBody(buffer: BodyBuffer, endOfStream: boolean): FilterStatus {
    const ctx = this.enter("data", false);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.responseBody = buffer;
    ctx.trailersCreatable = endOfStream && !ctx.responseTrailers ? "response" : undefined;
    const r = this.vm.call(ctx, "proxy_on_response_body", ctx.id, buffer.bytes.length, endOfStream ? 1 : 0);
    ctx.trailersCreatable = undefined;
    const status = mapDataStatus(r ?? 0, ctx.localReplyInCallback);
    if (status === "Continue") ctx.responseBody = undefined;
    return this.leave(ctx, status, "data", false);
  }

  /** encodeTrailers: on_response_trailers. */
  responseTrailers(map: HeaderMap): FilterStatus {
    const ctx = this.enter("trailers", false);
    if (!(ctx instanceof HttpContext)) return ctx;
    ctx.responseTrailers = map;
    const status = mapTrailersStatus(this.vm.call(ctx, "proxy_on_response_trailers", ctx.id, map.size) ?? 0, ctx.localReplyInCallback);
    if (status === "Continue") ctx.responseTrailers = undefined;
    return this.leave(ctx, status, "trailers", false);
  }

  /**
   * complete runs the stream end for this filter alone: log() then destroy(). A chain instead
   * logs every filter first and destroys them afterwards, as Envoy does.
   */
  complete(finalMaps: FinalMaps): void {
    this.log(finalMaps);
    this.destroy();
  }

  /**
   * log runs on_log with the final maps, read-only. A context no decode callback
   * created is created first (Envoy's Context::log).
   */
  log(finalMaps: FinalMaps): void {
    const ctx = this.ctx;
    if (!ctx || ctx.deleted || this.vm.failed) return;
    this.ensureCreated(ctx);
    ctx.inLog = true;
    // The stream's own maps, not copies: nothing changes them any more, and while inLog is set
    // every mutation hostcall refuses them (BadArgument), as Envoy's log-phase maps are read-only.
    ctx.requestHeaders = finalMaps.requestHeaders;
    ctx.responseHeaders = finalMaps.responseHeaders;
    ctx.responseTrailers = finalMaps.responseTrailers;
    ctx.requestTrailers = undefined;
    ctx.requestBody = undefined;
    ctx.responseBody = undefined;
    this.vm.call(ctx, "proxy_on_log", ctx.id);
  }

  /** destroy runs on_done (result ignored for streams) and on_delete. */
  destroy(): void {
    const ctx = this.ctx;
    if (!ctx || ctx.deleted || this.vm.failed) return;
    if (ctx.created) this.vm.call(ctx, "proxy_on_done", ctx.id);
    if (ctx.created) deleteContext(this.vm, ctx);
    else this.vm.contexts.delete(ctx.id);
  }

  private ensureCreated(ctx: HttpContext): void {
    if (ctx.created) return;
    ctx.created = true;
    this.vm.call(ctx, "proxy_on_context_create", ctx.id, ctx.root.id);
  }

  /**
   * The start of every callback, with the failure policy: returns the context to call the guest
   * with, or the status to answer without calling it. A trap during this stream's own call fails
   * this stream with 503 under every policy (Envoy 1.40 does so even for FAIL_OPEN, see leave());
   * a VM that failed earlier is skipped under FAIL_OPEN and answers 503 under FAIL_CLOSED.
   */
  private enter(kind: Callback, decoding: boolean): HttpContext | FilterStatus {
    if (this.skip) return "Continue";
    const ctx = this.ctx;
    if (ctx && !this.vm.failed) {
      if (decoding) this.ensureCreated(ctx);
      else if (!ctx.created) return "Continue";
      if (this.vm.failed) return this.failStream(kind, decoding);
      ctx.localReplyInCallback = false;
      return ctx;
    }
    if (this.policy === "FAIL_OPEN" && !this.failReplied) {
      this.skip = true;
      return "Continue";
    }
    return this.failStream(kind, decoding);
  }

  /** The end of every callback that called the guest: the status, or 503 when the call trapped. */
  private leave(ctx: HttpContext, status: FilterStatus, kind: Callback, decoding: boolean): FilterStatus {
    ctx.localReplyInCallback = false;
    return this.vm.failed ? this.failStream(kind, decoding) : status;
  }

  /** Sends the 503 once per stream; this plugin's encode callbacks for that reply are skipped. */
  private failStream(kind: Callback, decoding: boolean): FilterStatus {
    if (this.failReplied) return decoding ? stopped[kind] : "Continue";
    this.failReplied = true;
    this.handle.sendLocalReply(failStreamReply);
    return stopped[kind];
  }
}
