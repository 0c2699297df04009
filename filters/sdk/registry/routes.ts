// Maps an OCI Distribution request (method + raw :path) to the repository and action it needs, per
// the table in image-hub/CONTRACT.md. Shared by plan-enforcement (authorization) and token-auth
// (the scope of the 401 challenge). Pure string code: no hostcalls, never traps on any input.
import { TextTable } from "../texts";

/** The keywords of the route table and the scope texts: lines of WORDS, in this order (decoded once by TextTable#lines). */
const enum Word {
  V2,
  V2Slash,
  Catalog,
  Quota,
  Get,
  Head,
  Post,
  Patch,
  Put,
  Delete,
  TagsList,
  Blobs,
  Uploads,
  BlobsUploads,
  Manifests,
  Referrers,
  From,
  Mount,
  Pull,
  Push,
  DeleteAction,
  PullPush,
  Repository,
  PullScope,
  Count,
}
const WORDS = new TextTable(`/v2
/v2/
/v2/_catalog
/v2/_quota
GET
HEAD
POST
PATCH
PUT
DELETE
/tags/list
/blobs
uploads
/blobs/uploads
/manifests
/referrers
from
mount
pull
push
delete
pull,push
repository:
:pull`).lines(Word.Count);

function word(w: Word): string {
  return unchecked(WORDS[w]);
}

/** RouteKind says which row of the CONTRACT.md table a request matched. */
export enum RouteKind {
  /** Not under /v2: the policy filters let it pass untouched. */
  NotRegistry = 0,
  /** GET/HEAD /v2/, GET /v2/_catalog and GET /v2/_quota: any authenticated user. */
  NoAction = 1,
  /** A repository route with a valid name; `action` holds what it needs. */
  Repository = 2,
  /** A repository route whose name (or mount source) breaks the OCI name rules. */
  InvalidName = 3,
  /** Under /v2 but not a route of the table (method or path); refused, fail closed. */
  Unsupported = 4,
}

/** Action bits; a route may need several (a cross-repository mount needs push here and pull there). */
export const ACTION_PULL: i32 = 1;
/** ACTION_PUSH is the push action bit. */
export const ACTION_PUSH: i32 = 2;
/** ACTION_DELETE is the delete action bit. */
export const ACTION_DELETE: i32 = 4;

/** MAX_NAME_LENGTH is the longest repository name accepted (CONTRACT.md). */
export const MAX_NAME_LENGTH: i32 = 255;

/** Route is what parseRoute found; fields other than `kind` are meaningful only for Repository. */
export class Route {
  kind: RouteKind = RouteKind.NotRegistry;
  repository: string = "";
  action: i32 = 0;
  /** True for a manifest GET, the only request the rate limit counts. */
  isManifestGet: bool = false;
  /** True for GET /v2/_quota, the caller's pull quota that rate-limit (or the app) answers itself. */
  isQuota: bool = false;
  /** True for requests that carry blob data (upload PATCH/PUT/POST): subject to the size limit. */
  isBlobUpload: bool = false;
  /** For a mount (`?mount=&from=`), the source repository that needs pull; empty otherwise. */
  mountFrom: string = "";
}

function isLowerAlnum(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

/**
 * isValidRepositoryName checks `name` against the OCI regex
 * `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` and the 255-character cap.
 * Hand-written because AssemblyScript has no regular expressions.
 */
export function isValidRepositoryName(name: string): bool {
  const length = name.length;
  if (length == 0 || length > MAX_NAME_LENGTH) return false;
  let i = 0;
  while (i < length) {
    // One path component: alnum runs joined by ".", "_", "__" or one or more "-".
    if (!isLowerAlnum(name.charCodeAt(i))) return false;
    while (i < length && isLowerAlnum(name.charCodeAt(i))) i++;
    while (i < length) {
      const c = name.charCodeAt(i);
      if (c == 0x2f) break;
      let separatorEnd = i;
      if (c == 0x2e) separatorEnd = i + 1;
      else if (c == 0x5f) separatorEnd = i + 1 < length && name.charCodeAt(i + 1) == 0x5f ? i + 2 : i + 1;
      else if (c == 0x2d) {
        separatorEnd = i;
        while (separatorEnd < length && name.charCodeAt(separatorEnd) == 0x2d) separatorEnd++;
      } else return false;
      if (separatorEnd >= length || !isLowerAlnum(name.charCodeAt(separatorEnd))) return false;
      i = separatorEnd;
      while (i < length && isLowerAlnum(name.charCodeAt(i))) i++;
    }
    if (i < length) {
      i++;
      if (i >= length) return false;
    }
  }
  return true;
}

/**
 * The index of the first character `code` in `text` at or after `from` (≥ 0), or -1: String#indexOf
 * for one character, without its string compare and a one-character literal per use.
 */
function indexOfChar(text: string, code: i32, from: i32 = 0): i32 {
  for (let i = from; i < text.length; i++) if (text.charCodeAt(i) == code) return i;
  return -1;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * queryParameter returns the percent-decoded value of the first `key=` in `query` (text after "?"),
 * or null when absent. A malformed escape, or an escape that decodes outside printable ASCII,
 * yields "%" so that the value fails name validation instead of being guessed at.
 */
export function queryParameter(query: string, key: string): string | null {
  let start = 0;
  while (start <= query.length) {
    let end = indexOfChar(query, 0x26, start);
    if (end < 0) end = query.length;
    const equals = indexOfChar(query, 0x3d, start);
    if (equals >= 0 && equals < end && equals - start == key.length && query.substring(start, equals) == key) {
      return percentDecode(query.substring(equals + 1, end));
    }
    start = end + 1;
  }
  return null;
}

function percentDecode(text: string): string {
  if (indexOfChar(text, 0x25) < 0 && indexOfChar(text, 0x2b) < 0) return text;
  // Written straight into the string: each character out comes from one or three in, so the input's
  // length is enough (a concatenation per character would allocate a string each).
  const out = changetype<usize>(__new(<usize>text.length << 1, idof<string>()));
  let o: usize = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c == 0x25) {
      const high = i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
      const low = i + 2 < text.length ? hexValue(text.charCodeAt(i + 2)) : -1;
      c = (high << 4) | low;
      if (high < 0 || low < 0 || c < 0x21 || c > 0x7e) return "%";
      i += 2;
    } else if (c == 0x2b) c = 0x20;
    store<u16>(out + (o++ << 1), <u16>c);
  }
  return changetype<string>(__renew(out, o << 1));
}

function repositoryRoute(route: Route, name: string, action: i32): Route {
  if (!isValidRepositoryName(name)) {
    route.kind = RouteKind.InvalidName;
    return route;
  }
  route.kind = RouteKind.Repository;
  route.repository = name;
  route.action = action;
  return route;
}

// The last request parseRoute classified. The filters of a composition each classify the same
// request in the same callback, with the very strings the shared header snapshot returned: the
// second and third ask then cost two string compares (identical objects compare by address) instead
// of a parse and its five substrings and a Route each. Kept alive here, so one Route and two strings.
let lastMethod: string = "";
let lastPath: string = "";
let lastRoute: Route | null = null;

/**
 * parseRoute classifies one request; `path` is the raw `:path` (query included, never
 * percent-decoded). Returns a Route whose kind is never undefined; it never traps. The Route may be
 * the one returned for the previous call with equal arguments: callers read it and never modify it.
 */
export function parseRoute(method: string, rawPath: string): Route {
  const last = lastRoute;
  if (last !== null && rawPath == lastPath && method == lastMethod) return last;
  const route = classify(method, rawPath);
  lastMethod = method;
  lastPath = rawPath;
  lastRoute = route;
  return route;
}

/** classify is parseRoute without its memo. */
function classify(method: string, rawPath: string): Route {
  const route = new Route();
  let pathEnd = rawPath.length;
  const questionMark = indexOfChar(rawPath, 0x3f);
  if (questionMark >= 0) pathEnd = questionMark;
  const hash = indexOfChar(rawPath, 0x23);
  if (hash >= 0 && hash < pathEnd) pathEnd = hash;
  const path = rawPath.substring(0, pathEnd);
  const query = questionMark >= 0 && questionMark == pathEnd ? rawPath.substring(questionMark + 1) : "";
  if (path != word(Word.V2) && !path.startsWith(word(Word.V2Slash))) return route;
  const isGet = method == word(Word.Get);
  const isRead = isGet || method == word(Word.Head);
  if (path == word(Word.V2) || path == word(Word.V2Slash) || path == word(Word.Catalog)) {
    route.kind = isRead ? RouteKind.NoAction : RouteKind.Unsupported;
    if (path == word(Word.Catalog) && !isGet) route.kind = RouteKind.Unsupported;
    return route;
  }
  if (path == word(Word.Quota)) {
    route.kind = isGet ? RouteKind.NoAction : RouteKind.Unsupported;
    route.isQuota = isGet;
    return route;
  }
  route.kind = RouteKind.Unsupported;
  const rest = path.substring(4);
  if (rest.endsWith(word(Word.TagsList))) {
    return isGet ? repositoryRoute(route, rest.substring(0, rest.length - 10), ACTION_PULL) : route;
  }
  let lastSlash = rest.length - 1;
  while (lastSlash >= 0 && rest.charCodeAt(lastSlash) != 0x2f) lastSlash--;
  if (lastSlash <= 0) return route;
  const last = rest.substring(lastSlash + 1);
  const head = rest.substring(0, lastSlash);
  if ((head.endsWith(word(Word.Blobs)) && last == word(Word.Uploads)) || (head.endsWith(word(Word.BlobsUploads)) && last.length == 0)) {
    // Upload start: POST /v2/<name>/blobs/uploads/ (optionally a mount or a monolithic upload).
    if (method != word(Word.Post)) return route;
    const name = head.endsWith(word(Word.Blobs)) ? head.substring(0, head.length - 6) : head.substring(0, head.length - 14);
    repositoryRoute(route, name, ACTION_PUSH);
    route.isBlobUpload = true;
    const from = queryParameter(query, word(Word.From));
    if (route.kind == RouteKind.Repository && from !== null && queryParameter(query, word(Word.Mount)) !== null) {
      if (!isValidRepositoryName(from)) route.kind = RouteKind.InvalidName;
      else route.mountFrom = from;
    }
    return route;
  }
  if (last.length == 0) return route;
  if (head.endsWith(word(Word.BlobsUploads))) {
    const isPatch = method == word(Word.Patch);
    const isPut = method == word(Word.Put);
    if (!isPatch && !isPut && !isGet && method != word(Word.Delete)) return route;
    repositoryRoute(route, head.substring(0, head.length - 14), ACTION_PUSH);
    route.isBlobUpload = isPatch || isPut;
    return route;
  }
  if (head.endsWith(word(Word.Manifests))) {
    const name = head.substring(0, head.length - 10);
    if (isRead) {
      repositoryRoute(route, name, ACTION_PULL);
      route.isManifestGet = isGet && route.kind == RouteKind.Repository;
      return route;
    }
    if (method == word(Word.Put)) return repositoryRoute(route, name, ACTION_PUSH);
    if (method == word(Word.Delete)) return repositoryRoute(route, name, ACTION_DELETE);
    return route;
  }
  if (head.endsWith(word(Word.Blobs))) {
    const name = head.substring(0, head.length - 6);
    if (isRead) return repositoryRoute(route, name, ACTION_PULL);
    if (method == word(Word.Delete)) return repositoryRoute(route, name, ACTION_DELETE);
    return route;
  }
  if (head.endsWith(word(Word.Referrers))) {
    // GET /v2/<name>/referrers/<digest> (OCI v1.1 referrers API): a pull, not counted by the rate limit.
    return isGet ? repositoryRoute(route, head.substring(0, head.length - 10), ACTION_PULL) : route;
  }
  return route;
}

/** actionName returns "pull", "push" or "delete" for a single action bit, "" otherwise. */
export function actionName(action: i32): string {
  if (action == ACTION_PULL) return word(Word.Pull);
  if (action == ACTION_PUSH) return word(Word.Push);
  if (action == ACTION_DELETE) return word(Word.DeleteAction);
  return "";
}

/** challengeActions returns the scope actions of the 401 challenge: pull, pull,push or delete (CONTRACT.md). */
export function challengeActions(action: i32): string {
  if (action == ACTION_PUSH) return word(Word.PullPush);
  if (action == ACTION_DELETE) return word(Word.DeleteAction);
  return word(Word.Pull);
}

/**
 * challengeScope returns the scope a 401 challenge names for `route`: every scope the request
 * needs, space separated (`repository:<name>:<actions>`, plus `repository:<from>:pull` for a
 * cross-repository mount), or "" when the route names no repository.
 */
export function challengeScope(route: Route): string {
  if (route.kind != RouteKind.Repository) return "";
  const scope = word(Word.Repository) + route.repository + ":" + challengeActions(route.action);
  if (route.mountFrom.length == 0 || route.mountFrom == route.repository) return scope;
  return scope + " " + word(Word.Repository) + route.mountFrom + word(Word.PullScope);
}
