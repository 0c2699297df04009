/**
 * The contract's per-user token bucket (capacity = the plan's pullsPerWindow, refilled at
 * pullsPerWindow / windowSeconds per second). Hand-written because rate-limiter-flexible 11 only
 * offers fixed windows (RateLimiterMemory resets all points at the end of each duration) and its
 * BurstyRateLimiter combines two fixed windows; neither refills continuously, so neither can give the
 * same Remaining/Reset numbers as the rate-limit filter.
 * @module
 */

/** The state of a user's bucket after a call, in the units of the RateLimit fields. */
export interface BucketState {
  allowed: boolean;
  limit: number;
  /** Tokens left, floored. */
  remaining: number;
  /** Seconds until the bucket is full, ceiled. */
  resetSeconds: number;
  /** Seconds until one token is available, ceiled (0 when one is available now). */
  retryAfterSeconds: number;
  windowSeconds: number;
  /** Pulls served in the current count window (a count, not limit − remaining). */
  used: number;
  /** Seconds until the current count window ends, ceiled (0 when none is open). */
  usedResetSeconds: number;
}

/**
 * PullBuckets is the one interface the policy (take) and the accounts API (peek) use, so what the UI
 * shows comes from the bucket that enforces: {@link TokenBuckets} in memory (the default, one process)
 * or RedisBuckets (redis-buckets.ts, shared by replicas). Either may return a promise; the Redis one
 * rejects with {@link BucketsUnavailable} when its store cannot answer.
 */
export interface PullBuckets {
  /** Consumes one token when available and counts the pull; a refused take consumes and counts nothing. */
  take(key: string, capacity: number): BucketState | Promise<BucketState>;
  /** Reports the bucket without consuming (read-only). */
  peek(key: string, capacity: number): BucketState | Promise<BucketState>;
}

/** BucketsUnavailable is thrown (rejected) when a shared bucket store cannot be reached. */
export class BucketsUnavailable extends Error {}

/**
 * bucketState renders `tokens` (fractional, after the operation) and the count window (`used` pulls,
 * `windowLeftMs` until it ends; ≤ 0 when none is open) in the units of the RateLimit fields and
 * the quota answer; shared by both stores so they answer the same numbers. Never throws.
 */
export function bucketState(
  tokens: number,
  capacity: number,
  windowSeconds: number,
  allowed: boolean,
  used: number,
  windowLeftMs: number,
): BucketState {
  const perSecond = capacity / windowSeconds;
  return {
    allowed,
    limit: capacity,
    remaining: Math.floor(tokens),
    resetSeconds: perSecond > 0 ? Math.ceil((capacity - tokens) / perSecond) : 0,
    retryAfterSeconds: tokens >= 1 || perSecond === 0 ? 0 : Math.ceil((1 - tokens) / perSecond),
    windowSeconds,
    used: windowLeftMs > 0 ? used : 0,
    usedResetSeconds: windowLeftMs > 0 ? Math.ceil(windowLeftMs / 1000) : 0,
  };
}

interface Entry {
  tokens: number;
  at: number;
  /** Start (ms) of the count window opened by the first pull after the previous one ended. */
  windowStart: number;
  used: number;
}

/** Entries beyond this count trigger a sweep of full (idle) buckets, so memory stays bounded. */
const SWEEP_AT = 10_000;

/** TokenBuckets holds one bucket per key; safe to share within one process. */
export class TokenBuckets implements PullBuckets {
  private readonly entries = new Map<string, Entry>();
  private readonly windowSeconds: number;
  private readonly now: () => number;

  /** `now` returns milliseconds; injectable for tests. Throws when windowSeconds is not positive. */
  constructor(windowSeconds: number, now: () => number = Date.now) {
    if (!(windowSeconds > 0)) throw new Error("TokenBuckets: windowSeconds must be positive");
    this.windowSeconds = windowSeconds;
    this.now = now;
  }

  private refill(key: string, capacity: number): Entry {
    const t = this.now();
    const e = this.entries.get(key) ?? { tokens: capacity, at: t, windowStart: t - this.windowSeconds * 1000, used: 0 };
    const rate = capacity / this.windowSeconds / 1000;
    e.tokens = Math.min(capacity, e.tokens + Math.max(0, t - e.at) * rate);
    e.at = t;
    return e;
  }

  private state(e: Entry, capacity: number, allowed: boolean): BucketState {
    return bucketState(e.tokens, capacity, this.windowSeconds, allowed, e.used, e.windowStart + this.windowSeconds * 1000 - e.at);
  }

  /**
   * take consumes one token when one is available and counts the pull in the count window (opening a
   * new one when the last has ended), as the rate-limit filter does. A refused take consumes and
   * counts nothing. Never throws.
   */
  take(key: string, capacity: number): BucketState {
    const e = this.refill(key, capacity);
    const allowed = e.tokens >= 1;
    if (allowed) {
      e.tokens -= 1;
      if (e.at - e.windowStart >= this.windowSeconds * 1000) {
        e.windowStart = e.at;
        e.used = 0;
      }
      e.used += 1;
    }
    this.entries.set(key, e);
    if (this.entries.size > SWEEP_AT) this.sweep();
    return this.state(e, capacity, allowed);
  }

  /** peek reports the bucket without consuming; never throws. */
  peek(key: string, capacity: number): BucketState {
    const e = this.refill(key, capacity);
    if (this.entries.has(key)) this.entries.set(key, e);
    return this.state(e, capacity, e.tokens >= 1);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.entries) {
      // A bucket idle for a whole window is full again and its count window has ended; dropping it
      // changes nothing observable.
      if (t - e.at >= this.windowSeconds * 1000) this.entries.delete(k);
    }
  }
}
