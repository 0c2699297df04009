/**
 * The storage service's SQLite database: repositories, blobs and their links, manifests, tags and
 * open uploads, plus the referrers index (manifests that name a subject). WAL mode so readers never wait for the single writer.
 * @module
 */
import Database from "better-sqlite3";
import { parseManifest } from "./manifests.ts";

/** A row of the repositories table. */
export interface RepositoryRow {
  name: string;
  owner: string;
  visibility: "public" | "private";
  created_at: number;
  last_push_at: number | null;
  pull_count: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS repositories (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  created_at INTEGER NOT NULL,
  last_push_at INTEGER,
  pull_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS repositories_owner ON repositories (owner, visibility);
CREATE TABLE IF NOT EXISTS pull_hours (
  user TEXT NOT NULL,
  repo TEXT NOT NULL,
  hour INTEGER NOT NULL,
  pulls INTEGER NOT NULL,
  PRIMARY KEY (user, hour, repo)
);
CREATE TABLE IF NOT EXISTS blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS repo_blobs (
  repo TEXT NOT NULL REFERENCES repositories (name) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs (digest),
  PRIMARY KEY (repo, digest)
);
CREATE TABLE IF NOT EXISTS manifests (
  repo TEXT NOT NULL REFERENCES repositories (name) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo, digest)
);
CREATE TABLE IF NOT EXISTS tags (
  repo TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo, tag),
  FOREIGN KEY (repo, digest) REFERENCES manifests (repo, digest) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS referrers (
  repo TEXT NOT NULL,
  digest TEXT NOT NULL,
  subject TEXT NOT NULL,
  artifact_type TEXT,
  annotations TEXT,
  PRIMARY KEY (repo, digest),
  FOREIGN KEY (repo, digest) REFERENCES manifests (repo, digest) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS referrers_subject ON referrers (repo, subject);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  repo TEXT NOT NULL REFERENCES repositories (name) ON DELETE CASCADE,
  size INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
`;

/**
 * openDatabase opens (creating if needed) the storage database at `file` in WAL mode with foreign
 * keys on. Throws the better-sqlite3 error when the file cannot be opened or is not a database.
 */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  // FULL makes each commit durable on its own, so a row never points at a blob a crash could lose.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const hadReferrers = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'referrers'").get() !== undefined;
  db.exec(SCHEMA);
  if (!hadReferrers) indexReferrers(db);
  return db;
}

/**
 * indexReferrers fills the referrers table from the stored manifests; run once, when a database made
 * before the table existed is opened, so that subjects pushed earlier are listed too. A manifest that
 * no longer parses is skipped (it was accepted by an older version and is still served as is).
 */
function indexReferrers(db: Database.Database): void {
  const rows = db.prepare("SELECT repo, digest, media_type, body FROM manifests").all() as { repo: string; digest: string; media_type: string; body: Buffer }[];
  const insert = db.prepare("INSERT OR IGNORE INTO referrers (repo, digest, subject, artifact_type, annotations) VALUES (?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const row of rows) {
      let parsed: ReturnType<typeof parseManifest>;
      try {
        parsed = parseManifest(row.body, row.media_type);
      } catch {
        continue;
      }
      if (parsed.subject === undefined) continue;
      insert.run(row.repo, row.digest, parsed.subject, parsed.artifactType ?? null, parsed.annotations === undefined ? null : JSON.stringify(parsed.annotations));
    }
  })();
}
