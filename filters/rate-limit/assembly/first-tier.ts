// The per-sidecar first tier of global mode (README "Global mode"): this Envoy's own bucket of a user,
// charged only with pulls the global tier admitted, so it never holds fewer tokens than the global
// bucket and can refuse locally, without a round trip, only what the global tier would refuse too.
import { Bucket, decodeShard } from "./buckets";

/** localTokens returns `user`'s tokens at `nowMs` in a shard value (a full bucket when absent). */
export function localTokens(shard: ArrayBuffer, user: string, capacity: f64, nowMs: f64, windowMs: f64): f64 {
  const buckets = decodeShard(shard);
  for (let i = 0; i < buckets.length; i++) {
    const bucket = unchecked(buckets[i]);
    if (bucket.user != user) continue;
    bucket.capacity = capacity;
    return bucket.tokensAt(nowMs, windowMs);
  }
  return capacity;
}

/**
 * chargeAdmitted takes the token of a pull the global tier admitted from `user`'s bucket in `buckets`
 * (adding the bucket when absent) and returns it. The token is taken as of `requestMs`, when the
 * global tier took its own, not as of the response: taking it later would lose the refill a full
 * bucket cannot hold and leave this bucket below the global one. When the bucket was written after
 * `requestMs` (pulls overlapping), it is taken as of that write. Never goes below zero.
 */
export function chargeAdmitted(buckets: Array<Bucket>, user: string, capacity: f64, requestMs: f64, windowMs: f64): Bucket {
  let bucket: Bucket | null = null;
  for (let i = 0; i < buckets.length; i++) if (unchecked(buckets[i]).user == user) bucket = unchecked(buckets[i]);
  if (bucket === null) {
    bucket = new Bucket(user, capacity, requestMs, capacity);
    buckets.push(bucket);
  }
  bucket.capacity = capacity;
  const at = Math.max(requestMs, bucket.updatedMs);
  bucket.tokens = Math.max(0, bucket.tokensAt(at, windowMs) - 1);
  bucket.updatedMs = at;
  bucket.countPull(at, windowMs);
  return bucket;
}
