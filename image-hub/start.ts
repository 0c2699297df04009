/**
 * The local run (`npm start`, `npm start -- --enforce app`): storage, access, the UI server and
 * Envoy as ingress + sidecar on one port, seeded with demo users and images, data kept in ./.data.
 * `--replicas N` (N > 1) runs N access + Envoy pairs sharing storage and accounts behind one
 * round-robin Envoy front on `--port` (the replicas on the N ports after it); `--limits global` keeps
 * their pull buckets in one Redis (started here unless `--redis-url`): the access services use it in
 * app mode, the rate-limit service (image-hub/ratelimit, started here unless `--ratelimit-address`)
 * behind Envoy's ratelimit filter in filter mode.
 * `startStack` is the same start as a function, for UI end-to-end tests and benchmarks (free
 * ports, temp data folders).
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EnvoyStartError, startEnvoy, type ClusterSpec, type EnvoyInstance, type HttpFilterSpec, type ListenerSpec, type RouteSpec } from "proxy-wasm-host-emulator/envoy";
import type { EnforceMode } from "./access/policy.ts";
import { loadCatalog, type Catalog } from "./catalog.ts";
import { composedPolicyFilter } from "./filter-configs.ts";
import { globalLocalReply, globalRateLimitFilter, RATELIMIT_GRPC_CLUSTER, RATELIMIT_HTTP_CLUSTER } from "./global.ts";
import { checkRateLimitService, startRateLimitService } from "./ratelimit/start.ts";
import { startRedis } from "./redis.ts";
import { seedDemo, type DemoUser } from "./seed/index.ts";
import { closeServer, listen, loadKeys, startServices, type Services } from "./services.ts";
import { freePort } from "./ports.ts";
import { createUiApp } from "./ui-server.ts";

/** Options of startStack. */
export interface StackOptions {
  /** Where limits are enforced; defaults to "filter". */
  enforce?: EnforceMode;
  /** Envoy's listener port; 0 (the default) picks a free one. */
  port?: number;
  /** Data folder (created); defaults to ./.data. */
  dataDir?: string;
  /** No console output; defaults to false. */
  quiet?: boolean;
  /** Seed demo users and images; defaults to true. */
  seed?: boolean;
  /** Envoy worker threads; defaults to 2. */
  concurrency?: number;
  /** UI build folder; defaults to build/ui. */
  uiDir?: string;
  /** Where pull buckets live: "local" (each replica's memory, the default) or "global" (Redis). */
  limits?: Limits;
  /** Number of access + Envoy replicas; defaults to 1. */
  replicas?: number;
  /** With global limits, use this Redis instead of starting one. */
  redisUrl?: string;
  /**
   * Global limits in filter mode: use the rate-limit service at this gRPC host:port and this HTTP URL
   * (quota, /healthz) instead of starting one, sharing its sidecar secret (RATELIMIT_SIDECAR_SECRET).
   */
  ratelimit?: { grpcAddress: string; httpUrl: string; sidecarSecret: string };
  /** The plan catalog; defaults to image-hub/plans.json (filter configs and services derive from it). */
  catalog?: Catalog;
}

/** Where pull buckets live: per replica, or shared in Redis. */
export type Limits = "local" | "global";

/** One access service + its Envoy (ingress and sidecar). */
export interface Replica {
  /** http://127.0.0.1:<port>, this replica's Envoy listener. */
  url: string;
  envoy: EnvoyInstance;
  services: Services;
}

/** A running stack. */
export interface Stack {
  /** http://127.0.0.1:<port>: the round-robin front with several replicas, else the one replica's Envoy. */
  url: string;
  /** The front Envoy balancing over the replicas (only with more than one). */
  front?: EnvoyInstance;
  enforce: EnforceMode;
  limits: Limits;
  /** Every replica; the first one's are `envoy` and `services`. */
  replicas: Replica[];
  /** The Redis the replicas share, with global limits. */
  redisUrl?: string;
  /** The rate-limit service the Envoys ask, with global limits in filter mode. */
  ratelimit?: { grpcAddress: string; httpUrl: string };
  /** Absolute data folder; demo OCI layouts are in `<dataDir>/seed`. */
  dataDir: string;
  demoUsers: DemoUser[];
  envoy: EnvoyInstance;
  services: Services;
  /** Stops Envoy, the UI server and the services, in that order; never rejects, idempotent. */
  stop(): Promise<void>;
}


/**
 * policyFilters returns the policy filters for Envoy (also rendered into
 * manifests/envoy/bootstrap.yaml): token-auth → plan-enforcement → rate-limit composed into ONE
 * module (filters/policy), which answers exactly as the three modules do at one module's
 * per-request cost (filters/sdk/PERFORMANCE.md), so what runs locally is what the benchmark
 * measures. Throws when the wasm has not been built.
 */
export function policyFilters(realm: string, keys: Services["keys"], sidecarSecret?: string, options: { global?: boolean; catalog?: Catalog } = {}): HttpFilterSpec[] {
  // With the sidecar secret, token-auth resolves each user's current plan from the access cluster.
  const planLookup = sidecarSecret === undefined ? undefined : { cluster: "access", secret: sidecarSecret };
  const f = composedPolicyFilter({ realm, keys, planLookup }, { catalog: options.catalog, global: options.global });
  if (!existsSync(f.wasm)) throw new Error(`filter mode needs ${f.wasm}; run \`npm run build\` first`);
  const composed: HttpFilterSpec = { name: f.name, wasm: f.wasm, rootId: f.rootId, configuration: f.configuration, failurePolicy: f.failurePolicy };
  // Global limits: Envoy's ratelimit filter decides the pulls rate-limit marked.
  return options.global ? [composed, globalRateLimitFilter()] : [composed];
}

/** Ports, sidecar secret and filters of the stack's Envoy. */
export interface StackEnvoyParams {
  port: number;
  accessPort: number;
  uiPort: number;
  sidecarSecret: string;
  filters: HttpFilterSpec[];
  /** Global limits in filter mode: where the rate-limit service's gRPC and HTTP ports are. */
  ratelimit?: { grpc: { host: string; port: number }; http: { host: string; port: number } };
}

/**
 * stackEnvoyOptions is the stack's Envoy (ingress + access sidecar) as harness options; the manifests
 * generator renders the same function into manifests/envoy/bootstrap.yaml. Pure, never throws.
 */
export function stackEnvoyOptions(p: StackEnvoyParams): { listeners: ListenerSpec[]; clusters: ClusterSpec[] } {
  // Envoy's timing header would appear only on answers from the app (a filter's local reply has
  // none) and let a client tell the modes apart, so it is dropped in both.
  const toAccess = { cluster: "access", timeoutMs: 0, requestHeadersToAdd: { "x-hub-sidecar": p.sidecarSecret }, responseHeadersToRemove: ["x-envoy-upstream-service-time"] };
  const routes: RouteSpec[] = [{ path: "/v2", ...toAccess }, { prefix: "/v2/", ...toAccess }, { prefix: "/api/", ...toAccess }, { prefix: "/", cluster: "ui" }];
  const clusters: ClusterSpec[] = [
    { name: "access", port: p.accessPort, requestTimeoutMs: 0 },
    { name: "ui", port: p.uiPort },
  ];
  if (!p.ratelimit) return { listeners: [{ name: "ingress", port: p.port, filters: p.filters, routes }], clusters };
  // Global limits: the quota comes from the service that enforces, reading the same bucket; the
  // secret tells it the identity headers were set by token-auth.
  routes.unshift({ path: "/v2/_quota", cluster: RATELIMIT_HTTP_CLUSTER, requestHeadersToAdd: { "x-hub-sidecar": p.sidecarSecret }, responseHeadersToRemove: ["x-envoy-upstream-service-time"] });
  clusters.push({ name: RATELIMIT_GRPC_CLUSTER, ...p.ratelimit.grpc, http2: true }, { name: RATELIMIT_HTTP_CLUSTER, ...p.ratelimit.http });
  return { listeners: [{ name: "ingress", port: p.port, filters: p.filters, routes, localReplyConfig: globalLocalReply() }], clusters };
}

/**
 * startStack starts the whole stack and seeds it. Rejects (after stopping whatever had started)
 * when a port is taken, a wasm filter is missing in filter mode, Envoy refuses its config, Redis or
 * the rate-limit service cannot be reached (one line naming it), or the seeding fails. The caller
 * must call stop().
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new Error("replicas: must be an integer 1-16");
  // Several replicas get a front Envoy on the first port; the replicas take the next ones.
  const count = replicas > 1 ? replicas + 1 : 1;
  if (options.port) return startStackOn(options, Array.from({ length: count }, (_, i) => (options.port as number) + i));
  // Envoy's port must be known before start (it is part of the realm the filter and tokens name), so
  // a port probed free can be taken by another process before Envoy binds it: try a fresh one.
  for (let attempt = 1; ; attempt++) {
    try {
      const ports: number[] = [];
      while (ports.length < count) {
        const p = await freePort();
        if (!ports.includes(p)) ports.push(p);
      }
      return await startStackOn(options, ports);
    } catch (err) {
      const taken = err instanceof EnvoyStartError && err.output.some((line) => line.includes("Address already in use"));
      if (!taken || attempt === 3) throw err;
    }
  }
}

function hostPort(address: string, field: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${field}: expected host:port, got ${JSON.stringify(address)}`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

async function startStackOn(options: StackOptions, ports: number[]): Promise<Stack> {
  const enforce = options.enforce ?? "filter";
  if (enforce !== "filter" && enforce !== "app") throw new Error("enforce: must be filter or app");
  const limits = options.limits ?? "local";
  if (limits !== "local" && limits !== "global") throw new Error("limits: must be local or global");
  if (options.ratelimit && (limits !== "global" || enforce !== "filter")) throw new Error("ratelimit: a rate-limit service is used only with global limits in filter mode");
  const globalFilter = limits === "global" && enforce === "filter";
  const dataDir = resolve(options.dataDir ?? ".data");
  const log = options.quiet ? () => undefined : (msg: string) => console.log(msg);
  const catalog = options.catalog ?? loadCatalog();
  const keys = loadKeys(dataDir);
  const sidecarSecret = options.ratelimit?.sidecarSecret ?? randomBytes(24).toString("base64url");
  if (sidecarSecret.length < 16) throw new Error("ratelimit.sidecarSecret: must be at least 16 characters");
  const stops: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  })());
  try {
    let redisUrl = options.redisUrl;
    let ratelimit = options.ratelimit && { grpcAddress: options.ratelimit.grpcAddress, httpUrl: options.ratelimit.httpUrl };
    if (ratelimit) {
      hostPort(ratelimit.grpcAddress, "ratelimit.grpcAddress");
      await checkRateLimitService(ratelimit.grpcAddress, ratelimit.httpUrl);
    } else if (limits === "global" && redisUrl === undefined) {
      const redis = await startRedis();
      stops.push(redis.stop);
      redisUrl = redis.url;
    }
    if (globalFilter && !ratelimit) {
      const rls = await startRateLimitService({ redisUrl: redisUrl as string, sidecarSecret, catalog, logError: options.quiet ? () => undefined : undefined });
      stops.push(rls.stop);
      ratelimit = { grpcAddress: rls.grpcAddress, httpUrl: rls.httpUrl };
    }
    const rlsEndpoints = ratelimit && {
      grpc: hostPort(ratelimit.grpcAddress, "ratelimit.grpcAddress"),
      http: { host: new URL(ratelimit.httpUrl).hostname, port: Number(new URL(ratelimit.httpUrl).port) },
    };
    const uiServer = createHttpServer(createUiApp(options.uiDir));
    const uiUrl = await listen(uiServer);
    stops.push(() => closeServer(uiServer));
    const frontPort = ports.length > 1 ? ports[0] : undefined;
    const url = `http://127.0.0.1:${ports[0]}`;
    // Tokens are fetched where clients come in: the front when there is one.
    const realm = `${url}/api/token`;
    const replicas: Replica[] = [];
    for (const port of frontPort === undefined ? ports : ports.slice(1)) {
      const filters = enforce === "filter" ? policyFilters(realm, keys, sidecarSecret, { global: globalFilter, catalog }) : [];
      // The first replica starts storage; the others use it (and share access.db through dataDir).
      const storageUrl = replicas[0]?.services.storageUrl;
      const services = await startServices({ dataDir, mode: enforce, realm, sidecarSecret, keys, catalog, storageUrl, redisUrl: limits === "global" && enforce === "app" ? redisUrl : undefined, logError: options.quiet ? () => undefined : undefined });
      stops.push(services.stop);
      const envoy = await startEnvoy({
        ...stackEnvoyOptions({ port, accessPort: Number(new URL(services.accessUrl).port), uiPort: Number(new URL(uiUrl).port), sidecarSecret, filters, ratelimit: rlsEndpoints }),
        concurrency: options.concurrency ?? 2,
        logLevel: "warning",
      });
      stops.push(() => envoy.stop());
      replicas.push({ url: `http://127.0.0.1:${port}`, envoy, services });
    }
    let front: EnvoyInstance | undefined;
    if (frontPort !== undefined) {
      const [first, ...more] = replicas.map((r) => Number(new URL(r.url).port));
      const started = await startEnvoy({
        listeners: [{ name: "front", port: frontPort, routes: [{ prefix: "/", cluster: "replicas", responseHeadersToRemove: ["x-envoy-upstream-service-time"] }] }],
        clusters: [{ name: "replicas", port: first, moreEndpoints: more.map((p) => ({ port: p })), requestTimeoutMs: 0 }],
        concurrency: options.concurrency ?? 2,
        logLevel: "warning",
      });
      front = started;
      stops.push(() => started.stop());
    }
    const { envoy, services } = replicas[0];
    const demoUsers = options.seed === false ? [] : await seedDemo(url, catalog, join(dataDir, "seed"));
    log(`Image Hub is running at ${url}  (enforcement: ${enforce === "filter" ? "wasm filters in Envoy" : "in the access service"})`);
    if (front) log(`  round-robin front over ${replicas.length} replicas sharing storage and accounts: ${replicas.map((r) => r.url).join("  ")}`);
    log(`  pull limits: ${limits === "global" ? `global, in Redis${redisUrl ? ` at ${redisUrl}` : ""}${ratelimit ? `, decided by the rate-limit service at ${ratelimit.grpcAddress} (quota ${ratelimit.httpUrl})` : ""}` : "local to each replica"}`);
    log(`  registry: ${url}/v2/   accounts: ${url}/api/   UI: ${url}/   data: ${dataDir}`);
    if (demoUsers.length > 0) log(`  demo images as OCI layouts (for skopeo oci:<dir>:<tag>): ${join(dataDir, "seed")}`);
    for (const u of demoUsers) log(`  demo login (${u.plan}): ${u.username} / ${u.password}`);
    return { url, front, enforce, limits, replicas, redisUrl: limits === "global" ? redisUrl : undefined, ratelimit, dataDir, demoUsers, envoy, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      enforce: { type: "string", default: "filter" },
      port: { type: "string", default: "8080" },
      "data-dir": { type: "string", default: ".data" },
      concurrency: { type: "string", default: "2" },
      limits: { type: "string", default: "local" },
      replicas: { type: "string", default: "1" },
      "redis-url": { type: "string" },
      "ratelimit-address": { type: "string" },
      "ratelimit-http": { type: "string" },
    },
  });
  const enforce = values.enforce as EnforceMode;
  if (enforce !== "filter" && enforce !== "app") throw new Error("--enforce must be filter or app");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error("--port must be an integer 1-65535");
  const limits = values.limits as Limits;
  if (limits !== "local" && limits !== "global") throw new Error("--limits must be local or global");
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new Error("--replicas must be an integer 1-16");
  if (replicas > 1 && port + replicas > 65535) throw new Error("--port: the front and replica ports (--port + 0..N) must stay within 65535");
  const redisUrl = values["redis-url"];
  if (redisUrl !== undefined && limits !== "global") throw new Error("--redis-url needs --limits global");
  const grpcAddress = values["ratelimit-address"];
  const httpUrl = values["ratelimit-http"];
  let ratelimit: StackOptions["ratelimit"];
  if (grpcAddress !== undefined || httpUrl !== undefined) {
    if (grpcAddress === undefined || httpUrl === undefined) throw new Error("--ratelimit-address (gRPC host:port) and --ratelimit-http (http://host:port) go together");
    if (limits !== "global" || enforce !== "filter") throw new Error("--ratelimit-address needs --limits global --enforce filter");
    if (redisUrl !== undefined) throw new Error("--redis-url: with --ratelimit-address the rate-limit service's own Redis is used");
    ratelimit = { grpcAddress, httpUrl, sidecarSecret: process.env.RATELIMIT_SIDECAR_SECRET ?? "" };
    if (ratelimit.sidecarSecret.length < 16) throw new Error("RATELIMIT_SIDECAR_SECRET: set it to the rate-limit service's secret (at least 16 characters)");
  }
  const stack = await startStack({ enforce, port, dataDir: values["data-dir"], concurrency: Number(values.concurrency), limits, replicas, redisUrl, ratelimit });
  console.log("Press Ctrl-C to stop.");
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping Image Hub…");
    void stack.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    console.error(`npm start: ${err.message}`);
    process.exit(1);
  });
}
