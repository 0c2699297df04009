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
  /**
   * For a decoded bucket, the shard value it came from and where its user's UTF-8 bytes are in it:
   * encodeShard copies those bytes instead of encoding `user` again (null for a new bucket).
   */
  source: ArrayBuffer | null = null;
  sourceAt: i32 = 0;
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
    bucket.source = value;
    bucket.sourceAt = offset + 1;
    out.push(bucket);
    offset += ENTRY_FIXED_BYTES + userLength;
  }
  return out;
}

/** The UTF-8 length of `bucket`'s user: its stored bytes when decoded, else its string's. */
function userLength(bucket: Bucket): i32 {
  const source = bucket.source;
  return source !== null ? <i32>load<u8>(changetype<usize>(source) + <usize>bucket.sourceAt - 1) : String.UTF8.byteLength(bucket.user);
}

/**
 * encodeShard renders `buckets` as a shard value; users longer than 255 UTF-8 bytes must be refused
 * before. A decoded bucket's user bytes are copied from its shard value (the bytes this filter wrote),
 * so only a new bucket's user is encoded: no buffer per user.
 */
export function encodeShard(buckets: Array<Bucket>): ArrayBuffer {
  let size = 0;
  for (let i = 0; i < buckets.length; i++) size += ENTRY_FIXED_BYTES + userLength(unchecked(buckets[i]));
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  let offset: usize = 0;
  for (let i = 0; i < buckets.length; i++) {
    const bucket = unchecked(buckets[i]);
    const length = <usize>userLength(bucket);
    store<u8>(base + offset, <u8>length);
    const source = bucket.source;
    if (source !== null) memory.copy(base + offset + 1, changetype<usize>(source) + <usize>bucket.sourceAt, length);
    else String.UTF8.encodeUnsafe(changetype<usize>(bucket.user), bucket.user.length, base + offset + 1);
    const numbers = base + offset + 1 + length;
    store<f64>(numbers, bucket.tokens);
    store<f64>(numbers, bucket.updatedMs, 8);
    store<f64>(numbers, bucket.capacity, 16);
    store<f64>(numbers, bucket.windowStartMs, 24);
    store<f64>(numbers, bucket.used, 32);
    offset += <usize>ENTRY_FIXED_BYTES + length;
  }
  return out;
}

/**
 * pruneShard drops buckets that are full at `nowMs` and whose count window has ended (such a bucket
 * equals no bucket), then, while more
 * than `maxEntries` remain, evicts the fullest one. Eviction can only hand a user back tokens they
 * would have regained anyway soonest, which is the least generous choice available. Works in place
 * (no second list per request): returns `buckets`, shortened, in the same order.
 */
export function pruneShard(buckets: Array<Bucket>, nowMs: f64, windowMs: f64, maxEntries: i32, keep: Bucket): Array<Bucket> {
  const out = buckets;
  let kept = 0;
  for (let i = 0; i < buckets.length; i++) {
    const bucket = unchecked(buckets[i]);
    if (bucket === keep || bucket.tokensAt(nowMs, windowMs) < bucket.capacity || bucket.usedAt(nowMs, windowMs) > 0) unchecked((out[kept++] = bucket));
  }
  out.length = kept;
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
  // Raw UTF-16 loads: charCodeAt and length are calls each in a build optimised for size.
  const at = changetype<usize>(user);
  const end = at + (<usize>user.length << 1);
  for (let p = at; p < end; p += 2) {
    hash ^= <u32>load<u16>(p);
    hash *= 0x01000193;
  }
  return <i32>(hash % <u32>shards);
}
