/**
 * The content-addressed blob store on disk. Upload bytes go to `uploads/<id>`; a finished upload is
 * hashed, fsynced and renamed to `blobs/<algorithm>/<xx>/<hex>` only when its digest matches, so a blob
 * path never holds partial or wrong content. The database row is written after the rename, and
 * {@link BlobFiles.recover} removes files a crash left without a row.
 * @module
 */
import type { Hash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync } from "node:fs";
import { open, rename, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { ALGORITHMS, algorithmOf, CANONICAL_ALGORITHM, newHash } from "../digest.ts";

/**
 * The running canonical (sha256) hash of an upload whose bytes all arrived through this process, in
 * order; an upload finished with another algorithm is hashed from its file instead.
 */
interface LiveHash {
  hash: Hash;
  size: number;
}

/** BlobFiles owns the files under one data directory; create it once per storage process. */
export class BlobFiles {
  readonly blobsDir: string;
  readonly uploadsDir: string;
  private readonly live = new Map<string, LiveHash>();

  /** Creates the directories when missing; throws the fs error when it cannot. */
  constructor(dataDir: string) {
    this.blobsDir = join(dataDir, "blobs");
    this.uploadsDir = join(dataDir, "uploads");
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.uploadsDir, { recursive: true });
  }

  /** blobPath returns where a verified blob with this digest lives (whether or not it exists). */
  blobPath(digest: string): string {
    const algorithm = algorithmOf(digest);
    const hex = digest.slice(algorithm.length + 1);
    return join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  /** uploadPath returns the file holding the bytes of upload `id`. */
  uploadPath(id: string): string {
    return join(this.uploadsDir, id);
  }

  /** createUpload makes the empty upload file; rejects with the fs error. */
  async createUpload(id: string): Promise<void> {
    const fh = await open(this.uploadPath(id), "wx");
    await fh.close();
    this.live.set(id, { hash: newHash(CANONICAL_ALGORITHM), size: 0 });
  }

  /**
   * append streams `body` into upload `id` starting at byte `offset` (the committed size) and
   * resolves to the new size. `limit` caps the total size. On any failure (client gone, limit, disk)
   * the file is truncated back to `offset` and the promise rejects, so a cut-off chunk leaves the
   * upload exactly as it was.
   */
  async append(id: string, offset: number, body: Readable, limit: number): Promise<number> {
    const live = this.live.get(id);
    const hashing = live !== undefined && live.size === offset ? live : undefined;
    this.live.delete(id);
    let size = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(Object.assign(new Error(`upload exceeds ${limit} bytes`), { code: "SIZE_LIMIT" }));
        hashing?.hash.update(chunk);
        done(null, chunk);
      },
    });
    // The body is piped by hand rather than through pipeline(): on the size limit the request must
    // stay open so the 413 can still be sent, while a client abort must still fail the write.
    const onAbort = () => counter.destroy(Object.assign(new Error("client aborted the upload"), { code: "ABORTED" }));
    body.once("error", onAbort);
    body.once("close", () => body.readableEnded || onAbort());
    body.pipe(counter);
    try {
      await pipeline(counter, createWriteStream(this.uploadPath(id), { flags: "r+", start: offset }));
    } catch (err) {
      body.unpipe(counter);
      await truncate(this.uploadPath(id), offset).catch(() => undefined);
      throw err;
    } finally {
      body.off("error", onAbort);
    }
    if (hashing) this.live.set(id, { hash: hashing.hash, size });
    return size;
  }

  /**
   * finish verifies upload `id` (committed size `size`) against `digest`, fsyncs it and renames it
   * into the blob store. Resolves true when stored, false on a digest mismatch (the upload file is
   * then deleted). Rejects with the fs error otherwise.
   */
  async finish(id: string, size: number, digest: string): Promise<boolean> {
    const file = this.uploadPath(id);
    const live = this.live.get(id);
    this.live.delete(id);
    const algorithm = algorithmOf(digest);
    const actual = live && live.size === size && algorithm === CANONICAL_ALGORITHM ? live.hash.digest("hex") : await hashFile(file, algorithm);
    if (`${algorithm}:${actual}` !== digest) {
      await rm(file, { force: true });
      return false;
    }
    const fh = await open(file, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const target = this.blobPath(digest);
    mkdirSync(join(target, ".."), { recursive: true });
    // Identical content under an identical name: replacing an existing blob is harmless and atomic.
    await rename(file, target);
    await syncDir(join(target, ".."));
    return true;
  }

  /** dropUpload deletes the bytes of upload `id`; never rejects. */
  async dropUpload(id: string): Promise<void> {
    this.live.delete(id);
    await rm(this.uploadPath(id), { force: true });
  }

  /** uploadSize returns the on-disk size of upload `id`, or undefined when its file is gone. */
  async uploadSize(id: string): Promise<number | undefined> {
    return stat(this.uploadPath(id)).then((s) => s.size, () => undefined);
  }

  /** listBlobFiles returns the digest of every file in the blob store, for every registered algorithm. */
  listBlobFiles(): string[] {
    const out: string[] = [];
    for (const algorithm of Object.keys(ALGORITHMS)) {
      const dir = join(this.blobsDir, algorithm);
      if (!existsSync(dir)) continue;
      for (const prefix of readdirSync(dir)) {
        for (const hex of readdirSync(join(dir, prefix))) out.push(`${algorithm}:${hex}`);
      }
    }
    return out;
  }

  /** listUploadFiles returns the id of every upload file. */
  listUploadFiles(): string[] {
    return readdirSync(this.uploadsDir);
  }
}

/**
 * hashFile streams a file through `algorithm` (sha256 by default) and resolves to the hex digest;
 * rejects with the fs error, throws for an unregistered algorithm.
 */
export async function hashFile(file: string, algorithm: string = CANONICAL_ALGORITHM): Promise<string> {
  const hash = newHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
