// token-auth: verifies the registry JWT (HS256) on /v2 requests and passes the verified identity on
// in x-hub-* headers (CONTRACT.md). FAILS CLOSED: a missing or bad token, a header map it cannot
// write, or a trap (Envoy FAIL_CLOSED policy) all stop the request before the upstream. With
// `planLookup` configured, x-hub-plan is the user's current plan from the access service (README
// "Live plans"), never the token's claim; a plan it cannot confirm is refused (503), never guessed.
// The filter itself; index.ts builds it as its own module, filters/policy composes it with the others.
import {
  ConfigReader,
  decodeUtf8,
  Counter,
  FilterHeadersStatus,
  callbackTimeNanoseconds,
  getPluginConfigurationString,
  continueRequest,
  HeaderPair,
  httpCall,
  httpCallResponseBody,
  httpCallResponseHeaders,
  HttpContext,
  JsonObject,
  logDebug,
  logEnabled,
  LogLevel,
  requestHeaders,
  RootContext,
  WasmResult,
} from "proxy-wasm-as-sdk";
import { base64UrlDecode, HmacSha256 } from "proxy-wasm-as-sdk/crypto";
import { challengeScope, parseRoute, Route, RouteKind } from "proxy-wasm-as-sdk/registry/routes";
import { isSpace } from "util/string";
import {
  bearerChallenge,
  bearerChallengePrefix,
  HEADER_ACCESS,
  HEADER_PLAN,
  HEADER_SIDECAR,
  HEADER_USER,
  isPlanId,
  isQuotable,
  sendRegistryError,
  UNAUTHORIZED,
} from "proxy-wasm-as-sdk/registry/errors";
import { JwtKey, JwtSettings, JwtVerifier, VerifiedToken } from "./assembly/jwt";
import { Name, name, Reason, reasonText, Text, text } from "./assembly/texts";
import { PlanCache } from "./assembly/plan-cache";

/** FILTER is the filter's name: its root id, and the prefix of its log lines and configuration errors. */
export const FILTER = "token-auth";

/** Where and how token-auth asks the access service for a user's current plan. */
class PlanLookup {
  /**
   * The callout's headers, built once; the last, x-hub-user, is set per callout (httpCall encodes
   * the list before it returns, so one list serves every callout of the VM).
   */
  headers: Array<HeaderPair> = new Array<HeaderPair>();
  constructor(readonly cluster: string, readonly timeoutMs: u32, readonly cache: PlanCache) {}
}

/** The field names the texts hold from `first` to `last`, for ConfigReader#allowOnly. */
function fieldNames(first: Text, last: Text): Array<string> {
  const names = new Array<string>();
  for (let i = first; i <= last; i++) names.push(text(i));
  return names;
}
const MAX_PLAN_METRICS: i32 = 16;

/**
 * One plan's allowed-requests counter, in a list newest first. A list instead of a
 * `Map<string, Counter>`: at most MAX_PLAN_METRICS entries, and the Map's string hashing and
 * rehashing would be the module's only use of them (≈ 1 KB).
 */
class PlanCounter extends Counter {
  constructor(readonly plan: string, readonly next: PlanCounter | null) {
    super(text(Text.MetricPlanPrefix) + plan + text(Text.MetricPlanSuffix));
  }
}

/** TokenAuthRoot is token-auth's root context (configuration, metrics); see newTokenAuthRoot. */
export class TokenAuthRoot extends RootContext {
  verifier: JwtVerifier | null = null;
  /** The challenge up to (not including) the optional scope, built once per configuration. */
  challengePrefix: string = "";
  lookup: PlanLookup | null = null;
  readonly lookups: Counter = new Counter(text(Text.MetricLookups));
  readonly lookupFailures: Counter = new Counter(text(Text.MetricLookupFailures));
  readonly allowed: Counter = new Counter(text(Text.MetricAllowed));
  readonly denied: Counter = new Counter(text(Text.MetricDenied));
  /** Allowed requests per plan; plans come from signed tokens, and the list is capped anyway. */
  private allowedByPlan: PlanCounter | null = null;
  private planCounters: i32 = 0;

  /** countAllowed increments the total and, for the first MAX_PLAN_METRICS plans seen, the plan's counter. */
  countAllowed(plan: string): void {
    this.allowed.increment();
    let counter = this.allowedByPlan;
    while (counter !== null && counter.plan != plan) counter = counter.next;
    if (counter === null && this.planCounters < MAX_PLAN_METRICS) {
      counter = this.allowedByPlan = new PlanCounter(plan, this.allowedByPlan);
      this.planCounters++;
    }
    if (counter !== null) counter.increment();
  }

  /** Implements RootContext.onConfigure: any invalid field refuses the whole configuration. */
  onConfigure(pluginConfigurationSize: u32): bool {
    const reader = new ConfigReader(FILTER);
    const config = reader.parse(getPluginConfigurationString());
    if (config === null) return reader.finish();
    reader.allowOnly(config, fieldNames(Text.Issuer, Text.PlanLookupField));
    const settings = new JwtSettings();
    settings.issuer = nonEmpty(reader, config, Text.Issuer);
    settings.audience = nonEmpty(reader, config, Text.Audience);
    settings.clockSkewSeconds = <f64>reader.optionalInteger(config, text(Text.ClockSkewSeconds), 30, 0, 600);
    settings.maxTokenLength = <i32>reader.optionalInteger(config, text(Text.MaxTokenLength), 4096, 64, 65536);
    const realm = nonEmpty(reader, config, Text.Realm);
    const service = nonEmpty(reader, config, Text.Service);
    if (!isQuotable(realm)) fail(reader, config, Text.Realm, Text.NotQuotable);
    if (!isQuotable(service)) fail(reader, config, Text.Service, Text.NotQuotable);
    const keys = reader.requireArray(config, text(Text.Keys));
    if (keys !== null && keys.items.length == 0) fail(reader, config, Text.Keys, Text.NoKeys);
    if (keys !== null) {
      for (let i = 0; i < keys.items.length && reader.ok(); i++) {
        const key = reader.asObject(unchecked(keys.items[i]));
        if (key === null) break;
        const parsed = parseKey(reader, key, settings.keys);
        if (parsed !== null) settings.keys.push(parsed);
      }
    }
    const lookupConfig = reader.optionalObject(config, text(Text.PlanLookupField));
    let lookup: PlanLookup | null = null;
    if (lookupConfig !== null && reader.ok()) {
      reader.allowOnly(lookupConfig, fieldNames(Text.Cluster, Text.Slots));
      const cluster = nonEmpty(reader, lookupConfig, Text.Cluster);
      const authority = nonEmpty(reader, lookupConfig, Text.Authority);
      const path = nonEmpty(reader, lookupConfig, Text.Path);
      const secret = nonEmpty(reader, lookupConfig, Text.Secret);
      const ttlMs = reader.optionalInteger(lookupConfig, text(Text.TtlMs), 1000, 0, 1000);
      const timeoutMs = reader.optionalInteger(lookupConfig, text(Text.TimeoutMs), 500, 1, 10000);
      const slots = <i32>reader.optionalInteger(lookupConfig, text(Text.Slots), 1024, 1, 65536);
      if (reader.ok()) {
        lookup = new PlanLookup(cluster, <u32>timeoutMs, new PlanCache(slots, <f64>ttlMs));
        lookup.headers.push(new HeaderPair(":method", "GET"));
        lookup.headers.push(new HeaderPair(":path", path));
        lookup.headers.push(new HeaderPair(":authority", authority));
        lookup.headers.push(new HeaderPair(HEADER_SIDECAR, secret));
        lookup.headers.push(new HeaderPair(HEADER_USER, ""));
      }
    }
    if (!reader.ok()) return reader.finish();
    this.lookup = lookup;
    // The old verifier's cache blocks are not the collector's to free.
    const old = this.verifier;
    if (old !== null) old.clear();
    this.verifier = new JwtVerifier(settings);
    this.challengePrefix = bearerChallengePrefix(realm, service);
    return true;
  }

  /** Implements RootContext.createHttpContext. */
  createHttpContext(contextId: u32): HttpContext {
    return new TokenAuth(contextId, this);
  }
}

/** Records `error` (a line of assembly/texts.ts) for the field `field` (a line of assembly/texts.ts) of `object`. */
function fail(reader: ConfigReader, object: JsonObject, field: Text, error: Text): void {
  reader.fail(object.path + "." + text(field), text(error));
}

/** The string field `field` (a line of assembly/texts.ts), which must be present and non-empty ("" after recording why not). */
function nonEmpty(reader: ConfigReader, object: JsonObject, field: Text): string {
  const value = reader.requireString(object, text(field));
  if (value !== null && value.length == 0) fail(reader, object, field, Text.Empty);
  return value === null ? "" : value;
}

function parseKey(reader: ConfigReader, key: JsonObject, known: Array<JwtKey>): JwtKey | null {
  reader.allowOnly(key, fieldNames(Text.Kid, Text.K));
  const kid = nonEmpty(reader, key, Text.Kid);
  const alg = reader.requireString(key, text(Text.Alg));
  if (alg !== null && alg != name(Name.Hs256)) fail(reader, key, Text.Alg, Text.NotHs256);
  const secret = reader.requireString(key, text(Text.K));
  if (!reader.ok() || secret === null) return null;
  const bytes = base64UrlDecode(secret);
  if (bytes === null || bytes.length < 32) {
    fail(reader, key, Text.K, Text.ShortKey);
    return null;
  }
  for (let i = 0; i < known.length; i++) {
    if (unchecked(known[i]).kid == kid) {
      fail(reader, key, Text.Kid, Text.DuplicateKid);
      return null;
    }
  }
  return new JwtKey(kid, new HmacSha256(bytes));
}

/** bearerToken returns the token of an `Authorization: Bearer <token>` value, or null for any other shape. */
function bearerToken(authorization: string | null): string | null {
  if (authorization === null || authorization.length < 8) return null;
  // RFC 7235: the scheme name is case-insensitive. Compared in place, A-Z lowered (no copies).
  const scheme = name(Name.BearerScheme);
  for (let i = 0; i < 7; i++) {
    let c = authorization.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c != scheme.charCodeAt(i)) return null;
  }
  // The rest without the spaces around it (String#trim's spaces), cut once.
  let start = 7;
  let end = authorization.length;
  while (start < end && isSpace(authorization.charCodeAt(start))) start++;
  while (end > start && isSpace(authorization.charCodeAt(end - 1))) end--;
  return start == end ? null : authorization.substring(start, end);
}

/** Removes `name` from the request when the snapshot has it; false when the host refused the removal. */
function removeIfPresent(name: string): bool {
  return !requestHeaders.snapshot().has(name) || requestHeaders.remove(name) == WasmResult.Ok;
}

class TokenAuth extends HttpContext {
  /** The identity waiting for its plan lookup, if one is in flight. */
  private pending: VerifiedToken | null = null;
  /** The route of the paused request, for the challenge scope of a refusal after the lookup. */
  private route: Route | null = null;

  /** Implements HttpContext.onRequestHeaders. */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const root = changetype<TokenAuthRoot>(this.root);
    // Client-sent identity is never trusted, on any path. A request that goes on to be verified
    // gets x-hub-user/plan/access replaced (replace leaves exactly one value), and a refused one
    // never reaches the upstream, so only a request passed through untouched needs them removed:
    // three hostcalls fewer on every verified request.
    // All reads come from one snapshot of the map (one hostcall, shared with the filters composed
    // after this one), and a header that is absent is not removed: no hostcall for nothing.
    const request = requestHeaders.snapshot();
    let written = request.ok();
    if (written && request.has(HEADER_SIDECAR)) written = requestHeaders.remove(HEADER_SIDECAR) == WasmResult.Ok;
    const path = request.get(":path");
    const method = request.get(":method");
    const route = parseRoute(method === null ? "" : method, path === null ? "" : path);
    if (route.kind == RouteKind.NotRegistry && path !== null && written) {
      written = removeIfPresent(HEADER_USER) && written;
      written = removeIfPresent(HEADER_PLAN) && written;
      written = removeIfPresent(HEADER_ACCESS) && written;
      if (written) return FilterHeadersStatus.Continue;
    }
    const verifier = root.verifier;
    // The challenge scope is only needed for a refusal; refuse builds it, not every request.
    if (!written) return this.refuse(root, route, Reason.IdentityNotRemoved);
    if (verifier === null) return this.refuse(root, route, Reason.NotConfigured);
    // An Authorization value that verified before is found by its bytes, read in place in the
    // snapshot: no copy, no decoding, no string hash.
    const present = request.find("authorization");
    let nowSeconds: f64 = 0;
    let identity: VerifiedToken | null = null;
    if (present) {
      nowSeconds = <f64>callbackTimeNanoseconds() / 1e9;
      identity = verifier.verifyCached(request.foundAt, request.foundLength, nowSeconds);
    }
    if (identity === null && (!present || !verifier.cached)) {
      const authorization = present ? request.getBytes("authorization") : null;
      const token = bearerToken(authorization === null ? null : decodeUtf8(authorization));
      if (token === null) return this.refuse(root, route, Reason.NoBearerToken);
      identity = verifier.verify(token, nowSeconds);
      if (identity !== null && authorization !== null) verifier.rememberAuthorization(authorization, identity);
    }
    if (identity === null) return this.refuse(root, route, verifier.reason);
    const lookup = root.lookup;
    if (lookup === null) return this.pass(root, identity, identity.plan);
    const plan = lookup.cache.fresh(identity.subject, nowSeconds * 1000);
    if (plan !== null) return this.pass(root, identity, plan);
    // No plan confirmed within the TTL: ask the access service and hold the request until it answers.
    const headers = lookup.headers;
    unchecked((headers[headers.length - 1] = new HeaderPair(HEADER_USER, identity.subject)));
    root.lookups.increment();
    if (httpCall(lookup.cluster, headers, null, new Array<HeaderPair>(), lookup.timeoutMs, this) == 0) return this.unavailable(root);
    this.pending = identity;
    this.route = route;
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  /** Implements CalloutHandler.onHttpCallResponse: the access service's answer to the plan lookup. */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const root = changetype<TokenAuthRoot>(this.root);
    const identity = this.pending;
    const lookup = root.lookup;
    if (identity === null || lookup === null) return;
    this.pending = null;
    let status = "";
    if (numHeaders > 0) {
      const answered = httpCallResponseHeaders.get(":status");
      if (answered !== null) status = answered;
    }
    if (status == name(Name.NotFound)) {
      this.refuse(root, this.route, Reason.UserGone, identity.subject);
      return;
    }
    let body: string | null = null;
    if (status == name(Name.Ok) && bodySize <= 64) body = httpCallResponseBody.readString();
    if (body === null || !isPlanId(body)) {
      this.unavailable(root);
      return;
    }
    lookup.cache.confirm(identity.subject, body, <f64>callbackTimeNanoseconds() / 1e6);
    if (this.pass(root, identity, body) == FilterHeadersStatus.Continue) continueRequest();
  }

  /** Writes the verified identity with the plan to enforce; refuses when the headers cannot be written. */
  private pass(root: TokenAuthRoot, identity: VerifiedToken, plan: string): FilterHeadersStatus {
    const set =
      requestHeaders.replace(HEADER_USER, identity.subject) == WasmResult.Ok &&
      requestHeaders.replace(HEADER_PLAN, plan) == WasmResult.Ok &&
      requestHeaders.replace(HEADER_ACCESS, identity.access) == WasmResult.Ok;
    if (!set) return this.refuse(root, null, Reason.IdentityNotWritten);
    root.countAllowed(plan);
    return FilterHeadersStatus.Continue;
  }

  /** Fails closed when no current plan could be confirmed: 503, Retry-After: 1. */
  private unavailable(root: TokenAuthRoot): FilterHeadersStatus {
    root.lookupFailures.increment();
    if (logEnabled(LogLevel.Debug)) logDebug(text(Text.LogUnavailable));
    sendError(503, Text.UnavailableDetails, "retry-after", "1");
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  /** Answers 401 with the challenge (and `route`'s scope); the debug log names `reason` (and the user it is about, if any). */
  private refuse(root: TokenAuthRoot, route: Route | null, reason: Reason, user: string = ""): FilterHeadersStatus {
    root.denied.increment();
    if (logEnabled(LogLevel.Debug)) logDebug(text(Text.LogRefused) + (user.length > 0 ? text(Text.LogUser) + user + " " : "") + reasonText(reason));
    sendError(UNAUTHORIZED, Text.UnauthorizedDetails, "www-authenticate", bearerChallenge(root.challengePrefix, route === null ? "" : challengeScope(route)));
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }
}

/**
 * Answers with a registry error and one extra response header; `details` is the first of three
 * consecutive texts: the local reply's details, the error code and its message.
 */
function sendError(status: u32, details: Text, header: string, value: string): void {
  const headers = new Array<HeaderPair>();
  headers.push(new HeaderPair(header, value));
  sendRegistryError(status, text(details), text(details + 1), text(details + 2), "null", headers);
}

/** newTokenAuthRoot creates token-auth's root context: index.ts registers it, filters/policy composes it. */
export function newTokenAuthRoot(contextId: u32): RootContext {
  return new TokenAuthRoot(contextId);
}
