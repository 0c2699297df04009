/**
 * The contract's "request → action" table for `/v2/*`, matched on the raw path (no percent
 * decoding). App mode must classify every request exactly as plan-enforcement does
 * (filters/sdk/registry/routes.ts), so this follows the same rules in the same order:
 * a request the table does not list is `unsupported` (404) rather than guessed at.
 * @module
 */
import type { Action } from "../catalog.ts";

/** OCI repository name grammar (CONTRACT.md). */
export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** Longest repository name. */
export const NAME_MAX = 255;

/** Which row of the table a request matched. */
export type RouteKind = "base" | "catalog" | "quota" | "manifest" | "blob" | "uploads" | "upload" | "tags" | "referrers" | "invalidName" | "unsupported";

/** A `/v2/` request mapped onto the contract. */
export interface RegistryRoute {
  kind: RouteKind;
  /** Repository name (valid) for repository routes. */
  name?: string;
  /** Manifest reference, blob or subject digest, or upload id (the last path component). */
  ref?: string;
  /** The action the request needs on `name`. */
  action?: Action;
  /** Source repository of a cross-repository mount (needs pull there). */
  mountFrom?: string;
  /** The actions string for the challenge scope: `pull`, `pull,push` or `delete`. */
  scopeActions?: string;
  /** True for a manifest GET, the only request that counts as a pull. */
  countsAsPull: boolean;
  /** True for requests that carry blob data (upload POST/PATCH/PUT): subject to the size limit. */
  isBlobUpload: boolean;
}

/** isValidName checks a repository name against the OCI grammar and length cap; never throws. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= NAME_MAX && NAME_RE.test(name);
}

function scopeFor(action: Action): string {
  return action === "push" ? "pull,push" : action;
}

function repository(kind: RouteKind, name: string, action: Action, ref?: string): RegistryRoute {
  if (!isValidName(name)) return { kind: "invalidName", countsAsPull: false, isBlobUpload: false };
  return { kind, name, ref, action, scopeActions: scopeFor(action), countsAsPull: false, isBlobUpload: false };
}

function queryValue(query: URLSearchParams, key: string): string | undefined {
  return query.has(key) ? (query.get(key) ?? "") : undefined;
}

const UNSUPPORTED: RegistryRoute = { kind: "unsupported", countsAsPull: false, isBlobUpload: false };

/**
 * mapRegistryRequest maps a method, the raw path after `/v2` (query removed) and the query to its
 * route; never throws.
 */
export function mapRegistryRequest(method: string, rawPath: string, query: URLSearchParams = new URLSearchParams()): RegistryRoute {
  const isGet = method === "GET";
  const isRead = isGet || method === "HEAD";
  if (rawPath === "" || rawPath === "/") return isRead ? { kind: "base", countsAsPull: false, isBlobUpload: false } : UNSUPPORTED;
  if (rawPath === "/_quota") return isGet ? { kind: "quota", countsAsPull: false, isBlobUpload: false } : UNSUPPORTED;
  if (rawPath === "/_catalog") return isGet ? { kind: "catalog", countsAsPull: false, isBlobUpload: false } : UNSUPPORTED;
  const rest = rawPath.slice(1);
  if (rest.endsWith("/tags/list")) return isGet ? repository("tags", rest.slice(0, -"/tags/list".length), "pull") : UNSUPPORTED;
  const lastSlash = rest.lastIndexOf("/");
  if (lastSlash <= 0) return UNSUPPORTED;
  const last = rest.slice(lastSlash + 1);
  const head = rest.slice(0, lastSlash);
  if ((head.endsWith("/blobs") && last === "uploads") || (head.endsWith("/blobs/uploads") && last === "")) {
    if (method !== "POST") return UNSUPPORTED;
    const name = head.endsWith("/blobs") ? head.slice(0, -"/blobs".length) : head.slice(0, -"/blobs/uploads".length);
    const route = repository("uploads", name, "push");
    if (route.kind === "invalidName") return route;
    route.isBlobUpload = true;
    const from = queryValue(query, "from");
    if (from !== undefined && queryValue(query, "mount") !== undefined) {
      if (!isValidName(from)) return { kind: "invalidName", countsAsPull: false, isBlobUpload: false };
      route.mountFrom = from;
    }
    return route;
  }
  if (last === "") return UNSUPPORTED;
  if (head.endsWith("/blobs/uploads")) {
    if (method !== "PATCH" && method !== "PUT" && !isGet && method !== "DELETE") return UNSUPPORTED;
    const route = repository("upload", head.slice(0, -"/blobs/uploads".length), "push", last);
    route.isBlobUpload = method === "PATCH" || method === "PUT";
    return route;
  }
  if (head.endsWith("/manifests")) {
    const name = head.slice(0, -"/manifests".length);
    if (isRead) {
      const route = repository("manifest", name, "pull", last);
      route.countsAsPull = isGet && route.kind === "manifest";
      return route;
    }
    if (method === "PUT") return repository("manifest", name, "push", last);
    if (method === "DELETE") return repository("manifest", name, "delete", last);
    return UNSUPPORTED;
  }
  if (head.endsWith("/blobs")) {
    const name = head.slice(0, -"/blobs".length);
    if (isRead) return repository("blob", name, "pull", last);
    if (method === "DELETE") return repository("blob", name, "delete", last);
    return UNSUPPORTED;
  }
  if (head.endsWith("/referrers")) return isGet ? repository("referrers", head.slice(0, -"/referrers".length), "pull", last) : UNSUPPORTED;
  return UNSUPPORTED;
}
