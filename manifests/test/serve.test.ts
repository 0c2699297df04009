// The container entrypoint with the environment the committed Deployments give it: each service starts
// from its manifest's env (Secret references resolved from the committed Secret), answers its readiness
// path, the access service trusts identity headers only with the secret its sidecar adds, and asks the
// enforcer at ENFORCER_URL for /api/me's quota.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "../../image-hub/catalog.ts";
import { readManifestDir } from "../src/files.ts";
import { serve } from "../image/serve.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const objects = readManifestDir(join(root, "manifests/istio")).map((l) => l.object as Record<string, any>);
const secret = objects.find((o) => o.kind === "Secret")!;
const children: ChildProcess[] = [];
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "serve-test-"));
});
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The container of a Deployment: its command and env with secretKeyRefs resolved. */
function containerOf(name: string): { command: string[]; args: string[]; env: Record<string, string> } {
  const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name);
  assert.ok(d, `Deployment ${name}`);
  const c = d.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const e of c.env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>) {
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      assert.equal(e.valueFrom!.secretKeyRef.name, secret.metadata.name);
      env[e.name] = secret.stringData[e.valueFrom!.secretKeyRef.key];
    }
  }
  return { command: c.command, args: c.args, env };
}

/** Starts a service the way its pod would, on loopback and a free port; resolves when it listens. */
async function start(name: string, overrides: Record<string, string>): Promise<string> {
  const c = containerOf(name);
  const port = await freePort();
  assert.equal(c.command[0], "node");
  const child = spawn(process.execPath, [...c.command.slice(1), ...c.args], { cwd: root, env: { ...process.env, ...c.env, ...overrides, HOST: "127.0.0.1", PORT: String(port) } });
  children.push(child);
  let out = "";
  child.stderr!.on("data", (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s: ${out}`)), 60_000);
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes('"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${out}`));
    });
  });
  return `http://127.0.0.1:${port}`;
}

test("ui, access and storage start from their manifests' env and answer their readiness paths", { timeout: 150_000 }, async () => {
  const storage = await start("storage", { DATA_DIR: join(dir, "storage") });
  const access = await start("access", { DATA_DIR: join(dir, "access"), STORAGE_URL: storage });
  const ui = await start("ui", {});
  const health = await fetch(`${storage}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { ok: true });
  const plans = await fetch(`${access}/api/plans`);
  assert.equal(plans.status, 200);
  assert.deepEqual(await plans.json(), loadCatalog());
  const page = await fetch(`${ui}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);

  const realm = containerOf("access").env.REALM;
  assert.equal(realm, "http://localhost:8080/api/token");
  const anonymous = await fetch(`${access}/v2/`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), `Bearer realm="${realm}",service="image-hub"`);
  assert.equal(((await anonymous.json()) as { errors: Array<{ code: string }> }).errors[0].code, "UNAUTHORIZED");

  // The access sidecar adds x-hub-sidecar after its filters; the value it adds must be the one the access pod gets.
  const ef = objects.find((o) => o.kind === "EnvoyFilter" && o.metadata.name === "access-sidecar-secret")!;
  const sidecarSecret = ef.spec.configPatches[0].patch.value.request_headers_to_add[0].header.value;
  assert.equal(sidecarSecret, secret.stringData.sidecarSecret);
  const identity = { "x-hub-user": "alice", "x-hub-plan": "personal", "x-hub-access": "repository:alice/app:pull,push" };
  const trusted = await fetch(`${access}/v2/`, { headers: { ...identity, "x-hub-sidecar": sidecarSecret } });
  assert.equal(trusted.status, 200);
  const forged = await fetch(`${access}/v2/`, { headers: { ...identity, "x-hub-sidecar": "guessed-secret-value" } });
  assert.equal(forged.status, 401);
});

test("access asks the enforcer at ENFORCER_URL for /api/me's quota", { timeout: 150_000 }, async () => {
  assert.equal(containerOf("access").env.ENFORCER_URL, "http://access.image-hub.svc.cluster.local:5000");
  // A stand-in enforcer that records what it is asked; the real one (the rate-limit filter in the
  // access sidecar) is exercised in sidecar-secret.test.ts.
  const asked: string[] = [];
  const quota = { plan: "personal", limit: 10, used: 3, remaining: 7, resetSeconds: 20, windowSeconds: 60, usedResetSeconds: 20 };
  const enforcer = createHttpServer((req, res) => {
    asked.push(`${req.method} ${req.url} ${String(req.headers.authorization).split(" ")[0]}`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(quota));
  });
  await new Promise<void>((resolve) => enforcer.listen(0, "127.0.0.1", resolve));
  try {
    const storage = await start("storage", { DATA_DIR: join(dir, "storage-quota") });
    const access = await start("access", { DATA_DIR: join(dir, "access-quota"), STORAGE_URL: storage, ENFORCER_URL: `http://127.0.0.1:${(enforcer.address() as { port: number }).port}/` });
    const signup = await fetch(`${access}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "dora", password: "correct-horse-1" }) });
    assert.equal(signup.status, 201);
    const me = await fetch(`${access}/api/me`, { headers: { authorization: `Basic ${Buffer.from("dora:correct-horse-1").toString("base64")}` } });
    assert.equal(me.status, 200);
    assert.deepEqual(((await me.json()) as { quota: unknown }).quota, quota);
    assert.deepEqual(asked, ["GET /v2/_quota Bearer"]);
  } finally {
    enforcer.close();
  }
});

test("a missing or bad variable is refused with its name", async () => {
  await assert.rejects(serve("access", { PORT: "1", ENFORCE: "filter" }), /DATA_DIR must be set/);
  await assert.rejects(serve("access", { PORT: "1", ENFORCE: "both" }), /ENFORCE must be filter or app, not "both"/);
  await assert.rejects(serve("storage", { PORT: "99999", DATA_DIR: dir }), /PORT must be an integer 1-65535, not "99999"/);
  await assert.rejects(
    serve("access", { PORT: "1", DATA_DIR: dir, STORAGE_URL: "http://127.0.0.1:1", REALM: "http://x/api/token", ENFORCE: "filter", SIGNING_KEYS: "[]", SIDECAR_SECRET: "s" }),
    /SIGNING_KEYS must be a non-empty JSON array/,
  );
  await assert.rejects(serve("proxy", { PORT: "1" }), /role must be ui, access or storage, not "proxy"/);
  const access = { PORT: "1", DATA_DIR: dir, STORAGE_URL: "http://127.0.0.1:1", REALM: "http://x/api/token", ENFORCE: "filter", SIGNING_KEYS: containerOf("access").env.SIGNING_KEYS, SIDECAR_SECRET: "s".repeat(16) };
  await assert.rejects(serve("access", { ...access, ENFORCER_URL: "access:5000" }), /ENFORCER_URL must be an http\(s\) URL, not "access:5000"/);
});
