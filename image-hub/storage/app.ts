/**
 * The Image Storage service (internal API only): blobs, uploads, manifests, tags and repositories.
 * `createStorage` builds the Express app; `server.ts` listens. Errors are JSON
 * `{error:{code,message,detail}}` with registry error codes, so the access service can pass them on.
 * @module
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import express, { type NextFunction, type Request, type Response } from "express";
import type Database from "better-sqlite3";
import { HttpError, toHttpError } from "../http-error.ts";
import { BlobFiles } from "./blobs.ts";
import { blobRoutes } from "./blob-routes.ts";
import { openDatabase } from "./db.ts";
import { manifestRoutes } from "./manifest-routes.ts";
import { recover, type RecoveryReport } from "./recover.ts";
import { repositoryRoutes } from "./repositories.ts";

/** What createStorage returns. */
export interface Storage {
  app: express.Express;
  db: Database.Database;
  files: BlobFiles;
  recovered: RecoveryReport;
  /** Closes the database; call after the HTTP server has closed. */
  close(): void;
}

/** Options of createStorage. */
export interface StorageOptions {
  /** Directory for storage.db, blobs/ and uploads/; created when missing. */
  dataDir: string;
  /** Called with each 5xx error; defaults to console.error. */
  logError?: (err: unknown) => void;
}

/**
 * createStorage opens the database and blob store under `dataDir`, repairs what a crash left
 * behind, and returns the app. Throws when dataDir is missing or the database cannot be opened.
 */
export function createStorage(options: StorageOptions): Storage {
  if (typeof options?.dataDir !== "string" || options.dataDir === "") throw new Error("storage: dataDir must be a non-empty path");
  mkdirSync(options.dataDir, { recursive: true });
  const db = openDatabase(join(options.dataDir, "storage.db"));
  const files = new BlobFiles(options.dataDir);
  const recovered = recover(db, files);
  const logError = options.logError ?? ((err: unknown) => console.error("storage:", err));

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.use(["/repositories", "/mounts"], express.json({ limit: "64kb" }));
  app.post("/uploads", express.json({ limit: "64kb" }));
  app.use(repositoryRoutes(db));
  app.use(blobRoutes(db, files));
  app.use(manifestRoutes(db));
  app.use((_req, _res, next) => next(new HttpError(404, "NOT_FOUND", "no such storage route")));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err);
    if (e.status >= 500) logError(err);
    if (res.headersSent) return void res.destroy();
    res.status(e.status).json({ error: { code: e.code, message: e.message, detail: e.detail } });
  });
  return { app, db, files, recovered, close: () => db.close() };
}
