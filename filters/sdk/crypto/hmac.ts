// HMAC-SHA256 (RFC 2104, FIPS 198-1). The keyed inner and outer states are computed once per key,
// so a MAC over a short JWT costs the message blocks plus two compressions.
import { Sha256, SHA256_BLOCK_BYTES, SHA256_DIGEST_BYTES } from "./sha256";

/**
 * HmacSha256 holds one key's precomputed HMAC state. Construct it when the key is configured (any
 * length; keys longer than a block are hashed first, as RFC 2104 says), then call `mac*` per
 * message. It never fails.
 */
export class HmacSha256 {
  private readonly inner: Sha256 = new Sha256();
  private readonly outer: Sha256 = new Sha256();
  private readonly work: Sha256 = new Sha256();
  private readonly innerDigest: StaticArray<u8> = new StaticArray<u8>(SHA256_DIGEST_BYTES);

  constructor(key: Uint8Array) {
    const pad = new StaticArray<u8>(SHA256_BLOCK_BYTES);
    const padStart = changetype<usize>(pad);
    if (key.length > SHA256_BLOCK_BYTES) {
      this.work.update(key);
      this.work.finishInto(padStart);
      this.work.reset();
    } else {
      memory.copy(padStart, key.dataStart, <usize>key.length);
    }
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) pad[i] ^= 0x36;
    this.inner.updatePointer(padStart, SHA256_BLOCK_BYTES);
    // 0x36 ^ 0x5c turns the inner pad into the outer pad without keeping the raw key around.
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) pad[i] ^= 0x36 ^ 0x5c;
    this.outer.updatePointer(padStart, SHA256_BLOCK_BYTES);
    memory.fill(padStart, 0, SHA256_BLOCK_BYTES);
  }

  /** macPointerInto writes the 32-byte MAC of `length` bytes at `pointer` to `out`. */
  macPointerInto(pointer: usize, length: i32, out: usize): void {
    const digest = changetype<usize>(this.innerDigest);
    this.work.copyFrom(this.inner);
    this.work.updatePointer(pointer, length);
    this.work.finishInto(digest);
    this.work.copyFrom(this.outer);
    this.work.updatePointer(digest, SHA256_DIGEST_BYTES);
    this.work.finishInto(out);
  }

  /** mac returns a new 32-byte MAC of `data`. */
  mac(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(SHA256_DIGEST_BYTES);
    this.macPointerInto(data.dataStart, data.length, out.dataStart);
    return out;
  }
}

/** hmacSha256 returns HMAC-SHA256(key, data) as 32 bytes; it never fails. Prefer HmacSha256 for a reused key. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new HmacSha256(key).mac(data);
}

/**
 * constantTimeEqual compares `length` bytes at `a` and `b` without an early exit, so the time taken
 * does not reveal where a forged MAC first differs. Returns true when all bytes match.
 */
export function constantTimeEqual(a: usize, b: usize, length: i32): bool {
  let difference: u32 = 0;
  for (let i: usize = 0; i < <usize>length; i++) difference |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  return difference == 0;
}
