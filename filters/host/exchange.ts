/**
 * One request through a Chain: Envoy's filter manager for a single stream. Decoder and encoder
 * directions, the router (calls the upstream once the request is complete), local replies (three
 * cases of §4.4), resets, the end-of-stream log/destroy order, and stall handling in virtual time.
 */
import { randomUUID } from "node:crypto";
import { type ChainRequest, type ChainResult, type ChainState, type Upstream, type UpstreamRequest, type UpstreamResponse } from "./chain-types.ts";
import { type LocalReply, type StreamHandle, type StreamInfo } from "./context.ts";
import { FilterStream } from "./filter-stream.ts";
import { type HeaderInput, HeaderMap, type HeaderValue, latin1ToUtf8, toLatin1, utf8ToLatin1 } from "./headers.ts";
import { type StreamOptions, newStreamInfo, toBytes } from "./host.ts";
import { Direction } from "./pipeline.ts";

const latin1Bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));

/** Exchange: the state machine of one stream; create per request and call run() once. */
export class Exchange {
  private readonly info: StreamInfo;
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
    status: 0, headers: [], bodyBytes: new Uint8Array(0), trailers: [], localReply: undefined, details: "", reset: undefined,
  };
  private finalResponseHeaders: HeaderMap | undefined;
  private finalResponseTrailers: HeaderMap | undefined;
  private resolve!: () => void;
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
    this.filters = chain.plugins.map((plugin, i) => new FilterStream(plugin.vms[worker], plugin.roots[worker], this.handle(i), plugin.policy));
    this.request = new Direction(
      this.filters.map((f) => ({ headers: (m, e) => f.requestHeaders(m, e), data: (b, e) => f.requestBody(b, e), trailers: (m) => f.requestTrailers(m) })),
      {
        headers: (map, eos) => this.routerHeaders(map, eos),
        data: (bytes, eos) => this.routerData(bytes, eos),
        trailers: (map) => this.routerTrailers(map),
        overflow: () => this.enqueue(() => this.localReply(-1, envoyReply(413, "Payload Too Large", "request_payload_too_large"))),
      },
      limit,
    );
    const reversed = [...this.filters].reverse();
    this.response = new Direction(
      reversed.map((f) => ({ headers: (m, e) => f.responseHeaders(m, e), data: (b, e) => f.responseBody(b, e), trailers: (m) => f.responseTrailers(m) })),
      {
        headers: (map, eos) => this.downstreamHeaders(map, eos),
        data: (bytes, eos) => this.downstreamData(bytes, eos),
        trailers: (map) => this.downstreamTrailers(map),
        // Envoy 1.40 resets the stream (no 500) whether or not the response headers went out.
        overflow: () => {
          this.response.aborted = true;
          this.enqueue(() => this.reset("response_payload_too_large"));
        },
      },
      limit,
    );
  }

  /** run sends the request and resolves when the client has the whole response (or a reset). */
  async run(req: ChainRequest): Promise<ChainResult> {
    const logStart = this.chain.runtime.logs.length;
    const finished = new Promise<void>((resolve) => (this.resolve = resolve));
    const headers = this.requestHeaders(req);
    const body = toBytes(req.body);
    const trailers = req.trailers?.length ? HeaderMap.fromUtf8("requestTrailers", req.trailers) : undefined;
    this.enqueue(() => {
      this.request.feedHeaders(headers, body.length === 0 && !trailers);
      if (body.length > 0 || (trailers && !this.request.aborted)) this.request.feedData(body, !trailers);
      if (trailers && !this.request.aborted) this.request.feedTrailers(trailers);
    });
    await this.waitUntilDone(finished);
    if (this.error !== undefined) throw this.error;
    const logs = this.chain.runtime.logs.slice(logStart);
    return { ...this.result, body: Buffer.from(this.result.bodyBytes).toString("utf8"), upstreamRequest: this.upstreamRequest, logs };
  }

  private requestHeaders(req: ChainRequest): HeaderMap {
    const given: HeaderInput = isHeaderList(req.headers) ? req.headers : Object.entries(req.headers ?? {});
    if (typeof req.path !== "string" || !req.path.startsWith("/")) throw new TypeError(`request.path must start with "/", got ${JSON.stringify(req.path)}`);
    const isHost = (k: HeaderValue): boolean => toLatin1(k).toLowerCase() === "host";
    const host = given.find(([k]) => isHost(k))?.[1] ?? "localhost";
    const map = HeaderMap.fromUtf8("requestHeaders", [[":authority", host], [":path", req.path], [":method", req.method ?? "GET"], [":scheme", "http"]]);
    for (const [k, v] of given) if (!isHost(k)) map.add(toLatin1(k), toLatin1(v));
    const body = toBytes(req.body);
    if (body.length > 0 && map.get("content-length") === undefined && map.get("transfer-encoding") === undefined) map.add("content-length", String(body.length));
    if (this.envoyHeaders) {
      if (map.get("x-forwarded-proto") === undefined) map.add("x-forwarded-proto", "http");
      if (map.get("x-request-id") === undefined) map.add("x-request-id", randomUUID());
    }
    return map;
  }

  /** The StreamHandle of filter i: its deferred actions become ops of this stream. */
  private handle(i: number): StreamHandle {
    return {
      info: this.info,
      continueStream: (side) => this.enqueue(() => (side === "request" ? this.request : this.response).resume(side === "request" ? i : this.filters.length - 1 - i)),
      closeStream: () => {
        // Envoy resets right after the VM call, before iteration goes on: stop both directions now.
        this.request.aborted = true;
        this.response.aborted = true;
        this.enqueue(() => this.reset("wasm_close_stream"));
      },
      sendLocalReply: (reply) => this.enqueue(() => this.localReply(i, reply)),
      addTrailers: (side) => {
        const direction = side === "request" ? this.request : this.response;
        return (direction.addedTrailers ??= new HeaderMap(`${side}Trailers`));
      },
    };
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
          this.resolve();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private routerHeaders(map: HeaderMap, eos: boolean): void {
    const pairs = map.pairs();
    const get = (k: string) => latin1ToUtf8(map.get(k) ?? "");
    const headers: [string, string][] = [["host", get(":authority")]];
    for (const { key, value } of pairs) if (!key.startsWith(":")) headers.push([latin1ToUtf8(key), latin1ToUtf8(value)]);
    if (this.envoyHeaders) headers.push(["x-envoy-expected-rq-timeout-ms", "15000"]);
    this.upstreamRequest = { method: get(":method"), path: get(":path"), authority: get(":authority"), headers, body: new Uint8Array(0), trailers: [] };
    if (eos) this.callUpstream();
  }

  private routerData(bytes: Uint8Array, eos: boolean): void {
    this.upstreamBody.push(bytes);
    if (eos) this.callUpstream();
  }

  private routerTrailers(map: HeaderMap): void {
    this.upstreamRequest!.trailers = map.toUtf8();
    this.callUpstream();
  }

  private callUpstream(): void {
    if (this.upstreamCalled || !this.upstreamRequest) return;
    this.upstreamCalled = true;
    this.upstreamRequest.body = new Uint8Array(Buffer.concat(this.upstreamBody));
    this.info.requestBodyBytes = this.upstreamRequest.body.length;
    this.info.upstreamAddress = this.chain.options.upstreamAddress ?? "127.0.0.1:8080";
    const started = Date.now();
    const answer = (response: UpstreamResponse) => this.enqueue(() => this.upstreamResponse(response, Date.now() - started));
    const fail = (err: unknown) => this.enqueue(() => {
      this.chain.runtime.logs.push({ level: "error", message: `upstream threw: ${String(err)}`, line: `emulator: upstream threw: ${String(err)}`, source: "envoy", pluginName: "", worker: 0, contextId: 0 });
      this.upstreamResponse({ reset: true }, 0);
    });
    const request = { ...this.upstreamRequest, headers: [...this.upstreamRequest.headers] };
    this.chain.runtime.track(Promise.resolve().then(() => this.upstream(request)).then(answer, fail));
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
    const map = HeaderMap.fromUtf8("responseHeaders", [[":status", String(response.status)], ...(response.headers ?? [])]);
    if (this.envoyHeaders) map.add("x-envoy-upstream-service-time", String(elapsedMs));
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

  private downstreamHeaders(map: HeaderMap, eos: boolean): void {
    this.responseSent = true;
    this.finalResponseHeaders = map;
    this.result.status = Number(map.get(":status") ?? 0);
    this.result.headers = map.toUtf8().filter(([k]) => !k.startsWith(":"));
    if (this.envoyHeaders) this.result.headers = envoyResponseHeaders(this.result.headers, new Date(this.chain.runtime.clock.now()).toUTCString());
    if (eos) this.finish();
  }

  private downstreamData(bytes: Uint8Array, eos: boolean): void {
    this.result.bodyBytes = new Uint8Array(Buffer.concat([this.result.bodyBytes, bytes]));
    this.info.responseBodyBytes = this.result.bodyBytes.length;
    if (eos) this.finish();
  }

  private downstreamTrailers(map: HeaderMap): void {
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
    this.resolve();
  }

  /**
   * Waits for the stream to end. While async work (upstream, cluster handlers) is in flight,
   * virtual time follows real time, so a slow handler meets its callout timeout; with nothing in
   * flight, virtual time jumps to the next timer; with no timer left, Envoy's stream idle timeout
   * fires (408 before a response, reset after). A callout the test itself must answer is waited
   * for in real time, up to 10 s.
   */
  private async waitUntilDone(finished: Promise<void>): Promise<void> {
    const { runtime } = this.chain;
    const { clock } = runtime;
    const idleDeadline = clock.now() + (this.chain.options.streamIdleTimeoutMs ?? 300_000);
    const realDeadline = Date.now() + 10_000;
    const advanceTo = (due: number) => clock.advance(Math.max(0, due - clock.now()), () => runtime.runPending());
    for (let rounds = 0; !this.done; rounds++) {
      if (rounds > 1_000_000) throw new Error("exchange: stalled stream did not settle");
      runtime.runPending();
      if (this.done) break;
      const due = clock.nextDue();
      if (runtime.busy) {
        const waitMs = due === undefined ? undefined : Math.max(0, due - clock.now());
        if (await runtime.waitOutstanding(waitMs)) advanceTo(due!);
        continue;
      }
      if (this.chain.getCallouts().some((c) => this.chain.options.clusters?.[c.cluster] === null)) {
        if (Date.now() > realDeadline) throw new Error("exchange stalled: a callout to a cluster without handler was not answered (use respondCallout)");
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (due !== undefined && due <= idleDeadline) {
        advanceTo(due);
        continue;
      }
      advanceTo(idleDeadline);
      if (!this.done) this.enqueue(() => (this.responseStarted ? this.reset("stream_idle_timeout") : this.localReply(-1, envoyReply(408, "stream timeout", "stream_idle_timeout"))));
    }
    await finished;
  }
}

/** A local reply Envoy itself sends (not a filter). */
function envoyReply(status: number, body: string, details: string): LocalReply {
  return { status, details, body: latin1Bytes(utf8ToLatin1(body)), headers: [], grpcStatus: undefined };
}

// A header list, as opposed to the `Record<string, string>` form of ChainRequest.headers.
function isHeaderList(headers: ChainRequest["headers"]): headers is HeaderInput {
  return Array.isArray(headers);
}

/** Hop-by-hop headers of the upstream connection; filters see them, the client never does. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/**
 * What Envoy 1.40's connection manager does to response headers after the encoder filters: drops
 * the upstream's hop-by-hop headers (the client connection has its own framing), sets `date` (in
 * place when the upstream sent one, so the client sees exactly one) and `server: envoy` the same way.
 */
function envoyResponseHeaders(headers: [string, string][], date: string): [string, string][] {
  const out: [string, string][] = [];
  const set = { date: false, server: false };
  for (const [k, v] of headers) {
    if (HOP_BY_HOP.has(k)) continue;
    if (k === "date" || k === "server") {
      if (!set[k]) out.push([k, k === "date" ? date : "envoy"]);
      set[k] = true;
      continue;
    }
    out.push([k, v]);
  }
  if (!set.date) out.push(["date", date]);
  if (!set.server) out.push(["server", "envoy"]);
  return out;
}
