/**
 * One request through a Chain: Envoy's filter manager for a single stream. Decoder and encoder
 * directions, the router (calls the upstream once the request is complete), local replies (three
 * cases of §4.4), resets, the end-of-stream log/destroy order, and stall handling in virtual time.
 */
import { type ChainRequest, type ChainResult, type ChainState, type Upstream, type UpstreamRequest, type UpstreamResponse } from "./chain-types.ts";
import { type LocalReply, type StreamHandle, type StreamInfo } from "./context.ts";
import { FilterStream } from "./filter-stream.ts";
import { type HeaderInput, HeaderMap, type HeaderValue, utf8ToLatin1 } from "./headers.ts";
import { type StreamOptions, newStreamInfo, toBytes } from "./host.ts";
import { Direction, type DirectionSink } from "./pipeline.ts";
import { clientHeaders, httpDate, isHost, requestId } from "./envoy-headers.ts";

const latin1Bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));
/** The empty body: one shared zero-length array (it has no element to change; allocating one costs more than a whole header map). */
const noBytes = new Uint8Array(0);
/** Decodes bodies as Buffer's toString("utf8") does (U+FFFD for bad bytes, a BOM kept), in half the time. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Exchange: the state machine of one stream; create per request and call run() once. */
export class Exchange {
  /** The stream's facts, shared with every filter's handle. */
  readonly info: StreamInfo;
  private readonly filters: FilterStream[];
  private readonly request: Direction;
  private readonly response: Direction;
  private readonly ops: (() => void)[] = [];
  private pumping = false;
  private error: unknown;
  private done = false;
  private responseStarted = false;
  private responseSent = false;
  private upstreamCalled = false;
  private upstreamBody: Uint8Array[] = [];
  private upstreamRequest: UpstreamRequest | undefined;
  private result: Omit<ChainResult, "logs" | "body" | "upstreamRequest"> = {
    status: 0, headers: [], bodyBytes: noBytes, trailers: [], localReply: undefined, details: "", reset: undefined,
  };
  private finalResponseHeaders: HeaderMap | undefined;
  private finalResponseTrailers: HeaderMap | undefined;
  private readonly envoyHeaders: boolean;

  constructor(
    private readonly chain: ChainState,
    worker: number,
    private readonly upstream: Upstream,
    options: StreamOptions,
  ) {
    this.info = newStreamInfo(chain.runtime, options);
    this.info.routeName = "route";
    this.info.clusterName = "upstream";
    this.envoyHeaders = chain.options.envoyHeaders ?? true;
    const limit = chain.options.bufferLimitBytes ?? 1024 * 1024;
    const plugins = chain.plugins;
    this.filters = new Array<FilterStream>(plugins.length);
    for (let i = 0; i < plugins.length; i++) {
      const plugin = plugins[i];
      this.filters[i] = new FilterStream(plugin.vms[worker], plugin.roots[worker], new FilterHandle(this, i), plugin.policy);
    }
    this.request = new Direction(this.filters, true, new RouterSink(this), limit);
    this.response = new Direction(plugins.length > 1 ? this.filters.slice().reverse() : this.filters, false, new ClientSink(this), limit);
  }

  /** run sends the request and resolves when the client has the whole response (or a reset). */
  run(req: ChainRequest): Promise<ChainResult> {
    const logStart = this.chain.runtime.logs.length;
    try {
      const headers = this.requestHeaders(req);
      const requestBody = toBytes(req.body);
      const trailers = req.trailers?.length ? HeaderMap.fromUtf8("requestTrailers", req.trailers) : undefined;
      this.enqueue(() => {
        this.request.feedHeaders(headers, requestBody.length === 0 && !trailers);
        if (requestBody.length > 0 || (trailers && !this.request.aborted)) this.request.feedData(requestBody, !trailers);
        if (trailers && !this.request.aborted) this.request.feedTrailers(trailers);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    // One async function per stream: it waits (when the stream did not end at once) and answers.
    return this.waitUntilDone(logStart);
  }

  /** The client's view of the finished stream. */
  private answer(logStart: number): ChainResult {
    if (this.error !== undefined) throw this.error;
    const logs = this.chain.runtime.logs.slice(logStart);
    const { bodyBytes } = this.result;
    const body = bodyBytes.length === 0 ? "" : utf8.decode(bodyBytes);
    const r = this.result;
    return { status: r.status, headers: r.headers, bodyBytes, trailers: r.trailers, localReply: r.localReply, details: r.details, reset: r.reset, body, upstreamRequest: this.upstreamRequest, logs };
  }

  private requestHeaders(req: ChainRequest): HeaderMap {
    const given: HeaderInput = isHeaderList(req.headers) ? req.headers : Object.entries(req.headers ?? {});
    if (typeof req.path !== "string" || !req.path.startsWith("/")) throw new TypeError(`request.path must start with "/", got ${JSON.stringify(req.path)}`);
    let host: HeaderValue = "localhost";
    for (let i = 0; i < given.length; i++) {
      if (isHost(given[i][0])) {
        host = given[i][1] ?? "localhost";
        break;
      }
    }
    const map = new HeaderMap("requestHeaders");
    map.addKnown(":authority", host);
    map.addKnown(":path", req.path);
    map.addKnown(":method", req.method ?? "GET");
    map.addKnown(":scheme", "http");
    for (let i = 0; i < given.length; i++) {
      const [k, v] = given[i];
      if (!isHost(k)) map.addInput(k, v);
    }
    const body = toBytes(req.body);
    if (body.length > 0 && map.get("content-length") === undefined && map.get("transfer-encoding") === undefined) map.addKnown("content-length", String(body.length));
    if (this.envoyHeaders) {
      if (map.get("x-forwarded-proto") === undefined) map.addKnown("x-forwarded-proto", "http");
      if (map.get("x-request-id") === undefined) map.addKnown("x-request-id", requestId());
    }
    return map;
  }

  /** continueStream of filter i: continueDecoding/continueEncoding, as an op of this stream. */
  continueFrom(i: number, side: "request" | "response"): void {
    this.enqueue(() => (side === "request" ? this.request : this.response).resume(side === "request" ? i : this.filters.length - 1 - i));
  }

  /** closeStream of a filter: Envoy resets right after the VM call, before iteration goes on, so both directions stop now. */
  close(): void {
    this.request.aborted = true;
    this.response.aborted = true;
    this.enqueue(() => this.reset("wasm_close_stream"));
  }

  /** sendLocalReply of filter i, as an op of this stream. */
  sendLocalReply(i: number, reply: LocalReply): void {
    // Envoy ends decoding at the call: request data held or still arriving reaches no filter (no on_request_body).
    if (!this.responseStarted) this.request.aborted = true;
    this.enqueue(() => this.localReply(i, reply));
  }

  /** addDecodedTrailers / addEncodedTrailers. */
  addTrailers(side: "request" | "response"): HeaderMap {
    const direction = side === "request" ? this.request : this.response;
    return (direction.addedTrailers ??= new HeaderMap(`${side}Trailers`));
  }

  /** The request direction's held data grew past the buffer limit: Envoy answers 413. */
  requestOverflow(): void {
    this.enqueue(() => this.localReply(-1, envoyReply(413, "Payload Too Large", "request_payload_too_large")));
  }

  /** The response direction's held data grew past the limit: Envoy 1.40 resets the stream (no 500) whether or not the response headers went out. */
  responseOverflow(): void {
    this.response.aborted = true;
    this.enqueue(() => this.reset("response_payload_too_large"));
  }

  private enqueue(op: () => void): void {
    this.ops.push(op);
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let n = 0; this.ops.length > 0; n++) {
        if (n > 100_000) throw new Error("exchange: more than 100000 stream operations; a continue loop?");
        const next = this.ops.shift()!;
        if (this.done) continue;
        try {
          next();
        } catch (err) {
          // An emulator bug or a throwing test callback: end the exchange and reject run().
          this.error ??= err;
          this.done = true;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The router got the request headers (sink of the request direction). */
  routerHeaders(map: HeaderMap, eos: boolean): void {
    const authority = map.getText(":authority") ?? "";
    const headers: [string, string][] = [["host", authority]];
    for (let i = 0; i < map.size; i++) {
      if (map.keyAt(i).charCodeAt(0) !== 58 /* ":" */) headers.push([map.keyTextAt(i), map.valueTextAt(i)]);
    }
    if (this.envoyHeaders) headers.push(["x-envoy-expected-rq-timeout-ms", "15000"]);
    const method = map.getText(":method") ?? "";
    const path = map.getText(":path") ?? "";
    this.upstreamRequest = { method, path, authority, headers, body: noBytes, trailers: [] };
    if (eos) this.callUpstream();
  }

  /** See routerHeaders. */
  routerData(bytes: Uint8Array, eos: boolean): void {
    this.upstreamBody.push(bytes);
    if (eos) this.callUpstream();
  }

  /** See routerHeaders. */
  routerTrailers(map: HeaderMap): void {
    this.upstreamRequest!.trailers = map.toUtf8();
    this.callUpstream();
  }

  private callUpstream(): void {
    if (this.upstreamCalled || !this.upstreamRequest) return;
    this.upstreamCalled = true;
    this.upstreamRequest.body = this.upstreamBody.length === 0 ? noBytes : new Uint8Array(Buffer.concat(this.upstreamBody));
    this.info.requestBodyBytes = this.upstreamRequest.body.length;
    this.info.upstreamAddress = this.chain.options.upstreamAddress ?? "127.0.0.1:8080";
    const { method, path, authority, headers, body, trailers } = this.upstreamRequest;
    // The upstream gets its own copy of the header list; the result reports what was sent.
    this.chain.runtime.track(this.askUpstream({ method, path, authority, headers: headers.slice(), body, trailers }, Date.now()));
  }

  /**
   * Asks the upstream after the current event (the router's answer always arrives later) and
   * queues its answer, or a reset when it throws, as an op of this stream.
   */
  private async askUpstream(request: UpstreamRequest, started: number): Promise<void> {
    let response: UpstreamResponse;
    try {
      await null;
      response = await this.upstream(request);
    } catch (err) {
      this.enqueue(() => {
        this.chain.runtime.logs.push({ level: "error", message: `upstream threw: ${String(err)}`, line: `emulator: upstream threw: ${String(err)}`, source: "envoy", pluginName: "", worker: 0, contextId: 0 });
        this.upstreamResponse({ reset: true }, 0);
      });
      return;
    }
    this.enqueue(() => this.upstreamResponse(response, Date.now() - started));
  }

  private upstreamResponse(response: UpstreamResponse, elapsedMs: number): void {
    if (this.responseStarted) return;
    if ("reset" in response) {
      this.localReply(-1, envoyReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination", "upstream_reset_before_response_started{connection_termination}"));
      return;
    }
    this.responseStarted = true;
    this.result.details = "via_upstream";
    this.info.responseCode = response.status;
    this.info.responseCodeDetails = "via_upstream";
    const map = new HeaderMap("responseHeaders");
    map.addKnown(":status", String(response.status));
    const given = response.headers;
    if (given) for (let i = 0; i < given.length; i++) map.addInput(given[i][0], given[i][1]);
    if (this.envoyHeaders) map.addKnown("x-envoy-upstream-service-time", String(elapsedMs));
    const body = toBytes(response.body);
    const trailers = response.trailers?.length ? HeaderMap.fromUtf8("responseTrailers", response.trailers) : undefined;
    this.feedResponse(map, body, trailers);
  }

  private feedResponse(map: HeaderMap, body: Uint8Array, trailers: HeaderMap | undefined): void {
    this.response.feedHeaders(map, body.length === 0 && !trailers);
    if (body.length > 0 && !this.response.aborted) this.response.feedData(body, !trailers);
    if (trailers && !this.response.aborted) this.response.feedTrailers(trailers);
  }

  private localReply(filter: number, reply: LocalReply): void {
    if (this.result.localReply === undefined) this.result.localReply = { ...reply, filter: filter < 0 ? "" : this.chain.names[filter] };
    this.info.responseCodeDetails = reply.details;
    this.result.details = reply.details;
    // Every Envoy local reply carries content-length (0 when empty); content-type only with a body.
    const map = HeaderMap.fromUtf8("responseHeaders", [[":status", String(reply.status)], ...reply.headers]);
    map.set("content-length", String(reply.body.length));
    if (reply.body.length > 0 && map.get("content-type") === undefined) map.add("content-type", "text/plain");
    this.info.responseCode = reply.status;
    if (!this.responseStarted) {
      // Case 1: the reply runs through every encoder filter; decoding stops here.
      this.responseStarted = true;
      this.request.aborted = true;
      this.feedResponse(map, reply.body, undefined);
    } else if (!this.responseSent) {
      // Case 2: response headers are in the chain: a direct reply that bypasses the filters.
      this.response.aborted = true;
      this.downstreamHeaders(map, reply.body.length === 0);
      if (reply.body.length > 0) this.downstreamData(reply.body, true);
    } else this.reset("response_already_sent_then_local_reply");
  }

  private reset(details: string): void {
    this.request.aborted = true;
    this.response.aborted = true;
    this.result.reset = details;
    // A reset client sees no complete response (Envoy 1.40 closes before the headers are flushed).
    this.result.status = 0;
    this.result.headers = [];
    this.result.bodyBytes = new Uint8Array(0);
    this.finish();
  }

  /** The client got the response headers (sink of the response direction). */
  downstreamHeaders(map: HeaderMap, eos: boolean): void {
    this.responseSent = true;
    this.finalResponseHeaders = map;
    this.result.status = Number(map.get(":status") ?? 0);
    this.result.headers = clientHeaders(map, this.envoyHeaders ? httpDate(this.chain.runtime.clock.now()) : undefined);
    if (eos) this.finish();
  }

  /** See downstreamHeaders. */
  downstreamData(bytes: Uint8Array, eos: boolean): void {
    const before = this.result.bodyBytes;
    this.result.bodyBytes = before.length === 0 ? bytes.slice() : new Uint8Array(Buffer.concat([before, bytes]));
    this.info.responseBodyBytes = this.result.bodyBytes.length;
    if (eos) this.finish();
  }

  /** See downstreamHeaders. */
  downstreamTrailers(map: HeaderMap): void {
    this.finalResponseTrailers = map;
    this.result.trailers = map.toUtf8();
    this.finish();
  }

  /** Stream end: every filter's on_log (chain order), then on_done/on_delete for each. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    const maps = { requestHeaders: this.request.headers, responseHeaders: this.finalResponseHeaders, responseTrailers: this.finalResponseTrailers };
    for (const f of this.filters) f.log(maps);
    for (const f of this.filters) f.destroy();
  }

  /**
   * Waits for the stream to end, then answers with the client's view. While async work (upstream, cluster handlers) is in flight,
   * virtual time follows real time, so a slow handler meets its callout timeout; with nothing in
   * flight, virtual time jumps to the next timer; with no timer left, Envoy's stream idle timeout
   * fires (408 before a response, reset after). A callout the test itself must answer is waited
   * for in real time, up to 10 s.
   */
  private async waitUntilDone(logStart: number): Promise<ChainResult> {
    const { runtime } = this.chain;
    const { clock } = runtime;
    const idleDeadline = clock.now() + (this.chain.options.streamIdleTimeoutMs ?? 300_000);
    let realDeadline: number | undefined;
    for (let rounds = 0; !this.done; rounds++) {
      if (rounds > 1_000_000) throw new Error("exchange: stalled stream did not settle");
      runtime.runPending();
      if (this.done) break;
      const due = clock.nextDue();
      if (runtime.busy) {
        const waitMs = due === undefined ? undefined : Math.max(0, due - clock.now());
        if (await runtime.waitOutstanding(waitMs)) this.advanceTo(due!);
        continue;
      }
      if (this.chain.getCallouts().some((c) => this.chain.options.clusters?.[c.cluster] === null)) {
        realDeadline ??= Date.now() + 10_000;
        if (Date.now() > realDeadline) throw new Error("exchange stalled: a callout to a cluster without handler was not answered (use respondCallout)");
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (due !== undefined && due <= idleDeadline) {
        this.advanceTo(due);
        continue;
      }
      this.advanceTo(idleDeadline);
      if (!this.done) this.enqueue(() => (this.responseStarted ? this.reset("stream_idle_timeout") : this.localReply(-1, envoyReply(408, "stream timeout", "stream_idle_timeout"))));
    }
    return this.answer(logStart);
  }

  /** Moves virtual time to `due`, firing timers (and the work they post) on the way. */
  private advanceTo(due: number): void {
    const { runtime } = this.chain;
    runtime.clock.advance(Math.max(0, due - runtime.clock.now()), () => runtime.runPending());
  }
}

/** A local reply Envoy itself sends (not a filter). */
function envoyReply(status: number, body: string, details: string): LocalReply {
  return { status, details, body: latin1Bytes(utf8ToLatin1(body)), headers: [], grpcStatus: undefined };
}

/** The StreamHandle of filter i: its deferred actions become ops of the exchange. */
class FilterHandle implements StreamHandle {
  readonly info: StreamInfo;

  constructor(
    private readonly exchange: Exchange,
    private readonly index: number,
  ) {
    this.info = exchange.info;
  }

  continueStream(side: "request" | "response"): void {
    this.exchange.continueFrom(this.index, side);
  }

  closeStream(): void {
    this.exchange.close();
  }

  sendLocalReply(reply: LocalReply): void {
    this.exchange.sendLocalReply(this.index, reply);
  }

  addTrailers(side: "request" | "response"): HeaderMap {
    return this.exchange.addTrailers(side);
  }
}

/** Where the request direction ends: the router. */
class RouterSink implements DirectionSink {
  constructor(private readonly exchange: Exchange) {}

  headers(map: HeaderMap, endOfStream: boolean): void {
    this.exchange.routerHeaders(map, endOfStream);
  }

  data(bytes: Uint8Array, endOfStream: boolean): void {
    this.exchange.routerData(bytes, endOfStream);
  }

  trailers(map: HeaderMap): void {
    this.exchange.routerTrailers(map);
  }

  overflow(): void {
    this.exchange.requestOverflow();
  }
}

/** Where the response direction ends: the client. */
class ClientSink implements DirectionSink {
  constructor(private readonly exchange: Exchange) {}

  headers(map: HeaderMap, endOfStream: boolean): void {
    this.exchange.downstreamHeaders(map, endOfStream);
  }

  data(bytes: Uint8Array, endOfStream: boolean): void {
    this.exchange.downstreamData(bytes, endOfStream);
  }

  trailers(map: HeaderMap): void {
    this.exchange.downstreamTrailers(map);
  }

  overflow(): void {
    this.exchange.responseOverflow();
  }
}

// A header list, as opposed to the `Record<string, string>` form of ChainRequest.headers.
function isHeaderList(headers: ChainRequest["headers"]): headers is HeaderInput {
  return Array.isArray(headers);
}

