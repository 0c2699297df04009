/**
 * Context records of one worker VM: root (plugin) contexts and HTTP stream contexts, with the
 * per-context state Envoy keeps (current maps and buffers per §4.2, tick timer, callout status).
 */
import { type HeaderMap } from "./headers.ts";
import { type TimerId } from "./clock.ts";

/** A mutable body buffer shared between a filter context and the filter manager. */
export interface BodyBuffer {
  bytes: Uint8Array;
}

/** A local reply as the guest asked for it (proxy_send_local_response). */
export interface LocalReply {
  status: number;
  details: string;
  body: Uint8Array;
  /** Extra headers, keys lowercased, as UTF-8 pairs. */
  headers: [string, string][];
  /** 0..16, or undefined for "no grpc-status". */
  grpcStatus: number | undefined;
}

/** Per-stream facts the properties tree reads (Envoy's StreamInfo). */
export interface StreamInfo {
  startTimeNs: bigint;
  protocol: string;
  sourceAddress: string;
  destinationAddress: string;
  connectionId: number;
  filterState: Map<string, Uint8Array>;
  responseCode?: number;
  responseCodeDetails?: string;
  requestBodyBytes: number;
  responseBodyBytes: number;
  routeName: string;
  clusterName: string;
  /** Set once the router has an upstream connection ("ip:port"). */
  upstreamAddress?: string;
  /** Request headers as the stream saw them (for properties during on_log). */
  logRequestHeaders?: HeaderMap;
}

/** What a stream context asks of the filter manager that owns the stream. */
export interface StreamHandle {
  readonly info: StreamInfo;
  /** Deferred continueDecoding/continueEncoding (already run after the VM call). */
  continueStream(side: "request" | "response"): void;
  /** Deferred resetStream with details wasm_close_stream. */
  closeStream(side: "request" | "response"): void;
  /** Deferred sendLocalReply. */
  sendLocalReply(reply: LocalReply): void;
  /** addDecodedTrailers / addEncodedTrailers: creates the trailers map at end of stream. */
  addTrailers(side: "request" | "response"): HeaderMap;
}

/** A root (plugin) context. */
export class RootContext {
  readonly kind = "root";
  tickPeriodMs = 0;
  tickTimer: TimerId | undefined;
  pluginConfigReadable = false;
  pendingDone = false;
  deleted = false;
  statusCode = 0;
  statusMessage = "";
  /** The response being delivered to on_http_call_response, readable only during that call. */
  callResponse: { headers: HeaderMap; trailers: HeaderMap; body: Uint8Array } | undefined;

  constructor(readonly id: number) {}
}

/** An HTTP stream context of one filter on one stream. */
export class HttpContext {
  readonly kind = "http";
  /** on_context_create has been called for it (lazily, on the first decode callback). */
  created = false;
  deleted = false;
  requestHeaders: HeaderMap | undefined;
  requestBody: BodyBuffer | undefined;
  requestTrailers: HeaderMap | undefined;
  responseHeaders: HeaderMap | undefined;
  responseBody: BodyBuffer | undefined;
  responseTrailers: HeaderMap | undefined;
  /** Set while on_log runs: maps are read-only copies. */
  inLog = false;
  /** In the last body callback without trailers: the trailers map of that side may be created. */
  trailersCreatable: "request" | "response" | undefined;
  /** proxy_send_local_response was called in the current callback ("stop next iteration"). */
  localReplyInCallback = false;

  constructor(
    readonly id: number,
    readonly root: RootContext,
    readonly stream: StreamHandle,
  ) {}
}

/** Any context of a VM. */
export type Context = RootContext | HttpContext;
