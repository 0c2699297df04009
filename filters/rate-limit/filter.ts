// rate-limit: a token bucket per user (capacity = the plan's pullsPerWindow, refilled over
// windowSeconds) counting allowed manifest GETs, kept in shared data and updated with CAS so every
// worker VM of this vm_id shares one exact count (CONTRACT.md "Rate limit"). It also answers
// GET /v2/_quota itself from the same bucket, read-only (CONTRACT.md "Quota"), so what a user sees is
// what this filter enforces. FAILS CLOSED: missing identity → 403; CAS contention past casRetries or
// a shared-data failure → 429 Retry-After: 1.
// With `"global": true` (global limits, CONTRACT.md "Global limits") the rate-limit service decides:
// this filter marks each verified pull with x-hub-pull for Envoy's ratelimit filter, which asks the
// service, and lets GET /v2/_quota through to that service's route. Its own bucket stays as a first
// tier charged only with the pulls the service admitted (assembly/first-tier.ts): when it is empty the
// pull is refused here, without a round trip.
// The filter itself; index.ts builds it as its own module, filters/policy composes it with the others.
import {
  ConfigReader,
  Counter,
  FilterHeadersStatus,
  callbackTimeNanoseconds,
  decimal,
  encodeUtf8,
  getPluginConfigurationString,
  getSharedData,
  getSharedDataBytes,
  HeaderPair,
  HttpContext,
  lastResult,
  logDebug,
  logEnabled,
  LogLevel,
  requestHeaders,
  responseHeaders,
  RootContext,
  sendLocalResponse,
  setSharedData,
  setSharedDataBytes,
  utf8,
  WasmResult,
} from "proxy-wasm-as-sdk";
import { parseRoute } from "proxy-wasm-as-sdk/registry/routes";
import { findPlanIndex, FORBIDDEN, HEADER_PLAN, HEADER_USER, isPlanId, sendRegistryError, TOO_MANY_REQUESTS } from "proxy-wasm-as-sdk/registry/errors";
import { TextTable } from "proxy-wasm-as-sdk/texts";
import { decimalLength, putDecimal } from "proxy-wasm-as-sdk/decimal";
import { Bucket, decodeShard, encodeShard, pruneShard, shardOf } from "./assembly/buckets";
import { chargeAdmitted, localTokens } from "./assembly/first-tier";

/** FILTER is the filter's name: its root id, and the prefix of its log lines and configuration errors. */
export const FILTER = "rate-limit";
const KEY_PREFIX = "image-hub.rate-limit.shard.";
/** The pull marker Envoy's ratelimit filter builds its descriptor from (global mode only). */
const HEADER_PULL = "x-hub-pull";
/** rate-limit's own configuration errors, lines of CONFIG_ERRORS in this order (filters/sdk/texts.ts). */
const enum ConfigError {
  NoPlans,
  BadPlanId,
  DuplicatePlan,
}
const CONFIG_ERRORS = new TextTable(`expected at least one plan
expected 1-64 characters of [a-z0-9-] starting with a letter
duplicate plan id`);

class PlanLimit {
  readonly allowed: Counter;
  readonly limited: Counter;
  /** The pulls per window in decimal, for the quota answer and the 429's detail. */
  readonly limitText: string;
  /** The RateLimit-Policy value `"<plan>";q=<pulls>;w=<window>` (a plan id needs no sf-string escape). */
  readonly policy: string;
  /** The RateLimit value up to its numbers: `"<plan>";r=`. */
  readonly rateLimitPrefix: string;
  /** policy and rateLimitPrefix as UTF-8, encoded once for the response headers of every allowed pull. */
  readonly policyBytes: ArrayBuffer;
  readonly rateLimitPrefixBytes: ArrayBuffer;
  constructor(readonly id: string, readonly capacity: f64, windowSeconds: i64) {
    this.allowed = new Counter("image_hub.rate_limit." + id + ".allowed");
    this.limited = new Counter("image_hub.rate_limit." + id + ".limited");
    const limitText = decimal(<i32>capacity);
    this.limitText = limitText;
    const policy = "\"" + id + "\";q=" + limitText + ";w=" + decimal(<i32>windowSeconds);
    this.policy = policy;
    const prefix = "\"" + id + "\";r=";
    this.rateLimitPrefix = prefix;
    this.policyBytes = encodeUtf8(policy);
    this.rateLimitPrefixBytes = encodeUtf8(prefix);
  }
}

/**
 * The RateLimit value `<prefix><remaining>;t=<seconds>` written straight into one buffer of its exact
 * size: no string is built or encoded on an allowed pull (PERFORMANCE.md, fifth round).
 */
function rateLimitValue(prefix: ArrayBuffer, remaining: u32, seconds: u32): ArrayBuffer {
  const n = <usize>prefix.byteLength;
  const out = changetype<usize>(__new(n + decimalLength(remaining) + 3 + decimalLength(seconds), idof<ArrayBuffer>()));
  memory.copy(out, changetype<usize>(prefix), n);
  const at = putDecimal(out + n, remaining);
  store<u8>(at, 0x3b); // ;
  store<u8>(at, 0x74, 1); // t
  store<u8>(at, 0x3d, 2); // =
  putDecimal(at + 3, seconds);
  return changetype<ArrayBuffer>(out);
}

/** RateLimitRoot is rate-limit's root context (configuration, metrics); see newRateLimitRoot. */
export class RateLimitRoot extends RootContext {
  plans: Array<PlanLimit> = new Array<PlanLimit>();
  planIds: Array<string> = new Array<string>();
  windowSeconds: i64 = 60;
  shards: i32 = 256;
  maxUsersPerShard: i32 = 64;
  casRetries: i32 = 32;
  /** Global mode: the rate-limit service decides; this filter only marks pulls. */
  global: bool = false;
  /** Shared-data key of each shard, built once so a request does not format one. */
  /** The shard keys' UTF-8, encoded once per configuration instead of twice per request. */
  shardKeyBytes: Array<ArrayBuffer> = new Array<ArrayBuffer>();
  readonly denied: Counter = new Counter("image_hub.rate_limit.denied");
  readonly contention: Counter = new Counter("image_hub.rate_limit.cas_exhausted");
  /** CAS writes that lost to another worker and were retried: evidence that the count is shared. */
  readonly retries: Counter = new Counter("image_hub.rate_limit.cas_retries");
  /** Global mode: pulls refused by this sidecar's first tier, without asking the rate-limit service. */
  readonly firstTier: Counter = new Counter("image_hub.rate_limit.first_tier_limited");

  /** Implements RootContext.onConfigure: any invalid field refuses the whole configuration. */
  onConfigure(pluginConfigurationSize: u32): bool {
    const reader = new ConfigReader(FILTER);
    const config = reader.parse(getPluginConfigurationString());
    if (config === null) return reader.finish();
    reader.allowOnly(config, ["windowSeconds", "plans", "shards", "maxUsersPerShard", "casRetries", "global"]);
    const windowSeconds = reader.requireInteger(config, "windowSeconds", 1, 86400);
    const shards = <i32>reader.optionalInteger(config, "shards", 256, 1, 65536);
    const maxUsers = <i32>reader.optionalInteger(config, "maxUsersPerShard", 64, 1, 4096);
    const casRetries = <i32>reader.optionalInteger(config, "casRetries", 32, 1, 1000);
    const global = reader.optionalBool(config, "global", false);
    const list = reader.requireArray(config, "plans");
    if (list !== null && list.items.length == 0) reader.fail("config.plans", CONFIG_ERRORS.get(ConfigError.NoPlans));
    const plans = new Array<PlanLimit>();
    const ids = new Array<string>();
    for (let i = 0; list !== null && i < list.items.length && reader.ok(); i++) {
      const plan = reader.asObject(list.items[i]);
      if (plan === null) break;
      reader.allowOnly(plan, ["id", "pullsPerWindow"]);
      const id = reader.requireString(plan, "id");
      if (id !== null && !isPlanId(id)) reader.fail(plan.path + ".id", CONFIG_ERRORS.get(ConfigError.BadPlanId));
      if (id !== null && findPlanIndex(ids, id) >= 0) reader.fail(plan.path + ".id", CONFIG_ERRORS.get(ConfigError.DuplicatePlan));
      const pulls = reader.requireInteger(plan, "pullsPerWindow", 1, 1000000000);
      if (id === null || !reader.ok()) break;
      ids.push(id);
      plans.push(new PlanLimit(id, <f64>pulls, windowSeconds));
    }
    if (!reader.ok()) return reader.finish();
    this.plans = plans;
    this.planIds = ids;
    this.windowSeconds = windowSeconds;
    this.shards = shards;
    this.maxUsersPerShard = maxUsers;
    this.casRetries = casRetries;
    this.global = global;
    this.createShards();
    return true;
  }

  /**
   * Creates every shard key that does not exist yet. A set on a missing key succeeds whatever the
   * cas (Envoy), so creating keys on the request path could lose a concurrent update; doing it here,
   * before the VM serves streams, confines that race to VMs configuring at the same moment.
   */
  private createShards(): void {
    const empty = new ArrayBuffer(0);
    const keyBytes = new Array<ArrayBuffer>(this.shards);
    for (let i = 0; i < this.shards; i++) {
      const key = KEY_PREFIX + i.toString();
      unchecked((keyBytes[i] = String.UTF8.encode(key)));
      if (getSharedData(key) === null && lastResult() == WasmResult.NotFound) setSharedData(key, empty, 0);
    }
    this.shardKeyBytes = keyBytes;
  }

  /** Implements RootContext.createHttpContext. */
  createHttpContext(contextId: u32): HttpContext {
    return new RateLimit(contextId, this);
  }
}

class RateLimit extends HttpContext {
  /** Set on an allowed pull: the RateLimit values (`r`, `t`) for the response headers. */
  private plan: PlanLimit | null = null;
  private remaining: f64 = 0;
  private resetSeconds: f64 = 0;
  /** Global mode: a marked pull, charged to the first tier if the global tier admits it. */
  private pending: PlanLimit | null = null;
  private pendingUser: string = "";
  private pendingKey: ArrayBuffer = new ArrayBuffer(0);
  private pendingAtMs: f64 = 0;

  /** Implements HttpContext.onRequestHeaders. */
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const root = changetype<RateLimitRoot>(this.root);
    // One snapshot of the map for every read (shared with the other filters of a composition).
    const request = requestHeaders.snapshot();
    const path = request.get(":path");
    const method = request.get(":method");
    if (path === null || method === null) return FilterHeadersStatus.Continue;
    // Only this filter may mark a pull: a client's own marker is dropped.
    if (root.global && request.has(HEADER_PULL)) requestHeaders.remove(HEADER_PULL);
    const route = parseRoute(method, path);
    if (!route.isManifestGet && !route.isQuota) return FilterHeadersStatus.Continue;
    const user = request.get(HEADER_USER);
    const planId = request.get(HEADER_PLAN);
    const index = planId === null ? -1 : findPlanIndex(root.planIds, planId);
    if (user === null || user.length == 0 || String.UTF8.byteLength(user) > 255 || index < 0) {
      root.denied.increment();
      sendRegistryError(FORBIDDEN, "rate_limit_no_identity", "DENIED", "no verified identity or unknown plan");
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    const plan = unchecked(root.plans[index]);
    const windowMs = <f64>root.windowSeconds * 1000;
    const key = unchecked(root.shardKeyBytes[shardOf(user, root.shards)]);
    if (root.global) return route.isManifestGet ? this.passToGlobal(root, plan, user, key, windowMs) : FilterHeadersStatus.Continue;
    if (route.isQuota) return this.quota(root, plan, user, key, windowMs);
    for (let attempt = 0; attempt < root.casRetries; attempt++) {
      const nowMs = <f64>(callbackTimeNanoseconds() / 1000000);
      const stored = getSharedDataBytes(key);
      if (stored === null && lastResult() != WasmResult.NotFound) break;
      const buckets = stored === null ? new Array<Bucket>() : decodeShard(stored.value);
      let bucket: Bucket | null = null;
      for (let i = 0; i < buckets.length; i++) if (unchecked(buckets[i]).user == user) bucket = unchecked(buckets[i]);
      let tokens = plan.capacity;
      if (bucket !== null) {
        // After a plan change the bucket refills at the new plan's rate since its last update, as
        // the access service's app-mode bucket does, so an upgrade helps at once in both modes.
        bucket.capacity = plan.capacity;
        tokens = bucket.tokensAt(nowMs, windowMs);
      }
      const perSecond = plan.capacity / <f64>root.windowSeconds;
      if (tokens < 1) {
        // Rejected requests consume nothing, so nothing is written.
        return this.limit(root, plan, tokens, Math.ceil((1 - tokens) / perSecond));
      }
      if (bucket === null) {
        bucket = new Bucket(user, 0, 0, 0);
        buckets.push(bucket);
      }
      bucket.tokens = tokens - 1;
      bucket.updatedMs = nowMs;
      bucket.countPull(nowMs, windowMs);
      bucket.capacity = plan.capacity;
      const value = encodeShard(pruneShard(buckets, nowMs, windowMs, root.maxUsersPerShard, bucket));
      const result = setSharedDataBytes(key, value, stored === null ? 0 : stored.cas);
      if (result == WasmResult.Ok) {
        plan.allowed.increment();
        this.plan = plan;
        this.remaining = Math.floor(bucket.tokens);
        this.resetSeconds = Math.ceil((plan.capacity - bucket.tokens) / perSecond);
        return FilterHeadersStatus.Continue;
      }
      if (result != WasmResult.CasMismatch) break;
      root.retries.increment();
    }
    root.contention.increment();
    if (logEnabled(LogLevel.Debug)) logDebug(FILTER + ": shared data unavailable or contended; refusing with Retry-After: 1");
    return this.limit(root, plan, 0, 1);
  }

  /**
   * Global mode: a verified pull is refused here when this sidecar's first-tier bucket is empty (it
   * never holds fewer tokens than the global one); otherwise it goes on marked, for Envoy's ratelimit
   * filter (placed after this one) to ask the rate-limit service. A first tier that cannot be read is
   * skipped (the service still decides); a failed mark refuses the pull (fail closed).
   */
  private passToGlobal(root: RateLimitRoot, plan: PlanLimit, user: string, key: ArrayBuffer, windowMs: f64): FilterHeadersStatus {
    const nowMs = <f64>(callbackTimeNanoseconds() / 1000000);
    const stored = getSharedDataBytes(key);
    if (stored !== null) {
      const tokens = localTokens(stored.value, user, plan.capacity, nowMs, windowMs);
      if (tokens < 1) {
        root.firstTier.increment();
        const perSecond = plan.capacity / <f64>root.windowSeconds;
        return this.limit(root, plan, tokens, Math.ceil((1 - tokens) / perSecond));
      }
    }
    if (requestHeaders.replace(HEADER_PULL, "1") != WasmResult.Ok) {
      const headers = new Array<HeaderPair>();
      headers.push(new HeaderPair("retry-after", "1"));
      sendRegistryError(503, "rate_limit_mark_failed", "UNAVAILABLE", "pull rate limit store unavailable", "null", headers);
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    this.pending = plan;
    this.pendingUser = user;
    this.pendingKey = key;
    this.pendingAtMs = nowMs;
    return FilterHeadersStatus.Continue;
  }

  /**
   * Global mode, on the response of a marked pull: charges the first tier when the global tier
   * admitted it. Envoy's ratelimit filter adds the service's RateLimit fields to an admitted pull's
   * response (whatever the registry answered) and answers a refused one 429; its failure (503) has none.
   */
  private chargeFirstTier(root: RateLimitRoot, plan: PlanLimit): void {
    const response = responseHeaders.snapshot();
    const status = response.get(":status");
    if (status === null || status == "429" || response.get("ratelimit") === null) return;
    const windowMs = <f64>root.windowSeconds * 1000;
    for (let attempt = 0; attempt < root.casRetries; attempt++) {
      const stored = getSharedDataBytes(this.pendingKey);
      if (stored === null && lastResult() != WasmResult.NotFound) return;
      const buckets = stored === null ? new Array<Bucket>() : decodeShard(stored.value);
      const bucket = chargeAdmitted(buckets, this.pendingUser, plan.capacity, this.pendingAtMs, windowMs);
      const nowMs = <f64>(callbackTimeNanoseconds() / 1000000);
      const value = encodeShard(pruneShard(buckets, nowMs, windowMs, root.maxUsersPerShard, bucket));
      const result = setSharedDataBytes(this.pendingKey, value, stored === null ? 0 : stored.cas);
      if (result != WasmResult.CasMismatch) return;
      root.retries.increment();
    }
    // Past the retries the pull stays uncharged: this bucket then holds more than the global one,
    // which can only send more pulls to the service, never refuse one it would admit.
    root.contention.increment();
  }

  /** Implements HttpContext.onResponseHeaders: sets RateLimit-Policy and RateLimit on the response of an allowed pull. */
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      this.chargeFirstTier(changetype<RateLimitRoot>(this.root), pending);
      return FilterHeadersStatus.Continue;
    }
    const plan = this.plan;
    if (plan === null) return FilterHeadersStatus.Continue;
    responseHeaders.replaceBytes(utf8("ratelimit-policy"), plan.policyBytes);
    responseHeaders.replaceBytes(utf8("ratelimit"), rateLimitValue(plan.rateLimitPrefixBytes, <u32>this.remaining, <u32>this.resetSeconds));
    return FilterHeadersStatus.Continue;
  }

  /**
   * Answers GET /v2/_quota from the user's bucket without writing it (CONTRACT.md "Quota"): the same
   * remaining (`r`) and reset (`t`) numbers an allowed pull's RateLimit field would carry, and the count
   * of pulls served.
   */
  private quota(root: RateLimitRoot, plan: PlanLimit, user: string, key: ArrayBuffer, windowMs: f64): FilterHeadersStatus {
    const nowMs = <f64>(callbackTimeNanoseconds() / 1000000);
    const stored = getSharedDataBytes(key);
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair("cache-control", "no-store"));
    if (stored === null && lastResult() != WasmResult.NotFound) {
      headers.push(new HeaderPair("retry-after", "1"));
      sendRegistryError(503, "rate_limit_quota_unavailable", "UNAVAILABLE", "quota unavailable", "null", headers);
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    const buckets = stored === null ? new Array<Bucket>() : decodeShard(stored.value);
    let tokens = plan.capacity;
    let used: f64 = 0;
    let usedResetMs: f64 = 0;
    for (let i = 0; i < buckets.length; i++) {
      const bucket = unchecked(buckets[i]);
      if (bucket.user != user) continue;
      bucket.capacity = plan.capacity;
      tokens = bucket.tokensAt(nowMs, windowMs);
      used = bucket.usedAt(nowMs, windowMs);
      if (used > 0) usedResetMs = bucket.windowStartMs + windowMs - nowMs;
    }
    const perSecond = plan.capacity / <f64>root.windowSeconds;
    const body =
      "{\"plan\":\"" + plan.id + "\",\"limit\":" + plan.limitText +
      ",\"used\":" + (<i64>used).toString() +
      ",\"remaining\":" + (<i64>Math.floor(tokens)).toString() +
      ",\"resetSeconds\":" + (<i64>Math.ceil((plan.capacity - tokens) / perSecond)).toString() +
      ",\"windowSeconds\":" + root.windowSeconds.toString() +
      ",\"usedResetSeconds\":" + (<i64>Math.ceil(usedResetMs / 1000)).toString() + "}";
    headers.push(new HeaderPair("content-type", "application/json"));
    sendLocalResponse(200, "rate_limit_quota", body, headers);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  /**
   * Answers 429 for `plan`: RateLimit's `t` is the Retry-After (seconds until one whole token), since the
   * draft wants Retry-After never earlier than `t`; `r` is the whole tokens left (0 unless contended).
   */
  private limit(root: RateLimitRoot, plan: PlanLimit, tokens: f64, retryAfter: f64): FilterHeadersStatus {
    plan.limited.increment();
    const retry = decimal(<i32>Math.max(1, retryAfter));
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair("retry-after", retry));
    headers.push(new HeaderPair("ratelimit-policy", plan.policy));
    headers.push(new HeaderPair("ratelimit", plan.rateLimitPrefix + decimal(<i32>Math.max(0, Math.floor(tokens))) + ";t=" + retry));
    const detail = "{\"limit\":" + plan.limitText + ",\"windowSeconds\":" + decimal(<i32>root.windowSeconds) + ",\"retryAfterSeconds\":" + retry + "}";
    sendRegistryError(TOO_MANY_REQUESTS, "rate_limit_exceeded", "TOOMANYREQUESTS", "pull rate limit exceeded", detail, headers);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }
}

/** newRateLimitRoot creates rate-limit's root context: index.ts registers it, filters/policy composes it. */
export function newRateLimitRoot(contextId: u32): RootContext {
  return new RateLimitRoot(contextId);
}
