/**
 * Storage routes for blobs and uploads. Upload state is a row (committed size) plus a file; a chunk
 * is committed only after all of its bytes are on disk, and a blob row is written only after its
 * verified file has been renamed into place.
 * @module
 */
import { randomUUID } from "node:crypto";
import { Router, type Request } from "express";
import type Database from "better-sqlite3";
import { HttpError } from "../http-error.ts";
import { checkDigest } from "../digest.ts";
import type { BlobFiles } from "./blobs.ts";
import { getRepository } from "./repositories.ts";

interface UploadRow {
  id: string;
  repo: string;
  size: number;
}

function repoOf(req: Request): string {
  const repo = req.query.repo ?? req.body?.repo;
  if (typeof repo !== "string" || repo === "") throw new HttpError(400, "BAD_REQUEST", "repo must be a non-empty string");
  return repo;
}

function digestOf(value: unknown): string {
  return checkDigest(value);
}

function limitOf(req: Request): number {
  const raw = req.query.limit;
  if (raw === undefined) return Number.MAX_SAFE_INTEGER;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, "BAD_REQUEST", "limit must be a non-negative integer");
  return n;
}

/** blobRoutes builds the router; call once per app. Route errors are HttpErrors. */
export function blobRoutes(db: Database.Database, files: BlobFiles): Router {
  const router = Router();
  const busy = new Set<string>();

  function upload(req: Request): UploadRow {
    const row = db.prepare("SELECT id, repo, size FROM uploads WHERE id = ?").get(String(req.params.id)) as UploadRow | undefined;
    if (!row || row.repo !== repoOf(req)) throw new HttpError(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
    return row;
  }

  /** Appends the request body to the upload; a failed chunk leaves the committed size unchanged. */
  async function appendBody(req: Request, row: UploadRow): Promise<number> {
    if (busy.has(row.id)) throw new HttpError(416, "BLOB_UPLOAD_INVALID", "another request is writing this upload");
    busy.add(row.id);
    try {
      const size = await files.append(row.id, row.size, req, limitOf(req)).catch((err: { code?: string }) => {
        if (err.code === "ABORTED") throw new HttpError(400, "BLOB_UPLOAD_INVALID", "the client aborted the upload; the chunk was rolled back");
        if (err.code !== "SIZE_LIMIT") throw err;
        // Discard the rest of the body and close afterwards, so the 413 reaches the caller.
        req.resume();
        req.res?.setHeader("Connection", "close");
        throw new HttpError(413, "SIZE_INVALID", `blob exceeds the limit of ${limitOf(req)} bytes`);
      });
      db.prepare("UPDATE uploads SET size = ? WHERE id = ?").run(size, row.id);
      return size;
    } finally {
      busy.delete(row.id);
    }
  }

  router.post("/uploads", async (req, res) => {
    const repo = getRepository(db, repoOf(req)).name;
    const id = randomUUID();
    db.prepare("INSERT INTO uploads (id, repo, size, created_at) VALUES (?, ?, 0, ?)").run(id, repo, Date.now());
    await files.createUpload(id);
    res.status(201).json({ id, repo, size: 0 });
  });

  router.get("/uploads/:id", (req, res) => {
    const row = upload(req);
    res.json({ id: row.id, repo: row.repo, size: row.size });
  });

  router.patch("/uploads/:id", async (req, res) => {
    const row = upload(req);
    if (req.query.offset !== undefined && Number(req.query.offset) !== row.size) {
      throw new HttpError(416, "BLOB_UPLOAD_INVALID", `chunk must start at offset ${row.size}`, { size: row.size });
    }
    const size = await appendBody(req, row);
    res.status(202).json({ id: row.id, repo: row.repo, size });
  });

  const commit = db.transaction((row: UploadRow, digest: string, size: number) => {
    db.prepare("INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)").run(digest, size, Date.now());
    db.prepare("INSERT OR IGNORE INTO repo_blobs (repo, digest) VALUES (?, ?)").run(row.repo, digest);
    db.prepare("DELETE FROM uploads WHERE id = ?").run(row.id);
  });
  router.put("/uploads/:id", async (req, res) => {
    const row = upload(req);
    const digest = digestOf(req.query.digest);
    // A last chunk that does not start where the upload stands changes nothing, as for PATCH.
    if (req.query.offset !== undefined && Number(req.query.offset) !== row.size) {
      throw new HttpError(416, "BLOB_UPLOAD_INVALID", `chunk must start at offset ${row.size}`, { size: row.size });
    }
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    const size = hasBody ? await appendBody(req, row) : row.size;
    if (!hasBody) req.resume();
    if (busy.has(row.id)) throw new HttpError(416, "BLOB_UPLOAD_INVALID", "another request is writing this upload");
    busy.add(row.id);
    try {
      if (!(await files.finish(row.id, size, digest))) {
        db.prepare("DELETE FROM uploads WHERE id = ?").run(row.id);
        throw new HttpError(400, "DIGEST_INVALID", "provided digest did not match uploaded content", { digest });
      }
      commit(row, digest, size);
    } finally {
      busy.delete(row.id);
    }
    res.status(201).json({ digest, size });
  });

  router.delete("/uploads/:id", async (req, res) => {
    const row = upload(req);
    db.prepare("DELETE FROM uploads WHERE id = ?").run(row.id);
    await files.dropUpload(row.id);
    res.status(204).end();
  });

  function linkedBlob(req: Request): { digest: string; size: number } {
    const digest = digestOf(req.params.digest);
    const repo = getRepository(db, repoOf(req)).name;
    const blob = db.prepare("SELECT b.digest, b.size FROM repo_blobs r JOIN blobs b ON b.digest = r.digest WHERE r.repo = ? AND r.digest = ?").get(repo, digest) as
      | { digest: string; size: number }
      | undefined;
    if (!blob) throw new HttpError(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
    return blob;
  }

  router.get("/blobs/:digest", (req, res, next) => {
    const blob = linkedBlob(req);
    res.setHeader("Content-Type", "application/octet-stream");
    // send (behind res.sendFile) implements Range, 206/416 and HEAD; no need to hand-roll them.
    res.sendFile(files.blobPath(blob.digest), { etag: false, lastModified: false, cacheControl: false, dotfiles: "allow" }, (err) => {
      if (err && !res.headersSent) next(err);
    });
  });

  router.delete("/blobs/:digest", (req, res) => {
    const blob = linkedBlob(req);
    db.prepare("DELETE FROM repo_blobs WHERE repo = ? AND digest = ?").run(repoOf(req), blob.digest);
    res.status(202).end();
  });

  router.post("/mounts", (req, res) => {
    const repo = getRepository(db, repoOf(req)).name;
    const digest = digestOf(req.body?.digest);
    const from = typeof req.body?.from === "string" ? req.body.from : "";
    const viewer = typeof req.body?.viewer === "string" ? req.body.viewer : "";
    // Without a source (an anonymous mount), any repository the viewer may pull from will do:
    // public ones and the viewer's own.
    const source = (
      from !== ""
        ? db.prepare("SELECT b.size FROM repo_blobs r JOIN blobs b ON b.digest = r.digest WHERE r.repo = ? AND r.digest = ?").get(from, digest)
        : db
            .prepare("SELECT b.size FROM repo_blobs r JOIN blobs b ON b.digest = r.digest JOIN repositories p ON p.name = r.repo WHERE r.digest = ? AND (p.visibility = 'public' OR p.owner = ?) LIMIT 1")
            .get(digest, viewer)
    ) as { size: number } | undefined;
    if (!source) throw new HttpError(404, "BLOB_UNKNOWN", "blob unknown to the source repository", { digest });
    db.prepare("INSERT OR IGNORE INTO repo_blobs (repo, digest) VALUES (?, ?)").run(repo, digest);
    res.status(201).json({ digest, size: source.size });
  });
  return router;
}
