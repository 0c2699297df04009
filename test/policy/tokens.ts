/**
 * Test tokens for the policy filters: valid HS256 tokens signed with node:crypto exactly as the
 * access service mints them (CONTRACT.md), plus the malformed and hostile variants the bad-input
 * tables use. Signing is hand-rolled (not jose) because the bad cases need bytes jose refuses to make.
 * @module
 */
import { createHmac, randomUUID } from "node:crypto";
import { DEMO_SIGNING_KEYS, TOKEN_AUDIENCE, TOKEN_ISSUER, type SigningKey } from "../../image-hub/filter-configs.ts";

/** One granted scope, Docker registry token format. */
export interface Grant {
  name: string;
  actions: string[];
}

/** Options of mintToken; every field has a valid default. */
export interface MintOptions {
  sub?: string;
  plan?: string;
  access?: Grant[];
  /** Seconds since the epoch used as iat (default: now). */
  now?: number;
  lifetimeSeconds?: number;
  key?: SigningKey;
  /** Fields merged over the JWT header. */
  header?: Record<string, unknown>;
  /** Fields merged over the claims (undefined deletes a claim). */
  claims?: Record<string, unknown>;
}

const b64 = (value: unknown): string => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** signParts HMAC-signs `<header>.<payload>` (already base64url) with `key`; returns the full token. */
export function signParts(header: string, payload: string, key: SigningKey = DEMO_SIGNING_KEYS[0]): string {
  const signature = createHmac("sha256", Buffer.from(key.k, "base64url")).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** mintToken returns a signed token that token-auth accepts unless an option breaks it; never throws. */
export function mintToken(options: MintOptions = {}): string {
  const key = options.key ?? DEMO_SIGNING_KEYS[0];
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: "HS256", typ: "JWT", kid: key.kid, ...options.header };
  const claims: Record<string, unknown> = {
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: options.sub ?? "alice",
    plan: options.plan ?? "personal",
    access: (options.access ?? [{ name: "alice/app", actions: ["pull", "push"] }]).map((g) => ({ type: "repository", ...g })),
    iat: now,
    nbf: now,
    exp: now + (options.lifetimeSeconds ?? 300),
    jti: randomUUID(),
  };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return signParts(b64(header), b64(claims), key);
}

/** rawToken builds header.payload.signature from raw header/payload text, signed with `key`. */
export function rawToken(headerText: string, payloadText: string, key: SigningKey = DEMO_SIGNING_KEYS[0]): string {
  return signParts(b64(headerText), b64(payloadText), key);
}

/** unsignedToken builds an `alg: none` token (empty signature). */
export function unsignedToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: "alice", plan: "enterprise", access: [], iat: now, nbf: now, exp: now + 300, ...claims };
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(body)}.`;
}
