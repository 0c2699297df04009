// Container entrypoint of the project image: `node --import tsx manifests/image/serve.ts ui|access|storage`.
// The local run starts the services in one process on loopback; in Kubernetes each runs in its own pod
// and must listen on the pod's address, configured from the environment the Deployments set:
//   PORT (required), HOST (default 0.0.0.0), DATA_DIR (access, storage), STORAGE_URL, REALM,
//   ENFORCE (filter|app), SIGNING_KEYS (JSON [{kid,k}]), SIDECAR_SECRET (access), and optionally
//   ENFORCER_URL (access, filter mode: where the rate-limit filter answers GET /v2/_quota for /api/me;
//   defaults to REALM's origin, which a pod usually cannot reach) and REDIS_URL (access, app mode:
//   global limits, the pull buckets shared by every replica in that Redis).
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { createAccess } from "../../image-hub/access/app.ts";
import { RedisBuckets } from "../../image-hub/access/redis-buckets.ts";
import type { EnforceMode } from "../../image-hub/access/policy.ts";
import { loadCatalog } from "../../image-hub/catalog.ts";
import { tokenAuthConfig, type SigningKey } from "../../image-hub/filter-configs.ts";
import { connectRedis } from "../../image-hub/redis.ts";
import { createStorage } from "../../image-hub/storage/app.ts";
import { createUiApp } from "../../image-hub/ui-server.ts";

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new Error(`${name} must be set`);
  return v;
}

function port(env: Env): number {
  const p = Number(required(env, "PORT"));
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`PORT must be an integer 1-65535, not "${env.PORT}"`);
  return p;
}

function optionalUrl(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^https?:\/\/[^\s/]+/.test(v) || !URL.canParse(v)) throw new Error(`${name} must be an http(s) URL, not "${v}"`);
  return v.replace(/\/+$/, "");
}

function signingKeys(env: Env): SigningKey[] {
  let keys: unknown;
  try {
    keys = JSON.parse(required(env, "SIGNING_KEYS"));
  } catch (err) {
    throw new Error(`SIGNING_KEYS must be JSON [{"kid","k"}]: ${(err as Error).message}`);
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("SIGNING_KEYS must be a non-empty JSON array of {kid, k}");
  // tokenAuthConfig checks every kid and k and names the bad one.
  tokenAuthConfig({ realm: "http://127.0.0.1/", keys: keys as SigningKey[] });
  return keys as SigningKey[];
}

/** A started service: its server and how to release what it holds. */
export interface Served {
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts one service from environment variables and resolves once it listens. Rejects with an Error
 * naming the variable when one is missing or invalid, or when the port cannot be bound.
 */
export async function serve(role: string, env: Env): Promise<Served> {
  const listenPort = port(env);
  const host = env.HOST || "0.0.0.0";
  let app: Parameters<typeof createServer>[1];
  let release = () => {};
  if (role === "storage") {
    const storage = createStorage({ dataDir: required(env, "DATA_DIR") });
    app = storage.app;
    release = () => storage.close();
  } else if (role === "access") {
    const mode = required(env, "ENFORCE");
    if (mode !== "filter" && mode !== "app") throw new Error(`ENFORCE must be filter or app, not "${mode}"`);
    const catalog = loadCatalog();
    let buckets: RedisBuckets | undefined;
    let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
    if (env.REDIS_URL) {
      // In filter mode the sidecar's rate-limit service holds the global buckets, not the app.
      if (mode !== "app") throw new Error("REDIS_URL is used only with ENFORCE=app (filter mode keeps global limits in the rate-limit service)");
      try {
        redis = await connectRedis(env.REDIS_URL);
      } catch (err) {
        throw new Error(`REDIS_URL: ${(err as Error).message}`);
      }
      buckets = new RedisBuckets(redis, catalog.windowSeconds);
    }
    const access = createAccess({
      dataDir: required(env, "DATA_DIR"),
      storageUrl: required(env, "STORAGE_URL"),
      catalog,
      keys: signingKeys(env),
      mode: mode as EnforceMode,
      realm: required(env, "REALM"),
      sidecarSecret: required(env, "SIDECAR_SECRET"),
      buckets,
      enforcerUrl: optionalUrl(env, "ENFORCER_URL"),
    });
    app = access.app;
    release = () => {
      access.close();
      redis?.disconnect();
    };
  } else if (role === "ui") {
    app = createUiApp();
  } else {
    throw new Error(`role must be ui, access or storage, not "${role}"`);
  }
  const server = createServer(app);
  // Blob uploads stream for as long as they take; the default request timeout would cut them off.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, host, () => resolve());
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          release();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const role = process.argv[2] ?? "";
  serve(role, process.env).then(
    (s) => {
      console.log(JSON.stringify({ role, listening: s.server.address() }));
      const stop = () => void s.close().then(() => process.exit(0));
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    },
    (err: Error) => {
      console.error(`serve ${role}: ${err.message}`);
      process.exit(1);
    },
  );
}
