// Several filters in ONE module, with the semantics they would have as separate Envoy HTTP filters in
// the same order (README "Composing filters"). Why: every wasm filter in an Envoy chain pays the
// call boundary (about seven calls into the VM per stream) before it does anything, so three filters
// in three modules pay it three times; composed, they pay it once and share one read of the headers.
//
//   export * from "proxy-wasm-as-sdk/abi/exports";
//   registerComposition(new Composition("policy").add("token-auth", newTokenAuthRoot).add("rate-limit", newRateLimitRoot));
//
// Configuration: one JSON object keyed by filter name, each value the filter's own configuration
// (an object, or a string handed over as-is). Filters run in the order they were added.
import { CalloutHandler, HttpContext, RootContext } from "./context";
import { activeContextId, CalloutWrapper, httpContext, registerRootBuilder, RootBuilder, RootFactory, setCalloutWrapper } from "./dispatcher";
import { ConfigReader } from "./config";
import { getPluginConfigurationString, setPluginConfigurationOverride } from "./hostcalls/buffers";
import { hostContinueStream, localResponsesSent, setStreamInterceptor, StreamInterceptor } from "./hostcalls/stream";
import { jsonText } from "./compose-config";
import { JsonKind, JsonString } from "./json";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, StreamType } from "./types";
import { encodeUtf8 } from "./utf8";

class Member {
  constructor(readonly name: string, readonly factory: RootFactory) {}
}

/** Composition lists the filters of one module, in chain order; register it with registerComposition. */
export class Composition extends RootBuilder {
  readonly members: Array<Member> = new Array<Member>();
  /** `name` prefixes configuration errors about the composition itself (unknown filter names). */
  constructor(readonly name: string) {
    super();
  }

  /** add appends a filter: `name` is its key in the configuration, `factory` creates its root context. Returns this. */
  add(name: string, factory: RootFactory): Composition {
    this.members.push(new Member(name, factory));
    return this;
  }

  /** Implements RootBuilder.create: one ComposedRoot holding each filter's own root context. */
  create(contextId: u32): RootContext {
    return new ComposedRoot(contextId, this);
  }
}

/** registerComposition binds `rootId` to the composition (see registerRootContext for root id rules). */
export function registerComposition(composition: Composition, rootId: string = ""): void {
  setStreamInterceptor(new Resumer());
  setCalloutWrapper(new AnswerWatcher());
  registerRootBuilder(composition, rootId);
}

/** ComposedRoot forwards every root callback to each filter's root context, in order. */
export class ComposedRoot extends RootContext {
  readonly children: Array<RootContext> = new Array<RootContext>();
  constructor(contextId: u32, readonly composition: Composition) {
    super(contextId);
    const members = composition.members;
    for (let i = 0; i < members.length; i++) this.children.push(unchecked(members[i]).factory(contextId));
  }

  /** Implements RootContext.onVmStart: every filter starts; false if any refused. */
  onVmStart(vmConfigurationSize: u32): bool {
    let ok = true;
    for (let i = 0; i < this.children.length; i++) ok = unchecked(this.children[i]).onVmStart(vmConfigurationSize) && ok;
    return ok;
  }

  /**
   * Implements RootContext.onConfigure: each filter reads its own part of the configuration (a
   * missing key reads as an empty configuration); the first refusal refuses the whole plugin.
   */
  onConfigure(pluginConfigurationSize: u32): bool {
    const reader = new ConfigReader(this.composition.name);
    const config = reader.parse(getPluginConfigurationString(), true);
    if (config === null) return reader.finish();
    const members = this.composition.members;
    const names = new Array<string>(members.length);
    for (let i = 0; i < members.length; i++) unchecked((names[i] = unchecked(members[i]).name));
    for (let i = 0; i < config.keys.length; i++) {
      const key = unchecked(config.keys[i]);
      if (!names.includes(key)) reader.fail(config.path + "." + key, "not a filter of this module (expected one of: " + names.join(", ") + ")");
    }
    if (!reader.ok()) return reader.finish();
    for (let i = 0; i < members.length; i++) {
      const value = config.get(unchecked(names[i]));
      const text = value === null ? "" : value.kind == JsonKind.String ? changetype<JsonString>(value).value : jsonText(value);
      const bytes = encodeUtf8(text);
      setPluginConfigurationOverride(bytes);
      const ok = unchecked(this.children[i]).onConfigure(<u32>bytes.byteLength);
      setPluginConfigurationOverride(null);
      if (!ok) return false;
    }
    return true;
  }

  /** Implements RootContext.onTick: every filter's onTick (they share the root's one tick period). */
  onTick(): void {
    for (let i = 0; i < this.children.length; i++) unchecked(this.children[i]).onTick();
  }

  /** Implements RootContext.onQueueReady: every filter sees the token and ignores queues it did not register. */
  onQueueReady(queueToken: u32): void {
    for (let i = 0; i < this.children.length; i++) unchecked(this.children[i]).onQueueReady(queueToken);
  }

  /** Implements RootContext.onForeignFunction: forwarded to every filter. */
  onForeignFunction(functionId: u32, argumentsSize: u32): void {
    for (let i = 0; i < this.children.length; i++) unchecked(this.children[i]).onForeignFunction(functionId, argumentsSize);
  }

  /** Implements BaseContext.onDone: true only when every filter is done. */
  onDone(): bool {
    let done = true;
    for (let i = 0; i < this.children.length; i++) done = unchecked(this.children[i]).onDone() && done;
    return done;
  }

  /** Implements BaseContext.onDelete. */
  onDelete(): void {
    for (let i = 0; i < this.children.length; i++) unchecked(this.children[i]).onDelete();
  }

  /** Implements RootContext.createHttpContext: the stream context that drives each filter's own. */
  createHttpContext(contextId: u32): HttpContext {
    return new ComposedHttp(contextId, this);
  }
}

// Which callback a filter stopped in, so a resume continues the same callback with the next filter.
const NONE: i32 = 0;
const REQUEST_HEADERS: i32 = 1;
const REQUEST_BODY: i32 = 2;
const REQUEST_TRAILERS: i32 = 3;
const RESPONSE_HEADERS: i32 = 4;
const RESPONSE_BODY: i32 = 5;
const RESPONSE_TRAILERS: i32 = 6;

/**
 * ComposedHttp runs each filter's stream context as Envoy would run separate filters: request
 * callbacks in order, response callbacks in reverse, and a filter that stops (Stop status, local
 * response, close) stops the ones after it. A filter's context is created when the request first
 * reaches it (Envoy creates a wasm filter's context lazily), so filters after a refusal see neither
 * the request nor the refusal's response callbacks, and are created only for onLog, as in Envoy.
 */
export class ComposedHttp extends HttpContext {
  private readonly kids: Array<HttpContext | null>;
  /** Index of the filter that stopped in `stoppedPhase`, or -1. */
  private stoppedAt: i32 = -1;
  private stoppedPhase: i32 = NONE;
  /** How many filters the request headers have reached (each one's context exists). */
  private reached: i32 = 0;
  private headersPassed: bool = false;
  /** Set when a filter sent a local response or closed the stream: no request callback runs after it. */
  private ended: bool = false;
  /** True while a filter handles a callout's answer: a resume then waits until the handler returned. */
  answering: bool = false;
  /** The stream type a filter resumed while answering, or -1. */
  private deferred: i32 = -1;
  // The arguments of the callback in progress, for a filter that resumes it later.
  private count: u32 = 0;
  private endOfStream: bool = false;

  constructor(contextId: u32, readonly composed: ComposedRoot) {
    super(contextId, composed);
    const n = composed.children.length;
    this.kids = new Array<HttpContext | null>(n);
  }

  private kid(i: i32): HttpContext {
    const existing = unchecked(this.kids[i]);
    if (existing !== null) return existing;
    const created = unchecked(this.composed.children[i]).createHttpContext(this.contextId);
    unchecked((this.kids[i] = created));
    return created;
  }

  /** Calls filter `i` in `phase`; returns its status, or -1 when it ended the stream. */
  private call(i: i32, phase: i32): i32 {
    const kid = this.kid(i);
    const sent = localResponsesSent();
    let status: i32 = 0;
    switch (phase) {
      case REQUEST_HEADERS: status = <i32>kid.onRequestHeaders(this.count, this.endOfStream); break;
      case REQUEST_BODY: status = <i32>kid.onRequestBody(this.count, this.endOfStream); break;
      case REQUEST_TRAILERS: status = <i32>kid.onRequestTrailers(this.count); break;
      case RESPONSE_HEADERS: status = <i32>kid.onResponseHeaders(this.count, this.endOfStream); break;
      case RESPONSE_BODY: status = <i32>kid.onResponseBody(this.count, this.endOfStream); break;
      default: status = <i32>kid.onResponseTrailers(this.count);
    }
    return localResponsesSent() != sent ? -1 : status;
  }

  /** Runs the request side of `phase` from filter `from` on; 0 when every filter continued. */
  private request(phase: i32, from: i32): i32 {
    // Envoy delivers nothing more of a request that a filter answered.
    if (this.ended) return this.stop(-1, phase, -1);
    const n = this.kids.length;
    // Body and trailers reach only the filters the headers reached (Envoy does not iterate past a stop).
    const limit = phase == REQUEST_HEADERS || this.headersPassed ? n : this.reached;
    for (let i = from; i < limit; i++) {
      if (phase == REQUEST_HEADERS && i >= this.reached) this.reached = i + 1;
      const status = this.call(i, phase);
      // ContinueAndEndStream (2) is Continue for headers in Envoy's mapping.
      if (status == 0 || (phase == REQUEST_HEADERS && status == 2)) continue;
      return this.stop(i, phase, status);
    }
    if (phase == REQUEST_HEADERS) this.headersPassed = true;
    return 0;
  }

  /** Runs the response side of `phase` from filter `from` down to the first; skips filters never created. */
  private response(phase: i32, from: i32): i32 {
    for (let i = from; i >= 0; i--) {
      if (unchecked(this.kids[i]) === null) continue;
      const status = this.call(i, phase);
      if (status == 0 || (phase == RESPONSE_HEADERS && status == 2)) continue;
      return this.stop(i, phase, status);
    }
    return 0;
  }

  /** Records a stop; a filter that ended the stream is not resumable and gets the Stop status of its callback. */
  private stop(i: i32, phase: i32, status: i32): i32 {
    if (status >= 0) {
      this.stoppedAt = i;
      this.stoppedPhase = phase;
      return status;
    }
    this.stoppedAt = -1;
    this.stoppedPhase = NONE;
    this.ended = true;
    if (phase == REQUEST_HEADERS || phase == RESPONSE_HEADERS) return <i32>FilterHeadersStatus.StopAllIterationAndWatermark;
    if (phase == REQUEST_BODY || phase == RESPONSE_BODY) return <i32>FilterDataStatus.StopIterationNoBuffer;
    return <i32>FilterTrailersStatus.StopIteration;
  }

  private enter(count: u32, endOfStream: bool): void {
    this.count = count;
    this.endOfStream = endOfStream;
  }

  /**
   * resume continues the stopped callback with the filter after the one that stopped (continueStream
   * from a filter of this composition). Returns -1 when nothing inside the module was stopped in that
   * direction (the call goes to the host), else the result of continuing the stream at the host, which
   * happens only once every remaining filter continued.
   */
  resume(streamType: StreamType): i32 {
    const phase = this.stoppedPhase;
    if (phase != NONE && this.answering) {
      // Envoy acts on a continue only after the callback returns, so the next filter runs after
      // the resuming one's handler, not inside it (finishAnswer).
      this.deferred = <i32>streamType;
      return 0;
    }
    return this.resumeNow(streamType);
  }

  /** Ends a callout answer: runs a resume the handler asked for. */
  finishAnswer(): void {
    this.answering = false;
    const deferred = this.deferred;
    this.deferred = -1;
    if (deferred >= 0 && this.resumeNow(<StreamType>deferred) < 0) hostContinueStream(<StreamType>deferred);
  }

  private resumeNow(streamType: StreamType): i32 {
    const phase = this.stoppedPhase;
    const requestSide = phase >= REQUEST_HEADERS && phase <= REQUEST_TRAILERS;
    if (phase == NONE || (streamType == StreamType.HttpRequest) != requestSide) return -1;
    if (streamType != StreamType.HttpRequest && streamType != StreamType.HttpResponse) return -1;
    const at = this.stoppedAt;
    this.stoppedAt = -1;
    this.stoppedPhase = NONE;
    const status = requestSide ? this.request(phase, at + 1) : this.response(phase, at - 1);
    // A later filter stopped in turn (or ended the stream): the module stays stopped, as the chain would.
    if (status != 0) return 0;
    return <i32>hostContinueStream(streamType);
  }

  /** Implements HttpContext.onRequestHeaders. */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.enter(numHeaders, endOfStream);
    return <FilterHeadersStatus>this.request(REQUEST_HEADERS, 0);
  }

  /** Implements HttpContext.onRequestBody. */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    this.enter(bodySize, endOfStream);
    return <FilterDataStatus>this.request(REQUEST_BODY, 0);
  }

  /** Implements HttpContext.onRequestTrailers. */
  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    this.enter(numTrailers, false);
    return <FilterTrailersStatus>this.request(REQUEST_TRAILERS, 0);
  }

  /** Implements HttpContext.onResponseHeaders: the filters in reverse order. */
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.enter(numHeaders, endOfStream);
    return <FilterHeadersStatus>this.response(RESPONSE_HEADERS, this.kids.length - 1);
  }

  /** Implements HttpContext.onResponseBody: the filters in reverse order. */
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    this.enter(bodySize, endOfStream);
    return <FilterDataStatus>this.response(RESPONSE_BODY, this.kids.length - 1);
  }

  /** Implements HttpContext.onResponseTrailers: the filters in reverse order. */
  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    this.enter(numTrailers, false);
    return <FilterTrailersStatus>this.response(RESPONSE_TRAILERS, this.kids.length - 1);
  }

  /** Implements BaseContext.onLog: every filter, creating those the request never reached (as Envoy's on_log does). */
  onLog(): void {
    for (let i = 0; i < this.kids.length; i++) this.kid(i).onLog();
  }

  /** Implements BaseContext.onDone: true only when every created filter is done. */
  onDone(): bool {
    let done = true;
    for (let i = 0; i < this.kids.length; i++) {
      const kid = unchecked(this.kids[i]);
      if (kid !== null) done = kid.onDone() && done;
    }
    return done;
  }

  /** Implements BaseContext.onDelete. */
  onDelete(): void {
    for (let i = 0; i < this.kids.length; i++) {
      const kid = unchecked(this.kids[i]);
      if (kid !== null) kid.onDelete();
    }
  }
}

/** Calls a filter's callout handler, then lets its composition run a resume the handler asked for. */
class WatchedAnswer extends CalloutHandler {
  constructor(readonly handler: CalloutHandler, readonly stream: ComposedHttp) {
    super();
  }
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    this.stream.answering = true;
    this.handler.onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
    this.stream.finishAnswer();
  }
  onGrpcReceiveInitialMetadata(token: u32, numElements: u32): void {
    this.stream.answering = true;
    this.handler.onGrpcReceiveInitialMetadata(token, numElements);
    this.stream.finishAnswer();
  }
  onGrpcReceive(token: u32, messageSize: u32): void {
    this.stream.answering = true;
    this.handler.onGrpcReceive(token, messageSize);
    this.stream.finishAnswer();
  }
  onGrpcReceiveTrailingMetadata(token: u32, numElements: u32): void {
    this.stream.answering = true;
    this.handler.onGrpcReceiveTrailingMetadata(token, numElements);
    this.stream.finishAnswer();
  }
  onGrpcClose(token: u32, statusCode: u32): void {
    this.stream.answering = true;
    this.handler.onGrpcClose(token, statusCode);
    this.stream.finishAnswer();
  }
}

/** Wraps the callouts a composed stream issues (the only callout wrapper a module installs). */
class AnswerWatcher extends CalloutWrapper {
  wrap(handler: CalloutHandler, contextId: u32): CalloutHandler {
    const ctx = httpContext(contextId);
    if (ctx === null || !(ctx instanceof ComposedHttp)) return handler;
    return new WatchedAnswer(handler, changetype<ComposedHttp>(ctx));
  }
}

/** Routes a filter's continueStream to its composition (the only interceptor a module installs). */
class Resumer extends StreamInterceptor {
  intercept(streamType: StreamType): i32 {
    const ctx = httpContext(activeContextId());
    if (ctx === null || !(ctx instanceof ComposedHttp)) return -1;
    return changetype<ComposedHttp>(ctx).resume(streamType);
  }
}
