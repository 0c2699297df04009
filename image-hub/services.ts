/**
 * Starts the storage and access services in this process on free loopback ports. Used by
 * start.ts (the whole stack) and by the service tests.
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAccess } from "./access/app.ts";
import { RedisBuckets } from "./access/redis-buckets.ts";
import type { EnforceMode } from "./access/policy.ts";
import { generateKeys, type SigningKeys } from "./access/tokens.ts";
import { loadCatalog, type Catalog } from "./catalog.ts";
import { tokenAuthConfig, type SigningKey } from "./filter-configs.ts";
import { connectRedis } from "./redis.ts";
import { createStorage } from "./storage/app.ts";

/** Options of startServices. */
export interface ServicesOptions {
  dataDir: string;
  mode: EnforceMode;
  /** Token endpoint URL as clients see it; defaults to the access service's own /api/token. */
  realm?: string;
  /** Defaults to a fresh random secret. */
  sidecarSecret?: string;
  /** Defaults to the keys in `<dataDir>/keys.json`, created on first use. */
  keys?: SigningKeys;
  catalog?: Catalog;
  /** Use an already running storage service instead of starting one. */
  storageUrl?: string;
  /** Called with each 5xx error; defaults to console.error. */
  logError?: (err: unknown) => void;
  /**
   * Keep the pull buckets in this Redis (redis://host:port), shared with other replicas; app mode
   * only for now. Default: in memory, per process.
   */
  redisUrl?: string;
}

/** What startServices returns. */
export interface Services {
  storageUrl: string;
  accessUrl: string;
  sidecarSecret: string;
  keys: SigningKeys;
  catalog: Catalog;
  /**
   * Stops the access service and starts a fresh one (new process state, same data and port), as a
   * restart does; rejects when the port cannot be bound again.
   */
  restartAccess(): Promise<void>;
  /** Stops the access service only (storage keeps running); resolves when closed, never rejects. */
  stopAccess(): Promise<void>;
  /** Starts the access service again on its port after stopAccess; rejects when the port cannot be bound. */
  startAccess(): Promise<void>;
  /** Closes both servers and their databases; resolves when done, never rejects. */
  stop(): Promise<void>;
}

/**
 * loadKeys returns the signing keys kept in `<dataDir>/keys.json`, creating a random one on first
 * use so tokens survive restarts. They are per-installation keys, never shipped in the repository.
 * Throws an Error naming the field when the file exists but does not hold a valid key list.
 */
export function loadKeys(dataDir: string): SigningKeys {
  const file = join(dataDir, "keys.json");
  if (existsSync(file)) {
    const keys = (JSON.parse(readFileSync(file, "utf8")) as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${file}: keys must be a non-empty array of {kid, k}`);
    // tokenAuthConfig validates every kid and k and names the bad one.
    tokenAuthConfig({ realm: "http://127.0.0.1/", keys: keys as SigningKey[] });
    return keys as SigningKey[];
  }
  mkdirSync(dataDir, { recursive: true });
  const keys = generateKeys();
  writeFileSync(file, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  return keys;
}

/** listen binds a server to 127.0.0.1:`port` (default: a free one) and resolves to its URL; rejects on a listen error. */
export function listen(server: Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** closeServer closes a server and its open connections; never rejects. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * startServices starts storage (unless `storageUrl` is given) and access. Rejects when a data file
 * cannot be opened or a port cannot be bound; nothing is left running then.
 */
export async function startServices(options: ServicesOptions): Promise<Services> {
  const catalog = options.catalog ?? loadCatalog();
  const keys = options.keys ?? loadKeys(options.dataDir);
  const sidecarSecret = options.sidecarSecret ?? randomBytes(24).toString("base64url");
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    let storageUrl = options.storageUrl;
    if (!storageUrl) {
      const storage = createStorage({ dataDir: join(options.dataDir, "storage"), logError: options.logError });
      const server = createServer(storage.app);
      // Blob uploads can take long; the default per-request timeout would cut off large pushes.
      server.requestTimeout = 0;
      stops.push(async () => {
        await closeServer(server);
        storage.close();
      });
      storageUrl = await listen(server);
    }
    let buckets: RedisBuckets | undefined;
    if (options.redisUrl !== undefined) {
      if (options.mode !== "app") throw new Error("redisUrl: global limits are only implemented in app mode (--enforce app)");
      const client = await connectRedis(options.redisUrl);
      stops.push(async () => void client.disconnect());
      // One client for the life of the services: a restarted access service draws on the same buckets.
      buckets = new RedisBuckets(client, catalog.windowSeconds);
    }
    // Listen first so the default realm can name the access service's own port. Replicas given the
    // same dataDir share access.db (accounts), as they share storage.
    let current: { server: Server; close(): void } | undefined;
    const openAccess = async (port: number): Promise<string> => {
      const server = createServer();
      server.requestTimeout = 0;
      const url = await listen(server, port);
      const realm = options.realm ?? `${url}/api/token`;
      let access: ReturnType<typeof createAccess>;
      try {
        access = createAccess({ dataDir: join(options.dataDir, "access"), storageUrl: storageUrl as string, catalog, keys, mode: options.mode, realm, sidecarSecret, logError: options.logError, buckets });
      } catch (err) {
        await closeServer(server);
        throw err;
      }
      server.on("request", access.app);
      current = { server, close: () => access.close() };
      return url;
    };
    const closeAccess = async () => {
      const open = current;
      current = undefined;
      if (!open) return;
      await closeServer(open.server);
      open.close();
    };
    const accessUrl = await openAccess(0);
    stops.push(closeAccess);
    const startAccess = async () => {
      if (!current) await openAccess(Number(new URL(accessUrl).port));
    };
    const restartAccess = async () => {
      await closeAccess();
      await startAccess();
    };
    return { storageUrl, accessUrl, sidecarSecret, keys, catalog, restartAccess, stopAccess: closeAccess, startAccess, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
