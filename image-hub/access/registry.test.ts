// The registry API of the access service in app mode (in-process, no Envoy): manifests, tags,
// catalog, deletes, and the app-mode enforcement (401 challenge, names, plan, rate limit).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildImage, sha256Digest, type OciImage } from "../seed/oci.ts";
import type { RegistryClient } from "../seed/client.ts";
import { rawGet, json, startTestHub, type TestHub } from "../test-support.ts";
import { parseQuotaFields } from "../ratelimit-fields.ts";

describe("registry API (app mode)", () => {
  let hub: TestHub;
  let alice: RegistryClient;
  let bob: RegistryClient;
  let image: OciImage;

  before(async () => {
    hub = await startTestHub("app");
    alice = await hub.user("alice");
    bob = await hub.user("bob", "team");
    image = await buildImage({ "hello.txt": "hello\n" });
  });
  after(() => hub.close());

  it("should challenge an anonymous base check and answer an authenticated one", async () => {
    let res = await fetch(`${hub.accessUrl}/v2/`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), `Bearer realm="${hub.accessUrl}/api/token",service="image-hub"`);
    assert.deepEqual(await json(res), { errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] });
    res = await fetch(`${hub.accessUrl}/v2/alice/app/blobs/uploads/`, { method: "POST" });
    assert.equal(res.headers.get("www-authenticate"), `Bearer realm="${hub.accessUrl}/api/token",service="image-hub",scope="repository:alice/app:pull,push"`);
    res = await alice.request("GET", "/v2/", "repository:alice/app:pull");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
    assert.deepEqual(await json(res), {});
  });

  it("should push an image and serve its manifest by tag and by digest", async () => {
    const digest = await alice.pushImage("alice/app", "v1", image);
    assert.equal(digest, image.manifest.digest);
    let res = await alice.pullManifest("alice/app", "v1");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/vnd.oci.image.manifest.v1+json");
    assert.equal(res.headers.get("docker-content-digest"), digest);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), image.manifest.bytes);
    res = await alice.request("HEAD", `/v2/alice/app/manifests/${digest}`, "repository:alice/app:pull");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(image.manifest.bytes.length));
    assert.equal(res.headers.get("docker-content-digest"), digest);
    assert.equal(res.headers.get("ratelimit"), null, "HEAD is not a pull");
    assert.equal(res.headers.get("ratelimit-policy"), null, "HEAD is not a pull");
    // The UI's view of the repository: one pull counted, the tag's download size.
    const repo = await json(await fetch(`${hub.accessUrl}/api/repositories/alice/app`));
    assert.equal(repo.pulls, 1);
    assert.equal(repo.size, image.config.bytes.length + image.layers[0].bytes.length);
    assert.deepEqual(repo.tags.map((t: { name: string; digest: string; size: number }) => [t.name, t.digest, t.size]), [
      ["v1", digest, image.manifest.bytes.length + image.config.bytes.length + image.layers[0].bytes.length],
    ]);
  });

  it("should refuse a manifest that names a missing blob with MANIFEST_BLOB_UNKNOWN", async () => {
    const other = await buildImage({ "never-uploaded.txt": "x\n" });
    const res = await alice.request("PUT", "/v2/alice/app/manifests/broken", "repository:alice/app:pull,push", {
      body: other.manifest.bytes,
      headers: { "content-type": other.manifest.mediaType },
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.errors[0].code, "MANIFEST_BLOB_UNKNOWN");
    assert.deepEqual(body.errors[0].detail.digests.sort(), [other.config.digest, other.layers[0].digest].sort());
    const get = await alice.request("HEAD", "/v2/alice/app/manifests/broken", "repository:alice/app:pull");
    assert.equal(get.status, 404);
  });

  it("should accept an index whose manifests are in the repository, and refuse one naming a missing manifest", async () => {
    const scope = "repository:alice/multi:pull,push";
    const digest = await alice.pushImage("alice/multi", "amd64", image);
    const index = (manifests: string[]) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: manifests.map((d) => ({ mediaType: image.manifest.mediaType, digest: d, size: image.manifest.bytes.length, platform: { architecture: "amd64", os: "linux" } })) }));
    const headers = { "content-type": "application/vnd.oci.image.index.v1+json" };
    let res = await alice.request("PUT", "/v2/alice/multi/manifests/latest", scope, { body: index([digest]), headers });
    assert.equal(res.status, 201);
    res = await alice.pullManifest("alice/multi", "latest");
    assert.equal(res.headers.get("content-type"), "application/vnd.oci.image.index.v1+json");
    const missing = sha256Digest(Buffer.from("no such manifest"));
    res = await alice.request("PUT", "/v2/alice/multi/manifests/broken", scope, { body: index([digest, missing]), headers });
    assert.equal(res.status, 400);
    assert.deepEqual((await json(res)).errors[0].detail, { digests: [missing] });
  });

  it("should refuse invalid manifests and a digest reference that does not match", async () => {
    const scope = "repository:alice/app:pull,push";
    let res = await alice.request("PUT", "/v2/alice/app/manifests/bad", scope, { body: Buffer.from("{not json"), headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).errors[0].code, "MANIFEST_INVALID");
    const wrong = sha256Digest(Buffer.from("other"));
    res = await alice.request("PUT", `/v2/alice/app/manifests/${wrong}`, scope, { body: image.manifest.bytes, headers: { "content-type": image.manifest.mediaType } });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).errors[0].code, "DIGEST_INVALID");
  });

  it("should list tags with pagination and the catalog by visibility", async () => {
    for (const tag of ["a", "b", "c"]) await alice.pushImage("alice/tags", tag, image);
    let res = await alice.request("GET", "/v2/alice/tags/tags/list", "repository:alice/tags:pull");
    assert.deepEqual(await json(res), { name: "alice/tags", tags: ["a", "b", "c"] });
    res = await alice.request("GET", "/v2/alice/tags/tags/list?n=2", "repository:alice/tags:pull");
    assert.deepEqual(await json(res), { name: "alice/tags", tags: ["a", "b"] });
    assert.equal(res.headers.get("link"), '</v2/alice/tags/tags/list?n=2&last=b>; rel="next"');
    // bob's private repository is in bob's catalog only.
    await bob.pushImage("bob/secret", "v1", image);
    const patch = await fetch(`${hub.accessUrl}/api/repositories/bob/secret`, {
      method: "PATCH",
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("bob:test-password").toString("base64")}` },
      body: JSON.stringify({ visibility: "private" }),
    });
    assert.equal(patch.status, 200);
    const catalog = async (c: RegistryClient) => (await json(await c.request("GET", "/v2/_catalog", "registry:catalog:*"))).repositories;
    assert.deepEqual(await catalog(alice), ["alice/app", "alice/multi", "alice/tags"]);
    assert.deepEqual(await catalog(bob), ["alice/app", "alice/multi", "alice/tags", "bob/secret"]);
    // Alice's token never grants pull on bob's private repository: the token spec's insufficient_scope.
    res = await alice.pullManifest("bob/secret", "v1");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /,scope="repository:bob\/secret:pull",error="insufficient_scope"$/);
    assert.equal((await json(res)).errors[0].message, "token does not grant pull on bob/secret");
  });

  it("should allow delete only where the plan has it", async () => {
    let res = await alice.request("DELETE", "/v2/alice/tags/manifests/a", "repository:alice/tags:delete");
    assert.equal(res.status, 403);
    assert.deepEqual(await json(res), { errors: [{ code: "DENIED", message: "plan personal does not allow delete", detail: null }] });
    await bob.pushImage("bob/tmp", "old", image);
    res = await bob.request("DELETE", "/v2/bob/tmp/manifests/old", "repository:bob/tmp:delete");
    assert.equal(res.status, 202);
    res = await bob.request("GET", "/v2/bob/tmp/manifests/old", "repository:bob/tmp:pull");
    assert.equal(res.status, 404);
    assert.equal((await json(res)).errors[0].code, "MANIFEST_UNKNOWN");
  });

  it("should refuse invalid names and unsupported routes after authentication", async () => {
    const token = await alice.token("repository:alice/app:pull");
    // node:http sends the path as written; fetch would normalise the dot segments away.
    for (const path of ["/v2/Alice/app/manifests/v1", "/v2/alice/%2e%2e/manifests/v1", "/v2/alice//app/manifests/v1", "/v2/alice/../x/manifests/v1"]) {
      const res = await rawGet(hub.accessUrl, path, token);
      assert.equal(res.status, 400, path);
      assert.deepEqual(JSON.parse(res.body), { errors: [{ code: "NAME_INVALID", message: "invalid repository name", detail: null }] });
    }
    const res = await rawGet(hub.accessUrl, "/v2/alice/app/nothing-here", token);
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.body).errors[0].code, "UNSUPPORTED");
  });

  it("should rate-limit a Personal user's 11th manifest pull with 429 and consume nothing on refusal", async () => {
    const carol = await hub.user("carol");
    await carol.pushImage("carol/app", "v1", image);
    const remaining: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const res = await carol.pullManifest("carol/app", "v1");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("ratelimit-policy"), '"personal";q=10;w=60');
      const fields = parseQuotaFields((name) => res.headers.get(name));
      remaining.push(fields!.remaining);
      // t: seconds until the bucket is full again, 6 s per pull taken (less what refilled meanwhile).
      assert.ok(fields!.resetSeconds <= 6 * i && fields!.resetSeconds >= 6 * i - 3, res.headers.get("ratelimit") ?? "");
    }
    assert.deepEqual(remaining, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    for (let i = 0; i < 2; i++) {
      const res = await carol.pullManifest("carol/app", "v1");
      assert.equal(res.status, 429);
      const retry = Number(res.headers.get("retry-after"));
      assert.ok(retry >= 1 && retry <= 6, `Retry-After ${retry}`);
      assert.equal(res.headers.get("ratelimit"), `"personal";r=0;t=${retry}`);
      assert.equal(res.headers.get("ratelimit-policy"), '"personal";q=10;w=60');
      assert.deepEqual(await json(res), {
        errors: [{ code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", detail: { limit: 10, windowSeconds: 60, retryAfterSeconds: retry } }],
      });
    }
    // Blob reads are not pulls and stay allowed.
    const blob = await carol.request("HEAD", `/v2/carol/app/blobs/${image.config.digest}`, "repository:carol/app:pull");
    assert.equal(blob.status, 200);
    const me = await fetch(`${hub.accessUrl}/api/me`, { headers: { authorization: `Basic ${Buffer.from("carol:test-password").toString("base64")}` } });
    const quota = (await json(me)).quota;
    assert.equal(quota.limit, 10);
    assert.equal(quota.remaining, 0);
    assert.equal(quota.used, 10);
    // The usage history counts what was served: 10 pulls (not the two 429s) in the current hour.
    const usage = await json(await fetch(`${hub.accessUrl}/api/me/usage`, { headers: { authorization: `Basic ${Buffer.from("carol:test-password").toString("base64")}` } }));
    assert.equal(usage.hours.length, 24);
    assert.equal(usage.hours[23], new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString());
    assert.deepEqual(usage.repositories, [{ name: "carol/app", pulls: [...Array(23).fill(0), 10] }]);
    assert.deepEqual(await json(await fetch(`${hub.accessUrl}/api/status`)), { enforcement: "app" });
  });
});
