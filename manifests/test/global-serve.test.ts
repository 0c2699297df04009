// The container entrypoint with the env of manifests/istio/global-app's access Deployment (REDIS_URL
// pointed at a real redis-server, never a mock): two access replicas in front of one storage admit a
// Personal user's pullsPerWindow manifest GETs in total, whichever replica answers; a Redis URL that
// cannot be reached stops the pod's start with one line naming it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findPlan, loadCatalog } from "../../image-hub/catalog.ts";
import { freePort } from "../../image-hub/ports.ts";
import { startRedis, type RedisServer } from "../../image-hub/redis.ts";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { buildImage } from "../../image-hub/seed/oci.ts";
import { readManifestDir } from "../src/files.ts";
import { serve, type Served } from "../image/serve.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const objects = readManifestDir(join(root, "manifests/istio/global-app")).map((l) => l.object as Record<string, any>);
const secret = objects.find((o) => o.kind === "Secret")!;
const LIMIT = findPlan(loadCatalog(), "personal")!.pullsPerWindow;

/** The access container's env from the manifest, Secret references resolved. */
function accessEnv(): Record<string, string> {
  const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "access")!;
  const out: Record<string, string> = {};
  for (const e of d.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { key: string } } }>) {
    out[e.name] = e.value ?? secret.stringData[e.valueFrom!.secretKeyRef.key];
  }
  return out;
}

let dir: string;
let redis: RedisServer;
const served: Served[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "global-serve-"));
  redis = await startRedis();
});
after(async () => {
  for (const s of served.reverse()) await s.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(role: string, env: Record<string, string>): Promise<string> {
  const s = await serve(role, { ...env, HOST: "127.0.0.1", PORT: String(await freePort()) });
  served.push(s);
  return `http://127.0.0.1:${(s.server.address() as { port: number }).port}`;
}

test("two access replicas from the global-app manifest share one bucket per user in Redis", { timeout: 120_000 }, async () => {
  const manifestEnv = accessEnv();
  assert.equal(manifestEnv.ENFORCE, "app");
  assert.match(manifestEnv.REDIS_URL, /^redis:\/\/redis:6379$/);
  const storage = await start("storage", { DATA_DIR: join(dir, "storage") });
  // The pods' REDIS_URL names the redis Service; here it is the test's redis-server.
  const env = { ...manifestEnv, REDIS_URL: redis.url, DATA_DIR: join(dir, "access"), STORAGE_URL: storage };
  const replicas = [await start("access", env), await start("access", env)];
  const signup = await fetch(`${replicas[0]}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "carol", password: "global-serve-pw", plan: "personal" }) });
  assert.equal(signup.status, 201, await signup.text());
  await new RegistryClient(replicas[0], "carol", "global-serve-pw").pushImage("carol/app", "latest", await buildImage({ "hello.txt": "carol" }));
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 4; i++) {
    const res = await new RegistryClient(replicas[i % 2], "carol", "global-serve-pw").request("GET", "/v2/carol/app/manifests/latest", "repository:carol/app:pull", { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [...Array(LIMIT).fill(200), 429, 429, 429, 429], "pullsPerWindow in total over both replicas, not per replica");
});

test("a Redis URL that cannot be reached, or REDIS_URL in filter mode, stops the start with the variable named", async () => {
  const env = { ...accessEnv(), DATA_DIR: join(dir, "bad"), STORAGE_URL: "http://127.0.0.1:1", PORT: String(await freePort()), HOST: "127.0.0.1" };
  await assert.rejects(serve("access", { ...env, REDIS_URL: "redis://127.0.0.1:1" }), /^Error: REDIS_URL: redis redis:\/\/127\.0\.0\.1:1 is unreachable/);
  await assert.rejects(serve("access", { ...env, REDIS_URL: redis.url, ENFORCE: "filter" }), /REDIS_URL is used only with ENFORCE=app/);
});
