// The app-mode token bucket against the contract's numbers, on a fake clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBuckets } from "./bucket.ts";

describe("TokenBuckets", () => {
  it("should allow the capacity, then refuse without consuming, then refill continuously", () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets(60, () => now);
    // Ten pulls in the same instant: remaining counts down, reset grows by 6 s per pull.
    for (let i = 1; i <= 10; i++) {
      const s = buckets.take("alice", 10);
      assert.equal(s.allowed, true);
      assert.equal(s.remaining, 10 - i);
      assert.equal(s.resetSeconds, 6 * i);
      assert.equal(s.used, i);
    }
    // The 11th is refused; refusing twice changes nothing.
    for (let i = 0; i < 2; i++) {
      const s = buckets.take("alice", 10);
      assert.deepEqual(s, { allowed: false, limit: 10, remaining: 0, resetSeconds: 60, retryAfterSeconds: 6, windowSeconds: 60, used: 10, usedResetSeconds: 60 });
    }
    // 3 s later half a token is back: still refused, retry in 3 s.
    now += 3000;
    assert.equal(buckets.take("alice", 10).retryAfterSeconds, 3);
    // 6 s after the burst one token is back, and only one.
    now += 3000;
    assert.equal(buckets.take("alice", 10).allowed, true);
    assert.equal(buckets.take("alice", 10).allowed, false);
    // Used counts pulls served in the count window: 11, not limit − remaining (10).
    assert.equal(buckets.peek("alice", 10).used, 11);
    // The count window opened by the first pull ends 60 s after it; the next pull opens a new one.
    now = 1_060_000;
    assert.deepEqual([buckets.peek("alice", 10).used, buckets.peek("alice", 10).usedResetSeconds], [0, 0]);
    assert.equal(buckets.take("alice", 10).used, 1);
    // Other users have their own bucket.
    assert.equal(buckets.peek("bob", 100).remaining, 100);
  });

  it("should forget idle users so memory stays bounded", () => {
    let now = 0;
    const buckets = new TokenBuckets(60, () => now);
    const entries = (buckets as unknown as { entries: Map<string, unknown> }).entries;
    for (let i = 0; i < 10_001; i++) buckets.take(`user${i}`, 10);
    // Past the sweep threshold, but nobody has been idle for a window yet: everyone is kept.
    assert.equal(entries.size, 10_001);
    now += 30_000;
    for (let i = 0; i < 400; i++) buckets.take("active", 600);
    now += 31_000;
    buckets.take("trigger", 10);
    // The sweep dropped exactly the buckets idle for a full window; the active user kept its count.
    assert.deepEqual([...entries.keys()].sort(), ["active", "trigger"]);
    assert.equal(buckets.peek("active", 600).remaining, 200 + 310, "200 left, refilled 31 s at 10/s");
    // A swept user starts full again, and peeking does not bring the entry back.
    assert.equal(buckets.peek("user1", 10).remaining, 10);
    assert.equal(entries.size, 2);
  });
});
