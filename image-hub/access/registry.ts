/**
 * The OCI Distribution v1.1 subset served at `/v2/*`, after {@link registryPolicy} has identified
 * the caller. Blob bytes stream straight through to and from the storage service.
 * @module
 */
import express, { Router, type Request, type Response } from "express";
import type { IncomingMessage } from "node:http";
import { HttpError } from "../http-error.ts";
import type { Plan } from "../catalog.ts";
import { checkDigest, isDigest } from "../digest.ts";
import { tooLarge, type RegistryLocals } from "./policy.ts";
import type { RouteKind } from "./routes-map.ts";
import { readJson, type StorageClient } from "./storage-client.ts";
import { allows } from "./tokens.ts";

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";

function locals(res: Response): RegistryLocals {
  return res.locals as RegistryLocals;
}

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function rangeHeader(size: number): string {
  // As the reference registry does: "0-0" for an empty upload, else the inclusive last byte.
  return `0-${Math.max(size - 1, 0)}`;
}

async function pipeResponse(from: IncomingMessage, res: Response, headers: string[]): Promise<void> {
  res.status(from.statusCode ?? 502);
  for (const h of headers) {
    const v = from.headers[h];
    if (v !== undefined) res.setHeader(h, v);
  }
  from.pipe(res);
  await new Promise<void>((resolve) => res.on("close", resolve));
  // A client that left mid-download must not leave the storage connection half read.
  if (!from.readableEnded) from.destroy();
}

/** registryRoutes builds the `/v2` router; call once per app. Errors are HttpErrors. */
export function registryRoutes(storage: StorageClient): Router {
  const router = Router();
  const manifestBody = express.raw({ type: () => true, limit: MAX_MANIFEST_BYTES });

  /** Creates the repository on first push; the policy already checked it is in the caller's namespace. */
  async function ensureRepository(res: Response): Promise<void> {
    const { identity, route, plan } = locals(res);
    try {
      await storage.json("POST", "/repositories", {}, { name: route.name, owner: identity.user, visibility: "public", maxPrivate: plan.privateRepositories });
    } catch (err) {
      if (!(err instanceof HttpError && err.code === "NAME_EXISTS")) throw err;
    }
  }

  router.use((_req, res, next) => {
    res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    next();
  });

  router.get("/", (_req, res) => {
    res.json({});
  });

  router.get("/_catalog", async (req, res) => {
    const n = req.query.n === undefined ? 1000 : Number(req.query.n);
    if (!Number.isSafeInteger(n) || n < 0 || n > 1000) throw new HttpError(400, "PAGINATION_NUMBER_INVALID", "n must be an integer 0-1000");
    const last = typeof req.query.last === "string" ? req.query.last : undefined;
    const list = await storage.json<{ repositories: { name: string }[] }>("GET", "/repositories", { viewer: locals(res).identity.user, last, limit: n + 1 });
    const names = list.repositories.map((r) => r.name);
    if (names.length > n && n > 0) res.setHeader("Link", `</v2/_catalog?n=${n}&last=${encodeURIComponent(names[n - 1])}>; rel="next"`);
    res.json({ repositories: names.slice(0, n) });
  });

  async function tags(req: Request, res: Response): Promise<void> {
    const { route } = locals(res);
    const n = req.query.n === undefined ? undefined : Number(req.query.n);
    const last = typeof req.query.last === "string" ? req.query.last : undefined;
    const body = await storage.json<{ name: string; tags: string[]; more: boolean }>("GET", "/tags", { repo: route.name, n, last });
    if (body.more && n !== undefined && body.tags.length > 0) res.setHeader("Link", `</v2/${route.name}/tags/list?n=${n}&last=${encodeURIComponent(body.tags[body.tags.length - 1])}>; rel="next"`);
    res.json({ name: body.name, tags: body.tags });
  }

  async function manifest(req: Request, res: Response): Promise<void> {
    const { route } = locals(res);
    const query = { repo: route.name, ref: route.ref };
    if (req.method === "PUT") {
      await ensureRepository(res);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const put = await storage.request("PUT", "/manifests", query, { body, headers: { "content-type": String(req.headers["content-type"] ?? "") } });
      const stored = (await readJson(put)) as { digest: string; subject?: string };
      res.setHeader("Location", `/v2/${route.name}/manifests/${stored.digest}`);
      res.setHeader("Docker-Content-Digest", stored.digest);
      // OCI v1.1: the registry tells the client it indexed the subject, so no fallback tag is needed.
      if (stored.subject !== undefined) res.setHeader("OCI-Subject", stored.subject);
      return void res.status(201).end();
    }
    if (req.method === "DELETE") {
      await storage.json("DELETE", "/manifests", query);
      return void res.status(202).end();
    }
    const counted = req.method === "GET" ? { countPull: 1, puller: locals(res).identity.user } : {};
    const from = await storage.request("GET", "/manifests", { ...query, ...counted });
    if (from.statusCode !== 200) throw await readJson(from).then(() => new HttpError(502, "UNKNOWN", "storage answered without a manifest"), (err: unknown) => err);
    res.setHeader("Docker-Content-Digest", String(from.headers["x-digest"]));
    res.setHeader("Content-Type", String(from.headers["content-type"]));
    res.setHeader("Content-Length", String(from.headers["content-length"]));
    res.status(200);
    if (req.method === "HEAD") return void (from.resume(), res.end());
    return pipeResponse(from, res, []);
  }

  async function blob(req: Request, res: Response): Promise<void> {
    const { route } = locals(res);
    checkDigest(route.ref);
    const path = `/blobs/${route.ref}`;
    if (req.method === "DELETE") {
      await storage.json("DELETE", path, { repo: route.name });
      return void res.status(202).end();
    }
    const headers: Record<string, string> = typeof req.headers.range === "string" ? { range: req.headers.range } : {};
    const from = await storage.request(req.method, path, { repo: route.name }, { headers });
    if (from.statusCode === 404) {
      // A HEAD answer has no body to carry the storage error.
      if (req.method === "HEAD") throw (from.resume(), new HttpError(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest: route.ref }));
      throw await readJson(from).then(() => new HttpError(502, "UNKNOWN", "storage answered 404 without an error"), (err: unknown) => err);
    }
    if (from.statusCode === 416) {
      from.resume();
      throw new HttpError(416, "RANGE_INVALID", "requested range not satisfiable", null, { "Content-Range": String(from.headers["content-range"] ?? "") });
    }
    res.setHeader("Docker-Content-Digest", String(route.ref));
    return pipeResponse(from, res, ["content-type", "content-length", "content-range", "accept-ranges"]);
  }

  /** POST /v2/<name>/blobs/uploads/: a mount, a monolithic upload (`?digest=`) or a new session. */
  async function startUpload(req: Request, res: Response): Promise<void> {
    const { route, plan, identity } = locals(res);
    await ensureRepository(res);
    const mount = req.query.mount;
    const from = req.query.from;
    // A mount names its source (`from`, which the token must let the caller pull) or, anonymously,
    // none: then storage looks in the repositories the caller may pull from (public and own).
    const source = typeof from === "string" ? (allows(identity.access, from, "pull") ? from : undefined) : "";
    if (typeof mount === "string" && isDigest(mount) && source !== undefined) {
      const mounted = await storage.json("POST", "/mounts", {}, { repo: route.name, from: source, viewer: identity.user, digest: mount }).then(
        () => true,
        (err) => {
          // An unknown source blob is not an error: the spec says to fall back to a new upload.
          if (err instanceof HttpError && err.status === 404) return false;
          throw err;
        },
      );
      if (mounted) {
        res.setHeader("Location", `/v2/${route.name}/blobs/${mount}`);
        res.setHeader("Docker-Content-Digest", mount);
        return void res.status(201).end();
      }
    }
    const digest = req.query.digest;
    if (digest !== undefined) checkDigest(digest, "digest query parameter");
    const upload = await storage.json<{ id: string }>("POST", "/uploads", {}, { repo: route.name });
    if (typeof digest === "string") {
      const put = await storage.request("PUT", `/uploads/${upload.id}`, { repo: route.name, digest, limit: plan.maxBlobBytes }, { body: req, headers: contentHeaders(req) });
      await readJson(put).catch(planLimit(plan));
      res.setHeader("Location", `/v2/${route.name}/blobs/${digest}`);
      res.setHeader("Docker-Content-Digest", digest);
      return void res.status(201).end();
    }
    req.resume();
    res.setHeader("Location", uploadLocation(route.name as string, upload.id));
    res.setHeader("Range", rangeHeader(0));
    res.setHeader("Docker-Upload-UUID", upload.id);
    res.status(202).end();
  }

  /** GET (status), PATCH (chunk), PUT (finish) and DELETE (cancel) of one upload session. */
  async function upload(req: Request, res: Response): Promise<void> {
    const { route, plan } = locals(res);
    const name = route.name as string;
    const id = route.ref as string;
    const path = `/uploads/${encodeURIComponent(id)}`;
    const answer = (status: number, size: number) => {
      res.setHeader("Location", uploadLocation(name, id));
      res.setHeader("Range", rangeHeader(size));
      res.setHeader("Docker-Upload-UUID", id);
      res.status(status).end();
    };
    if (req.method === "GET") return answer(204, (await storage.json<{ size: number }>("GET", path, { repo: name })).size);
    if (req.method === "DELETE") {
      await storage.json("DELETE", path, { repo: name });
      return void res.status(204).end();
    }
    // A chunk (PATCH, or the last one on PUT) whose Content-Range does not start where the upload
    // stands is 416 and changes nothing.
    const range = /^(\d+)-(\d+)$/.exec(String(req.headers["content-range"] ?? ""));
    const offset = range ? Number(range[1]) : undefined;
    const resumable = (err: unknown): never => {
      // The client needs to know where the upload stands to resume it.
      if (err instanceof HttpError && err.status === 416) res.setHeader("Location", uploadLocation(name, id));
      throw err;
    };
    if (req.method === "PATCH") {
      const from = await storage.request("PATCH", path, { repo: name, offset, limit: plan.maxBlobBytes }, { body: req, headers: contentHeaders(req) });
      const s = (await readJson(from).catch(planLimit(plan)).catch(resumable)) as { size: number };
      return answer(202, s.size);
    }
    const digest = checkDigest(req.query.digest, "digest query parameter");
    const from = await storage.request("PUT", path, { repo: name, digest, offset, limit: plan.maxBlobBytes }, { body: req, headers: contentHeaders(req) });
    await readJson(from).catch(planLimit(plan)).catch(resumable);
    res.setHeader("Location", `/v2/${name}/blobs/${digest}`);
    res.setHeader("Docker-Content-Digest", digest);
    res.status(201).end();
  }

  /** GET /v2/<name>/referrers/<digest>: an image index of the manifests whose subject is `digest`. */
  async function referrers(req: Request, res: Response): Promise<void> {
    const { route } = locals(res);
    const digest = checkDigest(route.ref);
    const artifactType = typeof req.query.artifactType === "string" ? req.query.artifactType : undefined;
    const found = await storage.json<{ filtersApplied: string[]; manifests: unknown[] }>("GET", "/referrers", { repo: route.name, digest, artifactType });
    if (found.filtersApplied.length > 0) res.setHeader("OCI-Filters-Applied", found.filtersApplied.join(","));
    res.setHeader("Content-Type", INDEX_MEDIA_TYPE);
    // A Buffer, so that Express adds no charset: clients compare the media type exactly.
    res.status(200).send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: found.manifests })));
  }

  // The policy already mapped the request to one row of the contract's table (methods included),
  // so each handler only sees the methods its row allows.
  const handlers: Partial<Record<RouteKind, (req: Request, res: Response) => Promise<void>>> = { tags, manifest, blob, uploads: startUpload, upload, referrers };
  // Only manifest bodies are buffered; blob bodies must reach the upload handlers unread.
  router.all("/:seg/*rest", (req, res, next) => (locals(res).route.kind === "manifest" ? manifestBody(req, res, next) : next()));
  router.all("/:seg/*rest", async (req, res, next) => {
    const handler = handlers[locals(res).route.kind];
    if (!handler) return next();
    await handler(req, res);
  });

  router.use((_req, _res, next) => next(new HttpError(404, "NOT_FOUND", "no such registry endpoint")));
  return router;
}

/** Reports the storage service's streaming size limit with the same 413 as the policy check. */
function planLimit(plan: Plan) {
  return (err: unknown): never => {
    if (err instanceof HttpError && err.status === 413) throw tooLarge(plan);
    throw err;
  };
}

function contentHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  if (req.headers["content-length"] !== undefined) out["content-length"] = String(req.headers["content-length"]);
  else if (req.headers["transfer-encoding"] !== undefined) out["transfer-encoding"] = "chunked";
  return out;
}
