// One measured stack of the "global limits" section: image-hub/start.ts startStack (N access + Envoy
// replicas, and Redis with global limits) in its own child process, so /proc/<pid> of this process is
// the replicas' app CPU and memory, its Envoy and redis-server children are metered apart, and the
// load generator does not share an event loop with the services. Started by bench/sections/global.ts
// with one JSON argument; prints one JSON line: {"ready": ...} or {"error": "..."} (then exits 1).
import { startStack, type Limits } from "../image-hub/start.ts";
import type { EnforceMode } from "../image-hub/access/policy.ts";

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

const config = JSON.parse(process.argv[2] ?? "{}") as StackProcessConfig;
try {
  const stack = await startStack({ enforce: config.enforce, limits: config.limits, replicas: config.replicas, concurrency: config.concurrency, dataDir: config.dataDir, quiet: true, seed: false });
  const ready: StackProcessReady = {
    ready: true,
    urls: stack.replicas.map((r) => r.url),
    envoys: stack.replicas.map((r) => ({ pid: r.envoy.pid, adminUrl: r.envoy.adminUrl })),
    redisUrl: stack.redisUrl ?? null,
  };
  console.log(JSON.stringify(ready));
  const stop = () => void stack.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} catch (err) {
  console.log(JSON.stringify({ error: (err as Error).message.split("\n")[0] }));
  process.exit(1);
}
