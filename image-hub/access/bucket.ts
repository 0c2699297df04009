/**
 * The contract's per-user token bucket (capacity = the plan's pullsPerWindow, refilled at
 * pullsPerWindow / windowSeconds per second). Hand-written because rate-limiter-flexible 11 only
 * offers fixed windows (RateLimiterMemory resets all points at the end of each duration) and its
 * BurstyRateLimiter combines two fixed windows; neither refills continuously, so neither can give the
 * same Remaining/Reset numbers as the rate-limit filter.
 * @module
 */

/** The state of a user's bucket after a call, in the units of the RateLimit-* headers. */
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
export class TokenBuckets {
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
    const perSecond = capacity / this.windowSeconds;
    const windowLeft = e.windowStart + this.windowSeconds * 1000 - e.at;
    return {
      allowed,
      limit: capacity,
      remaining: Math.floor(e.tokens),
      resetSeconds: perSecond > 0 ? Math.ceil((capacity - e.tokens) / perSecond) : 0,
      retryAfterSeconds: e.tokens >= 1 || perSecond === 0 ? 0 : Math.ceil((1 - e.tokens) / perSecond),
      windowSeconds: this.windowSeconds,
      used: windowLeft > 0 ? e.used : 0,
      usedResetSeconds: windowLeft > 0 ? Math.ceil(windowLeft / 1000) : 0,
    };
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
