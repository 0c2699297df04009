/**
 * Manifest parsing for the storage service: which media types are accepted and which blobs and
 * child manifests a manifest refers to (all of which must exist before it may be stored).
 * @module
 */
import { HttpError } from "../http-error.ts";
import { isDigest } from "../digest.ts";

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

/**
 * Layer media types the image spec calls non-distributable ("foreign"): their content may be kept
 * out of registries, so a manifest may name them without the registry holding the blob.
 */
export const NON_DISTRIBUTABLE_TYPES = new Set([
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);

/** Largest manifest the registry accepts, as in the reference registry. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** What a manifest refers to. */
export interface ParsedManifest {
  mediaType: string;
  /** Blobs that must be in the repository (non-distributable layers excluded). */
  blobs: string[];
  manifests: string[];
  /** Digest of the `subject` descriptor; the subject need not exist (OCI v1.1). */
  subject?: string;
  /** What the referrers API lists for this manifest: `artifactType`, else an image's config media type. */
  artifactType?: string;
  /** The manifest's own annotations, as the referrers API repeats them. */
  annotations?: Record<string, string>;
}

function invalid(message: string): HttpError {
  return new HttpError(400, "MANIFEST_INVALID", message);
}

function descriptorDigest(d: unknown, where: string): string {
  const digest = (d as { digest?: unknown } | null)?.digest;
  if (typeof digest !== "string" || !isDigest(digest)) throw invalid(`${where}.digest must be a sha256 or sha512 digest`);
  return digest;
}

function isNonDistributable(d: unknown): boolean {
  const mediaType = (d as { mediaType?: unknown } | null)?.mediaType;
  return typeof mediaType === "string" && NON_DISTRIBUTABLE_TYPES.has(mediaType);
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw invalid(`${where} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(`${where} must be a string`);
  return value;
}

/**
 * requiredBlobs returns the blob digests a stored manifest body needs in its repository (config and
 * distributable layers); never throws (an unreadable body needs nothing).
 */
export function requiredBlobs(body: Buffer): string[] {
  try {
    const doc = JSON.parse(body.toString("utf8")) as { config?: unknown; layers?: unknown[] };
    const descriptors = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : []).filter((l) => !isNonDistributable(l))];
    return descriptors.map((d) => (d as { digest?: unknown } | null)?.digest).filter((d): d is string => typeof d === "string");
  } catch {
    return [];
  }
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
  const subject = doc.subject === undefined ? undefined : descriptorDigest(doc.subject, "subject");
  const annotations = stringMap(doc.annotations, "annotations");
  let artifactType = optionalString(doc.artifactType, "artifactType");
  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.layers)) throw invalid("layers must be an array");
    const config = descriptorDigest(doc.config, "config");
    const layers = doc.layers.map((l, i) => [descriptorDigest(l, `layers[${i}]`), isNonDistributable(l)] as const);
    artifactType ??= optionalString((doc.config as { mediaType?: unknown }).mediaType, "config.mediaType");
    return { mediaType, blobs: [config, ...layers.filter(([, foreign]) => !foreign).map(([d]) => d)], manifests: [], subject, artifactType, annotations };
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid("manifests must be an array");
    return { mediaType, blobs: [], manifests: doc.manifests.map((m, i) => descriptorDigest(m, `manifests[${i}]`)), subject, artifactType, annotations };
  }
  throw invalid(`unsupported manifest media type ${mediaType}`);
}
