// JWS compact (RFC 7515) HS256 verification for registry tokens (CONTRACT.md "Token"). Order matters:
// the signature is checked before the payload is parsed, so unauthenticated bytes only ever reach the
// small header parser. Every failure returns a reason; nothing here traps on any input.
import { base64UrlDecodeRange, base64UrlDecodedLength, constantTimeEqual, HmacSha256, SHA256_DIGEST_BYTES } from "proxy-wasm-as-sdk/crypto";
import { JsonArray, JsonKind, JsonNumber, JsonObject, JsonString, JsonValue, parseJson } from "proxy-wasm-as-sdk";
import { isValidRepositoryName } from "proxy-wasm-as-sdk/registry/routes";
import { isPlanId } from "proxy-wasm-as-sdk/registry/errors";
import { Name, name, Reason } from "./texts";

/** The largest JWT header segment read; real headers are ~60 characters. */
const MAX_HEADER_SEGMENT: i32 = 512;

/** JwtKey is one configured HS256 key with its precomputed HMAC state. */
export class JwtKey {
  constructor(readonly kid: string, readonly mac: HmacSha256) {}
}

/** VerifiedToken is the identity a valid token carries, ready for the x-hub-* headers. */
export class VerifiedToken {
  subject: string = "";
  plan: string = "";
  /** Granted scopes as CONTRACT.md's x-hub-access value (may be empty). */
  access: string = "";
  /** The token's exp and nbf (nbf is -Infinity when absent), re-checked on every cache hit. */
  expiresAt: f64 = 0;
  notBefore: f64 = -Infinity;
}

/**
 * The verified-token cache, keyed by the whole Authorization value as the request carried it (clients
 * reuse a token for its whole lifetime): a hit skips decoding the value, the HMAC and the claims.
 * Open addressing over RAW_SLOTS slots, at most RAW_PROBES probed per lookup; an insert into a full
 * probe run overwrites its first slot. Bounded by RAW_SLOTS entries (each value at most
 * maxTokenLength + a few bytes), sized for several hundred concurrent users per worker.
 */
const RAW_SLOTS: u32 = 1024;
const RAW_PROBES: u32 = 8;
/** Bytes an Authorization value may have beyond its token ("Bearer " and some spaces) and still be cached. */
const RAW_SLACK: i32 = 16;

/** Distinct plan ids the verifier shares between cached identities (plans are few; past this, not shared). */
const MAX_SHARED_PLANS: i32 = 16;

/** How many trailing bytes of an Authorization value the cache hashes: a JWT ends with its signature. */
const RAW_HASHED_BYTES: usize = 48;

/**
 * FNV-1a over the length and the last RAW_HASHED_BYTES bytes (where a token's HMAC signature is, so
 * tokens differ there); only a slot picker: a hit also compares every byte.
 */
function hashBytes(at: usize, length: usize): u32 {
  let hash: u32 = (0x811c9dc5 ^ <u32>length) * 0x01000193;
  for (let i: usize = length > RAW_HASHED_BYTES ? length - RAW_HASHED_BYTES : 0; i < length; i++) {
    hash ^= <u32>load<u8>(at + i);
    hash *= 0x01000193;
  }
  return hash;
}

/**
 * sameBytes tells whether the `length` bytes at `a` and `b` are equal, eight at a time: a cache hit
 * compares a whole Authorization value (~340 bytes), and memory.compare goes byte by byte in a build
 * optimised for size.
 */
function sameBytes(a: usize, b: usize, length: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= length; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < length; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** JwtSettings are the checks of CONTRACT.md with values from the plugin configuration. */
export class JwtSettings {
  issuer: string = "";
  audience: string = "";
  clockSkewSeconds: f64 = 0;
  maxTokenLength: i32 = 0;
  keys: Array<JwtKey> = new Array<JwtKey>();
}

/**
 * JwtVerifier checks tokens against one JwtSettings. It owns scratch buffers sized from the
 * settings, so one instance serves every stream of a VM without per-request buffer allocation.
 */
export class JwtVerifier {
  /** Why the last verify returned null, for the debug log (never sent to the client). */
  reason: Reason = Reason.EmptyToken;
  private readonly signing: Uint8Array;
  private readonly expected: StaticArray<u8> = new StaticArray<u8>(SHA256_DIGEST_BYTES);
  private readonly given: StaticArray<u8> = new StaticArray<u8>(SHA256_DIGEST_BYTES);
  /** Whether the last verifyCached found its value (then a null answer is a refusal with `reason`). */
  cached: bool = false;
  // Authorization values whose token verified (see RAW_SLOTS); only the time checks are redone on a
  // hit. A slot is three parallel entries, not an object: the collector marks every live object at
  // each collection, and per entry this leaves only the identity and its strings to mark. The value's
  // bytes live in an unmanaged block (u32 length, then the bytes; 0 when the slot is empty), freed
  // when the slot is overwritten.
  private readonly rawValues: StaticArray<usize> = new StaticArray<usize>(<i32>RAW_SLOTS);
  private readonly rawHashes: StaticArray<u32> = new StaticArray<u32>(<i32>RAW_SLOTS);
  private readonly rawIdentities: StaticArray<VerifiedToken | null> = new StaticArray<VerifiedToken | null>(<i32>RAW_SLOTS);
  /** Plan ids seen in verified tokens, so that cached identities share one string per plan. */
  private readonly plans: Array<string> = new Array<string>();

  constructor(readonly settings: JwtSettings) {
    this.signing = new Uint8Array(settings.maxTokenLength);
  }

  private refuse(reason: Reason): VerifiedToken | null {
    this.reason = reason;
    return null;
  }

  /**
   * verify returns the identity of `token` at time `nowSeconds`, or null with `reason` set. It checks
   * everything; cache a success with rememberAuthorization and look it up first with verifyCached.
   */
  verify(token: string, nowSeconds: f64): VerifiedToken | null {
    if (token.length == 0) return this.refuse(Reason.EmptyToken);
    if (token.length > this.settings.maxTokenLength) return this.refuse(Reason.TooLong);
    return this.verifyFully(token, nowSeconds);
  }

  /**
   * verifyCached returns the identity of a request whose Authorization value (its raw bytes: `length`
   * at `at`) already verified, re-checked against exp/nbf at `nowSeconds` (null with `reason` set
   * when it no longer holds); null with `cached` false when the value is not cached (then use verify).
   */
  verifyCached(at: usize, length: i32, nowSeconds: f64): VerifiedToken | null {
    this.cached = false;
    const hash = hashBytes(at, <usize>length);
    for (let i: u32 = 0; i < RAW_PROBES; i++) {
      const slot = <i32>((hash + i) & (RAW_SLOTS - 1));
      const value = unchecked(this.rawValues[slot]);
      if (value == 0) return null;
      if (unchecked(this.rawHashes[slot]) == hash && load<u32>(value) == <u32>length && sameBytes(value + 4, at, <usize>length)) {
        this.cached = true;
        return this.checkTimes(changetype<VerifiedToken>(unchecked(this.rawIdentities[slot])), nowSeconds);
      }
    }
    return null;
  }

  /**
   * rememberAuthorization caches `identity` (from verify) under the Authorization value it came from
   * (its bytes copied). A value longer than maxTokenLength + RAW_SLACK (padding around the token) is
   * not cached, so an entry never holds more than that.
   */
  rememberAuthorization(authorization: ArrayBuffer, identity: VerifiedToken): void {
    const length = authorization.byteLength;
    if (length > this.settings.maxTokenLength + RAW_SLACK) return;
    const hash = hashBytes(changetype<usize>(authorization), <usize>length);
    let slot = <i32>(hash & (RAW_SLOTS - 1));
    for (let i: u32 = 0; i < RAW_PROBES; i++) {
      const at = <i32>((hash + i) & (RAW_SLOTS - 1));
      if (unchecked(this.rawValues[at]) == 0) {
        slot = at;
        break;
      }
    }
    const old = unchecked(this.rawValues[slot]);
    if (old != 0) heap.free(old);
    const value = heap.alloc(4 + <usize>length);
    store<u32>(value, <u32>length);
    memory.copy(value + 4, changetype<usize>(authorization), <usize>length);
    unchecked((this.rawValues[slot] = value));
    unchecked((this.rawHashes[slot] = hash));
    unchecked((this.rawIdentities[slot] = identity));
  }

  /**
   * clear empties the cache and frees its value blocks (the collector does not know them). Call it
   * when this verifier is replaced, or its blocks stay allocated.
   */
  clear(): void {
    for (let i = 0; i < <i32>RAW_SLOTS; i++) {
      const value = unchecked(this.rawValues[i]);
      if (value != 0) heap.free(value);
      unchecked((this.rawValues[i] = 0));
      unchecked((this.rawIdentities[i] = null));
    }
  }

  /** sharedPlan returns the plan id string an earlier identity already holds when equal to `plan`, else `plan`. */
  private sharedPlan(plan: string): string {
    const plans = this.plans;
    for (let i = 0; i < plans.length; i++) if (unchecked(plans[i]) == plan) return unchecked(plans[i]);
    if (plans.length < MAX_SHARED_PLANS) plans.push(plan);
    return plan;
  }

  private checkTimes(identity: VerifiedToken, now: f64): VerifiedToken | null {
    const skew = this.settings.clockSkewSeconds;
    if (now >= identity.expiresAt + skew) return this.refuse(Reason.Expired);
    if (now + skew < identity.notBefore) return this.refuse(Reason.NotYetValid);
    return identity;
  }

  private verifyFully(token: string, nowSeconds: f64): VerifiedToken | null {
    const length = token.length;
    let firstDot = -1;
    let secondDot = -1;
    // Raw UTF-16 loads: String#charCodeAt is a bounds-checked call per character, and this loop
    // and the copy below touch every character of every token.
    const text = changetype<usize>(token);
    for (let i = 0; i < length; i++) {
      const c = <i32>load<u16>(text + (<usize>i << 1));
      if (c == 0x2e) {
        if (firstDot < 0) firstDot = i;
        else if (secondDot < 0) secondDot = i;
        else return this.refuse(Reason.MoreThanThreeSegments);
      } else if (!isBase64UrlChar(c)) return this.refuse(Reason.NotBase64Url);
    }
    if (secondDot < 0) return this.refuse(Reason.FewerThanThreeSegments);
    if (firstDot > MAX_HEADER_SEGMENT) return this.refuse(Reason.HeaderTooLong);

    const header = decodeJsonSegment(token, 0, firstDot);
    if (header === null) return this.refuse(Reason.HeaderNotJson);
    const alg = header.get(name(Name.Alg));
    if (alg === null || alg.kind != JsonKind.String || changetype<JsonString>(alg).value != name(Name.Hs256)) {
      return this.refuse(Reason.AlgNotHs256);
    }
    if (header.has(name(Name.Crit))) return this.refuse(Reason.CritHeader);
    const typ = header.get(name(Name.Typ));
    if (typ !== null && (typ.kind != JsonKind.String || changetype<JsonString>(typ).value != name(Name.Jwt))) return this.refuse(Reason.TypNotJwt);
    const kid = header.get(name(Name.Kid));
    if (kid === null || kid.kind != JsonKind.String) return this.refuse(Reason.KidMissing);
    const key = this.findKey(changetype<JsonString>(kid).value);
    if (key === null) return this.refuse(Reason.UnknownKid);

    if (base64UrlDecodedLength(length - secondDot - 1) != SHA256_DIGEST_BYTES) return this.refuse(Reason.SignatureLength);
    const given = changetype<usize>(this.given);
    if (base64UrlDecodeRange(token, secondDot + 1, length, given) != SHA256_DIGEST_BYTES) return this.refuse(Reason.SignatureEncoding);
    // Every character is ASCII (checked above), so the signing input's bytes are the char codes.
    const signing = this.signing.dataStart;
    for (let i = 0; i < secondDot; i++) store<u8>(signing + <usize>i, <u8>load<u16>(text + (<usize>i << 1)));
    const expected = changetype<usize>(this.expected);
    key.mac.macPointerInto(signing, secondDot, expected);
    if (!constantTimeEqual(expected, given, SHA256_DIGEST_BYTES)) return this.refuse(Reason.BadSignature);

    const claims = decodeJsonSegment(token, firstDot + 1, secondDot);
    if (claims === null) return this.refuse(Reason.PayloadNotJson);
    return this.checkClaims(claims, nowSeconds);
  }

  private findKey(kid: string): JwtKey | null {
    const keys = this.settings.keys;
    for (let i = 0; i < keys.length; i++) if (unchecked(keys[i]).kid == kid) return unchecked(keys[i]);
    return null;
  }

  private checkClaims(claims: JsonObject, now: f64): VerifiedToken | null {
    const skew = this.settings.clockSkewSeconds;
    if (stringClaim(claims, name(Name.Iss)) != this.settings.issuer) return this.refuse(Reason.WrongIss);
    if (!audienceMatches(claims.get(name(Name.Aud)), this.settings.audience)) return this.refuse(Reason.WrongAud);
    const exp = claims.get(name(Name.Exp));
    if (exp === null || exp.kind != JsonKind.Number) return this.refuse(Reason.ExpMissing);
    if (now >= changetype<JsonNumber>(exp).value + skew) return this.refuse(Reason.Expired);
    const nbf = claims.get(name(Name.Nbf));
    if (nbf !== null) {
      if (nbf.kind != JsonKind.Number) return this.refuse(Reason.NbfNotNumber);
      if (now + skew < changetype<JsonNumber>(nbf).value) return this.refuse(Reason.NotYetValid);
    }
    // iat is not checked against the clock, but like exp and nbf it must be a NumericDate (RFC 7519).
    const iat = claims.get(name(Name.Iat));
    if (iat !== null && iat.kind != JsonKind.Number) return this.refuse(Reason.IatNotNumber);
    const token = new VerifiedToken();
    token.expiresAt = changetype<JsonNumber>(exp).value;
    if (nbf !== null) token.notBefore = changetype<JsonNumber>(nbf).value;
    token.subject = stringClaim(claims, name(Name.Sub));
    if (!isHeaderSafe(token.subject)) return this.refuse(Reason.SubMalformed);
    token.plan = stringClaim(claims, name(Name.Plan));
    if (!isPlanId(token.plan)) return this.refuse(Reason.PlanMalformed);
    token.plan = this.sharedPlan(token.plan);
    // A registry token always carries `access` (possibly empty); one without it is not ours, and
    // the access service in app mode refuses it the same way (CONTRACT.md).
    const access = claims.get(name(Name.Access));
    if (access === null) return this.refuse(Reason.AccessMissing);
    if (access.kind != JsonKind.Array) return this.refuse(Reason.AccessNotArray);
    const scopes = renderAccess(changetype<JsonArray>(access));
    if (scopes === null) return this.refuse(Reason.AccessEntryMalformed);
    token.access = scopes;
    return token;
  }
}

function isBase64UrlChar(c: i32): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f;
}

/** Decodes token[start, end) as base64url UTF-8 JSON and returns it if it is an object. */
function decodeJsonSegment(token: string, start: i32, end: i32): JsonObject | null {
  const length = base64UrlDecodedLength(end - start);
  if (length <= 0) return null;
  const bytes = new Uint8Array(length);
  if (base64UrlDecodeRange(token, start, end, bytes.dataStart) != length) return null;
  // No field paths: a token's parse errors are reported as a reason, never by field.
  const parsed = parseJson(String.UTF8.decodeUnsafe(bytes.dataStart, <usize>length), name(Name.Token), false);
  const value = parsed.value;
  if (value === null || value.kind != JsonKind.Object) return null;
  return changetype<JsonObject>(value);
}

function stringClaim(claims: JsonObject, name: string): string {
  const value = claims.get(name);
  return value !== null && value.kind == JsonKind.String ? changetype<JsonString>(value).value : "";
}

function audienceMatches(aud: JsonValue | null, expected: string): bool {
  if (aud === null) return false;
  if (aud.kind == JsonKind.String) return changetype<JsonString>(aud).value == expected;
  if (aud.kind != JsonKind.Array) return false;
  const items = changetype<JsonArray>(aud).items;
  for (let i = 0; i < items.length; i++) {
    const item = unchecked(items[i]);
    if (item.kind == JsonKind.String && changetype<JsonString>(item).value == expected) return true;
  }
  return false;
}

/** A value that can go into a header and a space-separated list: 1–255 visible ASCII, no "," ":" or quotes. */
function isHeaderSafe(text: string): bool {
  if (text.length == 0 || text.length > 255) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x2c || c == 0x3a || c == 0x22 || c == 0x5c) return false;
  }
  return true;
}

/**
 * Renders the Docker-format access list as "repository:<name>:<a,b> ...". Only repository entries
 * count and only pull/push/delete are kept (in that order); returns null for a malformed entry.
 */
function renderAccess(access: JsonArray): string | null {
  let out = "";
  for (let i = 0; i < access.items.length; i++) {
    const entry = unchecked(access.items[i]);
    if (entry.kind != JsonKind.Object) return null;
    const object = changetype<JsonObject>(entry);
    if (stringClaim(object, name(Name.Type)) != name(Name.Repository)) continue;
    const repository = stringClaim(object, name(Name.NameMember));
    if (!isValidRepositoryName(repository)) return null;
    const actions = object.get(name(Name.Actions));
    if (actions === null || actions.kind != JsonKind.Array) return null;
    let granted = 0;
    const items = changetype<JsonArray>(actions).items;
    for (let j = 0; j < items.length; j++) {
      const item = unchecked(items[j]);
      if (item.kind != JsonKind.String) return null;
      const action = changetype<JsonString>(item).value;
      if (action == name(Name.Pull)) granted |= 1;
      else if (action == name(Name.Push)) granted |= 2;
      else if (action == name(Name.Delete)) granted |= 4;
    }
    if (granted == 0) continue;
    if (out.length > 0) out += " ";
    out += name(Name.RepositoryScope) + repository + ":" + name(<Name>(Name.Pull + granted - 1));
  }
  return out;
}
