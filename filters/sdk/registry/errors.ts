// Registry helpers shared by filters that guard an OCI Distribution registry: registry JSON error
// responses (image-hub/CONTRACT.md "Responses"), the identity header names and plan-id checks. They
// live in the SDK so that each filter depends on filters/sdk only, never on another filter.
import { HeaderPair, sendLocalResponse } from "../index";
import { TextTable } from "../texts";

// The string constants are lazy: a module-level string is otherwise kept, and visited by the
// collector, in every module that imports this file, used or not.

/** Identity headers token-auth sets from the verified token (CONTRACT.md). */
// @ts-ignore: decorator
@lazy export const HEADER_USER = "x-hub-user";
/** HEADER_PLAN carries the token's `plan` claim. */
// @ts-ignore: decorator
@lazy export const HEADER_PLAN = "x-hub-plan";
/** HEADER_ACCESS carries the granted scopes, space separated. */
// @ts-ignore: decorator
@lazy export const HEADER_ACCESS = "x-hub-access";
/** HEADER_SIDECAR is the route-added proof that a request came through the sidecar; clients may not send it. */
// @ts-ignore: decorator
@lazy export const HEADER_SIDECAR = "x-hub-sidecar";

/** HTTP status codes the policy filters answer with. */
export const BAD_REQUEST: u32 = 400;
/** UNAUTHORIZED is 401. */
export const UNAUTHORIZED: u32 = 401;
/** FORBIDDEN is 403. */
export const FORBIDDEN: u32 = 403;
/** NOT_FOUND is 404. */
export const NOT_FOUND: u32 = 404;
/** PAYLOAD_TOO_LARGE is 413. */
export const PAYLOAD_TOO_LARGE: u32 = 413;
/** TOO_MANY_REQUESTS is 429. */
export const TOO_MANY_REQUESTS: u32 = 429;

/** The fixed parts of error bodies and challenges: lines of PARTS, in this order (decoded once by TextTable#lines). */
const enum Part {
  BodyStart,
  BodyMessage,
  BodyDetail,
  BodyEnd,
  EscapedQuote,
  EscapedBackslash,
  UnicodeEscape,
  // A hand-written hex digit: Number#toString(16) links the radix formatter and its error text.
  Hex,
  Json,
  Bearer,
  Realm,
  Service,
  Scope,
  Error,
  Count,
}
// @ts-ignore: decorator
@lazy const PARTS = new TextTable(`{"errors":[{"code":"
","message":
,"detail":
}]}
\\"
\\\\
\\u00
0123456789abcdef
application/json
Bearer
Bearer realm="
",service="
,scope="
,error="`).lines(Part.Count);

function part(p: Part): string {
  return unchecked(PARTS[p]);
}

/** jsonString returns `text` as a JSON string literal (quotes included); never fails. */
export function jsonString(text: string): string {
  let out = "\"";
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += text.substring(runStart, i);
    if (c == 0x22) out += part(Part.EscapedQuote);
    else if (c == 0x5c) out += part(Part.EscapedBackslash);
    else out += part(Part.UnicodeEscape) + part(Part.Hex).charAt(c >> 4) + part(Part.Hex).charAt(c & 15);
    runStart = i + 1;
  }
  return out + text.substring(runStart) + "\"";
}

/** registryErrorBody renders `{"errors":[{"code","message","detail"}]}`; `detailJson` is raw JSON text. */
export function registryErrorBody(code: string, message: string, detailJson: string = "null"): string {
  return part(Part.BodyStart) + code + part(Part.BodyMessage) + jsonString(message) + part(Part.BodyDetail) + detailJson + part(Part.BodyEnd);
}

/**
 * sendRegistryError answers the request with a registry JSON error; `headers` are extra response
 * headers (content-type is added here). The caller must then return a Stop status.
 */
export function sendRegistryError(
  status: u32,
  details: string,
  code: string,
  message: string,
  detailJson: string = "null",
  headers: Array<HeaderPair> = new Array<HeaderPair>(),
): void {
  headers.push(new HeaderPair("content-type", part(Part.Json)));
  sendLocalResponse(status, details, registryErrorBody(code, message, detailJson), headers);
}

/**
 * isQuotable tells whether `text` can stand inside a quoted-string of a `WWW-Authenticate`
 * challenge unescaped: no quotes, backslashes or control characters.
 */
export function isQuotable(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c == 0x22 || c == 0x5c || c == 0x7f) return false;
  }
  return true;
}

/** bearerChallengePrefix returns `Bearer realm="<realm>",service="<service>"`; both must be quotable. */
export function bearerChallengePrefix(realm: string, service: string): string {
  return part(Part.Realm) + realm + part(Part.Service) + service + "\"";
}

/**
 * bearerChallenge appends to `prefix` the `scope` (when non-empty) and the token-spec `error`
 * (when non-empty, e.g. `insufficient_scope`); returns the `WWW-Authenticate` value.
 */
export function bearerChallenge(prefix: string, scope: string, error: string = ""): string {
  let challenge = prefix.length > 0 ? prefix : part(Part.Bearer);
  if (scope.length > 0) challenge += part(Part.Scope) + scope + "\"";
  if (error.length > 0) challenge += part(Part.Error) + error + "\"";
  return challenge;
}

/** isPlanId tells whether `id` is a plan identifier: 1–64 of [a-z0-9-], starting with a letter. */
export function isPlanId(id: string): bool {
  if (id.length == 0 || id.length > 64) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (i > 0 && ((c >= 0x30 && c <= 0x39) || c == 0x2d));
    if (!ok) return false;
  }
  return true;
}

/** findPlanIndex returns the index of `id` in `ids`, or -1. */
export function findPlanIndex(ids: Array<string>, id: string): i32 {
  for (let i = 0; i < ids.length; i++) if (unchecked(ids[i]) == id) return i;
  return -1;
}
