/**
 * Builds small, real OCI images in memory (a gzip'd tar layer, an image config, an image manifest)
 * and writes them as OCI image layouts that skopeo, podman or oras can read (`oci:<dir>:<tag>`).
 * Nothing is downloaded: the layer holds files the caller gives.
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

/** One blob: its bytes, digest and media type. */
export interface Blob {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

/** An image ready to push: config and layers as blobs plus the manifest bytes. */
export interface OciImage {
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

/** sha256Digest returns `sha256:<hex>` of the bytes; never throws. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

// Fixed timestamps make every build of the same files produce the same digests.
const EPOCH = new Date("2026-01-01T00:00:00Z");

/** tarLayer packs files (path → content) into an uncompressed tar; rejects on a tar-stream error. */
export async function tarLayer(files: Record<string, string | Buffer>): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    tar.on("end", resolve);
    tar.on("error", reject);
  });
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    tar.entry({ name: path, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, content);
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * buildImage makes a linux/amd64 OCI image with one layer holding `files`, and the given labels.
 * Deterministic: the same input gives the same digests. Rejects only on a tar-stream error.
 */
export async function buildImage(files: Record<string, string | Buffer>, labels: Record<string, string> = {}): Promise<OciImage> {
  const tar = await tarLayer(files);
  // mtime 0 in the gzip header keeps the layer digest stable across builds.
  const gz = gzipSync(tar, { level: 9 });
  gz.writeUInt32LE(0, 4);
  const layer: Blob = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(gz), bytes: gz };
  const configJson = {
    created: EPOCH.toISOString(),
    architecture: "amd64",
    os: "linux",
    config: { Labels: labels, Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
    history: [{ created: EPOCH.toISOString(), created_by: "image-hub seed" }],
  };
  const configBytes = Buffer.from(JSON.stringify(configJson));
  const config: Blob = { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(configBytes), bytes: configBytes };
  const manifestJson = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.bytes.length }],
    annotations: { "org.opencontainers.image.created": EPOCH.toISOString() },
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifestJson));
  const manifest: Blob = { mediaType: manifestJson.mediaType, digest: sha256Digest(manifestBytes), bytes: manifestBytes };
  return { config, layers: [layer], manifest };
}

const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * writeOciLayout writes `image` as an OCI image layout in `dir` (created) with the tag as its
 * `org.opencontainers.image.ref.name`, keeping other tags already in the layout. Throws the fs or
 * JSON error when the directory cannot be written or its index.json is unreadable.
 */
export function writeOciLayout(dir: string, image: OciImage, tag: string): void {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  for (const blob of [image.config, ...image.layers, image.manifest]) writeFileSync(join(blobs, blob.digest.slice(7)), blob.bytes);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  // A layout holds many tags: keep the other tags already in index.json, replace this one.
  const indexFile = join(dir, "index.json");
  type Entry = { annotations?: Record<string, string> };
  const kept = existsSync(indexFile) ? ((JSON.parse(readFileSync(indexFile, "utf8")) as { manifests?: Entry[] }).manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag) : [];
  const entry = { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length, annotations: { [REF_NAME]: tag } };
  writeFileSync(indexFile, JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [...kept, entry] }));
}
