// The live-plan cache of token-auth (README "Live plans"): the plan the access service confirmed for a
// user, kept in shared data so every worker VM sees one answer. Direct-mapped: `slots` fixed keys, one
// user per key, so memory is bounded whatever the number of users (the ABI has no delete); a user
// whose slot holds someone else simply asks again. A value is f64 confirmedMs, u8 user length, the
// user's UTF-8 bytes, then the plan id's UTF-8 bytes. Decoding is total: a value that does not parse
// is a miss.
import { getSharedDataBytes, setSharedDataBytes } from "proxy-wasm-as-sdk";

const KEY_PREFIX = "image-hub.token-auth.plan.";

/** PlanCache reads and writes confirmed plans; one per root context. */
export class PlanCache {
  /** Each slot's key, UTF-8 encoded once so a request encodes none. */
  private keys: Array<ArrayBuffer>;

  constructor(slots: i32, readonly ttlMs: f64) {
    const keys = new Array<ArrayBuffer>(slots);
    for (let i = 0; i < slots; i++) unchecked((keys[i] = String.UTF8.encode(KEY_PREFIX + i.toString())));
    this.keys = keys;
  }

  private keyOf(user: string): ArrayBuffer {
    let hash: u32 = 0x811c9dc5;
    for (let i = 0; i < user.length; i++) {
      hash ^= <u32>user.charCodeAt(i);
      hash *= 0x01000193;
    }
    return unchecked(this.keys[<i32>(hash % <u32>this.keys.length)]);
  }

  /** fresh returns the plan confirmed for `user` less than ttlMs before `nowMs`, or null (ask again). */
  fresh(user: string, nowMs: f64): string | null {
    const stored = getSharedDataBytes(this.keyOf(user));
    if (stored === null) return null;
    const value = stored.value;
    const size = value.byteLength;
    if (size < 9) return null;
    const base = changetype<usize>(value);
    const confirmedMs = load<f64>(base);
    if (!(nowMs - confirmedMs < this.ttlMs) || nowMs < confirmedMs) return null;
    const userLength = <i32>load<u8>(base + 8);
    if (9 + userLength >= size || String.UTF8.decodeUnsafe(base + 9, <usize>userLength) != user) return null;
    return String.UTF8.decodeUnsafe(base + 9 + <usize>userLength, <usize>(size - 9 - userLength));
  }

  /** confirm stores `plan` as confirmed for `user` at `nowMs`; users longer than 255 bytes are not cached. */
  confirm(user: string, plan: string, nowMs: f64): void {
    const userBytes = String.UTF8.encode(user);
    if (userBytes.byteLength > 255) return;
    const planBytes = String.UTF8.encode(plan);
    const value = new ArrayBuffer(9 + userBytes.byteLength + planBytes.byteLength);
    const base = changetype<usize>(value);
    store<f64>(base, nowMs);
    store<u8>(base + 8, <u8>userBytes.byteLength);
    memory.copy(base + 9, changetype<usize>(userBytes), <usize>userBytes.byteLength);
    memory.copy(base + 9 + <usize>userBytes.byteLength, changetype<usize>(planBytes), <usize>planBytes.byteLength);
    // Unconditional write: whichever worker's confirmed answer lands last is as good as any.
    setSharedDataBytes(this.keyOf(user), value, 0);
  }
}
