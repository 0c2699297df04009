/**
 * The fuzz generator for the policy filters. Every generated request carries its own ground truth,
 * known by construction rather than by re-running the filters' logic: a token is valid only when the
 * generator signed it with a configured key and gave it valid claims (every "broken" token is broken
 * by one named fault), a repository name is valid only when built from the OCI grammar (every invalid
 * one carries a named fault), and each route comes from the registry route table with its action.
 * Hostile extras (spoofed identity headers, control bytes, non-UTF-8, empty, oversize and duplicate
 * headers) never change the truth.
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { CLOCK_SKEW_SECONDS, DEMO_SIGNING_KEYS, MAX_TOKEN_LENGTH, TOKEN_AUDIENCE, TOKEN_ISSUER, type SigningKey } from "../../image-hub/filter-configs.ts";

export type Action = "pull" | "push" | "delete";

/** What a request's route is, per the CONTRACT.md route table. */
export type RouteTruth =
  | { kind: "outside" }
  | { kind: "base" }
  | { kind: "quota" }
  | { kind: "unsupported" }
  | { kind: "invalid-name"; fault: string }
  | { kind: "repository"; repository: string; action: Action; manifestGet: boolean; blobUpload: boolean; mountFrom?: string };

export interface RouteSpec {
  method: string;
  path: string;
  truth: RouteTruth;
}

/** One access entry as the generator writes it into a token. */
export interface GrantSpec {
  type: string;
  name: string;
  actions: string[];
}

/** A user of the run: its plan never changes (a plan change would make rate-limit pruning observable). */
export interface UserSpec {
  sub: string;
  plan: string;
}

/** A token to build at send time (its times are relative to the clock at that moment). */
export interface TokenSpec {
  user: UserSpec;
  keyIndex: number;
  grants: GrantSpec[];
  /** Seconds after now that exp lies beyond the skew (>= 1 keeps the token valid). */
  expMargin: number;
  /** undefined: no nbf; else seconds of margin before nbf would be in the future. */
  nbfMargin: number | undefined;
  audAsArray: boolean;
  withTyp: boolean;
  scheme: string;
  /** The one fault that makes the token invalid; undefined for a valid token. */
  fault: Fault | undefined;
}

export type Fault =
  | { name: "mutated"; position: number; char: string }
  | { name: "wrong-key" }
  | { name: "unknown-kid"; kid: string; signedWith: "configured" | "random" }
  | { name: "alg"; alg: unknown }
  | { name: "crit" }
  | { name: "typ"; typ: unknown }
  | { name: "kid-missing" }
  | { name: "expired"; by: number }
  | { name: "not-yet-valid"; by: number }
  | { name: "claim"; claim: string; value: unknown }
  | { name: "too-long" }
  | { name: "segments"; shape: "two" | "four" | "empty-signature" }
  | { name: "payload-not-object" }
  | { name: "scheme"; authorization: string };

export type AuthSpec = { kind: "none" } | { kind: "token"; token: TokenSpec } | { kind: "header"; value: string };

/** One generated request before the clock is read. */
export interface RequestSpec {
  /** Milliseconds the clock moves before this request (emulator only). */
  advanceMs: number;
  route: RouteSpec;
  auth: AuthSpec;
  /** Identity headers sent by the client (the chain must replace them; alone filters trust them). */
  identity: { user?: string; plan?: string; access?: string; duplicate: boolean };
  contentRange: { value: string; end: number | undefined } | undefined;
  extras: [string, string][];
  body: string | undefined;
}

/** Options of the generator: what the transport can carry, and who the users are. */
export interface GeneratorOptions {
  /** Envoy mode: only bytes an HTTP/1 client can send, and time margins far from the boundaries. */
  wire: boolean;
  users: UserSpec[];
  /** A plan id no filter is configured with. */
  unknownPlan: string;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const alnumRun = fc.string({ unit: fc.constantFrom(...ALNUM), minLength: 1, maxLength: 6 });
const separator = fc.constantFrom(".", "_", "__", "-", "--");
const component = fc.tuple(alnumRun, fc.array(fc.tuple(separator, alnumRun), { maxLength: 2 })).map(([first, rest]) => first + rest.map(([s, r]) => s + r).join(""));
/** Route keywords are kept out of names so a name can never shift where a route's parts begin. */
const KEYWORDS = new Set(["blobs", "uploads", "manifests", "tags", "list", "_catalog", "referrers"]);
/** A repository name valid by the OCI grammar, 1–3 components. */
export const validName = fc.array(component, { minLength: 1, maxLength: 3 }).filter((c) => c.every((x) => !KEYWORDS.has(x))).map((c) => c.join("/"));

/** An invalid name: a valid one with one fault the grammar forbids. */
const invalidName: fc.Arbitrary<{ name: string; fault: string }> = fc.oneof(
  fc.tuple(validName, fc.nat(), fc.constantFrom("A", "Z", "%", "%2f", "%61", "+", "~", "!", "$")).map(([n, i, c]) => {
    const at = i % (n.length + 1);
    return { name: n.slice(0, at) + c + n.slice(at), fault: `inserted ${c}` };
  }),
  validName.map((n) => ({ name: `${n}/../x`, fault: "dot-dot component" })),
  validName.map((n) => ({ name: `${n}//x`, fault: "empty component" })),
  validName.map((n) => ({ name: `-${n}`, fault: "leading separator" })),
  validName.map((n) => ({ name: `${n}_`, fault: "trailing separator" })),
  validName.map((n) => ({ name: `${n}___x`, fault: "triple underscore" })),
  validName.map((n) => ({ name: `${n}/`, fault: "trailing slash" })),
  fc.constant({ name: "a".repeat(256), fault: "256 characters" }),
);
const reference = fc.constantFrom("latest", "v1", "sha256:ab12", "1.0.0", "sha256:" + "0".repeat(64));
const uploadId = fc.constantFrom("3f1c", "abc-def", "u1");
const query = fc.option(fc.constantFrom("?n=1", "?last=a&n=2", "?", "?x=%zz"), { nil: "" });

function repositoryRoute(method: string, name: string, suffix: string, action: Action, extra: Partial<{ manifestGet: boolean; blobUpload: boolean; mountFrom: string }> = {}): RouteSpec {
  return { method, path: `/v2/${name}${suffix}`, truth: { kind: "repository", repository: name, action, manifestGet: false, blobUpload: false, ...extra } };
}

/** Routes of the table with their truth; names valid or invalid by construction. */
export const routeArbitrary: fc.Arbitrary<RouteSpec> = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(validName, reference, query).map(([n, r, q]) => repositoryRoute("GET", n, `/manifests/${r}${q}`, "pull", { manifestGet: true })) },
  fc.tuple(validName, reference).map(([n, r]) => repositoryRoute("HEAD", n, `/manifests/${r}`, "pull")),
  fc.tuple(validName, reference).map(([n, r]) => repositoryRoute("PUT", n, `/manifests/${r}`, "push")),
  fc.tuple(validName, reference).map(([n, r]) => repositoryRoute("DELETE", n, `/manifests/${r}`, "delete")),
  fc.tuple(fc.constantFrom("GET", "HEAD"), validName).map(([m, n]) => repositoryRoute(m, n, "/blobs/sha256:ab12", "pull")),
  validName.map((n) => repositoryRoute("DELETE", n, "/blobs/sha256:ab12", "delete")),
  fc.tuple(validName, query).map(([n, q]) => repositoryRoute("GET", n, `/tags/list${q}`, "pull")),
  fc.tuple(validName, fc.constantFrom("/blobs/uploads/", "/blobs/uploads")).map(([n, s]) => repositoryRoute("POST", n, s, "push", { blobUpload: true })),
  fc.tuple(validName, validName, fc.boolean()).map(([n, from, encode]) =>
    repositoryRoute("POST", n, `/blobs/uploads/?mount=sha256:ab12&from=${encode ? from.replaceAll("/", "%2F") : from}`, "push", { blobUpload: true, mountFrom: from }),
  ),
  // `from` without `mount` is not a mount: only push on the target is needed.
  fc.tuple(validName, validName).map(([n, from]) => repositoryRoute("POST", n, `/blobs/uploads/?from=${from}`, "push", { blobUpload: true })),
  fc.tuple(fc.constantFrom("PATCH", "PUT"), validName, uploadId).map(([m, n, u]) => repositoryRoute(m, n, `/blobs/uploads/${u}`, "push", { blobUpload: true })),
  fc.tuple(fc.constantFrom("GET", "DELETE"), validName, uploadId).map(([m, n, u]) => repositoryRoute(m, n, `/blobs/uploads/${u}`, "push")),
  fc.tuple(fc.constantFrom("GET", "HEAD"), fc.constantFrom("/v2", "/v2/")).map(([m, p]) => ({ method: m, path: p, truth: { kind: "base" } as RouteTruth })),
  fc.constant<RouteSpec>({ method: "GET", path: "/v2/_catalog", truth: { kind: "base" } }),
  // The caller's quota (CONTRACT.md "Quota"): answered by rate-limit, read-only; other methods are not routes.
  { weight: 4, arbitrary: query.map((q) => ({ method: "GET", path: `/v2/_quota${q}`, truth: { kind: "quota" } as RouteTruth })) },
  fc.constantFrom("HEAD", "POST", "DELETE", "PUT").map((m) => ({ method: m, path: "/v2/_quota", truth: { kind: "unsupported" } as RouteTruth })),
  { weight: 2, arbitrary: fc.tuple(invalidName, reference).map(([n, r]) => ({ method: "GET", path: `/v2/${n.name}/manifests/${r}`, truth: { kind: "invalid-name", fault: n.fault } as RouteTruth })) },
  // Percent escapes are decoded in a mount source ("%61" is "a"), so those faults do not apply there.
  fc.tuple(validName, invalidName.filter((n) => !n.name.includes("%"))).map(([n, from]) => ({
    method: "POST",
    path: `/v2/${n}/blobs/uploads/?mount=sha256:ab12&from=${from.name}`,
    truth: { kind: "invalid-name", fault: `mount source: ${from.fault}` } as RouteTruth,
  })),
  // (Envoy's codec answers 400 itself to methods it does not know, so none are generated.)
  fc.tuple(fc.constantFrom("POST", "PATCH", "OPTIONS"), validName, reference).map(([m, n, r]) => ({ method: m, path: `/v2/${n}/manifests/${r}`, truth: { kind: "unsupported" } as RouteTruth })),
  // OCI v1.1 referrers: a GET is a pull (not counted by the rate limit); other methods are not routes.
  fc.tuple(validName, reference).map(([n, r]) => repositoryRoute("GET", n, `/referrers/${r}`, "pull")),
  fc.tuple(fc.constantFrom("HEAD", "DELETE", "PUT"), validName).map(([m, n]) => ({ method: m, path: `/v2/${n}/referrers/sha256:ab`, truth: { kind: "unsupported" } as RouteTruth })),
  fc.tuple(validName, fc.constantFrom("/manifests/", "/blobs/", "/x")).map(([n, s]) => ({ method: "GET", path: `/v2/${n}${s}`, truth: { kind: "unsupported" } as RouteTruth })),
  fc.constantFrom<RouteSpec>(
    { method: "POST", path: "/v2/", truth: { kind: "unsupported" } },
    { method: "HEAD", path: "/v2/_catalog", truth: { kind: "unsupported" } },
    { method: "GET", path: "/api/plans", truth: { kind: "outside" } },
    { method: "POST", path: "/api/token", truth: { kind: "outside" } },
    { method: "GET", path: "/", truth: { kind: "outside" } },
    { method: "GET", path: "/v20/alice/app/manifests/latest", truth: { kind: "outside" } },
    { method: "GET", path: "/v2x", truth: { kind: "outside" } },
    { method: "DELETE", path: "/V2/alice/app/manifests/latest", truth: { kind: "outside" } },
  ),
);

const grantArbitrary = (names: fc.Arbitrary<string>): fc.Arbitrary<GrantSpec> =>
  fc.record({
    type: fc.oneof({ weight: 5, arbitrary: fc.constant("repository") }, fc.constantFrom("registry", "")),
    name: names,
    actions: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom("pull", "push", "delete") }, fc.constantFrom("*", "PULL", "catalog")), { maxLength: 4 }),
  });

/** Claims whose value breaks exactly one CONTRACT.md rule. */
const badClaim: fc.Arbitrary<Fault> = fc.oneof(
  fc.constantFrom<[string, unknown]>(
    ["iss", "evil"], ["iss", undefined], ["iss", 1], ["aud", "someone-else"], ["aud", ["a", "b"]], ["aud", undefined], ["aud", 7],
    ["exp", undefined], ["exp", "9999999999"], ["exp", null], ["nbf", "0"], ["nbf", true],
    ["sub", undefined], ["sub", ""], ["sub", "alice bob"], ["sub", "alice:x"], ["sub", "a,b"], ["sub", 'a"b'], ["sub", "a\\b"], ["sub", "é"], ["sub", "a\u0000"], ["sub", "x".repeat(256)], ["sub", 5],
    ["plan", undefined], ["plan", ""], ["plan", "Team"], ["plan", "1team"], ["plan", "-x"], ["plan", "a".repeat(65)], ["plan", "pro plan"], ["plan", ["team"]],
    ["access", "repository:alice/app:pull"], ["access", {}], ["access", [1]], ["access", [{ type: "repository", name: "Alice/app", actions: ["pull"] }]],
    ["access", [{ type: "repository", name: "alice/app", actions: "pull" }]], ["access", [{ type: "repository", name: "alice/app", actions: ["pull", 1] }]],
    ["access", [{ type: "repository", actions: ["pull"] }]], ["access", [{ type: "repository", name: "alice/app" }]],
  ).map(([claim, value]) => ({ name: "claim", claim, value }) as Fault),
);

function faultArbitrary(wire: boolean): fc.Arbitrary<Fault> {
  // Margins keep real-Envoy runs clear of the boundaries (its clock moves); the emulator's clock is exact.
  const by = wire ? fc.integer({ min: 120, max: 100_000 }) : fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ position: fc.nat(), char: fc.constantFrom("A", "-", "_", ".", "=", "+", "/", " ", "a", "0", "é", "\t") }).map((m) => ({ name: "mutated", ...m }) as Fault) },
    fc.constant<Fault>({ name: "wrong-key" }),
    { weight: 3, arbitrary: fc.record({ kid: fc.oneof(fc.constantFrom("nobody", "demo-2026-c", "", "DEMO-2026-A"), fc.string({ maxLength: 12 })).filter((k) => !DEMO_SIGNING_KEYS.some((d) => d.kid === k)), signedWith: fc.constantFrom("configured" as const, "random" as const) }).map((r) => ({ name: "unknown-kid", ...r }) as Fault) },
    fc.constantFrom<unknown>("none", "HS512", "RS256", "hs256", "", null, 256).map((alg) => ({ name: "alg", alg }) as Fault),
    fc.constant<Fault>({ name: "crit" }),
    fc.constantFrom<unknown>("JWS", "jwt", "", 1).map((typ) => ({ name: "typ", typ }) as Fault),
    fc.constant<Fault>({ name: "kid-missing" }),
    by.map((b) => ({ name: "expired", by: b }) as Fault),
    by.map((b) => ({ name: "not-yet-valid", by: b }) as Fault),
    { weight: 4, arbitrary: badClaim },
    fc.constant<Fault>({ name: "too-long" }),
    fc.constantFrom("two" as const, "four" as const, "empty-signature" as const).map((shape) => ({ name: "segments", shape }) as Fault),
    fc.constant<Fault>({ name: "payload-not-object" }),
    fc.constantFrom("Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer", "Bearer ", "Bearer\t", "Token ", "Bearer: ").map((a) => ({ name: "scheme", authorization: a }) as Fault),
  );
}

function tokenArbitrary(options: GeneratorOptions, names: fc.Arbitrary<string>, own: string[]): fc.Arbitrary<TokenSpec> {
  const margin = options.wire ? fc.integer({ min: 120, max: 3600 }) : fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3600 }));
  const users = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(options.users[0]!, ...options.users) },
    fc.constant({ sub: `${options.users[0]!.sub}-unplanned`, plan: options.unknownPlan }),
    // A 255-character sub is the longest allowed: valid.
    fc.constant({ sub: `${options.users[0]!.sub}-`.padEnd(255, "z"), plan: "team" }),
  );
  return fc.record({
    user: users,
    keyIndex: fc.constantFrom(0, 1),
    // Often a full grant on the names the request needs, so requests reach the rate limit.
    grants: fc.tuple(fc.boolean(), fc.array(grantArbitrary(names), { maxLength: 4 })).map(([full, rest]) => (full ? [...own.map((name) => ({ type: "repository", name, actions: ["pull", "push", "delete"] })), ...rest] : rest)),
    expMargin: margin,
    nbfMargin: fc.option(margin, { nil: undefined }),
    audAsArray: fc.boolean(),
    withTyp: fc.boolean(),
    scheme: fc.constantFrom("Bearer ", "Bearer ", "bearer ", "BEARER ", "Bearer   "),
    fault: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, faultArbitrary(options.wire)),
  });
}

/** A header value: wire mode keeps to what an HTTP/1 client sends (latin-1 bytes arrive as non-UTF-8). */
function valueArbitrary(wire: boolean): fc.Arbitrary<string> {
  const hostile = wire
    ? fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)).map((c) => String.fromCharCode(c)), maxLength: 40 })
    : fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xffff })).map((c) => String.fromCharCode(c)), maxLength: 40 });
  return fc.oneof({ weight: 4, arbitrary: hostile }, fc.constant(""), fc.integer({ min: 4097, max: 6000 }).map((n) => "v".repeat(n)), fc.constantFrom("enterprise", "alice", "repository:alice/app:pull,push,delete"));
}

/** generator returns the arbitrary of one request for the given transport and users. */
export function requestArbitrary(options: GeneratorOptions): fc.Arbitrary<RequestSpec> {
  return routeArbitrary.chain((route) => requestFor(options, route));
}

function requestFor(options: GeneratorOptions, route: RouteSpec): fc.Arbitrary<RequestSpec> {
  // Grants name the route's repositories most of the time, so requests get past the grant check.
  const own = route.truth.kind === "repository" ? [route.truth.repository, ...(route.truth.mountFrom ? [route.truth.mountFrom] : [])] : [];
  const names = fc.oneof({ weight: own.length > 0 ? 4 : 0, arbitrary: fc.constantFrom(...(own.length > 0 ? own : ["alice/app"])) }, validName, fc.constantFrom("alice/app", "bob/lib"));
  const value = valueArbitrary(options.wire);
  const headerName = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_"), minLength: 1, maxLength: 20 }).map((n) => `x-f-${n}`);
  const access = fc.array(grantArbitrary(names), { maxLength: 3 }).map(renderGrants);
  return fc.record({
    // The clock mostly stands still (so buckets run dry) and sometimes jumps (so they refill).
    advanceMs: fc.oneof({ weight: 600, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 6000 }) }, fc.constant(60_000)),
    route: fc.constant(route),
    auth: fc.oneof({ weight: 12, arbitrary: tokenArbitrary(options, names, own).map((token) => ({ kind: "token", token }) as AuthSpec) }, fc.constant<AuthSpec>({ kind: "none" }), value.map((v) => ({ kind: "header", value: v }) as AuthSpec)),
    // A user's plan header is its own plan, an unknown one or missing: never another known plan.
    identity: fc.record({
      user: fc.option(fc.oneof(fc.constantFrom(...options.users), fc.constant({ sub: "", plan: "team" })), { nil: undefined, freq: 4 }),
      plan: fc.constantFrom("own", "own", "own", "unknown", "missing"),
      access: fc.option(access, { nil: undefined }),
      duplicate: fc.boolean(),
    }).map(({ user, plan, access, duplicate }) => ({
      user: user?.sub,
      plan: plan === "missing" ? undefined : plan === "unknown" ? options.unknownPlan : (user?.plan ?? "personal"),
      access,
      duplicate,
    })),
    contentRange: fc.option(
      fc.oneof(
        fc.constantFrom(0, 1000, 104857599, 104857600, 1073741823, 1073741824, 5368709119, 5368709120, 9e15).map((end) => ({ value: `0-${end}`, end })),
        fc.constantFrom(0, 104857600, 1073741824).map((end) => ({ value: `bytes 0-${end}/*`, end })),
        fc.constantFrom("abc", "", "-5", "bytes=0-9999999999", "0-", "x-1").map((v) => ({ value: v, end: undefined })),
      ),
      { nil: undefined },
    ),
    extras: fc.array(fc.tuple(headerName, value), { maxLength: 4 }).chain((list) =>
      // Duplicate headers: repeat some names with other values.
      fc.array(fc.tuple(fc.constantFrom(...(list.length > 0 ? list.map(([n]) => n) : ["x-f-dup"])), value), { maxLength: 2 }).map((dups) => [...list, ...dups]),
    ),
    body: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
  });
}

/** renderGrants renders access entries as token-auth forwards them: repository entries with a known action, actions ordered pull, push, delete. */
export function renderGrants(grants: GrantSpec[]): string {
  return grants
    .filter((g) => g.type === "repository")
    .map((g) => ({ name: g.name, actions: (["pull", "push", "delete"] as const).filter((a) => g.actions.includes(a)) }))
    .filter((g) => g.actions.length > 0)
    .map((g) => `repository:${g.name}:${g.actions.join(",")}`)
    .join(" ");
}

const b64 = (value: string): string => Buffer.from(value).toString("base64url");
const sign = (input: string, key: Buffer): string => createHmac("sha256", key).update(input).digest("base64url");

/** A key the filters are not configured with; same kid as the first demo key for "wrong-key". */
const ROGUE_KEY = randomBytes(32);

/**
 * buildAuthorization materializes `spec` at `nowSeconds` and returns the Authorization value, whether the
 * token must be accepted. Deterministic apart from the rogue key: the same spec and time give the same token.
 */
export function buildAuthorization(spec: TokenSpec, nowSeconds: number): { authorization: string; valid: boolean } {
  const skew = CLOCK_SKEW_SECONDS;
  const key: SigningKey = DEMO_SIGNING_KEYS[spec.keyIndex]!;
  const fault = spec.fault;
  const header: Record<string, unknown> = { alg: "HS256", kid: key.kid };
  if (spec.withTyp) header.typ = "JWT";
  // exp + skew > now and nbf - skew <= now by whole seconds on the right side of the boundary.
  const claims: Record<string, unknown> = {
    iss: TOKEN_ISSUER,
    aud: spec.audAsArray ? ["other", TOKEN_AUDIENCE] : TOKEN_AUDIENCE,
    sub: spec.user.sub,
    plan: spec.user.plan,
    access: spec.grants,
    exp: Math.ceil(nowSeconds) - skew + spec.expMargin,
  };
  if (spec.nbfMargin !== undefined) claims.nbf = Math.floor(nowSeconds) + skew - (spec.nbfMargin - 1);
  let signingKey = Buffer.from(key.k, "base64url");
  switch (fault?.name) {
    case "wrong-key":
      signingKey = ROGUE_KEY;
      break;
    case "unknown-kid":
      header.kid = fault.kid;
      if (fault.signedWith === "random") signingKey = ROGUE_KEY;
      break;
    case "alg":
      header.alg = fault.alg;
      break;
    case "crit":
      header.crit = ["exp"];
      break;
    case "typ":
      header.typ = fault.typ;
      break;
    case "kid-missing":
      delete header.kid;
      break;
    case "expired":
      claims.exp = Math.floor(nowSeconds) - skew - fault.by;
      break;
    case "not-yet-valid":
      claims.nbf = Math.floor(nowSeconds) + skew + 1 + fault.by;
      break;
    case "claim":
      if (fault.value === undefined) delete claims[fault.claim];
      else claims[fault.claim] = fault.value;
      break;
    case "too-long":
      claims.padding = "p".repeat(MAX_TOKEN_LENGTH);
      break;
  }
  const payload = fault?.name === "payload-not-object" ? b64(JSON.stringify([claims])) : b64(JSON.stringify(claims));
  const input = `${b64(JSON.stringify(header))}.${payload}`;
  let token = `${input}.${sign(input, signingKey)}`;
  if (fault?.name === "segments") {
    const parts = token.split(".");
    token = fault.shape === "two" ? parts.slice(0, 2).join(".") : fault.shape === "four" ? `${token}.${parts[2]}` : `${input}.`;
  }
  if (fault?.name === "mutated") {
    // Replace one character with a different one: any change to header.payload breaks the HMAC,
    // and any change to the (strictly decoded) signature changes or invalidates its bytes.
    const at = fault.position % token.length;
    const char = fault.char === token[at] ? (token[at] === "A" ? "B" : "A") : fault.char;
    token = token.slice(0, at) + char + token.slice(at + 1);
  }
  if (fault?.name === "scheme") return { authorization: fault.authorization, valid: false };
  return { authorization: `${spec.scheme}${token}${spec.scheme.length > 7 ? " " : ""}`, valid: fault === undefined };
}
