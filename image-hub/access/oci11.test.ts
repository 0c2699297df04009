// OCI distribution v1.1 features of the registry API (app mode, in-process): sha512 blobs and
// manifests with strict verification, unknown algorithms, the referrers API with its artifactType
// filter, OCI-Subject on push, referrers kept in step with pushes and deletes, non-distributable
// layers, and anonymous / cross-repository mounts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RegistryClient } from "../seed/client.ts";
import { json, startTestHub, type TestHub } from "../test-support.ts";

const sha = (algorithm: string, data: Buffer) => `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const EMPTY = Buffer.from("{}");
const PUSH = "repository:alice/app:pull,push,delete";

describe("OCI v1.1 registry features (app mode)", () => {
  let hub: TestHub;
  let alice: RegistryClient;

  before(async () => {
    hub = await startTestHub("app");
    alice = await hub.user("alice", "team");
  });
  after(() => hub.close());

  async function postPut(repo: string, body: Buffer, digest: string, scope = PUSH): Promise<Response> {
    return alice.request("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, scope, { body, headers: { "content-type": "application/octet-stream" } });
  }

  function manifest(extra: Record<string, unknown>, layers: unknown[] = []): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha("sha256", EMPTY), size: 2 }, layers, ...extra }));
  }

  async function putManifest(ref: string, body: Buffer, mediaType = MANIFEST): Promise<Response> {
    return alice.request("PUT", `/v2/alice/app/manifests/${ref}`, PUSH, { body, headers: { "content-type": mediaType } });
  }

  it("should store, serve and delete a sha512 blob, and refuse a wrong sha512 digest storing nothing", async () => {
    const data = Buffer.from("sha512 content\n");
    const digest = sha("sha512", data);
    let res = await postPut("alice/app", data, digest);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get("docker-content-digest"), digest);
    res = await alice.request("GET", `/v2/alice/app/blobs/${digest}`, PUSH);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    const wrong = sha("sha512", Buffer.from("other"));
    res = await postPut("alice/app", data, wrong);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).errors[0].code, "DIGEST_INVALID");
    res = await alice.request("HEAD", `/v2/alice/app/blobs/${wrong}`, PUSH);
    assert.equal(res.status, 404, "a refused upload stores nothing");
    res = await alice.request("DELETE", `/v2/alice/app/blobs/${digest}`, PUSH);
    assert.equal(res.status, 202);
    res = await alice.request("HEAD", `/v2/alice/app/blobs/${digest}`, PUSH);
    assert.equal(res.status, 404);
  });

  it("should answer UNSUPPORTED for an unregistered algorithm and DIGEST_INVALID for a malformed digest", async () => {
    for (const [digest, code] of [
      ["md5:d41d8cd98f00b204e9800998ecf8427e", "UNSUPPORTED"],
      ["sha256:abc", "DIGEST_INVALID"],
      ["sha512:" + "a".repeat(64), "DIGEST_INVALID"],
    ]) {
      const res = await alice.request("GET", `/v2/alice/app/blobs/${digest}`, PUSH);
      assert.equal(res.status, 400, digest);
      assert.equal((await json(res)).errors[0].code, code, digest);
      const upload = await postPut("alice/app", Buffer.from("x"), digest);
      assert.equal(upload.status, 400, digest);
      assert.equal((await json(upload)).errors[0].code, code, digest);
    }
  });

  it("should accept a manifest by sha512 digest, addressed by that digest, and refuse a mismatching one", async () => {
    await postPut("alice/app", EMPTY, sha("sha256", EMPTY));
    const body = manifest({ annotations: { n: "512" } });
    const digest = sha("sha512", body);
    let res = await putManifest(digest, body);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get("docker-content-digest"), digest);
    res = await alice.request("GET", `/v2/alice/app/manifests/${digest}`, PUSH);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    res = await putManifest(sha("sha512", Buffer.from("x")), body);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).errors[0].code, "DIGEST_INVALID");
  });

  it("should accept non-distributable layers it never received and serve the manifest unchanged", async () => {
    const foreign = { mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", digest: sha("sha256", Buffer.from("foreign")), size: 7, urls: ["https://example.com/layer"] };
    const body = manifest({}, [foreign]);
    let res = await putManifest("foreign", body);
    assert.equal(res.status, 201, await res.clone().text());
    res = await alice.request("GET", "/v2/alice/app/manifests/foreign", PUSH);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    // An ordinary layer that was never uploaded is still refused.
    res = await putManifest("broken", manifest({}, [{ ...foreign, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }]));
    assert.equal(res.status, 400);
    assert.equal((await json(res)).errors[0].code, "MANIFEST_BLOB_UNKNOWN");
  });

  it("should list referrers (subject pushed later too), filter by artifactType, and drop a deleted referrer", async () => {
    const subjectBody = manifest({ annotations: { role: "subject" } });
    const subject = { mediaType: MANIFEST, digest: sha("sha256", subjectBody), size: subjectBody.length };
    const sbom = manifest({ artifactType: "application/spdx+json", subject, annotations: { kind: "sbom" } });
    const signature = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, artifactType: "application/signature", manifests: [], subject }));
    // The subject does not exist yet: accepted, and OCI-Subject says it was indexed.
    let res = await putManifest(sha("sha256", sbom), sbom);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get("oci-subject"), subject.digest);
    res = await putManifest("sig", signature, INDEX);
    assert.equal(res.headers.get("oci-subject"), subject.digest);
    res = await putManifest("subject", subjectBody);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("oci-subject"), null, "no subject, no header");

    res = await alice.request("GET", `/v2/alice/app/referrers/${subject.digest}`, PUSH);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), INDEX);
    assert.equal(res.headers.get("oci-filters-applied"), null);
    assert.equal(res.headers.get("ratelimit"), null, "a referrers list is not a pull");
    assert.deepEqual(await json(res), {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [
        { mediaType: MANIFEST, digest: sha("sha256", sbom), size: sbom.length, artifactType: "application/spdx+json", annotations: { kind: "sbom" } },
        { mediaType: INDEX, digest: sha("sha256", signature), size: signature.length, artifactType: "application/signature" },
      ],
    });
    res = await alice.request("GET", `/v2/alice/app/referrers/${subject.digest}?artifactType=application%2Fsignature`, PUSH);
    assert.equal(res.headers.get("oci-filters-applied"), "artifactType");
    assert.deepEqual((await json(res)).manifests.map((m: { digest: string }) => m.digest), [sha("sha256", signature)]);

    res = await alice.request("DELETE", `/v2/alice/app/manifests/${sha("sha256", sbom)}`, PUSH);
    assert.equal(res.status, 202);
    res = await alice.request("GET", `/v2/alice/app/referrers/${subject.digest}`, PUSH);
    assert.deepEqual((await json(res)).manifests.map((m: { digest: string }) => m.digest), [sha("sha256", signature)]);
  });

  it("should answer an empty index for an unknown subject and 400 (never 500) for a malformed one", async () => {
    let res = await alice.request("GET", `/v2/alice/app/referrers/${sha("sha512", Buffer.from("none"))}`, PUSH);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { schemaVersion: 2, mediaType: INDEX, manifests: [] });
    for (const bad of ["latest", "sha256:zz", "sha256:", "md5:d41d8cd98f00b204e9800998ecf8427e"]) {
      res = await alice.request("GET", `/v2/alice/app/referrers/${bad}`, PUSH);
      assert.equal(res.status, 400, bad);
      assert.match((await json(res)).errors[0].code, /^(DIGEST_INVALID|UNSUPPORTED)$/, bad);
    }
    res = await alice.request("DELETE", `/v2/alice/app/referrers/${sha("sha256", EMPTY)}`, PUSH);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).errors[0].code, "UNSUPPORTED");
  });

  it("should mount from a named source the token lets it pull, and anonymously from a repository it may pull", async () => {
    const data = Buffer.from("mount me\n");
    const digest = sha("sha512", data);
    assert.equal((await postPut("alice/app", data, digest)).status, 201);
    let res = await alice.request("POST", `/v2/alice/copy/blobs/uploads/?mount=${digest}&from=alice/app`, "repository:alice/copy:pull,push repository:alice/app:pull");
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get("location"), `/v2/alice/copy/blobs/${digest}`);
    res = await alice.request("POST", `/v2/alice/anon/blobs/uploads/?mount=${digest}`, "repository:alice/anon:pull,push");
    assert.equal(res.status, 201, await res.clone().text());
    res = await alice.request("HEAD", `/v2/alice/anon/blobs/${digest}`, "repository:alice/anon:pull");
    assert.equal(res.status, 200);
    // Unknown anywhere: the spec's fallback, a new upload session.
    res = await alice.request("POST", `/v2/alice/anon/blobs/uploads/?mount=${sha("sha256", Buffer.from("nowhere"))}`, "repository:alice/anon:pull,push");
    assert.equal(res.status, 202);
  });
});
