// The live-plan cache of token-auth (README "Live plans"): the plan the access service confirmed for a
// user, kept in shared data so every worker VM sees one answer. `slots` fixed keys (FNV-1a of the
// user), each holding up to WAYS users, so memory is bounded whatever the number of users (the ABI has
// no delete) and two users sharing a key do not evict each other on every request. A key's value is a
// sequence of entries: f64 confirmedMs, u8 user length, u8 plan length, the user's and the plan id's
// UTF-8 bytes. Decoding is total: bytes that do not parse end the sequence.
import { decimal, encodeUtf8, getSharedDataBytes, setSharedDataBytes } from "proxy-wasm-as-sdk";
import { decodeUtf8At } from "proxy-wasm-as-sdk/utf8";

const KEY_PREFIX = "image-hub.token-auth.plan.";
/** Users kept per key; a confirmation replaces the same user's entry or else the oldest. */
const WAYS: i32 = 4;
const ENTRY_FIXED: i32 = 10;

/**
 * Whether the `length` bytes at `at` spell `user`. Users are verified subjects (visible ASCII,
 * jwt.ts isHeaderSafe), whose UTF-8 bytes are their char codes; compared in place, no decoding.
 */
function spells(at: usize, length: i32, user: string): bool {
  if (length != user.length) return false;
  for (let i = 0; i < length; i++) if (<i32>load<u8>(at + <usize>i) != user.charCodeAt(i)) return false;
  return true;
}

/**
 * Walks the entries of `value` (a key's stored sequence) and returns the bytes of those kept beside
 * a new entry for `user`: other users' entries, at most WAYS - 1, newest first. When `out` is not 0
 * it also copies them there; so one walk sizes the new value and a second fills it.
 */
function keptEntries(value: ArrayBuffer, user: string, out: usize): i32 {
  const base = changetype<usize>(value);
  const size = value.byteLength;
  let kept = 0;
  let total = 0;
  for (let offset = 0; offset + ENTRY_FIXED <= size && kept < WAYS - 1; ) {
    const at = base + <usize>offset;
    const userLength = <i32>load<u8>(at + 8);
    const length = ENTRY_FIXED + userLength + <i32>load<u8>(at + 9);
    if (offset + length > size) break;
    if (!spells(at + 10, userLength, user)) {
      if (out != 0) memory.copy(out + <usize>total, at, <usize>length);
      total += length;
      kept++;
    }
    offset += length;
  }
  return total;
}

/** PlanCache reads and writes confirmed plans; one per root context. */
export class PlanCache {
  /** Each slot's key, UTF-8 encoded once so a request encodes none. */
  private keys: StaticArray<ArrayBuffer | null>;

  constructor(slots: i32, readonly ttlMs: f64) {
    const keys = new StaticArray<ArrayBuffer | null>(slots);
    for (let i = 0; i < slots; i++) unchecked((keys[i] = encodeUtf8(KEY_PREFIX + decimal(i))));
    this.keys = keys;
  }

  private keyOf(user: string): ArrayBuffer {
    let hash: u32 = 0x811c9dc5;
    for (let i = 0; i < user.length; i++) {
      hash ^= <u32>user.charCodeAt(i);
      hash *= 0x01000193;
    }
    return changetype<ArrayBuffer>(unchecked(this.keys[<i32>(hash % <u32>this.keys.length)]));
  }

  /** fresh returns the plan confirmed for `user` less than ttlMs before `nowMs`, or null (ask again). */
  fresh(user: string, nowMs: f64): string | null {
    const stored = getSharedDataBytes(this.keyOf(user));
    if (stored === null) return null;
    const value = stored.value;
    const base = changetype<usize>(value);
    const size = value.byteLength;
    for (let offset = 0; offset + ENTRY_FIXED <= size; ) {
      const at = base + <usize>offset;
      const userLength = <i32>load<u8>(at + 8);
      const planLength = <i32>load<u8>(at + 9);
      if (offset + ENTRY_FIXED + userLength + planLength > size) return null;
      if (spells(at + 10, userLength, user)) {
        const confirmedMs = load<f64>(at);
        if (!(nowMs - confirmedMs < this.ttlMs) || nowMs < confirmedMs) return null;
        return decodeUtf8At(at + 10 + <usize>userLength, <usize>planLength);
      }
      offset += ENTRY_FIXED + userLength + planLength;
    }
    return null;
  }

  /** confirm stores `plan` as confirmed for `user` at `nowMs`; users or plans longer than 255 bytes are not cached. */
  confirm(user: string, plan: string, nowMs: f64): void {
    const userBytes = encodeUtf8(user);
    const planBytes = encodeUtf8(plan);
    if (userBytes.byteLength > 255 || planBytes.byteLength > 255) return;
    const key = this.keyOf(user);
    const stored = getSharedDataBytes(key);
    const entry = ENTRY_FIXED + userBytes.byteLength + planBytes.byteLength;
    const kept = stored === null ? 0 : keptEntries(stored.value, user, 0);
    const out = new ArrayBuffer(entry + kept);
    const base = changetype<usize>(out);
    // The newest entry first, so a read finds recently confirmed users soonest.
    store<f64>(base, nowMs);
    store<u8>(base + 8, <u8>userBytes.byteLength);
    store<u8>(base + 9, <u8>planBytes.byteLength);
    memory.copy(base + 10, changetype<usize>(userBytes), <usize>userBytes.byteLength);
    memory.copy(base + 10 + <usize>userBytes.byteLength, changetype<usize>(planBytes), <usize>planBytes.byteLength);
    if (stored !== null) keptEntries(stored.value, user, base + <usize>entry);
    // Unconditional write: a lost race only drops another user's entry, who then asks again.
    setSharedDataBytes(key, out, 0);
  }
}
