/**
 * Storage routes for repositories: create (with the owner's private-repository limit checked in
 * the same transaction), change visibility, list with search, details, per-owner counts.
 * @module
 */
import { Router, type Request } from "express";
import type Database from "better-sqlite3";
import { HttpError } from "../http-error.ts";
import type { RepositoryRow } from "./db.ts";

/** A repository as the storage API returns it. */
export interface RepositoryInfo {
  name: string;
  owner: string;
  visibility: "public" | "private";
  createdAt: string;
  lastPushAt: string | null;
  pulls: number;
  size: number;
  tagCount: number;
}

function str(req: Request, field: string, from: "body" | "query" = "body"): string {
  const value = (from === "body" ? req.body?.[field] : req.query[field]) as unknown;
  if (typeof value !== "string" || value === "") throw new HttpError(400, "BAD_REQUEST", `${field} must be a non-empty string`);
  return value;
}

function visibilityOf(req: Request): "public" | "private" {
  const v = req.body?.visibility;
  if (v !== "public" && v !== "private") throw new HttpError(400, "BAD_REQUEST", "visibility must be public or private");
  return v;
}

function limitOf(req: Request): number {
  const v = req.body?.maxPrivate;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new HttpError(400, "BAD_REQUEST", "maxPrivate must be a non-negative integer");
  return v;
}

/** toInfo converts a repository row plus its aggregates; never throws. */
export function toInfo(db: Database.Database, row: RepositoryRow): RepositoryInfo {
  const size = db.prepare("SELECT COALESCE(SUM(b.size), 0) FROM repo_blobs r JOIN blobs b ON b.digest = r.digest WHERE r.repo = ?").pluck().get(row.name) as number;
  const tags = db.prepare("SELECT COUNT(*) FROM tags WHERE repo = ?").pluck().get(row.name) as number;
  return {
    name: row.name,
    owner: row.owner,
    visibility: row.visibility,
    createdAt: new Date(row.created_at).toISOString(),
    lastPushAt: row.last_push_at === null ? null : new Date(row.last_push_at).toISOString(),
    pulls: row.pull_count,
    size,
    tagCount: tags,
  };
}

/**
 * imageSize returns what pulling a tag downloads: the manifest plus the sizes its descriptors
 * declare (config and layers, or the child manifests of an index). Never throws; a manifest
 * that cannot be read counts as its own bytes only.
 */
export function imageSize(body: Buffer): number {
  try {
    const doc = JSON.parse(body.toString("utf8")) as { config?: { size?: unknown }; layers?: { size?: unknown }[]; manifests?: { size?: unknown }[] };
    const parts = [doc.config, ...(doc.layers ?? []), ...(doc.manifests ?? [])];
    return parts.reduce((sum, d) => sum + (typeof d?.size === "number" ? d.size : 0), body.length);
  } catch {
    return body.length;
  }
}

/** getRepository returns the row, or throws HttpError 404 NAME_UNKNOWN. */
export function getRepository(db: Database.Database, name: string): RepositoryRow {
  const row = db.prepare("SELECT * FROM repositories WHERE name = ?").get(name) as RepositoryRow | undefined;
  if (!row) throw new HttpError(404, "NAME_UNKNOWN", `repository ${name} is not known to the registry`);
  return row;
}

function privateLimitError(owner: string, limit: number): HttpError {
  return new HttpError(403, "DENIED", `plan allows ${limit} private repositories and ${owner} already has ${limit}`, { limit });
}

/** repositoryRoutes builds the router; call once per app. Route errors are HttpErrors. */
export function repositoryRoutes(db: Database.Database): Router {
  const router = Router();
  const countPrivate = db.prepare("SELECT COUNT(*) FROM repositories WHERE owner = ? AND visibility = 'private'").pluck();

  const create = db.transaction((name: string, owner: string, visibility: string, maxPrivate: number) => {
    if (db.prepare("SELECT 1 FROM repositories WHERE name = ?").get(name)) throw new HttpError(409, "NAME_EXISTS", `repository ${name} already exists`);
    if (visibility === "private" && (countPrivate.get(owner) as number) >= maxPrivate) throw privateLimitError(owner, maxPrivate);
    db.prepare("INSERT INTO repositories (name, owner, visibility, created_at) VALUES (?, ?, ?, ?)").run(name, owner, visibility, Date.now());
  });
  router.post("/repositories", (req, res) => {
    const name = str(req, "name");
    create(name, str(req, "owner"), visibilityOf(req), limitOf(req));
    res.status(201).json(toInfo(db, getRepository(db, name)));
  });

  const setVisibility = db.transaction((name: string, visibility: string, maxPrivate: number) => {
    const row = getRepository(db, name);
    if (row.visibility === visibility) return;
    if (visibility === "private" && (countPrivate.get(row.owner) as number) >= maxPrivate) throw privateLimitError(row.owner, maxPrivate);
    db.prepare("UPDATE repositories SET visibility = ? WHERE name = ?").run(visibility, name);
  });
  router.patch("/repositories", (req, res) => {
    const name = str(req, "name");
    setVisibility(name, visibilityOf(req), limitOf(req));
    res.json(toInfo(db, getRepository(db, name)));
  });

  router.get("/repositories", (req, res) => {
    const viewer = typeof req.query.viewer === "string" ? req.query.viewer : "";
    const q = typeof req.query.q === "string" ? req.query.q : "";
    const owner = typeof req.query.owner === "string" ? req.query.owner : "";
    const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), 1000);
    const offset = Math.max(Number(req.query.offset ?? 0) || 0, 0);
    const last = typeof req.query.last === "string" ? req.query.last : "";
    const where = "(visibility = 'public' OR owner = @viewer) AND instr(name, @q) > 0 AND (@owner = '' OR owner = @owner) AND name > @last";
    const params = { viewer, q: q.toLowerCase(), owner, last };
    const total = db.prepare(`SELECT COUNT(*) FROM repositories WHERE ${where}`).pluck().get(params) as number;
    const rows = db.prepare(`SELECT * FROM repositories WHERE ${where} ORDER BY name LIMIT @limit OFFSET @offset`).all({ ...params, limit, offset }) as RepositoryRow[];
    res.json({ total, repositories: rows.map((r) => toInfo(db, r)) });
  });

  router.get("/repository", (req, res) => {
    const row = getRepository(db, str(req, "name", "query"));
    const tags = db.prepare("SELECT t.tag, t.digest, t.updated_at, m.body, m.media_type FROM tags t JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? ORDER BY t.tag").all(row.name) as {
      tag: string;
      digest: string;
      updated_at: number;
      body: Buffer;
      media_type: string;
    }[];
    res.json({
      ...toInfo(db, row),
      tags: tags.map((t) => ({ name: t.tag, digest: t.digest, mediaType: t.media_type, size: imageSize(t.body), pushedAt: new Date(t.updated_at).toISOString() })),
    });
  });

  router.get("/usage", (req, res) => {
    const user = str(req, "user", "query");
    const since = Math.floor(Date.now() / 3_600_000) - 23;
    const rows = db.prepare("SELECT repo, hour, pulls FROM pull_hours WHERE user = ? AND hour >= ? ORDER BY repo, hour").all(user, since);
    res.json({ fromHour: since, hours: 24, rows });
  });

  router.get("/owners/stats", (req, res) => {
    const owner = str(req, "owner", "query");
    const repositories = db.prepare("SELECT COUNT(*) FROM repositories WHERE owner = ?").pluck().get(owner) as number;
    res.json({ owner, repositories, privateRepositories: countPrivate.get(owner) as number });
  });
  return router;
}
