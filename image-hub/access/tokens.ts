/**
 * Registry and session tokens (HS256 JWTs, keys chosen by `kid`) as CONTRACT.md defines them, and
 * the scope strings that travel in `scope=` and in the `x-hub-access` header.
 * @module
 */
import { randomUUID } from "node:crypto";
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import type { Action } from "../catalog.ts";
import { generateSigningKey, MAX_TOKEN_LENGTH, type SigningKey } from "../filter-configs.ts";
import { isValidName } from "./routes-map.ts";

/** Token issuer (CONTRACT.md). */
export const ISSUER = "image-hub";
/** Audience of registry tokens, verified by token-auth. */
export const REGISTRY_AUDIENCE = "image-hub-registry";
/** Audience of session tokens, accepted only by the accounts API. */
export const SESSION_AUDIENCE = "image-hub-api";
/** The registry service name in challenges and token requests. */
export const SERVICE = "image-hub";
/** Registry token lifetime, seconds. */
export const REGISTRY_TTL = 300;
/** Session token lifetime, seconds. */
export const SESSION_TTL = 3600;
/** Accepted clock skew on exp and nbf, seconds. */
export const CLOCK_SKEW = 30;

/** HS256 keys as filter-configs.ts defines them; the first one signs, every one verifies. */
export type SigningKeys = readonly SigningKey[];

/** One granted scope: a repository and the actions allowed on it. */
export interface Grant {
  type: "repository";
  name: string;
  actions: Action[];
}

/** A verified caller. */
export interface Identity {
  user: string;
  plan: string;
  access: Grant[];
}

/** generateKeys makes a fresh random key set (one key); never throws. */
export function generateKeys(): SigningKeys {
  return [generateSigningKey(`k${Date.now().toString(36)}`)];
}

function keyBytes(keys: SigningKeys, kid: string | undefined): Uint8Array {
  const key = kid === undefined ? undefined : keys.find((k) => k.kid === kid);
  if (key === undefined) throw new Error("unknown key id");
  return Buffer.from(key.k, "base64url");
}

async function sign(keys: SigningKeys, claims: JWTPayload, audience: string, ttl: number): Promise<{ token: string; issuedAt: number }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: keys[0].kid })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttl)
    .setJti(randomUUID())
    .sign(keyBytes(keys, keys[0].kid));
  return { token, issuedAt: now };
}

/** signRegistryToken mints the registry token for `identity`; rejects only if the current key is missing. */
export function signRegistryToken(keys: SigningKeys, identity: Identity): Promise<{ token: string; issuedAt: number }> {
  return sign(keys, { sub: identity.user, plan: identity.plan, access: identity.access }, REGISTRY_AUDIENCE, REGISTRY_TTL);
}

/** signSessionToken mints the accounts-API session token; rejects only if the current key is missing. */
export function signSessionToken(keys: SigningKeys, user: string): Promise<{ token: string; issuedAt: number }> {
  return sign(keys, { sub: user }, SESSION_AUDIENCE, SESSION_TTL);
}

async function verify(keys: SigningKeys, token: string, audience: string, requiredClaims: string[]): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, (header) => keyBytes(keys, header.kid), {
    issuer: ISSUER,
    audience,
    algorithms: ["HS256"],
    clockTolerance: CLOCK_SKEW,
    requiredClaims,
  });
  return payload;
}

/** A claim value token-auth can put in a header and a space-separated list (its isHeaderSafe). */
const HEADER_SAFE = /^[\x21-\x7e]{1,255}$/;
const PLAN_ID = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The access claim as token-auth reads it: entries of another type are skipped, actions other than
 * pull/push/delete dropped; undefined when an entry is malformed (then the token is refused).
 */
function readAccess(claim: unknown): Grant[] | undefined {
  if (!Array.isArray(claim)) return undefined;
  const out: Grant[] = [];
  for (const entry of claim as unknown[]) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
    const e = entry as { type?: unknown; name?: unknown; actions?: unknown };
    if (e.type !== "repository") continue;
    if (typeof e.name !== "string" || !isValidName(e.name) || !Array.isArray(e.actions)) return undefined;
    if (!e.actions.every((a) => typeof a === "string")) return undefined;
    const actions = (["pull", "push", "delete"] as Action[]).filter((a) => (e.actions as string[]).includes(a));
    if (actions.length > 0) out.push({ type: "repository", name: e.name, actions });
  }
  return out;
}

/**
 * verifyRegistryToken checks length, signature, alg, kid, typ, iss, aud, exp and nbf and the
 * claims exactly as token-auth does (so both modes accept the same tokens) and returns the identity.
 * Rejects with an Error for any bad, oversize, expired or foreign token, or malformed claims.
 */
export async function verifyRegistryToken(keys: SigningKeys, token: string): Promise<Identity> {
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  const header = decodeProtectedHeader(token);
  if (header.typ !== undefined && header.typ !== "JWT") throw new Error("typ is not JWT");
  const payload = await verify(keys, token, REGISTRY_AUDIENCE, ["exp"]);
  const sub = payload.sub;
  if (typeof sub !== "string" || !HEADER_SAFE.test(sub) || /[,:"\\]/.test(sub)) throw new Error("sub missing or not a plain name");
  if (typeof payload.plan !== "string" || !PLAN_ID.test(payload.plan)) throw new Error("plan missing or malformed");
  const access = readAccess(payload.access);
  if (access === undefined) throw new Error("access missing or malformed");
  return { user: sub, plan: payload.plan, access };
}

/** verifySessionToken returns the username of a valid session token; rejects otherwise. */
export async function verifySessionToken(keys: SigningKeys, token: string): Promise<string> {
  const payload = await verify(keys, token, SESSION_AUDIENCE, ["sub", "exp", "nbf"]);
  return payload.sub as string;
}

/**
 * parseScope reads `repository:<name>:<a,b>`; returns undefined for other resource types or a
 * malformed scope (the token endpoint ignores those, as the reference registry does).
 */
export function parseScope(scope: string): { name: string; actions: string[] } | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first || scope.slice(0, first) !== "repository") return undefined;
  return { name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").filter(Boolean) };
}

/** formatAccess renders grants as the `x-hub-access` header value; never throws. */
export function formatAccess(access: Grant[]): string {
  return access.map((g) => `repository:${g.name}:${g.actions.join(",")}`).join(" ");
}

/** parseAccess reads an `x-hub-access` header value; malformed entries are dropped. */
export function parseAccess(header: string): Grant[] {
  const out: Grant[] = [];
  for (const part of header.split(" ")) {
    const s = parseScope(part);
    if (s) out.push({ type: "repository", name: s.name, actions: s.actions.filter((a): a is Action => a === "pull" || a === "push" || a === "delete") });
  }
  return out;
}

/** allows tells whether the grants include `action` on repository `name`; never throws. */
export function allows(access: Grant[], name: string, action: Action): boolean {
  return access.some((g) => g.type === "repository" && g.name === name && g.actions.includes(action));
}
