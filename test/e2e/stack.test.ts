// The whole local stack (Envoy ingress + sidecar, access, storage, UI server) in both enforcement
// modes: a stock client the install brings (oras, the ORAS Python SDK in .venv-envoy) pushes and
// pulls a multi-layer image through the bearer flow and meets the 429 at the plan limit; so does the
// unmodified ORAS Go CLI when `go` can build it; skopeo does its round trip too when it is on PATH; the Personal plan's 11th pull; and the same client
// scenarios answered identically by the wasm filters and by the app.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual, promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { EnforceMode } from "../../image-hub/access/policy.ts";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { buildImage, writeOciLayout, type OciImage } from "../../image-hub/seed/oci.ts";
import { startStack, type Stack } from "../../image-hub/start.ts";
import { parseQuotaFields } from "../../image-hub/ratelimit-fields.ts";
import { onPath } from "../tools.ts";
import { orasClient, runOras } from "./oras.ts";
import { orasGoClient, runOrasGo, showTrace } from "./oras-go.ts";

const run = promisify(execFile);
const SKOPEO = onPath("skopeo");
const ORAS = await orasClient();
const ORAS_GO = await orasGoClient();
const orasGoSkip = ORAS_GO.skipped ? `skipped: ${ORAS_GO.skipped}` : false;
console.log(`e2e: registry clients: ${ORAS.label}, ${ORAS_GO.label}${orasGoSkip ? ` (${orasGoSkip})` : ""}${SKOPEO ? `, skopeo (${SKOPEO})` : " (skopeo not on PATH: its round trip is skipped)"}`);
const PASSWORD = "e2e-password";
const filtersBuilt = ["token-auth", "plan-enforcement", "rate-limit"].every((n) => existsSync(new URL(`../../build/filters/${n}.wasm`, import.meta.url)));

/** One observed answer, with what differs between two runs (URL, timing) normalised away. */
interface Observed {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Every response header is compared except those that differ between any two requests (date;
 * Retry-After, checked through the 429 body's retryAfterSeconds; RateLimit's t is normalised by
 * `timeless`) and the hop-by-hop `connection`, which Envoy sets to
 * `close` after some of its own local replies (a transport detail, not part of the answer).
 */
const IGNORED = new Set(["date", "retry-after", "connection"]);

async function signUp(url: string, username: string, plan: string): Promise<RegistryClient> {
  const res = await fetch(`${url}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: PASSWORD, plan }) });
  assert.equal(res.status, 201, await res.clone().text());
  return new RegistryClient(url, username, PASSWORD);
}

/** Sends a request with node:http (no path normalisation, any header); resolves to the observation. */
function observe(stack: Stack, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const u = new URL(stack.url);
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        const picked: Record<string, string> = {};
        for (const [h, v] of Object.entries(res.headers)) if (!IGNORED.has(h) && v !== undefined) picked[h] = String(v).replaceAll(stack.url, "<url>");
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Non-JSON bodies are compared as text.
        }
        resolve({ status: res.statusCode ?? 0, headers: picked, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The client scenarios run against each mode; every answer is recorded for the comparison. */
async function scenarios(stack: Stack, image: OciImage): Promise<Record<string, Observed>> {
  const pat = await signUp(stack.url, "pat", "personal");
  await pat.pushImage("pat/app", "v1", image);
  const pull = await pat.token("repository:pat/app:pull");
  const push = await pat.token("repository:pat/app:pull,push");
  const del = await pat.token("repository:pat/app:delete");
  const out: Record<string, Observed> = {};
  out.baseAnonymous = await observe(stack, "GET", "/v2/");
  out.manifestAnonymous = await observe(stack, "GET", "/v2/pat/app/manifests/v1");
  out.uploadAnonymous = await observe(stack, "POST", "/v2/pat/app/blobs/uploads/");
  out.garbageToken = await observe(stack, "GET", "/v2/pat/app/manifests/v1", { authorization: "Bearer not.a.jwt" });
  out.wrongScheme = await observe(stack, "GET", "/v2/pat/app/tags/list", { authorization: `Basic ${Buffer.from(`pat:${PASSWORD}`).toString("base64")}` });
  out.forgedIdentity = await observe(stack, "GET", "/v2/pat/app/tags/list", { "x-hub-user": "pat", "x-hub-plan": "enterprise", "x-hub-access": "repository:pat/app:pull", "x-hub-sidecar": "guess" });
  out.sessionTokenOnRegistry = await observe(stack, "GET", "/v2/pat/app/tags/list", { authorization: `Bearer ${await sessionToken(stack)}` });
  out.invalidName = await observe(stack, "GET", "/v2/pat/%2e%2e/manifests/v1", { authorization: `Bearer ${pull}` });
  out.unsupported = await observe(stack, "POST", "/v2/pat/app/manifests/v1", { authorization: `Bearer ${push}` });
  out.deleteOnPersonal = await observe(stack, "DELETE", "/v2/pat/app/manifests/v1", { authorization: `Bearer ${del}` });
  out.pushElsewhere = await observe(stack, "POST", "/v2/other/app/blobs/uploads/", { authorization: `Bearer ${push}` });
  out.pullOnlyUpload = await observe(stack, "POST", "/v2/pat/app/blobs/uploads/", { authorization: `Bearer ${pull}` });
  out.mountAnonymous = await observe(stack, "POST", `/v2/pat/app/blobs/uploads/?mount=${image.config.digest}&from=bob/tools`);
  out.mountWithoutSourcePull = await observe(stack, "POST", `/v2/pat/app/blobs/uploads/?mount=${image.config.digest}&from=bob/tools`, { authorization: `Bearer ${push}` });
  out.tooLarge = await observe(stack, "PATCH", "/v2/pat/app/blobs/uploads/x", { authorization: `Bearer ${push}`, "content-range": "0-209715199", "content-length": "0" });
  out.tags = await observe(stack, "GET", "/v2/pat/app/tags/list", { authorization: `Bearer ${pull}` });
  out.blobHead = await observe(stack, "HEAD", `/v2/pat/app/blobs/${image.config.digest}`, { authorization: `Bearer ${pull}` });
  out.manifestHead = await observe(stack, "HEAD", "/v2/pat/app/manifests/v1", { authorization: `Bearer ${pull}` });
  for (let i = 1; i <= 11; i++) out[`pull${i}`] = await observe(stack, "GET", "/v2/pat/app/manifests/v1", { authorization: `Bearer ${pull}` });
  return out;
}

async function sessionToken(stack: Stack): Promise<string> {
  const res = await fetch(`${stack.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "pat", password: PASSWORD }) });
  return ((await res.json()) as { token: string }).token;
}

/** Drops the one timing-dependent value (seconds until a token is back), after checking its range. */
function timeless(o: Observed): Observed {
  const fields = parseQuotaFields((name) => o.headers[name]);
  const headers = fields ? { ...o.headers, ratelimit: o.headers.ratelimit!.replace(/;t=\d+/, ";t=<seconds>") } : o.headers;
  if (o.status !== 429) return { ...o, headers };
  const body = structuredClone(o.body) as { errors: { detail: { retryAfterSeconds: unknown } }[] };
  const retry = body.errors[0].detail.retryAfterSeconds as number;
  assert.ok(retry >= 1 && retry <= 6, `retryAfterSeconds ${retry}`);
  // A 429's RateLimit t is its Retry-After.
  assert.equal(fields?.resetSeconds, retry, o.headers.ratelimit);
  body.errors[0].detail.retryAfterSeconds = "1..6";
  return { ...o, headers, body };
}

describe("Image Hub stack through Envoy", { skip: filtersBuilt ? false : "build/filters/*.wasm missing: run `node scripts/build.mjs`" }, () => {
  const dirs: string[] = [];
  const stacks: Stack[] = [];
  const observed: Partial<Record<EnforceMode, Record<string, Observed>>> = {};
  let image: OciImage;
  let layout: string;

  before(async () => {
    image = await buildImage({ "hello.txt": "hello from the e2e test\n", "etc/os-release": "ID=image-hub-e2e\n" });
    layout = mkdtempSync(join(tmpdir(), "e2e-layout-"));
    dirs.push(layout);
    writeOciLayout(layout, image, "v1");
  });
  after(async () => {
    for (const s of stacks) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const mode of ["filter", "app"] as const) {
    describe(`--enforce ${mode}`, () => {
      let stack: Stack;
      before(async () => {
        const dataDir = mkdtempSync(join(tmpdir(), `e2e-${mode}-`));
        dirs.push(dataDir);
        stack = await startStack({ enforce: mode, dataDir, quiet: true, concurrency: 1 });
        stacks.push(stack);
      });

      it("should seed demo users for each plan with pullable images", async () => {
        assert.deepEqual(stack.demoUsers.map((u) => u.plan), ["personal", "team", "enterprise"]);
        const bob = new RegistryClient(stack.url, "bob", stack.demoUsers[1].password);
        const res = await bob.pullManifest("bob/tools", "2.1");
        assert.equal(res.status, 200);
        assert.match(res.headers.get("docker-content-digest") ?? "", /^sha256:[0-9a-f]{64}$/);
        assert.equal(res.headers.get("ratelimit-policy"), '"team";q=100;w=60');
        assert.match(res.headers.get("ratelimit") ?? "", /^"team";r=\d+;t=\d+$/);
        // The demo images are also on disk as OCI layouts, every tag in its layout's index.
        const index = JSON.parse(readFileSync(join(stack.dataDir, "seed", "bob-tools", "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
        assert.deepEqual(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]).sort(), ["2.1", "latest"]);
        const ui = await fetch(`${stack.url}/`);
        assert.equal(ui.status, 200);
        assert.match(ui.headers.get("content-type") ?? "", /^text\/html/);
      });

      it(`should push a two-layer image with ${ORAS.label} through the bearer flow and pull it back unchanged`, async () => {
        await signUp(stack.url, "ora", "team");
        const host = stack.url.replace("http://", "");
        const work = mkdtempSync(join(tmpdir(), "e2e-oras-"));
        dirs.push(work);
        const layers = { "one.txt": `first layer, ${mode} mode\n`, "two.txt": `second layer, ${mode} mode\n` };
        for (const [name, text] of Object.entries(layers)) writeFileSync(join(work, name), text);
        const push = await runOras(["push", "--user", "ora", "--password", PASSWORD, `${host}/ora/files:v1`, ...Object.keys(layers)], work);
        assert.equal(push.code, 0, push.stderr);
        // The bearer flow as oras ran it: challenge, pull-scoped token (blob HEAD), then the upload's
        // insufficient_scope challenge, a pull,push token, and the retried upload.
        const at = (line: string, from = 0) => push.trace.findIndex((l, i) => i >= from && l.startsWith(line));
        const firstChallenge = at("HEAD /v2/ora/files/blobs/sha256:");
        const pullToken = at("GET /api/token?service=image-hub&scope=repository%3Aora%2Ffiles%3Apull -> 200", firstChallenge);
        const uploadChallenge = at("POST /v2/ora/files/blobs/uploads/ -> 401", pullToken);
        const pushToken = at("GET /api/token?service=image-hub&scope=repository%3Aora%2Ffiles%3Apull%2Cpush -> 200", uploadChallenge);
        const upload = at("POST /v2/ora/files/blobs/uploads/ -> 202", pushToken);
        assert.ok(push.trace[firstChallenge]?.endsWith("-> 401") && pullToken > 0 && uploadChallenge > 0 && pushToken > 0 && upload > 0, push.trace.join("\n"));
        assert.ok(at("PUT /v2/ora/files/manifests/v1 -> 201", upload) > 0, push.trace.join("\n"));
        // The registry holds a manifest with both layers, each the sha256 of the file oras read.
        const manifest = await (await new RegistryClient(stack.url, "ora", PASSWORD).pullManifest("ora/files", "v1")).json() as { layers: { digest: string }[] };
        assert.deepEqual(manifest.layers.map((l) => l.digest), Object.values(layers).map((t) => `sha256:${createHash("sha256").update(t).digest("hex")}`));
        const out = join(work, "out");
        const pull = await runOras(["pull", "--user", "ora", "--password", PASSWORD, `${host}/ora/files:v1`, "--out", out], work);
        assert.equal(pull.code, 0, pull.stderr);
        for (const [name, text] of Object.entries(layers)) assert.equal(readFileSync(join(out, name), "utf8"), text);
        // Another user cannot push into ora's namespace: the wider token never grants it, so oras gives up.
        const foreign = await runOras(["push", "--user", "bob", "--password", stack.demoUsers[1].password, `${host}/ora/files:v2`, "one.txt"], work);
        assert.equal(foreign.code, 1);
        assert.match(foreign.stderr, /Unauthorized/);
        assert.ok(foreign.trace.some((l) => l.startsWith("GET /api/token?service=image-hub&scope=repository%3Aora%2Ffiles%3Apull%2Cpush -> 200")), foreign.trace.join("\n"));
      });

      it(`should give ${ORAS.label} 429 TOOMANYREQUESTS at the Personal plan's limit`, async () => {
        await signUp(stack.url, "orp", "personal");
        const work = mkdtempSync(join(tmpdir(), "e2e-oras-limit-"));
        dirs.push(work);
        const started = Date.now();
        const pulls = await runOras(["pull", "--user", "orp", "--password", PASSWORD, `${stack.url.replace("http://", "")}/alice/hello:1.0`, "--out", work, "--repeat", "20"], work);
        const seconds = (Date.now() - started) / 1000;
        assert.equal(pulls.code, 1, pulls.stdout);
        const served = pulls.stdout.split("\n").filter((l) => /^pull \d+: pulled /.test(l)).length;
        const limited = pulls.trace.filter((l) => l === "GET /v2/alice/hello/manifests/1.0 -> 429");
        assert.equal(limited.length, 1, pulls.trace.join("\n"));
        assert.match(pulls.stderr, /Too Many Requests/);
        // 10 a minute; the bucket refills one pull every 6 s while oras runs.
        assert.ok(served >= 10 && served <= 10 + Math.ceil(seconds / 6), `${served} pulls served in ${seconds.toFixed(1)} s`);
      });

      it(`should push a two-layer artifact with ${ORAS_GO.label}, unmodified, and pull it back unchanged`, { skip: orasGoSkip }, async () => {
        const bin = (ORAS_GO as { path: string }).path;
        await signUp(stack.url, "gor", "team");
        const host = stack.url.replace("http://", "");
        const work = mkdtempSync(join(tmpdir(), "e2e-oras-go-"));
        dirs.push(work);
        // Each user's credentials live in its own registry config file, as `oras login` writes it.
        const oras = (user: string, args: string[]) => runOrasGo(bin, [...args, "--registry-config", join(work, `${user}.json`), "--plain-http"], work);
        const login = (user: string, password: string) => runOrasGo(bin, ["login", "--registry-config", join(work, `${user}.json`), "--plain-http", "-u", user, "--password-stdin", host], work, password);
        const signedIn = await login("gor", PASSWORD);
        assert.equal(signedIn.code, 0, signedIn.stderr);
        assert.match(signedIn.stdout, /Login Succeeded/);
        const layers = { "one.txt": `first layer, ${mode} mode, oras go\n`, "two.txt": `second layer, ${mode} mode, oras go\n` };
        for (const [name, text] of Object.entries(layers)) writeFileSync(join(work, name), text);
        const push = await oras("gor", ["push", "--debug", `${host}/gor/files:v1`, ...Object.keys(layers)]);
        assert.equal(push.code, 0, push.stderr);
        const pushed = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(push.stdout)?.[1];
        // The bearer flow as the CLI ran it: the registry's first challenge names only pull, yet the
        // token the CLI fetched for it already covers push (it asks for the scopes a push needs), so no
        // upload is ever challenged.
        const trace = showTrace(push.trace);
        const challenge = push.trace.findIndex((e) => e.status === 401);
        assert.equal(push.trace[challenge]?.challenge, `Bearer realm="${stack.url}/api/token",service="image-hub",scope="repository:gor/files:pull"`, trace);
        const token = push.trace.findIndex((e, i) => i > challenge && e.method === "GET" && e.path.startsWith("/api/token?") && e.status === 200);
        assert.ok(token > challenge, trace);
        const uploads = push.trace.filter((e) => e.method === "POST" && e.path === "/v2/gor/files/blobs/uploads/");
        assert.ok(uploads.length >= 2 && uploads.every((e) => e.status === 202), trace);
        assert.ok(push.trace.some((e) => e.method === "PUT" && e.path === "/v2/gor/files/manifests/v1" && e.status === 201), trace);
        // The registry holds a manifest with both layers, each the sha256 of the file the CLI read.
        const res = await new RegistryClient(stack.url, "gor", PASSWORD).pullManifest("gor/files", "v1");
        assert.equal(res.headers.get("docker-content-digest"), pushed);
        const manifest = (await res.json()) as { layers: { digest: string }[] };
        assert.deepEqual(manifest.layers.map((l) => l.digest), Object.values(layers).map((t) => `sha256:${createHash("sha256").update(t).digest("hex")}`));
        const pull = await oras("gor", ["pull", `${host}/gor/files:v1`, "-o", join(work, "out")]);
        assert.equal(pull.code, 0, pull.stderr);
        assert.equal(/^Digest: (sha256:[0-9a-f]{64})$/m.exec(pull.stdout)?.[1], pushed);
        for (const [name, text] of Object.entries(layers)) assert.equal(readFileSync(join(work, "out", name), "utf8"), text);
        // Another user cannot push into gor's namespace.
        assert.equal((await login("bob", stack.demoUsers[1].password)).code, 0);
        const foreign = await oras("bob", ["push", `${host}/gor/files:v2`, "one.txt"]);
        assert.equal(foreign.code, 1, foreign.stdout);
        assert.match(foreign.stderr, /unauthorized: token does not grant push on gor\/files/);
      });

      it(`should give ${ORAS_GO.label} 429 TOOMANYREQUESTS at the Personal plan's limit`, { skip: orasGoSkip }, async () => {
        const bin = (ORAS_GO as { path: string }).path;
        await signUp(stack.url, "gop", "personal");
        const host = stack.url.replace("http://", "");
        const work = mkdtempSync(join(tmpdir(), "e2e-oras-go-limit-"));
        dirs.push(work);
        const config = ["--registry-config", join(work, "gop.json"), "--plain-http"];
        assert.equal((await runOrasGo(bin, ["login", ...config, "-u", "gop", "--password-stdin", host], work, PASSWORD)).code, 0);
        const fetchManifest = () => runOrasGo(bin, ["manifest", "fetch", "--debug", ...config, `${host}/alice/hello:1.0`], work);
        const started = Date.now();
        const digests = new Set<string>();
        for (let i = 1; i <= 10; i++) {
          const r = await fetchManifest();
          assert.equal(r.code, 0, `fetch ${i}: ${r.stderr}`);
          digests.add(createHash("sha256").update(r.stdout).digest("hex"));
        }
        assert.equal(digests.size, 1);
        // The CLI retries a 429 itself (waiting Retry-After, at most 3 s, 5 times) and the bucket refills
        // one pull every 6 s, so fetches one at a time would all get through in the end; six at once cannot.
        const burst = await Promise.all(Array.from({ length: 6 }, fetchManifest));
        const seconds = (Date.now() - started) / 1000;
        const refused = burst.filter((r) => r.code !== 0);
        assert.ok(refused.length >= 1, burst.map((r) => showTrace(r.trace)).join("\n\n"));
        for (const r of refused) {
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /Error response from registry: toomanyrequests: pull rate limit exceeded/);
          assert.deepEqual(r.trace.at(-1), { method: "GET", path: "/v2/alice/hello/manifests/1.0", status: 429 }, showTrace(r.trace));
        }
        const served = 10 + burst.length - refused.length;
        assert.ok(served <= 10 + Math.ceil(seconds / 6), `${served} pulls served in ${seconds.toFixed(1)} s`);
      });

      it("should copy an OCI image in and back out with skopeo, digests unchanged", { skip: SKOPEO ? false : "skopeo is not on PATH" }, async () => {
        const skopeo = SKOPEO!;
        await signUp(stack.url, "sky", "team");
        const host = stack.url.replace("http://", "");
        const creds = `sky:${PASSWORD}`;
        await run(skopeo, ["copy", "--dest-tls-verify=false", "--dest-creds", creds, `oci:${layout}:v1`, `docker://${host}/sky/roundtrip:v1`], { timeout: 60_000 });
        const out = mkdtempSync(join(tmpdir(), "e2e-out-"));
        dirs.push(out);
        await run(skopeo, ["copy", "--src-tls-verify=false", "--src-creds", creds, `docker://${host}/sky/roundtrip:v1`, `oci:${out}:v1`], { timeout: 60_000 });
        const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
        assert.equal(index.manifests[0].digest, image.manifest.digest);
        for (const blob of [image.config, image.layers[0]]) assert.deepEqual(readFileSync(join(out, "blobs", "sha256", blob.digest.slice(7))), blob.bytes);
        const { stdout } = await run(skopeo, ["inspect", "--tls-verify=false", "--creds", creds, `docker://${host}/sky/roundtrip:v1`], { timeout: 60_000 });
        assert.equal(JSON.parse(stdout).Digest, image.manifest.digest);
        // Another user's credentials cannot push into sky's namespace.
        await assert.rejects(run(skopeo, ["copy", "--dest-tls-verify=false", "--dest-creds", `bob:${stack.demoUsers[1].password}`, `oci:${layout}:v1`, `docker://${host}/sky/roundtrip:v2`], { timeout: 60_000 }), /401|unauthorized|denied/i);
      });

      it("should give a Personal user's 11th manifest pull within a minute 429 TOOMANYREQUESTS", async () => {
        const answers = await scenarios(stack, image);
        observed[mode] = answers;
        for (let i = 1; i <= 10; i++) {
          assert.equal(answers[`pull${i}`].status, 200, `pull ${i}`);
          const fields = parseQuotaFields((name) => answers[`pull${i}`].headers[name]);
          // t: seconds until the bucket is full again, 6 s per pull taken (less what refilled meanwhile).
          assert.deepEqual({ ...fields, resetSeconds: 0 }, { policy: "personal", limit: 10, windowSeconds: 60, remaining: 10 - i, resetSeconds: 0 }, `pull ${i}`);
          assert.ok(fields!.resetSeconds <= 6 * i && fields!.resetSeconds >= 6 * i - 10, `pull ${i}: ${answers[`pull${i}`].headers.ratelimit}`);
        }
        // The refusals each mode must produce (the comparison below checks they are byte-identical).
        const code = (o: Observed) => `${o.status} ${(o.body as { errors?: { code: string; message: string }[] }).errors?.[0].code} ${(o.body as { errors?: { message: string }[] }).errors?.[0].message}`;
        assert.equal(answers.manifestAnonymous.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:pat/app:pull"');
        assert.equal(answers.uploadAnonymous.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:pat/app:pull,push"');
        for (const k of ["baseAnonymous", "garbageToken", "wrongScheme", "forgedIdentity", "sessionTokenOnRegistry"]) assert.equal(code(answers[k]), "401 UNAUTHORIZED authentication required", k);
        assert.equal(code(answers.invalidName), "400 NAME_INVALID invalid repository name");
        assert.equal(code(answers.unsupported), "404 UNSUPPORTED unsupported registry route");
        assert.equal(code(answers.deleteOnPersonal), "403 DENIED plan personal does not allow delete");
        assert.equal(code(answers.pushElsewhere), "401 UNAUTHORIZED token does not grant push on other/app");
        assert.equal(answers.pushElsewhere.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:other/app:pull,push",error="insufficient_scope"');
        assert.equal(code(answers.pullOnlyUpload), "401 UNAUTHORIZED token does not grant push on pat/app");
        assert.equal(answers.pullOnlyUpload.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:pat/app:pull,push",error="insufficient_scope"');
        // A mount needs pull on its source too: both scopes are named, space separated.
        assert.equal(answers.mountAnonymous.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:pat/app:pull,push repository:bob/tools:pull"');
        assert.equal(code(answers.mountWithoutSourcePull), "401 UNAUTHORIZED token does not grant pull on bob/tools");
        assert.equal(answers.mountWithoutSourcePull.headers["www-authenticate"], 'Bearer realm="<url>/api/token",service="image-hub",scope="repository:pat/app:pull,push repository:bob/tools:pull",error="insufficient_scope"');
        assert.equal(code(answers.tooLarge), "413 SIZE_INVALID blob upload exceeds the personal plan limit of 104857600 bytes");
        assert.deepEqual(answers.tags.body, { name: "pat/app", tags: ["v1"] });
        assert.equal(answers.blobHead.status, 200);
        assert.equal(answers.manifestHead.headers["docker-content-digest"], image.manifest.digest);
        assert.equal(answers.pull11.status, 429);
        assert.deepEqual((answers.pull11.body as { errors: { code: string }[] }).errors[0].code, "TOOMANYREQUESTS");
      });
    });
  }

  it("should answer every scenario identically in both modes", () => {
    const filter = observed.filter;
    const app = observed.app;
    assert.ok(filter && app, "both modes ran their scenarios");
    const diffs = Object.keys(filter).filter((key) => !isDeepStrictEqual(timeless(app[key]), timeless(filter[key])));
    assert.deepEqual(diffs.map((k) => ({ k, app: app[k], filter: filter[k] })), []);
    assert.deepEqual(Object.keys(app).sort(), Object.keys(filter).sort());
  });
});
