/**
 * Start-up recovery and the consistency check of the storage service. A kill at any point leaves
 * at worst: a blob file renamed but not yet recorded, an upload file longer than its committed
 * size, or an upload row whose file was already renamed. recover() repairs all three.
 * @module
 */
import { statSync, truncateSync, rmSync } from "node:fs";
import type Database from "better-sqlite3";
import { algorithmOf } from "../digest.ts";
import { type BlobFiles, hashFile } from "./blobs.ts";
import { requiredBlobs } from "./manifests.ts";

/** What recover() changed, for the start-up log. */
export interface RecoveryReport {
  orphanBlobFiles: number;
  missingBlobRows: number;
  truncatedUploads: number;
  droppedUploads: number;
}

/**
 * recover repairs the store after a crash; call it before serving requests. Never leaves a blob row
 * without its file or a blob file without its row. Throws only on database or fs errors.
 */
export function recover(db: Database.Database, files: BlobFiles): RecoveryReport {
  const report: RecoveryReport = { orphanBlobFiles: 0, missingBlobRows: 0, truncatedUploads: 0, droppedUploads: 0 };
  const rows = new Set((db.prepare("SELECT digest FROM blobs").pluck().all() as string[]));
  for (const digest of files.listBlobFiles()) {
    if (rows.has(digest)) continue;
    rmSync(files.blobPath(digest), { force: true });
    report.orphanBlobFiles++;
  }
  const onDisk = new Set(files.listBlobFiles());
  const dropBlob = db.transaction((digest: string) => {
    db.prepare("DELETE FROM repo_blobs WHERE digest = ?").run(digest);
    db.prepare("DELETE FROM blobs WHERE digest = ?").run(digest);
  });
  for (const digest of rows) {
    if (onDisk.has(digest)) continue;
    dropBlob(digest);
    report.missingBlobRows++;
  }
  const uploads = db.prepare("SELECT id, size FROM uploads").all() as { id: string; size: number }[];
  const known = new Set<string>();
  for (const u of uploads) {
    let size: number | undefined;
    try {
      size = statSync(files.uploadPath(u.id)).size;
    } catch {
      size = undefined;
    }
    if (size === undefined || size < u.size) {
      db.prepare("DELETE FROM uploads WHERE id = ?").run(u.id);
      rmSync(files.uploadPath(u.id), { force: true });
      report.droppedUploads++;
      continue;
    }
    known.add(u.id);
    if (size > u.size) {
      // Bytes of a chunk that never completed: the client was never told they were accepted.
      truncateSync(files.uploadPath(u.id), u.size);
      report.truncatedUploads++;
    }
  }
  for (const id of files.listUploadFiles()) {
    if (known.has(id)) continue;
    rmSync(files.uploadPath(id), { force: true });
    report.droppedUploads++;
  }
  return report;
}

/**
 * checkConsistency returns a list of problems (empty when consistent): blob rows without files,
 * files without rows, files whose content does not hash to their name or whose size differs,
 * links to unknown blobs, and manifests referring to blobs the repository does not hold.
 * Reads every blob, so call it only in tests and diagnostics.
 */
export async function checkConsistency(db: Database.Database, files: BlobFiles): Promise<string[]> {
  const problems: string[] = [];
  const rows = db.prepare("SELECT digest, size FROM blobs").all() as { digest: string; size: number }[];
  const onDisk = new Set(files.listBlobFiles());
  for (const row of rows) {
    if (!onDisk.has(row.digest)) {
      problems.push(`blob row ${row.digest} has no file`);
      continue;
    }
    const path = files.blobPath(row.digest);
    if (statSync(path).size !== row.size) problems.push(`blob ${row.digest} size differs from its row`);
    if (`${algorithmOf(row.digest)}:${await hashFile(path, algorithmOf(row.digest))}` !== row.digest) problems.push(`blob ${row.digest} content does not match its digest`);
    onDisk.delete(row.digest);
  }
  for (const digest of onDisk) problems.push(`blob file ${digest} has no row`);
  const links = db.prepare("SELECT repo, digest FROM repo_blobs WHERE digest NOT IN (SELECT digest FROM blobs)").all() as { repo: string; digest: string }[];
  for (const l of links) problems.push(`repository ${l.repo} links unknown blob ${l.digest}`);
  const manifests = db.prepare("SELECT repo, digest, body FROM manifests").all() as { repo: string; digest: string; body: Buffer }[];
  const linked = db.prepare("SELECT 1 FROM repo_blobs WHERE repo = ? AND digest = ?");
  for (const m of manifests) {
    for (const d of requiredBlobs(m.body)) if (!linked.get(m.repo, d)) problems.push(`manifest ${m.repo}@${m.digest} refers to missing blob ${d}`);
  }
  for (const id of files.listUploadFiles()) {
    const row = db.prepare("SELECT size FROM uploads WHERE id = ?").get(id) as { size: number } | undefined;
    if (!row) problems.push(`upload file ${id} has no row`);
    else if (statSync(files.uploadPath(id)).size !== row.size) problems.push(`upload ${id} file size differs from its committed size`);
  }
  return problems;
}
