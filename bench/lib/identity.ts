// Benchmark users and their registry tokens, signed as CONTRACT.md specifies (HS256, kid, iss, aud,
// sub, plan, access). The key is generated per run, never a stored secret.
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";

/** An HS256 key as the filters, the access service and jwt_authn take it: `k` is base64url of the key bytes (a JWK "oct" key). */
export interface BenchKey {
  kid: string;
  k: string;
}

/** One benchmark user with a ready token. */
export interface BenchUser {
  name: string;
  plan: string;
  token: string;
}

/** Generates a fresh random 32-byte key for one run; never throws. */
export function generateBenchKey(): BenchKey {
  return { kid: `bench-${Date.now().toString(36)}`, k: randomBytes(32).toString("base64url") };
}

/** The key as a JWKS document (for Envoy's jwt_authn local_jwks). */
export function jwks(key: BenchKey): string {
  return JSON.stringify({ keys: [{ kty: "oct", kid: key.kid, k: key.k, alg: "HS256" }] });
}

/**
 * Signs a registry token for `user` on `plan` granting `actions` on `repository`; valid for
 * `ttlSeconds` (long enough for the whole run). Rejects only on a malformed key.
 */
export async function signToken(key: BenchKey, user: string, plan: string, repository: string, actions: string[], ttlSeconds = 1800): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ plan, access: [{ type: "repository", name: repository, actions }] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.kid })
    .setIssuer("image-hub")
    .setAudience("image-hub-registry")
    .setSubject(user)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttlSeconds)
    .setJti(randomUUID())
    .sign(Buffer.from(key.k, "base64url"));
}

/**
 * Makes `counts[plan]` users per plan named `<prefix>-<plan>-<i>`, each with a pull token for
 * `repository`. Throws on a count that is not a non-negative integer.
 */
export async function makeUsers(key: BenchKey, prefix: string, counts: Record<string, number>, repository: string): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (const [plan, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`users.${plan}: must be a non-negative integer, got ${n}`);
    for (let i = 0; i < n; i++) {
      const name = `${prefix}-${plan}-${i}`;
      users.push({ name, plan, token: await signToken(key, name, plan, repository, ["pull"]) });
    }
  }
  return users;
}
