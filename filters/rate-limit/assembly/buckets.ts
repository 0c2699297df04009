// Token buckets of one shared-data shard, and their byte encoding. A shard value is a sequence of
// entries: u8 user length, the user's UTF-8 bytes, then f64 tokens, f64 updatedMs, f64 capacity,
// f64 windowStartMs, f64 used (little-endian). Decoding is total: a value that does not parse decodes
// as an empty shard.
import { decodeUtf8At } from "proxy-wasm-as-sdk/utf8";

/**
 * Bucket is one user's token bucket as stored at `updatedMs`, plus the count of pulls served in the
 * current count window (`used` since `windowStartMs`), which the quota answer reports as a count.
 */
export class Bucket {
  windowStartMs: f64 = 0;
  used: f64 = 0;
  constructor(public user: string, public tokens: f64, public updatedMs: f64, public capacity: f64) {}

  /** usedAt returns the pulls served in the count window open at `nowMs` (0 once it has ended). */
  usedAt(nowMs: f64, windowMs: f64): f64 {
    return nowMs - this.windowStartMs < windowMs ? this.used : 0;
  }

  /** countPull records one served pull at `nowMs`, opening a new count window when the last one ended. */
  countPull(nowMs: f64, windowMs: f64): void {
    if (nowMs - this.windowStartMs >= windowMs) {
      this.windowStartMs = nowMs;
      this.used = 0;
    }
    this.used += 1;
  }

  /** tokensAt returns the bucket's tokens at `nowMs`, refilled at `capacity / windowMs` per ms and capped. */
  tokensAt(nowMs: f64, windowMs: f64): f64 {
    const elapsed = Math.max(0, nowMs - this.updatedMs);
    return Math.min(this.capacity, this.tokens + (elapsed * this.capacity) / windowMs);
  }
}

const ENTRY_FIXED_BYTES: i32 = 1 + 40;

/** decodeShard returns the buckets stored in `value`; an undecodable value gives an empty list. */
export function decodeShard(value: ArrayBuffer): Array<Bucket> {
  const out = new Array<Bucket>();
  const base = changetype<usize>(value);
  const size = value.byteLength;
  let offset = 0;
  while (offset < size) {
    const userLength = <i32>load<u8>(base + <usize>offset);
    if (offset + ENTRY_FIXED_BYTES + userLength > size) return new Array<Bucket>();
    // The SDK's decoder, not String.UTF8's: one decoder per module (these bytes are UTF-8 this filter wrote).
    const user = decodeUtf8At(base + <usize>offset + 1, <usize>userLength);
    const numbers = base + <usize>(offset + 1 + userLength);
    const bucket = new Bucket(user, load<f64>(numbers), load<f64>(numbers, 8), load<f64>(numbers, 16));
    bucket.windowStartMs = load<f64>(numbers, 24);
    bucket.used = load<f64>(numbers, 32);
    out.push(bucket);
    offset += ENTRY_FIXED_BYTES + userLength;
  }
  return out;
}

/** encodeShard renders `buckets` as a shard value; users longer than 255 UTF-8 bytes must be refused before. */
export function encodeShard(buckets: Array<Bucket>): ArrayBuffer {
  const users = new Array<ArrayBuffer>(buckets.length);
  let size = 0;
  for (let i = 0; i < buckets.length; i++) {
    const bytes = String.UTF8.encode(unchecked(buckets[i]).user);
    unchecked((users[i] = bytes));
    size += ENTRY_FIXED_BYTES + bytes.byteLength;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  let offset: usize = 0;
  for (let i = 0; i < buckets.length; i++) {
    const user = unchecked(users[i]);
    const bucket = unchecked(buckets[i]);
    store<u8>(base + offset, <u8>user.byteLength);
    memory.copy(base + offset + 1, changetype<usize>(user), <usize>user.byteLength);
    const numbers = base + offset + 1 + <usize>user.byteLength;
    store<f64>(numbers, bucket.tokens);
    store<f64>(numbers, bucket.updatedMs, 8);
    store<f64>(numbers, bucket.capacity, 16);
    store<f64>(numbers, bucket.windowStartMs, 24);
    store<f64>(numbers, bucket.used, 32);
    offset += <usize>(ENTRY_FIXED_BYTES + user.byteLength);
  }
  return out;
}

/**
 * pruneShard drops buckets that are full at `nowMs` and whose count window has ended (such a bucket
 * equals no bucket), then, while more
 * than `maxEntries` remain, evicts the fullest one. Eviction can only hand a user back tokens they
 * would have regained anyway soonest, which is the least generous choice available.
 */
export function pruneShard(buckets: Array<Bucket>, nowMs: f64, windowMs: f64, maxEntries: i32, keep: Bucket): Array<Bucket> {
  const out = new Array<Bucket>();
  for (let i = 0; i < buckets.length; i++) {
    const bucket = unchecked(buckets[i]);
    if (bucket === keep || bucket.tokensAt(nowMs, windowMs) < bucket.capacity || bucket.usedAt(nowMs, windowMs) > 0) out.push(bucket);
  }
  while (out.length > maxEntries) {
    let fullest = -1;
    let fullestRatio: f64 = -1;
    for (let i = 0; i < out.length; i++) {
      const bucket = unchecked(out[i]);
      if (bucket === keep) continue;
      const ratio = bucket.tokensAt(nowMs, windowMs) / bucket.capacity;
      if (ratio > fullestRatio) {
        fullestRatio = ratio;
        fullest = i;
      }
    }
    if (fullest < 0) break;
    out.splice(fullest, 1);
  }
  return out;
}

/** shardOf returns the shard index of `user` (FNV-1a over its UTF-16 code units) in [0, shards). */
export function shardOf(user: string, shards: i32): i32 {
  let hash: u32 = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    hash ^= <u32>user.charCodeAt(i);
    hash *= 0x01000193;
  }
  return <i32>(hash % <u32>shards);
}
