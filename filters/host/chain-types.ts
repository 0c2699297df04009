/**
 * The data types of the chain runner (chain.ts), apart from the runner so that the per-request state
 * machine (exchange.ts) can depend on them without depending on the runner that creates it.
 */
import { type CalloutRecord, type ClusterHandler } from "./callout-types.ts";
import { ManualClock } from "./clock.ts";
import { type LocalReply } from "./context.ts";
import { type FailurePolicy } from "./filter-stream.ts";
import { type HeaderInput } from "./headers.ts";
import { type Plugin, type PluginOptions } from "./plugin.ts";
import { type LogEntry, type Runtime } from "./runtime.ts";

/** One filter of a chain: a plugin without the process-wide options. */
export interface ChainFilter extends Omit<PluginOptions, "workers" | "clusters"> {
  failurePolicy?: FailurePolicy;
}

/** Options of createChain. */
export interface ChainOptions {
  filters: ChainFilter[];
  /** Worker threads; every filter gets one VM per worker. Default 1. */
  workers?: number;
  /** Clusters for proxy_http_call (shared by all filters). */
  clusters?: Record<string, ClusterHandler | null>;
  clock?: ManualClock;
  /** Default log level of every filter that sets none. */
  logLevel?: PluginOptions["logLevel"];
  /** Add what Envoy's connection manager and router add (x-forwarded-proto, x-request-id, …). Default true. */
  envoyHeaders?: boolean;
  /** Per-stream buffer limit (Envoy's per_connection_buffer_limit_bytes); default 1 MiB. */
  bufferLimitBytes?: number;
  /** Virtual time before a stalled stream gets Envoy's 408 stream timeout; default 300 000 ms. */
  streamIdleTimeoutMs?: number;
  /** The `upstream.address` property once the router calls the upstream; default "127.0.0.1:8080". */
  upstreamAddress?: string;
}

/** A request as a client sends it. */
export interface ChainRequest {
  method?: string;
  path: string;
  /** Client headers (strings are UTF-8 text, Uint8Arrays raw bytes); `host` becomes `:authority` (default "localhost"). */
  headers?: HeaderInput | Record<string, string>;
  body?: Uint8Array | string;
  trailers?: HeaderInput;
}

/** What the upstream received. */
export interface UpstreamRequest {
  method: string;
  path: string;
  authority: string;
  /** Headers as the upstream sees them (host first, no pseudo-headers). */
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
}

/** An upstream answer, or a reset before any response. */
export type UpstreamResponse =
  | { status: number; headers?: HeaderInput; body?: Uint8Array | string; trailers?: HeaderInput }
  | { reset: true };

/** The upstream service: called once per request that reaches the router. */
export type Upstream = (request: UpstreamRequest) => UpstreamResponse | Promise<UpstreamResponse>;

/** What the client observed, and how it came about. */
export interface ChainResult {
  /** The status the client got (0 when the stream was reset). */
  status: number;
  /** Response headers the client got (no pseudo-headers). */
  headers: [string, string][];
  /** The body as UTF-8 text; bodyBytes holds the raw bytes. */
  body: string;
  bodyBytes: Uint8Array;
  trailers: [string, string][];
  /** What reached the upstream, or undefined when nothing did. */
  upstreamRequest: UpstreamRequest | undefined;
  /** The first local reply and the filter that sent it (Envoy's own replies have filter ""). */
  localReply: (LocalReply & { filter: string }) | undefined;
  /** Response code details (e.g. "via_upstream", "wasm_fail_stream"). */
  details: string;
  /** Set when the stream was reset (e.g. "wasm_close_stream"). */
  reset: string | undefined;
  /** Log lines recorded while this exchange ran. */
  logs: LogEntry[];
}

/** What a running exchange needs from its chain. */
export interface ChainState {
  readonly options: ChainOptions;
  readonly runtime: Runtime;
  readonly plugins: Plugin[];
  readonly names: string[];
  /** Pending callouts of every filter and worker. */
  getCallouts(): (CalloutRecord & { filter: string })[];
}
