// SHA-256 (FIPS 180-4) in AssemblyScript. Hand-written because no maintained AssemblyScript package
// compiles on AS 0.28 without a transform, and the filters need it on every request (JWT HS256).
// The state object is reusable so that a filter hashes without allocating per request.

/** Round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Initial hash value: the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const H0: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** SHA256_BLOCK_BYTES is the size of one compression-function input block. */
export const SHA256_BLOCK_BYTES: i32 = 64;
/** SHA256_DIGEST_BYTES is the size of a SHA-256 digest. */
export const SHA256_DIGEST_BYTES: i32 = 32;

/**
 * Sha256 is an incremental SHA-256 state. Call `update` any number of times, then `finish`; call
 * `reset` (or `copyFrom`) before reusing it. It never fails: every byte sequence has a digest.
 */
export class Sha256 {
  /** The eight working hash words; exposed so HMAC can snapshot a keyed state. */
  readonly state: StaticArray<u32> = new StaticArray<u32>(8);
  private readonly block: StaticArray<u8> = new StaticArray<u8>(SHA256_BLOCK_BYTES);
  private readonly schedule: StaticArray<u32> = new StaticArray<u32>(64);
  private blockLength: i32 = 0;
  private totalBytes: u64 = 0;

  constructor() {
    this.reset();
  }

  /** reset returns the state to the FIPS 180-4 initial hash value; may be called at any time. */
  reset(): void {
    memory.copy(changetype<usize>(this.state), H0, 32);
    this.blockLength = 0;
    this.totalBytes = 0;
  }

  /** copyFrom makes this state identical to `other` (used to restore precomputed HMAC pads). */
  copyFrom(other: Sha256): void {
    memory.copy(changetype<usize>(this.state), changetype<usize>(other.state), 32);
    memory.copy(changetype<usize>(this.block), changetype<usize>(other.block), SHA256_BLOCK_BYTES);
    this.blockLength = other.blockLength;
    this.totalBytes = other.totalBytes;
  }

  /** updatePointer absorbs `length` bytes at linear-memory address `pointer`; length ≤ 0 is a no-op. */
  updatePointer(pointer: usize, length: i32): void {
    if (length <= 0) return;
    this.totalBytes += <u64>length;
    let offset: i32 = 0;
    const blockStart = changetype<usize>(this.block);
    if (this.blockLength > 0) {
      const take = min(SHA256_BLOCK_BYTES - this.blockLength, length);
      memory.copy(blockStart + <usize>this.blockLength, pointer, <usize>take);
      this.blockLength += take;
      offset = take;
      if (this.blockLength < SHA256_BLOCK_BYTES) return;
      this.compress(blockStart);
      this.blockLength = 0;
    }
    // Whole blocks are compressed straight from the caller's memory to avoid a copy.
    while (length - offset >= SHA256_BLOCK_BYTES) {
      this.compress(pointer + <usize>offset);
      offset += SHA256_BLOCK_BYTES;
    }
    const rest = length - offset;
    if (rest > 0) {
      memory.copy(blockStart, pointer + <usize>offset, <usize>rest);
      this.blockLength = rest;
    }
  }

  /** update absorbs all of `data`. */
  update(data: Uint8Array): void {
    this.updatePointer(data.dataStart, data.length);
  }

  /** finishInto pads, compresses and writes the 32-byte digest at `out`; the state must then be reset. */
  finishInto(out: usize): void {
    const blockStart = changetype<usize>(this.block);
    const bitLength = this.totalBytes << 3;
    store<u8>(blockStart + <usize>this.blockLength, 0x80);
    this.blockLength++;
    if (this.blockLength > SHA256_BLOCK_BYTES - 8) {
      memory.fill(blockStart + <usize>this.blockLength, 0, <usize>(SHA256_BLOCK_BYTES - this.blockLength));
      this.compress(blockStart);
      this.blockLength = 0;
    }
    memory.fill(blockStart + <usize>this.blockLength, 0, <usize>(SHA256_BLOCK_BYTES - 8 - this.blockLength));
    store<u64>(blockStart + <usize>(SHA256_BLOCK_BYTES - 8), bswap<u64>(bitLength));
    this.compress(blockStart);
    const state = changetype<usize>(this.state);
    for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(state + (i << 2))));
  }

  /** finish returns a new 32-byte digest; the state must then be reset before reuse. */
  finish(): Uint8Array {
    const out = new Uint8Array(SHA256_DIGEST_BYTES);
    this.finishInto(out.dataStart);
    return out;
  }

  private compress(blockPointer: usize): void {
    const w = changetype<usize>(this.schedule);
    for (let t: usize = 0; t < 16; t++) store<u32>(w + (t << 2), bswap<u32>(load<u32>(blockPointer + (t << 2))));
    for (let t: usize = 16; t < 64; t++) {
      const w15 = load<u32>(w + ((t - 15) << 2));
      const w2 = load<u32>(w + ((t - 2) << 2));
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      store<u32>(w + (t << 2), load<u32>(w + ((t - 16) << 2)) + s0 + load<u32>(w + ((t - 7) << 2)) + s1);
    }
    const state = changetype<usize>(this.state);
    let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
    let e = load<u32>(state, 16), f = load<u32>(state, 20), g = load<u32>(state, 24), h = load<u32>(state, 28);
    for (let t: usize = 0; t < 64; t++) {
      const s1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + s1 + ch + load<u32>(K + (t << 2)) + load<u32>(w + (t << 2));
      const s0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = s0 + maj;
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    store<u32>(state, load<u32>(state) + a);
    store<u32>(state, load<u32>(state, 4) + b, 4);
    store<u32>(state, load<u32>(state, 8) + c, 8);
    store<u32>(state, load<u32>(state, 12) + d, 12);
    store<u32>(state, load<u32>(state, 16) + e, 16);
    store<u32>(state, load<u32>(state, 20) + f, 20);
    store<u32>(state, load<u32>(state, 24) + g, 24);
    store<u32>(state, load<u32>(state, 28) + h, 28);
  }
}

/** sha256 returns the 32-byte SHA-256 digest of `data`; it never fails. */
export function sha256(data: Uint8Array): Uint8Array {
  const hash = new Sha256();
  hash.update(data);
  return hash.finish();
}
