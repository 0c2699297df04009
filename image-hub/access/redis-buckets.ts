/**
 * The contract's token bucket kept in Redis, so every access replica draws on one bucket per user.
 * It is rate-limiter-flexible's RateLimiterRedis (its client handling, readiness check and
 * consume/reject protocol) with a custom Lua script: the library's own script counts a fixed window,
 * and the contract needs a continuously refilled bucket with the same Remaining/Reset numbers as
 * TokenBuckets, so the refill arithmetic is written here (and runs atomically in Redis, on Redis's
 * clock, which all replicas share).
 * @module
 */
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { bucketState, BucketsUnavailable, type BucketState, type PullBuckets } from "./bucket.ts";

// ARGV as RateLimiterRedis passes them: [1] tokens to take, [2] window (s), [3] capacity, [4] window (s).
// A hash {tokens, at(ms), ws(ms), used}: the bucket, and the count window of TokenBuckets (opened at
// the first served pull after the previous one ended, lasting a window; `used` pulls served in it).
// A key idle for a whole window expires, which reads back as a full bucket with no open count window.
// Returns {consumed, {micro-tokens left, used, ms left in the count window}}: consumed > capacity is
// the library's "rejected"; the nested reply reaches take() untouched as the library's msBeforeNext.
const TAKE = `
local cap = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'ws', 'used')
local tokens = tonumber(s[1]) or cap
local at = tonumber(s[2]) or now
local ws = tonumber(s[3]) or (now - window * 1000)
local used = tonumber(s[4]) or 0
tokens = math.min(cap, tokens + math.max(0, now - at) * cap / window / 1000)
local take = tonumber(ARGV[1])
local consumed = cap + 1
if tokens >= take then
  tokens = tokens - take
  consumed = cap - math.floor(tokens)
  if now - ws >= window * 1000 then
    ws = now
    used = 0
  end
  used = used + take
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now), 'ws', string.format('%.17g', ws), 'used', used)
redis.call('PEXPIRE', KEYS[1], window * 1000)
return {consumed, {math.floor(tokens * 1000000), used, math.ceil(ws + window * 1000 - now)}}
`;

// KEYS[1] bucket; ARGV[1] capacity, ARGV[2] window (s). Read-only: returns {micro-tokens now, used,
// ms left in the count window}, as TAKE's nested reply.
const PEEK = `
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'ws', 'used')
if not s[1] then return {math.floor(cap * 1000000), 0, 0} end
local tokens = math.min(cap, tonumber(s[1]) + math.max(0, now - tonumber(s[2])) * cap / window / 1000)
local ws = tonumber(s[3]) or (now - window * 1000)
return {math.floor(tokens * 1000000), tonumber(s[4]) or 0, math.ceil(ws + window * 1000 - now)}
`;

/** The nested reply of both scripts: micro-tokens, pulls in the count window, ms left in it. */
type Counts = [microTokens: number, used: number, windowLeftMs: number];

function counts(reply: unknown): Counts {
  if (!Array.isArray(reply) || reply.length !== 3) throw new BucketsUnavailable(`redis: unexpected bucket reply ${JSON.stringify(reply)}`);
  return reply.map(Number) as Counts;
}

const PREFIX = "image-hub:pulls";

/** RedisBuckets implements PullBuckets on a shared Redis, with the same numbers as TokenBuckets. */
export class RedisBuckets implements PullBuckets {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  /** `client` should come from connectRedis (no offline queue, so a down Redis fails fast). */
  constructor(
    private readonly client: Redis,
    private readonly windowSeconds: number,
  ) {
    if (!(windowSeconds > 0)) throw new Error("RedisBuckets: windowSeconds must be positive");
  }

  // One limiter per capacity (plans differ); each defines the same script on the shared client.
  private limiter(capacity: number): RateLimiterRedis {
    let l = this.limiters.get(capacity);
    if (!l) {
      l = new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: PREFIX,
        points: capacity,
        duration: this.windowSeconds,
        rejectIfRedisNotReady: true,
        customIncrTtlLuaScript: TAKE,
      });
      this.limiters.set(capacity, l);
    }
    return l;
  }

  /** take consumes one token; rejects with BucketsUnavailable when Redis cannot answer. */
  async take(key: string, capacity: number): Promise<BucketState> {
    let res: RateLimiterRes;
    let allowed = true;
    try {
      res = await this.limiter(capacity).consume(key, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw new BucketsUnavailable(`redis: ${(err as Error).message}`);
      res = err;
      allowed = false;
    }
    // The script returns its counts where the library expects a TTL.
    const [micro, used, windowLeftMs] = counts(res.msBeforeNext);
    return bucketState(micro / 1e6, capacity, this.windowSeconds, allowed, used, windowLeftMs);
  }

  /** peek reads the bucket without consuming; rejects with BucketsUnavailable when Redis cannot answer. */
  async peek(key: string, capacity: number): Promise<BucketState> {
    let reply: unknown;
    try {
      reply = await this.client.eval(PEEK, 1, `${PREFIX}:${key}`, String(capacity), String(this.windowSeconds));
    } catch (err) {
      throw new BucketsUnavailable(`redis: ${(err as Error).message}`);
    }
    const [micro, used, windowLeftMs] = counts(reply);
    const tokens = micro / 1e6;
    return bucketState(tokens, capacity, this.windowSeconds, tokens >= 1, used, windowLeftMs);
  }
}
