// One measured stack of the "global limits" section: image-hub/start.ts startStack (N access + Envoy
// replicas, and Redis with global limits) in its own child process, so /proc/<pid> of this process is
// the replicas' app CPU and memory, its Envoy and redis-server children are metered apart, and the
// load generator does not share an event loop with the services. In filter mode with global limits
// the rate-limit service runs as its own process too (image-hub/ratelimit/server.ts, as its Kubernetes
// Deployment does), so its CPU is metered with Redis's and not as the app's. Started by
// bench/sections/global.ts with one JSON argument; prints one JSON line: {"ready": ...} or
// {"error": "..."} (then exits 1).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { EnforceMode } from "../image-hub/access/policy.ts";
import { freePort } from "../image-hub/ports.ts";
import { startRedis, type RedisServer } from "../image-hub/redis.ts";
import { startStack, type Limits, type StackOptions } from "../image-hub/start.ts";

/** The JSON argument. */
export interface StackProcessConfig {
  enforce: EnforceMode;
  limits: Limits;
  replicas: number;
  concurrency: number;
  /** Holds keys.json with the benchmark's signing key (written by the parent), accounts and storage. */
  dataDir: string;
}

/** The ready line. */
export interface StackProcessReady {
  ready: true;
  /** Each replica's Envoy listener, in replica order. */
  urls: string[];
  envoys: { pid: number; adminUrl: string }[];
  redisUrl: string | null;
}

/**
 * Starts image-hub/ratelimit/server.ts on free loopback ports against `redisUrl`; resolves with its
 * addresses once it prints its listening line, rejects with its output when it exits first or is not
 * up within 60 s.
 */
async function startRateLimitProcess(redisUrl: string, sidecarSecret: string): Promise<{ child: ChildProcess; options: NonNullable<StackOptions["ratelimit"]> }> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const entry = fileURLToPath(new URL("../image-hub/ratelimit/server.ts", import.meta.url));
  const env = { ...process.env, REDIS_URL: redisUrl, RATELIMIT_SIDECAR_SECRET: sidecarSecret, RATELIMIT_HOST: "127.0.0.1", RATELIMIT_GRPC_PORT: String(grpcPort), RATELIMIT_HTTP_PORT: String(httpPort) };
  const child = spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rate-limit service not up within 60 s: ${out.slice(-300)}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("rate-limit service:")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`rate-limit service exited with ${code}: ${out.trim().split("\n").slice(-2).join(" | ")}`));
    });
  });
  return { child, options: { grpcAddress: `127.0.0.1:${grpcPort}`, httpUrl: `http://127.0.0.1:${httpPort}`, sidecarSecret } };
}

const config = JSON.parse(process.argv[2] ?? "{}") as StackProcessConfig;
let redis: RedisServer | undefined;
let rls: ChildProcess | undefined;
const cleanup = async () => {
  rls?.kill("SIGKILL");
  await redis?.stop();
};
try {
  let extra: Pick<StackOptions, "redisUrl" | "ratelimit"> = {};
  if (config.enforce === "filter" && config.limits === "global") {
    redis = await startRedis();
    const started = await startRateLimitProcess(redis.url, randomBytes(24).toString("base64url"));
    rls = started.child;
    extra = { ratelimit: started.options };
  }
  const stack = await startStack({ enforce: config.enforce, limits: config.limits, replicas: config.replicas, concurrency: config.concurrency, dataDir: config.dataDir, quiet: true, seed: false, ...extra });
  const ready: StackProcessReady = {
    ready: true,
    urls: stack.replicas.map((r) => r.url),
    envoys: stack.replicas.map((r) => ({ pid: r.envoy.pid, adminUrl: r.envoy.adminUrl })),
    redisUrl: stack.redisUrl ?? redis?.url ?? null,
  };
  console.log(JSON.stringify(ready));
  const stop = () => void stack.stop().then(cleanup).then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} catch (err) {
  await cleanup();
  // Envoy's refusals name the field on later lines: keep them, on one line.
  console.log(JSON.stringify({ error: (err as Error).message.split("\n").map((l) => l.trim()).filter((l) => l && !/\]\[(info|debug)\]/.test(l)).join(" | ").slice(0, 600) }));
  process.exit(1);
}
