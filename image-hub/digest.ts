/**
 * Content digests as the OCI image spec defines them (`algorithm:encoded`), shared by the access and
 * storage services so both accept, refuse and compute digests alike. The registered algorithms are
 * sha256 and sha512; a well-formed digest of any other algorithm is "unsupported", not "invalid".
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { HttpError } from "./http-error.ts";

/** Registered algorithms and the length of their lowercase-hex encoding. */
export const ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** The canonical algorithm: what a manifest pushed by tag is addressed by. */
export const CANONICAL_ALGORITHM = "sha256";

/** Grammar of the image spec: `algorithm ":" encoded`. */
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Matches a digest of a registered algorithm in its exact encoding. */
export const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** isDigest tells whether `value` is a digest of a registered algorithm; never throws. */
export function isDigest(value: unknown): boolean {
  return typeof value === "string" && DIGEST_RE.test(value);
}

/** algorithmOf returns the algorithm part of a digest ("" when there is no colon); never throws. */
export function algorithmOf(digest: string): string {
  const colon = digest.indexOf(":");
  return colon < 0 ? "" : digest.slice(0, colon);
}

/**
 * checkDigest returns `value` when it is a digest of a registered algorithm. Throws HttpError 400
 * `UNSUPPORTED` for a well-formed digest of another algorithm, and 400 `DIGEST_INVALID` otherwise;
 * `what` names the value in the message.
 */
export function checkDigest(value: unknown, what = "digest"): string {
  if (typeof value === "string" && isDigest(value)) return value;
  if (typeof value === "string" && GRAMMAR.test(value) && !(algorithmOf(value) in ALGORITHMS)) {
    throw new HttpError(400, "UNSUPPORTED", `${what}: digest algorithm ${algorithmOf(value)} is not supported (supported: ${Object.keys(ALGORITHMS).join(", ")})`, { digest: value });
  }
  throw new HttpError(400, "DIGEST_INVALID", `${what} must be sha256:<64 hex> or sha512:<128 hex>`, typeof value === "string" ? { digest: value } : null);
}

/** newHash returns a running hash for a registered algorithm; throws for any other. */
export function newHash(algorithm: string): Hash {
  if (!(algorithm in ALGORITHMS)) throw new Error(`unsupported digest algorithm ${algorithm}`);
  return createHash(algorithm);
}

/** digestOf computes `algorithm:hex` of `data` (canonical algorithm by default); throws for an unregistered algorithm. */
export function digestOf(data: Buffer, algorithm: string = CANONICAL_ALGORITHM): string {
  return `${algorithm}:${newHash(algorithm).update(data).digest("hex")}`;
}
