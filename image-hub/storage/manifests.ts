/**
 * Manifest parsing for the storage service: which media types are accepted and which blobs and
 * child manifests a manifest refers to (all of which must exist before it may be stored).
 * @module
 */
import { HttpError } from "../http-error.ts";
import { DIGEST_RE } from "./blobs.ts";

/** Media types of single-image manifests (refer to a config blob and layer blobs). */
export const IMAGE_MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);

/** Media types of indexes (refer to other manifests). */
export const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

/** Largest manifest the registry accepts, as in the reference registry. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** What a manifest refers to. */
export interface ParsedManifest {
  mediaType: string;
  blobs: string[];
  manifests: string[];
}

function invalid(message: string): HttpError {
  return new HttpError(400, "MANIFEST_INVALID", message);
}

function descriptorDigest(d: unknown, where: string): string {
  const digest = (d as { digest?: unknown } | null)?.digest;
  if (typeof digest !== "string" || !DIGEST_RE.test(digest)) throw invalid(`${where}.digest must be a sha256 digest`);
  return digest;
}

/**
 * parseManifest checks a manifest body against its Content-Type (`contentType` may be empty, then the
 * body's mediaType decides) and returns its references. Throws HttpError 400 MANIFEST_INVALID on
 * bad JSON, an unknown media type, or malformed descriptors.
 */
export function parseManifest(body: Buffer, contentType: string): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalid("manifest must be a JSON object");
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const header = contentType.split(";")[0].trim().toLowerCase();
  let mediaType = header || declared || (Array.isArray(doc.manifests) ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json");
  if (header === "application/json" || header === "application/octet-stream") mediaType = declared ?? "application/vnd.oci.image.manifest.v1+json";
  if (declared && declared !== mediaType) throw invalid(`mediaType ${declared} does not match Content-Type ${mediaType}`);
  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.layers)) throw invalid("layers must be an array");
    const blobs = [descriptorDigest(doc.config, "config"), ...doc.layers.map((l, i) => descriptorDigest(l, `layers[${i}]`))];
    return { mediaType, blobs, manifests: [] };
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid("manifests must be an array");
    return { mediaType, blobs: [], manifests: doc.manifests.map((m, i) => descriptorDigest(m, `manifests[${i}]`)) };
  }
  throw invalid(`unsupported manifest media type ${mediaType}`);
}
