/**
 * Storage routes for manifests, tags and referrers. A manifest is stored (and tagged, and indexed
 * under its subject) in one transaction, after checking that every blob and child manifest it
 * names is already in the repository; deleting it drops its referrers entry with it.
 * @module
 */
import express, { Router, type Request } from "express";
import type Database from "better-sqlite3";
import { algorithmOf, CANONICAL_ALGORITHM, checkDigest, digestOf, isDigest } from "../digest.ts";
import { HttpError } from "../http-error.ts";
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from "./manifests.ts";
import { getRepository } from "./repositories.ts";

/** Tag names as the OCI distribution spec defines them. */
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  body: Buffer;
}

function refOf(req: Request): string {
  const ref = req.query.ref;
  if (typeof ref === "string" && (isDigest(ref) || TAG_RE.test(ref))) return ref;
  // Anything with a colon is meant as a digest: say what is wrong with it.
  if (typeof ref === "string" && ref.includes(":")) checkDigest(ref, "reference");
  throw new HttpError(400, "MANIFEST_INVALID", "reference must be a tag or a digest");
}

function repoOf(db: Database.Database, req: Request): string {
  const repo = req.query.repo;
  if (typeof repo !== "string" || repo === "") throw new HttpError(400, "BAD_REQUEST", "repo must be a non-empty string");
  return getRepository(db, repo).name;
}

/** manifestRoutes builds the router; call once per app. Route errors are HttpErrors. */
export function manifestRoutes(db: Database.Database): Router {
  const router = Router();

  function find(repo: string, ref: string): ManifestRow {
    const row = (
      isDigest(ref)
        ? db.prepare("SELECT digest, media_type, size, body FROM manifests WHERE repo = ? AND digest = ?").get(repo, ref)
        : db.prepare("SELECT m.digest, m.media_type, m.size, m.body FROM tags t JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? AND t.tag = ?").get(repo, ref)
    ) as ManifestRow | undefined;
    if (!row) throw new HttpError(404, "MANIFEST_UNKNOWN", "manifest unknown to registry", { reference: ref });
    return row;
  }

  const store = db.transaction((repo: string, ref: string, digest: string, body: Buffer, parsed: ParsedManifest) => {
    const { mediaType, blobs, manifests: children } = parsed;
    const blobLinked = db.prepare("SELECT 1 FROM repo_blobs WHERE repo = ? AND digest = ?");
    const missing = blobs.filter((d) => !blobLinked.get(repo, d));
    const manifestKnown = db.prepare("SELECT 1 FROM manifests WHERE repo = ? AND digest = ?");
    missing.push(...children.filter((d) => !manifestKnown.get(repo, d)));
    if (missing.length > 0) throw new HttpError(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", { digests: missing });
    const now = Date.now();
    db.prepare("INSERT OR IGNORE INTO manifests (repo, digest, media_type, size, body, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(repo, digest, mediaType, body.length, body, now);
    if (parsed.subject !== undefined) {
      db.prepare("INSERT OR IGNORE INTO referrers (repo, digest, subject, artifact_type, annotations) VALUES (?, ?, ?, ?, ?)").run(
        repo,
        digest,
        parsed.subject,
        parsed.artifactType ?? null,
        parsed.annotations === undefined ? null : JSON.stringify(parsed.annotations),
      );
    }
    if (!isDigest(ref)) {
      db.prepare("INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at").run(repo, ref, digest, now);
    }
    db.prepare("UPDATE repositories SET last_push_at = ? WHERE name = ?").run(now, repo);
  });

  router.put("/manifests", express.raw({ type: () => true, limit: MAX_MANIFEST_BYTES }), (req, res) => {
    const repo = repoOf(db, req);
    const ref = refOf(req);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // A manifest pushed by digest is addressed by that digest's algorithm; one pushed by tag by sha256.
    const digest = digestOf(body, isDigest(ref) ? algorithmOf(ref) : CANONICAL_ALGORITHM);
    if (isDigest(ref) && ref !== digest) throw new HttpError(400, "DIGEST_INVALID", "manifest digest does not match the reference", { digest: ref });
    const parsed = parseManifest(body, req.headers["content-type"] ?? "");
    store(repo, ref, digest, body, parsed);
    res.status(201).json({ digest, mediaType: parsed.mediaType, size: body.length, subject: parsed.subject });
  });

  router.get("/manifests", (req, res) => {
    const repo = repoOf(db, req);
    const row = find(repo, refOf(req));
    if (req.method === "GET" && req.query.countPull === "1") {
      db.prepare("UPDATE repositories SET pull_count = pull_count + 1 WHERE name = ?").run(repo);
      // Served pulls per user, repository and hour: the Account page's usage history.
      if (typeof req.query.puller === "string" && req.query.puller !== "") {
        db.prepare("INSERT INTO pull_hours (user, repo, hour, pulls) VALUES (?, ?, ?, 1) ON CONFLICT (user, hour, repo) DO UPDATE SET pulls = pulls + 1").run(req.query.puller, repo, Math.floor(Date.now() / 3_600_000));
      }
    }
    res.setHeader("Content-Type", row.media_type);
    res.setHeader("X-Digest", row.digest);
    res.send(row.body);
  });

  const remove = db.transaction((repo: string, ref: string) => {
    if (isDigest(ref)) {
      find(repo, ref);
      db.prepare("DELETE FROM tags WHERE repo = ? AND digest = ?").run(repo, ref);
      db.prepare("DELETE FROM manifests WHERE repo = ? AND digest = ?").run(repo, ref);
    } else {
      find(repo, ref);
      db.prepare("DELETE FROM tags WHERE repo = ? AND tag = ?").run(repo, ref);
    }
  });
  router.delete("/manifests", (req, res) => {
    remove(repoOf(db, req), refOf(req));
    res.status(202).end();
  });

  router.get("/referrers", (req, res) => {
    const subject = checkDigest(req.query.digest, "digest");
    const repo = typeof req.query.repo === "string" ? req.query.repo : "";
    const artifactType = typeof req.query.artifactType === "string" && req.query.artifactType !== "" ? req.query.artifactType : undefined;
    const rows = db
      .prepare(
        "SELECT r.digest, r.artifact_type, r.annotations, m.media_type, m.size FROM referrers r JOIN manifests m ON m.repo = r.repo AND m.digest = r.digest " +
          "WHERE r.repo = ? AND r.subject = ? AND (? IS NULL OR r.artifact_type = ?) ORDER BY m.created_at, r.digest",
      )
      .all(repo, subject, artifactType ?? null, artifactType ?? null) as { digest: string; artifact_type: string | null; annotations: string | null; media_type: string; size: number }[];
    res.json({
      filtersApplied: artifactType === undefined ? [] : ["artifactType"],
      manifests: rows.map((r) => ({
        mediaType: r.media_type,
        digest: r.digest,
        size: r.size,
        ...(r.artifact_type === null ? {} : { artifactType: r.artifact_type }),
        ...(r.annotations === null ? {} : { annotations: JSON.parse(r.annotations) as Record<string, string> }),
      })),
    });
  });

  router.get("/tags", (req, res) => {
    const repo = repoOf(db, req);
    const n = req.query.n === undefined ? 10000 : Number(req.query.n);
    if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, "PAGINATION_NUMBER_INVALID", "n must be a non-negative integer");
    const last = typeof req.query.last === "string" ? req.query.last : "";
    const tags = db.prepare("SELECT tag FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?").pluck().all(repo, last, n + 1) as string[];
    res.json({ name: repo, tags: tags.slice(0, n), more: tags.length > n });
  });
  return router;
}
