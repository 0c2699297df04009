/**
 * An Envoy-like header map (proxy-wasm-host.md §2.1 note D, §3): keys are lowercased ASCII,
 * pseudo-headers are kept in front of the others, adding to an existing inline header joins the
 * values in one entry with `,`, other repeated keys stay separate entries, and
 * replace is remove-then-add. Keys and values are held as latin1 strings so every byte survives.
 */

/** Which Envoy map type a HeaderMap stands for; it decides the inline header set. */
export type HeaderMapKind = "requestHeaders" | "responseHeaders" | "requestTrailers" | "responseTrailers" | "other";

const sharedInline = [
  "connection", "content-length", "content-type", "keep-alive", "proxy-connection", "proxy-status",
  "transfer-encoding", "upgrade", "via", "x-request-id", "x-envoy-attempt-count", "x-envoy-decorator-operation",
  "cache-control", "grpc-accept-encoding", "accept-encoding",
];

/**
 * Inline (O(1)) headers per map kind: Envoy's INLINE_* header macros plus the custom inline headers
 * its official build registers. Checked against Envoy 1.40 by test/conformance: `accept` is inline
 * on requests, `cookie` and `set-cookie` are not (so Envoy's `; ` cookie join never applies to a
 * wasm add). Names not covered by that suite are [I]. Exported so tests can state what they rely on.
 */
export const inlineHeaders: Record<HeaderMapKind, ReadonlySet<string>> = {
  requestHeaders: new Set([
    ...sharedInline, ":authority", ":method", ":path", ":protocol", ":scheme", "te", "user-agent", "expect",
    "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-client-cert", "x-client-trace-id",
    "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node", "x-envoy-expected-rq-timeout-ms",
    "x-envoy-external-address", "x-envoy-force-trace", "x-envoy-internal", "x-envoy-ip-tags", "x-envoy-max-retries",
    "x-envoy-original-path", "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-upstream-rq-timeout-ms",
    "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-hedge-on-per-try-timeout", "grpc-timeout", "accept",
    "authorization", "origin", "referer", "access-control-request-method", "access-control-request-headers",
  ]),
  responseHeaders: new Set([
    ...sharedInline, ":status", "date", "server", "location", "x-envoy-upstream-service-time", "x-envoy-degraded",
    "x-envoy-immediate-health-check-fail", "x-envoy-ratelimited", "x-envoy-upstream-canary",
    "x-envoy-upstream-healthchecked-cluster", "grpc-status", "grpc-message", "etag", "vary", "age", "expires",
    "last-modified", "content-encoding", "access-control-allow-origin", "access-control-allow-credentials",
  ]),
  requestTrailers: new Set([]),
  responseTrailers: new Set(["grpc-status", "grpc-message"]),
  other: new Set([]),
};

// Strings with only ASCII characters are the same text whether read as UTF-8 or latin1, so every
// conversion below returns them as they are; only the rare non-ASCII string goes through Buffer.
const nonAscii = /[^\x00-\x7f]/;

/** Text kinds found by scan(). */
const ASCII_LOWER = 0;
const ASCII_UPPER = 1;
const NOT_ASCII = 2;

/**
 * scan classifies a string in one pass: ASCII without A-Z, ASCII with A-Z, or not ASCII. Header
 * names and most values are short, where a plain loop beats a regular expression call.
 */
function scan(s: string): number {
  if (s.length > 64) return nonAscii.test(s) ? NOT_ASCII : /[A-Z]/.test(s) ? ASCII_UPPER : ASCII_LOWER;
  let kind = ASCII_LOWER;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return NOT_ASCII;
    if (c >= 65 && c <= 90) kind = ASCII_UPPER;
  }
  return kind;
}

/** lowerAscii lowercases A-Z only, as Envoy's LowerCaseString does. */
export function lowerAscii(key: string): string {
  const kind = scan(key);
  if (kind === ASCII_LOWER) return key;
  if (kind === ASCII_UPPER) return key.toLowerCase();
  return key.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** utf8ToLatin1 turns a JS string into the latin1 form that holds its UTF-8 bytes. */
export function utf8ToLatin1(text: string): string {
  return scan(text) === NOT_ASCII ? Buffer.from(text, "utf8").toString("latin1") : text;
}

/** latin1ToUtf8 decodes a latin1-held byte string as UTF-8. */
export function latin1ToUtf8(bytes: string): string {
  return scan(bytes) === NOT_ASCII ? Buffer.from(bytes, "latin1").toString("utf8") : bytes;
}

/**
 * A header name or value given to the emulator: a string is text (sent as its UTF-8 bytes), a
 * Uint8Array is sent byte for byte (e.g. invalid UTF-8 such as `FF 85 C3 28`, or latin1).
 */
export type HeaderValue = string | Uint8Array;

/** A header list given to the emulator, in order; repeated names stay separate entries unless inline. */
export type HeaderInput = readonly (readonly [HeaderValue, HeaderValue])[];

/** toLatin1 turns text (as UTF-8) or raw bytes into the latin1 form the maps hold. */
export function toLatin1(value: HeaderValue): string {
  return typeof value === "string" ? utf8ToLatin1(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1");
}

/** One header entry: key and value as latin1-held bytes. */
export interface HeaderEntry {
  key: string;
  value: string;
}

/**
 * HeaderMap: an ordered multimap with Envoy's add/replace rules. All methods take latin1 keys.
 * Keys and values live in two parallel arrays (no object per entry): hostcalls touch these maps
 * several times per stream, so lookups are a plain `indexOf` on the keys.
 */
export class HeaderMap {
  private keys: string[] = [];
  private values: string[] = [];
  private pseudoCount = 0;
  private readonly inline: ReadonlySet<string>;
  /** Every key and value is ASCII, so its latin1 form is its UTF-8 text: toUtf8() converts nothing. */
  private ascii = true;

  constructor(readonly kind: HeaderMapKind = "other") {
    this.inline = inlineHeaders[kind];
  }

  /** Lowercases a key; in request headers `host` is Envoy's legacy alias of `:authority`. */
  private canonical(key: string): string {
    const k = lowerAscii(key);
    return k === "host" && this.kind === "requestHeaders" ? ":authority" : k;
  }

  /**
   * fromUtf8 builds a map by adding each pair in order (so inline repeats are joined); strings are
   * UTF-8 text, Uint8Arrays raw bytes.
   */
  static fromUtf8(kind: HeaderMapKind, pairs: HeaderInput): HeaderMap {
    const map = new HeaderMap(kind);
    for (let i = 0; i < pairs.length; i++) map.addInput(pairs[i][0], pairs[i][1]);
    return map;
  }

  /**
   * addInput adds a pair as a test or the emulator gives it (text as UTF-8, or raw bytes), with
   * add()'s rules; text is classified once here instead of at every conversion later.
   */
  addInput(key: HeaderValue, value: HeaderValue): void {
    let k: string;
    if (typeof key === "string") {
      const kind = scan(key);
      if (kind === NOT_ASCII) {
        this.ascii = false;
        k = lowerAscii(utf8ToLatin1(key));
      } else k = kind === ASCII_UPPER ? key.toLowerCase() : key;
    } else {
      this.ascii = false;
      k = lowerAscii(toLatin1(key));
    }
    this.insert(k === "host" && this.kind === "requestHeaders" ? ":authority" : k, this.inputValue(value));
  }

  /**
   * addKnown is addInput for a name the emulator itself spells (lowercase ASCII, already canonical,
   * e.g. `:status` or `x-request-id`), so only the value is classified.
   */
  addKnown(key: string, value: HeaderValue): void {
    this.insert(key, this.inputValue(value));
  }

  private inputValue(value: HeaderValue): string {
    if (typeof value === "string" && scan(value) !== NOT_ASCII) return value;
    this.ascii = false;
    return toLatin1(value);
  }

  /** Number of entries, pseudo-headers included (what Envoy passes as num_headers). */
  get size(): number {
    return this.keys.length;
  }

  /** byteSize: sum of key and value lengths, Envoy's HeaderMap::byteSize(). */
  byteSize(): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) n += this.keys[i].length + this.values[i].length;
    return n;
  }

  /** get returns the first value for the key, or undefined. */
  get(key: string): string | undefined {
    const i = this.keys.indexOf(this.canonical(key));
    return i < 0 ? undefined : this.values[i];
  }

  /** getAll returns every value for the key, in order. */
  getAll(key: string): string[] {
    const k = this.canonical(key);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === k) out.push(this.values[i]);
    return out;
  }

  /** add appends a value: joined into the existing entry for inline headers, else a new entry. */
  add(key: string, value: string): void {
    const kind = scan(key);
    const lower = kind === ASCII_LOWER ? key : kind === ASCII_UPPER ? key.toLowerCase() : lowerAscii(key);
    if (this.ascii && (kind === NOT_ASCII || scan(value) === NOT_ASCII)) this.ascii = false;
    this.insert(lower === "host" && this.kind === "requestHeaders" ? ":authority" : lower, value);
  }

  /** Adds a canonical key (add()'s rules). */
  private insert(k: string, value: string): void {
    if (this.inline.has(k)) {
      const i = this.keys.indexOf(k);
      if (i >= 0) {
        const existing = this.values[i];
        this.values[i] = existing.length === 0 ? value : `${existing},${value}`;
        return;
      }
    }
    if (k.charCodeAt(0) === 58 /* ":" */ && this.pseudoCount < this.keys.length) {
      this.keys.splice(this.pseudoCount, 0, k);
      this.values.splice(this.pseudoCount++, 0, value);
    } else {
      if (k.charCodeAt(0) === 58) this.pseudoCount++;
      this.keys.push(k);
      this.values.push(value);
    }
  }

  /** set replaces every entry for the key with one new entry (Envoy's remove + addCopy). */
  set(key: string, value: string): void {
    this.remove(key);
    this.add(key, value);
  }

  /** remove deletes every entry for the key; absent keys are fine. */
  remove(key: string): void {
    const k = this.canonical(key);
    if (!this.keys.includes(k)) return;
    const keys: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] === k) continue;
      keys.push(this.keys[i]);
      values.push(this.values[i]);
    }
    if (k.charCodeAt(0) === 58) this.pseudoCount -= this.keys.length - keys.length;
    this.keys = keys;
    this.values = values;
  }

  /** clear removes all entries, pseudo-headers included. */
  clear(): void {
    this.keys = [];
    this.values = [];
    this.pseudoCount = 0;
    this.ascii = true;
  }

  /** keyAt / valueAt read entry i (0 ≤ i < size) in iteration order, as latin1, without copying the map. */
  keyAt(i: number): string {
    return this.keys[i];
  }

  /** See keyAt. */
  valueAt(i: number): string {
    return this.values[i];
  }

  /** keyTextAt / valueTextAt read entry i decoded as UTF-8 (see toUtf8()). */
  keyTextAt(i: number): string {
    return this.ascii ? this.keys[i] : latin1ToUtf8(this.keys[i]);
  }

  /** See keyTextAt. */
  valueTextAt(i: number): string {
    return this.ascii ? this.values[i] : latin1ToUtf8(this.values[i]);
  }

  /** getText is get() decoded as UTF-8. */
  getText(key: string): string | undefined {
    const v = this.get(key);
    return v === undefined || this.ascii ? v : latin1ToUtf8(v);
  }

  /** pairs returns the entries in Envoy's iteration order (pseudo-headers first), as latin1. */
  pairs(): HeaderEntry[] {
    return this.keys.map((key, i) => ({ key, value: this.values[i] }));
  }

  /**
   * toUtf8 returns the entries as string pairs decoded as UTF-8, for tests and the chain result.
   * Lossy: a byte sequence that is not UTF-8 becomes U+FFFD; use toBytes() to see the bytes.
   */
  toUtf8(): [string, string][] {
    if (this.ascii) return this.keys.map((key, i) => [key, this.values[i]]);
    return this.keys.map((key, i) => [latin1ToUtf8(key), latin1ToUtf8(this.values[i])]);
  }

  /** toBytes returns the entries as byte pairs, exactly as the plugin sees them. */
  toBytes(): [Uint8Array, Uint8Array][] {
    return this.keys.map((key, i) => [new Uint8Array(Buffer.from(key, "latin1")), new Uint8Array(Buffer.from(this.values[i], "latin1"))]);
  }

  /** clone copies the map (used for read-only access-log views and recorded requests). */
  clone(): HeaderMap {
    const copy = new HeaderMap(this.kind);
    copy.keys = this.keys.slice();
    copy.values = this.values.slice();
    copy.pseudoCount = this.pseudoCount;
    copy.ascii = this.ascii;
    return copy;
  }
}
