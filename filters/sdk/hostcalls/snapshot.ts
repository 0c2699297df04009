// A header map read whole with one hostcall and shared by every reader of one callback (HeaderMap
// in ./headers.ts takes it and applies its own writes to it). Apart from headers.ts to keep both
// files readable.
import { decodeUtf8, utf8 } from "../utf8";

/** Compares header names ASCII-case-insensitively (the host keeps names lowercase; callers may not). */
function sameName(a: usize, aLength: usize, b: usize, bLength: usize): bool {
  if (aLength != bLength) return false;
  for (let i: usize = 0; i < aLength; i++) {
    let x = <u32>load<u8>(a + i);
    let y = <u32>load<u8>(b + i);
    if (x - 0x41 < 26) x |= 0x20;
    if (y - 0x41 < 26) y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

/** How many decoded values a snapshot keeps for repeated get() calls. */
const MAX_DECODED: i32 = 8;

/**
 * HeaderSnapshot is every entry of one header map, read with ONE hostcall (proxy_get_header_map_pairs)
 * and shared by every reader in the same callback, e.g. all the filters of a composition. Writes made
 * through the same HeaderMap in that callback (replace, remove) are applied to it, so it reads what
 * the host would answer; add and setPairs make the next snapshot() read the map again. Get one with
 * HeaderMap.snapshot(); do not keep it past the callback.
 */
export class HeaderSnapshot {
  /** The pairs as the host serialized them (validated when read); empty when the map was unavailable. */
  private raw: ArrayBuffer = new ArrayBuffer(0);
  private count: usize = 0;
  private available: bool = false;
  /** Names written in this callback, in order, with their value (null: removed); the last one wins. */
  private writtenNames: Array<ArrayBuffer> = new Array<ArrayBuffer>();
  private writtenValues: Array<ArrayBuffer | null> = new Array<ArrayBuffer | null>();
  /** Values get() decoded from this snapshot, by name (at most MAX_DECODED; a write drops its name's). */
  private decodedNames: Array<ArrayBuffer> = new Array<ArrayBuffer>();
  private decodedValues: Array<string> = new Array<string>();

  /** Takes the host's serialized pairs; false (and an unavailable snapshot) when they are malformed. */
  load(raw: ArrayBuffer, available: bool): bool {
    this.writtenNames.length = 0;
    this.writtenValues.length = 0;
    this.decodedNames.length = 0;
    this.decodedValues.length = 0;
    this.raw = raw;
    this.count = 0;
    this.available = available;
    if (!available) return true;
    const size = <usize>raw.byteLength;
    if (size < 4) return true;
    const base = changetype<usize>(raw);
    const count = <usize>load<u32>(base);
    let ok = count <= (size - 4) / 10;
    let pos: usize = 4 + 8 * count;
    for (let i: usize = 0; ok && i < count; i++) {
      const k = <usize>load<u32>(base + 4 + 8 * i);
      const v = <usize>load<u32>(base + 8 + 8 * i);
      ok = k <= size && v <= size && pos + k + v + 2 <= size && load<u8>(base + pos + k) == 0 && load<u8>(base + pos + k + 1 + v) == 0;
      pos += k + v + 2;
    }
    if (!ok || pos != size) {
      this.available = false;
      return false;
    }
    this.count = count;
    return true;
  }

  /** ok tells whether the map was available when read (false outside the callbacks that have it). */
  ok(): bool {
    return this.available;
  }

  /** Where find() found its value: the first byte (valid until the callback ends; read-only) and the length. */
  foundAt: usize = 0;
  foundLength: i32 = 0;

  /**
   * find locates the first value of `name` without copying it: true with foundAt/foundLength set,
   * false when absent or unavailable. Use it to compare or hash a value in place (getBytes copies).
   */
  find(name: string): bool {
    if (!this.available) return false;
    const key = utf8(name);
    const keyAt = changetype<usize>(key);
    const keyLength = <usize>key.byteLength;
    for (let i = this.writtenNames.length - 1; i >= 0; i--) {
      const written = unchecked(this.writtenNames[i]);
      if (!sameName(changetype<usize>(written), <usize>written.byteLength, keyAt, keyLength)) continue;
      const value = unchecked(this.writtenValues[i]);
      if (value === null) return false;
      this.foundAt = changetype<usize>(value);
      this.foundLength = value.byteLength;
      return true;
    }
    const base = changetype<usize>(this.raw);
    let pos: usize = 4 + 8 * this.count;
    for (let i: usize = 0; i < this.count; i++) {
      const k = <usize>load<u32>(base + 4 + 8 * i);
      const v = <usize>load<u32>(base + 8 + 8 * i);
      if (sameName(base + pos, k, keyAt, keyLength)) {
        this.foundAt = base + pos + k + 1;
        this.foundLength = <i32>v;
        return true;
      }
      pos += k + v + 2;
    }
    return false;
  }

  /** getBytes returns the first value of `name` as raw bytes (a copy), or null when absent or unavailable. */
  getBytes(name: string): ArrayBuffer | null {
    if (!this.find(name)) return null;
    const length = this.foundLength;
    const out = new ArrayBuffer(length);
    memory.copy(changetype<usize>(out), this.foundAt, <usize>length);
    return out;
  }

  /**
   * get returns the first value of `name` decoded as UTF-8 (lossy, as HeaderMap.get), or null. A
   * value already decoded from this snapshot is returned again without decoding (the filters of a
   * composition all read :path and :method).
   */
  get(name: string): string | null {
    if (!this.available) return null;
    const key = utf8(name);
    const keyAt = changetype<usize>(key);
    const keyLength = <usize>key.byteLength;
    const decodedNames = this.decodedNames;
    for (let i = 0; i < decodedNames.length; i++) {
      const known = unchecked(decodedNames[i]);
      if (sameName(changetype<usize>(known), <usize>known.byteLength, keyAt, keyLength)) return unchecked(this.decodedValues[i]);
    }
    const bytes = this.getBytes(name);
    if (bytes === null) return null;
    const value = decodeUtf8(bytes);
    if (decodedNames.length < MAX_DECODED) {
      decodedNames.push(key);
      this.decodedValues.push(value);
    }
    return value;
  }

  /** has tells whether `name` is present. */
  has(name: string): bool {
    return this.find(name);
  }

  /**
   * Records that `name` (just written) now reads as `value`, when encoding `value` and decoding it
   * back gives `value` exactly (no UTF-16 surrogates): a filter after the writer then gets the
   * writer's own string instead of a decoded copy.
   */
  wroteString(name: ArrayBuffer, value: string): void {
    if (this.decodedNames.length >= MAX_DECODED) return;
    const at = changetype<usize>(value);
    const end = at + (<usize>value.length << 1);
    for (let p = at; p < end; p += 2) if ((<u32>load<u16>(p) & 0xf800) == 0xd800) return;
    this.decodedNames.push(name);
    this.decodedValues.push(value);
  }

  /** Records a write the host accepted; `value` null for a removal. */
  wrote(name: ArrayBuffer, value: ArrayBuffer | null): void {
    this.writtenNames.push(name);
    this.writtenValues.push(value);
    // A decoded value of the written name is stale: the last entry takes its place.
    const decodedNames = this.decodedNames;
    const decodedValues = this.decodedValues;
    for (let i = decodedNames.length - 1; i >= 0; i--) {
      const known = unchecked(decodedNames[i]);
      if (sameName(changetype<usize>(known), <usize>known.byteLength, changetype<usize>(name), <usize>name.byteLength)) {
        const last = decodedNames.length - 1;
        unchecked((decodedNames[i] = decodedNames[last]));
        unchecked((decodedValues[i] = decodedValues[last]));
        decodedNames.length = last;
        decodedValues.length = last;
      }
    }
  }
}
