// Starts the measured application (bench/app-process.ts: storage + access in one child process) and
// seeds it with one small public image through the registry API, as any OCI client would push it.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchKey } from "./identity.ts";
import { signToken } from "./identity.ts";

/** What the app process answered since it started. */
export interface AppCounts {
  requests: number;
  rejected429: number;
}

/** A running app process. */
export interface RunningApp {
  mode: "filter" | "app";
  /** Origin of the access service. */
  url: string;
  pid: number;
  /** Requests the access service answered so far, and how many of them were 429. Rejects when the app is gone. */
  counts(): Promise<AppCounts>;
  /** Creates (or re-plans) the accounts of these users, which the app enforces by current plan. Rejects on failure. */
  registerUsers(users: { name: string; plan: string }[]): Promise<void>;
  /** SIGTERM, then SIGKILL after 3 s; removes its data directory. Never rejects. */
  stop(): Promise<void>;
}

/** Files the app process needs; a missing one makes the scenarios "not measured". */
export const APP_SOURCES = ["image-hub/access/app.ts", "image-hub/storage/app.ts", "image-hub/catalog.ts"];

/**
 * Starts the app in `mode` with the run's key and sidecar secret. Rejects with the process output
 * when it does not report ready within 30 s or exits early.
 */
export async function startApp(root: string, mode: "filter" | "app", key: BenchKey, sidecarSecret: string): Promise<RunningApp> {
  const missing = APP_SOURCES.filter((f) => !existsSync(join(root, f)));
  if (missing.length) throw new Error(`the services are not there yet: ${missing.join(", ")} missing`);
  const dataDir = mkdtempSync(join(tmpdir(), `bench-app-${mode}-`));
  const config = { dataDir, mode, keys: [{ kid: key.kid, k: key.k }], sidecarSecret, realm: "http://127.0.0.1/api/token" };
  const { child, stop } = spawnBenchChild(root, "bench/app-process.ts", config, dataDir, 3000);
  try {
    const ports = await readyPorts(child);
    const counts = async () => (await (await fetch(`http://127.0.0.1:${ports.controlPort}/`)).json()) as AppCounts;
    const registerUsers = async (users: { name: string; plan: string }[]) => {
      const res = await fetch(`http://127.0.0.1:${ports.controlPort}/`, { method: "POST", body: JSON.stringify(users.map((u) => ({ name: u.name, plan: u.plan }))) });
      if (res.status !== 204) throw new Error(`registering bench users answered ${res.status}: ${await res.text()}`);
    };
    return { mode, url: `http://127.0.0.1:${ports.accessPort}`, pid: child.pid!, counts, registerUsers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function readyPorts(child: ChildProcess): Promise<{ accessPort: number; controlPort: number }> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`app did not start within 30 s:\n${out.slice(-2000)}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{") && l.includes('"ready"'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { accessPort: number; controlPort: number });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} during start:\n${out.slice(-2000)}`));
    });
  });
}

/**
 * Pushes a small OCI image (config + one layer + manifest) to `repository:reference` directly to
 * the app, authenticated as the repository's owner: with a token in app mode, with the sidecar's
 * identity headers in filter mode. Returns the manifest digest; rejects with the failing step.
 */
export async function seedImage(app: RunningApp, key: BenchKey, sidecarSecret: string, repository: string, reference: string): Promise<string> {
  const owner = repository.split("/")[0];
  await app.registerUsers([{ name: owner, plan: "enterprise" }]);
  const headers: Record<string, string> =
    app.mode === "app"
      ? { authorization: `Bearer ${await signToken(key, owner, "enterprise", repository, ["pull", "push"])}` }
      : { "x-hub-sidecar": sidecarSecret, "x-hub-user": owner, "x-hub-plan": "enterprise", "x-hub-access": `repository:${repository}:pull,push` };
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const layer = randomBytes(2048);
  const configDigest = await pushBlob(app.url, repository, config, headers);
  const layerDigest = await pushBlob(app.url, repository, layer, headers);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await fetch(`${app.url}/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: new Uint8Array(manifest),
  });
  if (put.status !== 201) throw new Error(`seed: manifest PUT answered ${put.status}: ${await put.text()}`);
  return `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
}

async function pushBlob(origin: string, repository: string, bytes: Buffer, headers: Record<string, string>): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const start = await fetch(`${origin}/v2/${repository}/blobs/uploads/`, { method: "POST", headers });
  const location = start.headers.get("location");
  if (start.status !== 202 || !location) throw new Error(`seed: upload POST answered ${start.status}: ${await start.text()}`);
  const url = new URL(location, origin);
  url.searchParams.set("digest", digest);
  const put = await fetch(url, { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body: new Uint8Array(bytes) });
  if (put.status !== 201) throw new Error(`seed: blob PUT answered ${put.status}: ${await put.text()}`);
  return digest;
}

/**
 * spawnBenchChild starts `script` (node + tsx, its JSON `config` as the one argument, cwd `root`) as a
 * child that never outlives the benchmark: it is killed when this process exits. `stop()` ends it
 * (SIGTERM, SIGKILL after `graceMs`) and removes `dataDir`; it never rejects.
 */
export function spawnBenchChild(root: string, script: string, config: unknown, dataDir: string, graceMs: number): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, script), JSON.stringify(config)], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { child, stop };
}
