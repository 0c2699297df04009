// Crash safety of the storage service: SIGKILL it (a child process) while uploads stream in,
// start it again, and check that database and blob store agree; plus recover() on hand-made debris
// and the one-time referrers index of a database older than the referrers API.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { BlobFiles } from "./blobs.ts";
import { openDatabase } from "./db.ts";
import { checkConsistency, recover } from "./recover.ts";

const server = fileURLToPath(new URL("./server.ts", import.meta.url));
const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Child {
  proc: ChildProcess;
  url: string;
  recovered: Record<string, number>;
}

function startChild(dataDir: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", server, "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => (proc.kill("SIGKILL"), reject(new Error("storage did not start in 30 s"))), 30_000);
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d;
      const line = out.split("\n")[0];
      if (!out.includes("\n")) return;
      clearTimeout(timer);
      const { listening, recovered } = JSON.parse(line) as { listening: number; recovered: Record<string, number> };
      resolve({ proc, url: `http://127.0.0.1:${listening}`, recovered });
    });
    proc.once("exit", (code) => reject(new Error(`storage exited with ${code} during start`)));
  });
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** Streams `bytes` in 64 KiB pieces every 20 ms; resolves with the status, or 0 if the server died. */
function slowPut(url: string, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: "PUT", headers: { "content-length": String(bytes.length) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    let offset = 0;
    const timer = setInterval(() => {
      if (offset >= bytes.length || req.destroyed) return void clearInterval(timer);
      req.write(bytes.subarray(offset, offset + 65536));
      offset += 65536;
      if (offset >= bytes.length) req.end();
    }, 20);
  });
}

describe("storage crash safety", () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("should be consistent after SIGKILL during uploads and a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "storage-crash-"));
    dirs.push(dataDir);
    let child = await startChild(dataDir);
    children.push(child.proc);
    assert.equal((await call(`${child.url}/repositories`, "POST", { name: "alice/app", owner: "alice", visibility: "public", maxPrivate: 1 })).status, 201);
    // Two blobs complete before the crash; they must survive it.
    const done = [Buffer.from("finished one"), Buffer.from("finished two")];
    for (const bytes of done) {
      const { json } = await call(`${child.url}/uploads`, "POST", { repo: "alice/app" });
      const res = await fetch(`${child.url}/uploads/${json.id}?repo=alice/app&digest=${digestOf(bytes)}`, { method: "PUT", body: bytes });
      assert.equal(res.status, 201);
    }
    // Six uploads stream slowly; kill the service while they are mid-body.
    const big = Array.from({ length: 6 }, (_, i) => Buffer.alloc(2 * 1024 * 1024, i + 1));
    const puts: Promise<number>[] = [];
    for (const bytes of big) {
      const { json } = await call(`${child.url}/uploads`, "POST", { repo: "alice/app" });
      puts.push(slowPut(`${child.url}/uploads/${json.id}?repo=alice/app&digest=${digestOf(bytes)}`, bytes));
    }
    const uploads = join(dataDir, "uploads");
    const deadline = Date.now() + 20_000;
    while (readdirSync(uploads).reduce((n, f) => n + statSync(join(uploads, f)).size, 0) < 512 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.proc.kill("SIGKILL");
    assert.deepEqual(await Promise.all(puts), [0, 0, 0, 0, 0, 0], "every in-flight upload was cut off");

    // Restart: recovery rolls the half-written chunks back.
    child = await startChild(dataDir);
    children.push(child.proc);
    // Uploads that had bytes on disk were truncated back to their committed size (0).
    assert.ok(child.recovered.truncatedUploads >= 1, JSON.stringify(child.recovered));
    for (const f of readdirSync(uploads)) assert.equal(statSync(join(uploads, f)).size, 0);
    for (const bytes of done) {
      const res = await fetch(`${child.url}/blobs/${digestOf(bytes)}?repo=alice/app`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    }
    for (const bytes of big) assert.equal((await fetch(`${child.url}/blobs/${digestOf(bytes)}?repo=alice/app`)).status, 404);
    // The store still takes new uploads.
    const { json } = await call(`${child.url}/uploads`, "POST", { repo: "alice/app" });
    const res = await fetch(`${child.url}/uploads/${json.id}?repo=alice/app&digest=${digestOf(big[0])}`, { method: "PUT", body: big[0] });
    assert.equal(res.status, 201);
    child.proc.kill("SIGTERM");
    await new Promise((r) => child.proc.once("exit", r));

    const db = openDatabase(join(dataDir, "storage.db"));
    try {
      assert.deepEqual(await checkConsistency(db, new BlobFiles(dataDir)), []);
      assert.equal(db.prepare("SELECT COUNT(*) FROM blobs").pluck().get(), 3);
    } finally {
      db.close();
    }
  });

  it("should repair the debris a crash can leave between rename, insert and commit", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "storage-recover-"));
    dirs.push(dataDir);
    const db = openDatabase(join(dataDir, "storage.db"));
    const files = new BlobFiles(dataDir);
    try {
      db.prepare("INSERT INTO repositories (name, owner, visibility, created_at) VALUES ('a/b', 'a', 'public', 0)").run();
      // A blob renamed into place whose row was never written.
      const orphan = Buffer.from("orphan");
      mkdirSync(dirname(files.blobPath(digestOf(orphan))), { recursive: true });
      writeFileSync(files.blobPath(digestOf(orphan)), orphan);
      // An upload whose last chunk was half written (committed size 3, file 10 bytes).
      db.prepare("INSERT INTO uploads (id, repo, size, created_at) VALUES ('u1', 'a/b', 3, 0)").run();
      writeFileSync(files.uploadPath("u1"), "abcdefghij");
      // An upload whose file was already renamed into a blob, and a stray upload file.
      db.prepare("INSERT INTO uploads (id, repo, size, created_at) VALUES ('u2', 'a/b', 5, 0)").run();
      writeFileSync(files.uploadPath("stray"), "x");
      assert.ok((await checkConsistency(db, files)).length >= 3);

      const report = recover(db, files);
      assert.deepEqual(report, { orphanBlobFiles: 1, missingBlobRows: 0, truncatedUploads: 1, droppedUploads: 2 });
      assert.deepEqual(await checkConsistency(db, files), []);
      assert.equal(statSync(files.uploadPath("u1")).size, 3);
      assert.deepEqual(db.prepare("SELECT id FROM uploads").pluck().all(), ["u1"]);
    } finally {
      db.close();
    }
  });

  it("should index the referrers of manifests stored before the referrers table existed", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "storage-referrers-"));
    dirs.push(dataDir);
    const file = join(dataDir, "storage.db");
    const subject = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digestOf(Buffer.from("subject")), size: 7 };
    const config = { mediaType: "application/vnd.example.sbom", digest: digestOf(Buffer.from("{}")), size: 2 };
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: subject.mediaType, config, layers: [], subject, annotations: { a: "b" } }));
    let db = openDatabase(file);
    db.prepare("INSERT INTO repositories (name, owner, visibility, created_at) VALUES ('a/b', 'a', 'public', 0)").run();
    db.prepare("INSERT INTO manifests (repo, digest, media_type, size, body, created_at) VALUES ('a/b', ?, ?, ?, ?, 0)").run(digestOf(body), subject.mediaType, body.length, body);
    // As a database from before the referrers API: no referrers table.
    db.exec("DROP TABLE referrers");
    db.close();
    db = openDatabase(file);
    try {
      assert.deepEqual(db.prepare("SELECT repo, digest, subject, artifact_type, annotations FROM referrers").all(), [
        { repo: "a/b", digest: digestOf(body), subject: subject.digest, artifact_type: "application/vnd.example.sbom", annotations: '{"a":"b"}' },
      ]);
    } finally {
      db.close();
    }
  });
});
