// token-auth's fixed texts, in ONE table of UTF-8 lines (proxy-wasm-as-sdk/texts): a line costs its
// bytes and a newline, where a string literal costs its UTF-16 text plus ≈ 21 bytes of object header
// and data-segment entries. Three enums number the lines, one run after the other, in this order:
// Name (what a token is read by, decoded once at start-up: a verification compares with them),
// Reason (why a request was refused 401, for the debug log only) and Text (the rest: configuration
// errors and field names, metric names, the registry errors the filter answers with), decoded on
// each use, which is rare. Header names stay literals: the SDK encodes a literal once.
import { TextTable } from "proxy-wasm-as-sdk/texts";

/** Names a token is read by (members and the values compared with them). */
export const enum Name {
  Alg,
  Hs256,
  Crit,
  Typ,
  Jwt,
  Kid,
  Iss,
  Aud,
  Exp,
  Nbf,
  Iat,
  Sub,
  Plan,
  Access,
  Type,
  Repository,
  NameMember,
  Actions,
  // The granted actions as x-hub-access lists them, in the order of their bits (pull 1, push 2, delete 4).
  Pull,
  Push,
  PullPush,
  Delete,
  PullDelete,
  PushDelete,
  PullPushDelete,
  RepositoryScope,
  Token,
  // The Authorization scheme with its space, and the access service's two answers.
  BearerScheme,
  NotFound,
  Ok,
  Count,
}

/** Why a request was refused 401, for token-auth's debug log only (never sent to the client). */
export const enum Reason {
  EmptyToken = Name.Count,
  TooLong,
  Expired,
  NotYetValid,
  MoreThanThreeSegments,
  NotBase64Url,
  FewerThanThreeSegments,
  HeaderTooLong,
  HeaderNotJson,
  AlgNotHs256,
  CritHeader,
  TypNotJwt,
  KidMissing,
  UnknownKid,
  SignatureLength,
  SignatureEncoding,
  BadSignature,
  PayloadNotJson,
  WrongIss,
  WrongAud,
  ExpMissing,
  NbfNotNumber,
  IatNotNumber,
  SubMalformed,
  PlanMalformed,
  AccessMissing,
  AccessNotArray,
  AccessEntryMalformed,
  IdentityNotRemoved,
  NotConfigured,
  NoBearerToken,
  IdentityNotWritten,
  // Logged as "user <name> no longer exists" (TokenAuth#refuse adds the user).
  UserGone,
  Count,
}

/**
 * The filter's other texts: configuration errors, metric names, log prefixes (ending in a space where
 * a value follows), the registry errors it answers with and the configuration's field names.
 */
export const enum Text {
  NotQuotable = Reason.Count,
  NoKeys,
  Empty,
  NotHs256,
  ShortKey,
  DuplicateKid,
  MetricLookups,
  MetricLookupFailures,
  MetricAllowed,
  MetricDenied,
  MetricPlanPrefix,
  MetricPlanSuffix,
  LogUnavailable,
  LogRefused,
  LogUser,
  UnavailableDetails,
  UnavailableCode,
  UnavailableMessage,
  UnauthorizedDetails,
  UnauthorizedCode,
  UnauthorizedMessage,
  // The configuration's field names, each object's in a run (see fieldNames).
  Issuer,
  Audience,
  ClockSkewSeconds,
  MaxTokenLength,
  Realm,
  Service,
  Keys,
  PlanLookupField,
  Cluster,
  Authority,
  Path,
  Secret,
  TtlMs,
  TimeoutMs,
  Slots,
  Kid,
  Alg,
  K,
}

const TEXTS = new TextTable(`alg
HS256
crit
typ
JWT
kid
iss
aud
exp
nbf
iat
sub
plan
access
type
repository
name
actions
pull
push
pull,push
delete
pull,delete
push,delete
pull,push,delete
repository:
token
bearer 
404
200
empty token
token longer than maxTokenLength
expired
not yet valid
more than three segments
character outside base64url
fewer than three segments
header segment too long
header is not a base64url JSON object
alg is not HS256
crit header not supported
typ is not JWT
kid missing
unknown kid
signature length
signature encoding
bad signature
payload is not a base64url JSON object
wrong iss
wrong aud
exp missing
nbf not a number
iat not a number
sub missing or not a plain name
plan missing or malformed
access missing
access not an array
access entry malformed
client identity headers could not be removed
not configured
no bearer token
identity headers could not be written
no longer exists
must not contain quotes, backslashes or control characters
expected at least one key
expected a non-empty string
only HS256 is supported
expected base64url of at least 32 key bytes
duplicate kid
image_hub.token_auth.plan_lookups
image_hub.token_auth.plan_lookup_failures
image_hub.token_auth.allowed
image_hub.token_auth.denied
image_hub.token_auth.
.allowed
token-auth: 503: plan lookup failed
token-auth: 401: 
user 
token_auth_plan_unavailable
UNAVAILABLE
current plan could not be confirmed
token_auth_unauthorized
UNAUTHORIZED
authentication required
issuer
audience
clockSkewSeconds
maxTokenLength
realm
service
keys
planLookup
cluster
authority
path
secret
ttlMs
timeoutMs
slots
kid
alg
k`);

const NAMES = TEXTS.lines(Name.Count);

/** name returns the string of `n` (no decoding). */
export function name(n: Name): string {
  return unchecked(NAMES[n]);
}

/** reasonText returns the log text of `reason` (decoded on each call). */
export function reasonText(reason: Reason): string {
  return TEXTS.get(reason);
}

/** text returns `t` (decoded on each call). */
export function text(t: Text): string {
  return TEXTS.get(t);
}
