/**
 * What Envoy's connection manager adds to a stream's headers, as the chain runner needs it: the
 * request id, the `date` header, the client's view of the response headers, and `host` handling.
 */
import { randomFillSync } from "node:crypto";
import { type HeaderMap, type HeaderValue, toLatin1 } from "./headers.ts";

/** True for a `host` header name (any case), which becomes `:authority`. */
export function isHost(name: HeaderValue): boolean {
  if (typeof name === "string" && name.length !== 4) return false;
  return toLatin1(name).toLowerCase() === "host";
}

let dateMs = NaN;
let dateText = "";

/** The `date` header for a clock reading; the last one is kept, as the clock rarely moves between streams. */
export function httpDate(ms: number): string {
  if (ms !== dateMs) {
    dateText = new Date(ms).toUTCString();
    dateMs = ms;
  }
  return dateText;
}

/** Hop-by-hop headers of the upstream connection; filters see them, the client never does. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/**
 * The response headers the client gets (no pseudo-headers), decoded as UTF-8. With Envoy's headers
 * on (`date` given), also what Envoy 1.40's connection manager does after the encoder filters: drops
 * the upstream's hop-by-hop headers (the client connection has its own framing), sets `date` (in
 * place when the upstream sent one, so the client sees exactly one) and `server: envoy` the same way.
 */
export function clientHeaders(map: HeaderMap, date: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  let dateSet = false;
  let serverSet = false;
  for (let i = 0; i < map.size; i++) {
    if (map.keyAt(i).charCodeAt(0) === 58 /* ":" */) continue;
    const k = map.keyTextAt(i);
    if (date !== undefined) {
      if (HOP_BY_HOP.has(k)) continue;
      if (k === "date") {
        if (!dateSet) out.push([k, date]);
        dateSet = true;
        continue;
      }
      if (k === "server") {
        if (!serverSet) out.push([k, "envoy"]);
        serverSet = true;
        continue;
      }
    }
    out.push([k, map.valueTextAt(i)]);
  }
  if (date !== undefined && !dateSet) out.push(["date", date]);
  if (date !== undefined && !serverSet) out.push(["server", "envoy"]);
  return out;
}

// Random bytes for request ids, drawn 256 ids at a time. Written by hand rather than with
// crypto.randomUUID(), which builds each id as a chain of 20 string pieces that every later
// comparison or copy has to flatten: here an id is one latin1 string read from a 36-byte buffer.
const pool = Buffer.alloc(16 * 256);
let poolUsed = pool.length;
const text = Buffer.alloc(36);
const hex = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes goes in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const offsets = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text.write("-", 8, "latin1");
text.write("-", 13, "latin1");
text.write("-", 18, "latin1");
text.write("-", 23, "latin1");

/** requestId returns a random version 4 UUID, as Envoy's `x-request-id` (lowercase hex). */
export function requestId(): string {
  if (poolUsed === pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  for (let i = 0; i < 16; i++) {
    let b = pool[poolUsed + i];
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    text[offsets[i]] = hex[b >> 4];
    text[offsets[i] + 1] = hex[b & 15];
  }
  poolUsed += 16;
  return text.toString("latin1");
}
