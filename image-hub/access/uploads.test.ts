// Blob uploads through the access service into storage: monolithic, chunked, mount, and the
// faults the issue names (digest mismatch, cut-off uploads, concurrent pushes of one blob).
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { loadCatalog } from "../catalog.ts";
import { sha256Digest } from "../seed/oci.ts";
import type { RegistryClient } from "../seed/client.ts";
import { sendPartial, json, startTestHub, waitUntil, type TestHub } from "../test-support.ts";

describe("blob uploads", () => {
  let hub: TestHub;
  let alice: RegistryClient;
  let bob: RegistryClient;
  const push = "repository:alice/app:pull,push";

  before(async () => {
    hub = await startTestHub("app");
    alice = await hub.user("alice");
    bob = await hub.user("bob", "team");
  });
  after(() => hub.close());

  function blobRows(digest: string): number {
    const db = new Database(join(hub.dataDir, "storage", "storage.db"), { readonly: true });
    try {
      return db.prepare("SELECT COUNT(*) FROM blobs WHERE digest = ?").pluck().get(digest) as number;
    } finally {
      db.close();
    }
  }
  const blobFile = (digest: string) => join(hub.dataDir, "storage", "blobs", "sha256", digest.slice(7, 9), digest.slice(7));
  const uploadFile = (location: string) => join(hub.dataDir, "storage", "uploads", location.split("/").pop() as string);

  async function startUpload(client: RegistryClient, repo: string): Promise<string> {
    const res = await client.request("POST", `/v2/${repo}/blobs/uploads/`, `repository:${repo}:pull,push`);
    assert.equal(res.status, 202);
    assert.match(res.headers.get("location") ?? "", new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]{36}$`));
    assert.equal(res.headers.get("range"), "0-0");
    return res.headers.get("location") as string;
  }

  it("should store a chunked upload (POST, PATCH, PATCH, PUT) and serve it back with Range", async () => {
    const bytes = Buffer.from("0123456789abcdefghij");
    const digest = sha256Digest(bytes);
    const location = await startUpload(alice, "alice/app");
    // First chunk.
    let res = await alice.request("PATCH", location, push, { body: bytes.subarray(0, 8), headers: { "content-range": "0-7", "content-type": "application/octet-stream" } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("range"), "0-7");
    // A chunk that does not continue where the upload stands is refused and changes nothing.
    res = await alice.request("PATCH", location, push, { body: bytes.subarray(12), headers: { "content-range": "12-19" } });
    assert.equal(res.status, 416);
    assert.equal((await json(res)).errors[0].code, "BLOB_UPLOAD_INVALID");
    res = await alice.request("GET", location, push);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("range"), "0-7");
    // Second chunk, then close with the last bytes in the PUT.
    res = await alice.request("PATCH", location, push, { body: bytes.subarray(8, 15), headers: { "content-range": "8-14" } });
    assert.equal(res.headers.get("range"), "0-14");
    // A last chunk on PUT that skips ahead is refused the same way and leaves the upload open.
    res = await alice.request("PUT", `${location}?digest=${digest}`, push, { body: bytes.subarray(17), headers: { "content-range": "17-19" } });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get("location"), location);
    assert.equal((await json(res)).errors[0].code, "BLOB_UPLOAD_INVALID");
    res = await alice.request("GET", location, push);
    assert.equal(res.headers.get("range"), "0-14");
    res = await alice.request("PUT", `${location}?digest=${digest}`, push, { body: bytes.subarray(15), headers: { "content-range": "15-19" } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `/v2/alice/app/blobs/${digest}`);
    assert.equal(res.headers.get("docker-content-digest"), digest);
    // Whole blob, then a range of it.
    res = await alice.request("GET", `/v2/alice/app/blobs/${digest}`, push);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-content-digest"), digest);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    res = await alice.request("GET", `/v2/alice/app/blobs/${digest}`, push, { headers: { range: "bytes=2-5" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), "bytes 2-5/20");
    assert.equal(await res.text(), "2345");
    res = await alice.request("GET", `/v2/alice/app/blobs/${digest}`, push, { headers: { range: "bytes=50-60" } });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get("content-range"), "bytes */20");
    assert.equal((await json(res)).errors[0].code, "RANGE_INVALID");
    res = await alice.request("HEAD", `/v2/alice/app/blobs/${digest}`, push);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), "20");
  });

  it("should accept a monolithic POST with ?digest=", async () => {
    const bytes = Buffer.from("monolithic blob");
    const digest = sha256Digest(bytes);
    const res = await alice.request("POST", `/v2/alice/app/blobs/uploads/?digest=${digest}`, push, { body: bytes });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("docker-content-digest"), digest);
    assert.equal(blobRows(digest), 1);
  });

  it("should answer a digest mismatch with 400 DIGEST_INVALID and store no blob", async () => {
    const bytes = Buffer.from("what was really sent");
    const claimed = sha256Digest(Buffer.from("something else"));
    const location = await startUpload(alice, "alice/app");
    const res = await alice.request("PUT", `${location}?digest=${claimed}`, push, { body: bytes });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.errors[0].code, "DIGEST_INVALID");
    assert.equal(blobRows(claimed), 0);
    assert.equal(blobRows(sha256Digest(bytes)), 0);
    assert.equal(existsSync(blobFile(claimed)), false);
    assert.equal(existsSync(uploadFile(location)), false);
    assert.equal((await alice.request("HEAD", `/v2/alice/app/blobs/${claimed}`, push)).status, 404);
  });

  it("should leave nothing visible when a monolithic PUT is cut off mid-stream", async () => {
    const full = Buffer.alloc(1024 * 1024, 7);
    const digest = sha256Digest(full);
    const location = await startUpload(alice, "alice/app");
    const token = await alice.token(push);
    // Cut the request off only once its bytes are in the upload file, so the rollback is observed
    // (a size of 0 before any byte arrived would prove nothing).
    const size = () => (existsSync(uploadFile(location)) ? statSync(uploadFile(location)).size : -1);
    const req = http.request(`${hub.accessUrl}${location}?digest=${digest}`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-length": String(full.length) } });
    const closed = new Promise<void>((resolve) => req.on("close", resolve).on("error", () => undefined));
    req.write(full.subarray(0, 64 * 1024));
    await waitUntil(() => size() === 64 * 1024);
    req.destroy();
    await closed;
    // The storage side rolls the chunk back once it sees the abort.
    await waitUntil(() => size() === 0);
    const status = await alice.request("GET", location, push);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("range"), "0-0");
    assert.equal(blobRows(digest), 0);
    assert.equal(existsSync(blobFile(digest)), false);
    assert.equal((await alice.request("GET", `/v2/alice/app/blobs/${digest}`, push)).status, 404);
  });

  it("should keep the committed chunks when a later PATCH is cut off", async () => {
    const first = Buffer.from("first chunk, committed");
    const location = await startUpload(alice, "alice/app");
    await alice.request("PATCH", location, push, { body: first });
    const token = await alice.token(push);
    await sendPartial(`${hub.accessUrl}${location}`, "PATCH", { authorization: `Bearer ${token}` }, 4096, Buffer.alloc(1000, 1));
    await waitUntil(() => statSync(uploadFile(location)).size === first.length);
    const status = await alice.request("GET", location, push);
    assert.equal(status.headers.get("range"), `0-${first.length - 1}`);
    // The upload can still be completed from where it stood.
    const rest = Buffer.from(" and the rest");
    const digest = sha256Digest(Buffer.concat([first, rest]));
    const res = await alice.request("PUT", `${location}?digest=${digest}`, push, { body: rest });
    assert.equal(res.status, 201);
    assert.equal(blobRows(digest), 1);
  });

  it("should store a blob once when 20 clients push it concurrently", async () => {
    const bytes = Buffer.alloc(256 * 1024, 42);
    const digest = sha256Digest(bytes);
    const openUploads = readdirSync(join(hub.dataDir, "storage", "uploads")).sort();
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const location = await startUpload(alice, "alice/app");
        const res = await alice.request("PUT", `${location}?digest=${digest}`, push, { body: bytes });
        return { status: res.status, digest: res.headers.get("docker-content-digest") };
      }),
    );
    assert.deepEqual(results, Array.from({ length: 20 }, () => ({ status: 201, digest })));
    assert.equal(blobRows(digest), 1);
    assert.equal(statSync(blobFile(digest)).size, bytes.length);
    // Every finished upload was moved into the store; only uploads other tests left open remain.
    assert.deepEqual(readdirSync(join(hub.dataDir, "storage", "uploads")).sort(), openUploads);
    const all = readdirSync(join(hub.dataDir, "storage", "blobs", "sha256", digest.slice(7, 9)));
    assert.deepEqual(all, [digest.slice(7)]);
  });

  it("should mount a blob from a repository the token may pull, and refuse one it may not", async () => {
    const bytes = Buffer.from("shared base layer");
    const digest = sha256Digest(bytes);
    await bob.pushBlob("bob/base", { mediaType: "application/octet-stream", digest, bytes });
    let res = await alice.request("POST", `/v2/alice/app/blobs/uploads/?mount=${digest}&from=bob/base`, "repository:alice/app:pull,push repository:bob/base:pull");
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `/v2/alice/app/blobs/${digest}`);
    assert.equal((await alice.request("HEAD", `/v2/alice/app/blobs/${digest}`, push)).status, 200);
    // A token without pull on the source is refused before anything is linked.
    res = await alice.request("POST", `/v2/alice/app/blobs/uploads/?mount=${digest}&from=bob/base`, push);
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /,scope="repository:alice\/app:pull,push repository:bob\/base:pull",error="insufficient_scope"$/);
    assert.equal((await json(res)).errors[0].message, "token does not grant pull on bob/base");
  });

  it("should refuse an upload larger than the plan with 413 SIZE_INVALID before reading it", async () => {
    const location = await startUpload(alice, "alice/app");
    const res = await alice.request("PATCH", location, push, { headers: { "content-range": "0-209715199" }, body: Buffer.from("x") });
    assert.equal(res.status, 413);
    const body = await json(res);
    assert.deepEqual(body, { errors: [{ code: "SIZE_INVALID", message: "blob upload exceeds the personal plan limit of 104857600 bytes", detail: { limit: 104857600 } }] });
    assert.equal(statSync(uploadFile(location)).size, 0);
  });
});

describe("blob uploads without an announced length", () => {
  let hub: TestHub;
  before(async () => {
    // A catalog whose plan allows 1000-byte blobs, so the streaming limit is cheap to reach.
    const catalog = loadCatalog();
    const tiny = { ...catalog, plans: catalog.plans.map((p) => ({ ...p, maxBlobBytes: 1000 })) };
    hub = await startTestHub("app", tiny);
  });
  after(() => hub.close());

  it("should stop a chunked-encoding upload at the plan limit with the same 413 and keep nothing", async () => {
    const alice = await hub.user("alice");
    const res = await alice.request("POST", "/v2/alice/app/blobs/uploads/", "repository:alice/app:pull,push");
    const location = res.headers.get("location") as string;
    const token = await alice.token("repository:alice/app:pull,push");
    // No Content-Length: node sends the body chunked, so only the byte count can catch it.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${hub.accessUrl}${location}`, { method: "PATCH", headers: { authorization: `Bearer ${token}` } }, (r) => {
        let body = "";
        r.on("data", (c) => (body += c));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(1000, i));
      req.end();
    });
    assert.equal(answer.status, 413);
    assert.deepEqual(JSON.parse(answer.body), { errors: [{ code: "SIZE_INVALID", message: "blob upload exceeds the personal plan limit of 1000 bytes", detail: { limit: 1000 } }] });
    await waitUntil(() => statSync(join(hub.dataDir, "storage", "uploads", location.split("/").pop() as string)).size === 0);
    const status = await alice.request("GET", location, "repository:alice/app:pull,push");
    assert.equal(status.headers.get("range"), "0-0");
  });
});
