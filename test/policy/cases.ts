/**
 * The bad-input table for the policy chain (issue 4 "Done when"), shared by the emulator and the
 * Envoy tests so both prove the same thing: each hostile request gets the right status and registry
 * error, and nothing reaches the upstream.
 * @module
 */
import { DEMO_SIGNING_KEYS, EXAMPLE_REALM, REGISTRY_SERVICE } from "../../image-hub/filter-configs.ts";
import { mintToken, rawToken, unsignedToken } from "./tokens.ts";

/** One refused request and what the client must see. */
export interface BadInputCase {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  status: number;
  code: string;
  /** Exact WWW-Authenticate for 401s; undefined for other statuses. */
  challenge?: string;
  /** Exact error message when it matters. */
  message?: string;
}

const MANIFEST = "/v2/alice/app/manifests/latest";
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * challengeFor returns the WWW-Authenticate the filters must send for `scope` (omitted when
 * undefined), with the token spec's `error` (e.g. `insufficient_scope`) when given.
 */
export function challengeFor(scope?: string, realm: string = EXAMPLE_REALM, error?: string): string {
  const base = `Bearer realm="${realm}",service="${REGISTRY_SERVICE}"`;
  const scoped = scope === undefined ? base : `${base},scope="${scope}"`;
  return error === undefined ? scoped : `${scoped},error="${error}"`;
}

/**
 * answeredByTokenAuth tells whether token-auth itself refuses `c` (a 401 without a verified token);
 * every other case passes token-auth and is refused further down the chain (plan-enforcement's
 * insufficient_scope 401 included).
 */
export function answeredByTokenAuth(c: BadInputCase): boolean {
  return c.status === 401 && !(c.challenge ?? "").includes('error="insufficient_scope"');
}

/** badInputCases builds the table with tokens valid around `now` (seconds since the epoch). */
export function badInputCases(now: number = Math.floor(Date.now() / 1000)): BadInputCase[] {
  const pullChallenge = challengeFor("repository:alice/app:pull");
  const unauthorized = (name: string, headers: Record<string, string>, path = MANIFEST, challenge = pullChallenge): BadInputCase => ({
    name,
    method: "GET",
    path,
    headers,
    status: 401,
    code: "UNAUTHORIZED",
    challenge,
  });
  const valid = mintToken({ now });
  const [validHeader, validPayload] = valid.split(".");
  const tampered = JSON.parse(Buffer.from(validPayload!, "base64url").toString("utf8")) as Record<string, unknown>;
  tampered.plan = "enterprise";
  const tamperedToken = `${validHeader}.${Buffer.from(JSON.stringify(tampered)).toString("base64url")}.${valid.split(".")[2]}`;
  const wrongKey = { kid: DEMO_SIGNING_KEYS[0]!.kid, k: Buffer.from("not-the-demo-key-but-32-bytes-long!!").toString("base64url") };
  const padding = "x".repeat(8192);
  return [
    unauthorized("no token", {}),
    unauthorized("wrong scheme (Basic)", { authorization: "Basic YWxpY2U6cGFzc3dvcmQ=" }),
    unauthorized("Bearer with no token", { authorization: "Bearer " }),
    unauthorized("garbage base64", bearer("!!!.@@@.###")),
    unauthorized("two segments only", bearer(valid.split(".").slice(0, 2).join("."))),
    unauthorized("header JSON is not an object", bearer(rawToken("[1,2,3]", JSON.stringify({ sub: "alice" })))),
    unauthorized("payload JSON is not an object", bearer(rawToken(JSON.stringify({ alg: "HS256", typ: "JWT", kid: DEMO_SIGNING_KEYS[0]!.kid }), '"alice"'))),
    unauthorized("payload is not JSON", bearer(rawToken(JSON.stringify({ alg: "HS256", kid: DEMO_SIGNING_KEYS[0]!.kid }), "{sub:alice"))),
    unauthorized("alg none", bearer(unsignedToken())),
    unauthorized("alg HS512 (not configured)", bearer(mintToken({ now, header: { alg: "HS512" } }))),
    unauthorized("crit header", bearer(mintToken({ now, header: { crit: ["exp"] } }))),
    unauthorized("unknown kid", bearer(mintToken({ now, header: { kid: "nobody" } }))),
    unauthorized("HS256 signed with the wrong key", bearer(mintToken({ now, key: wrongKey }))),
    unauthorized("payload tampered after signing", bearer(tamperedToken)),
    unauthorized("expired beyond the 30 s skew", bearer(mintToken({ now: now - 400, lifetimeSeconds: 300 }))),
    unauthorized("not yet valid beyond the 30 s skew", bearer(mintToken({ now, claims: { nbf: now + 120 } }))),
    unauthorized("no exp claim", bearer(mintToken({ now, claims: { exp: undefined } }))),
    unauthorized("wrong audience", bearer(mintToken({ now, claims: { aud: "someone-else" } }))),
    unauthorized("wrong issuer", bearer(mintToken({ now, claims: { iss: "evil" } }))),
    unauthorized("an 8 KiB token", bearer(mintToken({ now, claims: { padding } }))),
    unauthorized("sub with a header-breaking character", bearer(mintToken({ now, sub: "alice bob" }))),
    unauthorized("client-supplied identity headers and no token", {
      "x-hub-user": "alice",
      "x-hub-plan": "enterprise",
      "x-hub-access": "repository:alice/app:pull,push,delete",
    }),
    unauthorized("no token on the base endpoint", {}, "/v2/", challengeFor()),
    { ...unauthorized("no token on a push path", {}, "/v2/alice/app/blobs/uploads/", challengeFor("repository:alice/app:pull,push")), method: "POST" },
    {
      ...unauthorized("no token on a mount (both scopes named)", {}, "/v2/alice/app/blobs/uploads/?mount=sha256:00&from=bob%2Flib", challengeFor("repository:alice/app:pull,push repository:bob/lib:pull")),
      method: "POST",
    },
    {
      name: "client-supplied plan header with a personal token (delete)",
      method: "DELETE",
      path: MANIFEST,
      headers: { ...bearer(mintToken({ now, access: [{ name: "alice/app", actions: ["pull", "push", "delete"] }] })), "x-hub-plan": "team" },
      status: 403,
      code: "DENIED",
      message: "plan personal does not allow delete",
    },
    {
      name: "client-supplied access header with a token that lacks the grant",
      method: "GET",
      path: "/v2/bob/lib/manifests/latest",
      headers: { ...bearer(valid), "x-hub-access": "repository:bob/lib:pull" },
      status: 401,
      code: "UNAUTHORIZED",
      challenge: challengeFor("repository:bob/lib:pull", EXAMPLE_REALM, "insufficient_scope"),
      message: "token does not grant pull on bob/lib",
    },
    {
      name: "a pull-only token on an upload start (oras asks pull first)",
      method: "POST",
      path: "/v2/alice/app/blobs/uploads/",
      headers: bearer(mintToken({ now, access: [{ name: "alice/app", actions: ["pull"] }] })),
      status: 401,
      code: "UNAUTHORIZED",
      challenge: challengeFor("repository:alice/app:pull,push", EXAMPLE_REALM, "insufficient_scope"),
      message: "token does not grant push on alice/app",
    },
    { name: "path traversal in the name", method: "GET", path: "/v2/alice/../bob/manifests/latest", headers: bearer(valid), status: 400, code: "NAME_INVALID" },
    { name: "percent-encoded slash in the name", method: "GET", path: "/v2/alice%2Fapp/manifests/latest", headers: bearer(valid), status: 400, code: "NAME_INVALID" },
    { name: "percent-encoded letter in the name", method: "GET", path: "/v2/alice/%61pp/manifests/latest", headers: bearer(valid), status: 400, code: "NAME_INVALID" },
    { name: "empty path component", method: "GET", path: "/v2/alice//app/manifests/latest", headers: bearer(valid), status: 400, code: "NAME_INVALID" },
    { name: "upper-case name", method: "GET", path: "/v2/Alice/app/manifests/latest", headers: bearer(valid), status: 400, code: "NAME_INVALID" },
    {
      name: "mount source with an encoded traversal",
      method: "POST",
      path: "/v2/alice/app/blobs/uploads/?mount=sha256:00&from=..%2Fbob",
      headers: bearer(valid),
      status: 400,
      code: "NAME_INVALID",
    },
    { name: "unknown route under /v2", method: "GET", path: "/v2/alice/app/signatures/sha256:00", headers: bearer(valid), status: 404, code: "UNSUPPORTED" },
    { name: "referrers with a method other than GET", method: "DELETE", path: "/v2/alice/app/referrers/sha256:00", headers: bearer(valid), status: 404, code: "UNSUPPORTED" },
    {
      name: "blob chunk beyond the personal size limit (Content-Range)",
      method: "PATCH",
      path: "/v2/alice/app/blobs/uploads/3f1c",
      headers: { ...bearer(valid), "content-range": "0-104857600", "content-length": "0" },
      status: 413,
      code: "SIZE_INVALID",
      message: "blob upload exceeds the personal plan limit of 104857600 bytes",
    },
  ];
}

/** One request of the separate-vs-composed table. */
export interface Step {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * equivalenceSteps is the table the composed policy module must answer exactly as the three
 * separate modules do: every bad input, passes, identity spoofing, the quota answer, an upload body
 * past the limit, and a Personal user running into the rate limit. Tokens are valid around `now`.
 */
export function equivalenceSteps(now: number): Step[] {
  const token = (plan: string, sub = "alice", actions = ["pull", "push", "delete"]) =>
    `Bearer ${mintToken({ now, sub, plan, access: [{ name: `${sub}/app`, actions }] })}`;
  const table: Step[] = badInputCases(now).map((c) => ({ name: c.name, method: c.method, path: c.path, headers: c.headers }));
  table.push(
    { name: "a valid team pull with a forged x-hub-user", method: "GET", path: "/v2/alice/app/manifests/1.0", headers: { authorization: token("team"), "x-hub-user": "mallory" } },
    { name: "a forged sidecar header on a registry path", method: "GET", path: "/v2/alice/app/manifests/1.0", headers: { authorization: token("team"), "x-hub-sidecar": "guess" } },
    { name: "forged identity on a non-registry path", method: "GET", path: "/api/me", headers: { "x-hub-user": "root", "x-hub-plan": "enterprise", "x-hub-access": "*", "x-hub-sidecar": "guess" } },
    { name: "a plain non-registry request", method: "GET", path: "/", headers: {} },
    { name: "the base endpoint with a token", method: "GET", path: "/v2/", headers: { authorization: token("personal") } },
    { name: "the quota answer", method: "GET", path: "/v2/_quota", headers: { authorization: token("team") } },
    { name: "an upload start", method: "POST", path: "/v2/alice/app/blobs/uploads/", headers: { authorization: token("personal") } },
    { name: "a delete on the enterprise plan", method: "DELETE", path: "/v2/alice/app/manifests/sha256:00", headers: { authorization: token("enterprise") } },
    {
      name: "an upload chunk with a chunked body (plan-enforcement counts it)",
      method: "PATCH",
      path: "/v2/alice/app/blobs/uploads/3f1c",
      headers: { authorization: token("personal"), "transfer-encoding": "chunked" },
      body: "x".repeat(2048),
    },
  );
  // Personal allows 10 pulls per window: the 11th and 12th are 429 with Retry-After.
  for (let i = 0; i < 12; i++) table.push({ name: `personal pull ${i + 1}`, method: "GET", path: "/v2/erin/app/manifests/latest", headers: { authorization: token("personal", "erin", ["pull"]) } });
  table.push({ name: "the quota after the limit", method: "GET", path: "/v2/_quota", headers: { authorization: token("personal", "erin", ["pull"]) } });
  return table;
}
