/**
 * The Image Access service: the public registry API at `/v2/*` and the accounts API at `/api/*`.
 * `createAccess` builds the Express app; `server.ts` listens. One error middleware answers in the
 * registry JSON error format on `/v2/*` (and `/api/token`) and as `{error:{code,message}}` elsewhere.
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Catalog, Plan } from "../catalog.ts";
import { HttpError, toHttpError } from "../http-error.ts";
import { accountRoutes, REGISTRY_FORMAT } from "./accounts.ts";
import { BucketsUnavailable, TokenBuckets, type PullBuckets } from "./bucket.ts";
import { quotaOf, registryPolicy, type EnforceMode, type Quota } from "./policy.ts";
import { registryRoutes } from "./registry.ts";
import { StorageClient } from "./storage-client.ts";
import { signRegistryToken, type SigningKeys } from "./tokens.ts";
import { Users } from "./users.ts";

/** Options of createAccess; every field but `enforcerUrl`, `logError` and `buckets` is required. */
export interface AccessOptions {
  /** Directory for access.db (accounts); created when missing. */
  dataDir: string;
  /** Base URL of the storage service, e.g. http://127.0.0.1:4001. */
  storageUrl: string;
  catalog: Catalog;
  keys: SigningKeys;
  mode: EnforceMode;
  /** Token endpoint URL clients see, for the `WWW-Authenticate` realm. */
  realm: string;
  /** Secret the sidecar sends in `x-hub-sidecar`; required in filter mode. */
  sidecarSecret: string;
  /**
   * Filter mode: base URL of the Envoy whose rate-limit filter answers `GET /v2/_quota`; defaults to
   * the realm's origin (the ingress the clients use).
   */
  enforcerUrl?: string;
  /** Called with each 5xx error; defaults to console.error. */
  logError?: (err: unknown) => void;
  /** The pull buckets (e.g. RedisBuckets, shared by replicas); defaults to in-memory TokenBuckets. */
  buckets?: PullBuckets;
}

/** What createAccess returns. */
export interface Access {
  app: express.Express;
  /** Closes the accounts database and storage connections; call after the server has closed. */
  close(): void;
}

/**
 * createAccess validates the options and builds the app. Throws an Error naming the field when an
 * option is missing or invalid, or the better-sqlite3 error when access.db cannot be opened.
 */
export function createAccess(options: AccessOptions): Access {
  if (options.mode !== "filter" && options.mode !== "app") throw new Error("access: mode must be filter or app");
  if (typeof options.dataDir !== "string" || options.dataDir === "") throw new Error("access: dataDir must be a non-empty path");
  if (typeof options.realm !== "string" || !/^https?:\/\//.test(options.realm)) throw new Error("access: realm must be an http(s) URL");
  if (options.mode === "filter" && (typeof options.sidecarSecret !== "string" || options.sidecarSecret.length < 16)) {
    throw new Error("access: sidecarSecret must be at least 16 characters in filter mode");
  }
  if (!Array.isArray(options.keys) || options.keys.length === 0) throw new Error("access: keys must hold at least one signing key");
  mkdirSync(options.dataDir, { recursive: true });
  const users = new Users(join(options.dataDir, "access.db"));
  const storage = new StorageClient(options.storageUrl);
  const buckets = options.buckets ?? new TokenBuckets(options.catalog.windowSeconds);
  const logError = options.logError ?? ((err: unknown) => console.error("access:", err));
  const enforcerUrl = options.enforcerUrl ?? new URL(options.realm).origin;
  // The quota always comes from the component that enforces it: the app's own bucket in app mode
  // (null while a shared store cannot answer), the rate-limit filter in Envoy (asked with a
  // scope-less token for the user) in filter mode.
  const quota =
    options.mode === "app"
      ? async (user: string, plan: Plan): Promise<Quota | null> => {
          try {
            return quotaOf(plan, await buckets.peek(user, plan.pullsPerWindow));
          } catch (err) {
            if (err instanceof BucketsUnavailable) return null;
            throw err;
          }
        }
      : async (user: string, plan: Plan): Promise<Quota | null> => {
          const { token } = await signRegistryToken(options.keys, { user, plan: plan.id, access: [] });
          try {
            const res = await fetch(`${enforcerUrl}/v2/_quota`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
            return res.status === 200 ? ((await res.json()) as Quota) : null;
          } catch {
            return null;
          }
        };

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // Keep the raw path intact for the registry: names are matched undecoded, as the filters do.
  app.use("/v2", registryPolicy({ mode: options.mode, catalog: options.catalog, keys: options.keys, buckets, realm: options.realm, sidecarSecret: options.sidecarSecret, currentPlan: (user) => users.get(user)?.plan }));
  app.use("/v2", registryRoutes(storage));
  if (options.mode === "filter") {
    // token-auth's plan lookup (filters/token-auth/README.md "Live plans"): the user's plan now, as
    // plain text so the filter needs no JSON parser. Only the sidecar, which knows the secret, may ask;
    // the ingress does not route this path.
    app.get("/internal/plan", (req, res) => {
      if (req.headers["x-hub-sidecar"] !== options.sidecarSecret) throw new HttpError(403, "DENIED", "sidecar only");
      const user = users.get(String(req.headers["x-hub-user"] ?? ""));
      if (!user) throw new HttpError(404, "NOT_FOUND", "no such user");
      res.status(200).setHeader("Content-Type", "text/plain").setHeader("Cache-Control", "no-store").send(user.plan);
    });
  }
  app.use("/api", express.json({ limit: "64kb" }));
  app.use("/api", accountRoutes({ catalog: options.catalog, users, keys: options.keys, storage, quota, mode: options.mode }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err);
    if (e.status >= 500) logError(err);
    if (res.headersSent) return void res.destroy();
    // A request body the handler never read would otherwise be left on the keep-alive socket.
    if (!req.complete) res.setHeader("Connection", "close");
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    const registry = req.originalUrl.startsWith("/v2") || (err as Record<symbol, unknown>)?.[REGISTRY_FORMAT] === true;
    const body = registry ? { errors: [{ code: e.code, message: e.message, detail: e.detail ?? null }] } : { error: { code: e.code, message: e.message } };
    res.status(e.status).setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify(body)));
  });
  app.use((_req, res) => {
    res.status(404).setHeader("Content-Type", "application/json").send(Buffer.from(JSON.stringify({ error: { code: "NOT_FOUND", message: "not found" } })));
  });
  return {
    app,
    close() {
      storage.close();
      users.close();
    },
  };
}
