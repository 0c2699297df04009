// The Bearer challenge of a registry 401, which alone tells a token lacking a scope from a missing one.

/**
 * What a Bearer `WWW-Authenticate` challenge says (image-hub/CONTRACT.md, "Responses"): `error` is
 * `insufficient_scope` when a valid token lacks the scope, null when the token is missing or expired;
 * `scope` is every scope the request needs, space separated, or null when the challenge names none.
 */
export interface BearerChallenge {
  error: string | null;
  scope: string | null;
}

/**
 * Reads a `WWW-Authenticate: Bearer k="v",…` value (RFC 6750 §3). Returns null for a missing header
 * or another scheme (the token endpoint's `Basic`). Written by hand: the browser has no parser, and
 * the two parameters needed here take one regular expression, less than a dependency would cost.
 * The challenge is the only place the services say `insufficient_scope`: its body code is the plain
 * `UNAUTHORIZED` of a missing token (CONTRACT.md), so the body cannot tell the two apart.
 */
export function parseBearerChallenge(header: string | null): BearerChallenge | null {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header ?? "");
  if (!m) return null;
  const params = new Map<string, string>();
  for (const p of m[1].matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g)) {
    params.set(p[1].toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]);
  }
  return { error: params.get("error") ?? null, scope: params.get("scope") ?? null };
}
