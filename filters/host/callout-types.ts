/**
 * The data types of HTTP callouts, apart from callouts.ts so that the VM (which keeps the records)
 * and the callout logic (which drives the VM) do not import each other.
 */
import { type HeaderInput } from "./headers.ts";

/** What a callout asked for. */
export interface CalloutRequest {
  cluster: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  /** 0 means no timeout. */
  timeoutMs: number;
}

/** An answer to a callout. `:status` comes from `status` (default 200). */
export interface CalloutResponse {
  status?: number;
  /** Strings are UTF-8 text, Uint8Arrays raw bytes. */
  headers?: HeaderInput;
  body?: Uint8Array | string;
  trailers?: HeaderInput;
}

/**
 * The callout's upstream dropped the connection. As in Envoy 1.40, the router then answers the
 * async client itself: the guest gets a 503 response (3 headers, a 95-byte body), not a failure.
 */
export interface CalloutReset {
  reset: true;
}

/**
 * The async client failed (onFailure): the guest sees (0,0,0) and get_status (11, "reset"). Envoy
 * takes this path when the request cannot complete at all; a reset upstream gives a 503 instead.
 */
export interface CalloutFailure {
  failure: true;
}

/** Any way a callout can end. */
export type CalloutOutcome = CalloutResponse | CalloutReset | CalloutFailure;

/** A cluster handler answers callouts to that cluster, synchronously or not. */
export type ClusterHandler = (request: CalloutRequest) => CalloutOutcome | Promise<CalloutOutcome>;

/** A recorded callout. */
export interface CalloutRecord extends CalloutRequest {
  token: number;
  worker: number;
  rootContextId: number;
  /** Virtual time (ms) the callout was made; the router's service time counts from it. */
  sentAt: number;
  state: "pending" | "answered" | "reset" | "failed" | "timeout" | "cancelled";
}
