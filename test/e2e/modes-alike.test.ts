// The same edge-case requests through a whole stack in each enforcement mode (wasm filters in Envoy,
// or the access service): every answer must carry the same status, registry error code and
// challenge, and the one CONTRACT.md states; OCI v1.1 pushes and referrers answer alike in full. The table is the policy chain's bad-input table (every
// attack case) plus the token and OCI v1.1 edge cases where the modes once differed. Both stacks
// sign with the demo keys so that one minted token means the same in both.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EnforceMode } from "../../image-hub/access/policy.ts";
import { DEMO_SIGNING_KEYS, EXAMPLE_REALM, MAX_TOKEN_LENGTH, PLAN_TTL_MS } from "../../image-hub/filter-configs.ts";
import { startStack, type Stack } from "../../image-hub/start.ts";
import { badInputCases, challengeFor, type BadInputCase } from "../policy/cases.ts";
import { mintToken } from "../policy/tokens.ts";

const ALICE_PASSWORD = "alice-password";

/** Calls the accounts API as alice (Basic) or anonymously for sign-up; resolves to the response. */
function accounts(stack: Stack, method: string, path: string, body: unknown): Promise<Response> {
  const basic = `Basic ${Buffer.from(`alice:${ALICE_PASSWORD}`).toString("base64")}`;
  return fetch(`${stack.url}${path}`, { method, headers: { "content-type": "application/json", authorization: basic }, body: JSON.stringify(body) });
}

const filtersBuilt = ["token-auth", "plan-enforcement", "rate-limit"].every((n) => existsSync(new URL(`../../build/filters/${n}.wasm`, import.meta.url)));
const MANIFEST = "/v2/alice/app/manifests/latest";
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const pullChallenge = challengeFor("repository:alice/app:pull");

/** What a client can see of an answer, with the stack's own URL replaced by the example realm's. */
interface Answer {
  status: number;
  /** The first registry error code; "" when the answer has none (a HEAD, a success). */
  code: string;
  challenge: string | undefined;
}

function send(stack: Stack, c: BadInputCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(stack.url);
    const req = http.request({ host: u.hostname, port: u.port, method: c.method, path: c.path, headers: c.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        let code = "";
        try {
          code = (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code ?? "";
        } catch {
          // Not a registry error body.
        }
        const challenge = res.headers["www-authenticate"]?.replace(`${stack.url}/api/token`, EXAMPLE_REALM);
        resolve({ status: res.statusCode ?? 0, code, challenge });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * A signed token of exactly `length` characters, padded with a filler claim. A base64url segment is
 * never 1 mod 4 characters long, so a header field of 0-3 characters tunes the remainder.
 */
function tokenOfLength(length: number, now: number): string {
  const base = mintToken({ now, header: { pad: "" }, claims: { filler: "" } }).length;
  // Each filler character adds 4/3 of a character to the token: start a little below the target.
  const start = Math.max(Math.floor(((length - base) * 3) / 4) - 8, 0);
  for (let pad = 0; pad < 4; pad++) {
    for (let filler = start; filler < length; filler++) {
      const token = mintToken({ now, header: { pad: "p".repeat(pad) }, claims: { filler: "f".repeat(filler) } });
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`no token of ${length} characters`);
}

/** The cases where the two modes once answered differently, or that the OCI v1.1 work added. */
function edgeCases(now: number): BadInputCase[] {
  const unauthorized = (name: string, token: string): BadInputCase => ({ name, method: "GET", path: MANIFEST, headers: bearer(token), status: 401, code: "UNAUTHORIZED", challenge: pullChallenge });
  const readable = (name: string, headers: Record<string, string>): BadInputCase => ({ name, method: "GET", path: MANIFEST, headers, status: 404, code: "NAME_UNKNOWN" });
  const valid = mintToken({ now });
  return [
    unauthorized("a validly signed 8 KiB token", tokenOfLength(8192, now)),
    unauthorized("a token one character over the limit", tokenOfLength(MAX_TOKEN_LENGTH + 1, now)),
    readable("a token exactly at the limit", bearer(tokenOfLength(MAX_TOKEN_LENGTH, now))),
    unauthorized("a signed token without an access claim", mintToken({ now, claims: { access: undefined } })),
    unauthorized("an access claim that is not an array", mintToken({ now, claims: { access: { name: "alice/app" } } })),
    unauthorized("an access entry with an invalid repository name", mintToken({ now, access: [{ name: "Alice/App", actions: ["pull"] }] })),
    unauthorized("an access entry whose actions are not strings", mintToken({ now, claims: { access: [{ type: "repository", name: "alice/app", actions: [1] }] } })),
    unauthorized("a non-numeric iat", mintToken({ now, claims: { iat: "yesterday" } })),
    unauthorized("a non-numeric nbf", mintToken({ now, claims: { nbf: "soon" } })),
    unauthorized("typ other than JWT", mintToken({ now, header: { typ: "at+jwt" } })),
    unauthorized("a sub that is not a string", mintToken({ now, claims: { sub: 42 } })),
    unauthorized("a sub with a comma", mintToken({ now, sub: "alice,bob" })),
    unauthorized("a malformed plan", mintToken({ now, plan: "Gold" })),
    unauthorized("a session token (accounts API audience)", mintToken({ now, claims: { aud: "image-hub-api", access: undefined, plan: undefined } })),
    // Live plans (CONTRACT.md): the user's current plan applies, whatever plan the token claims.
    readable("a well-formed unknown plan claim (the current plan applies)", bearer(mintToken({ now, plan: "gold" }))),
    readable("a richer plan claim (the current plan applies)", bearer(mintToken({ now, plan: "enterprise" }))),
    unauthorized("a token for a user that does not exist", mintToken({ now, sub: "nobody" })),
    readable("no nbf claim", bearer(mintToken({ now, claims: { nbf: undefined } }))),
    readable("a future iat", bearer(mintToken({ now, claims: { iat: now + 3600 } }))),
    readable("an audience list naming the registry", bearer(mintToken({ now, claims: { aud: ["image-hub-registry", "other"] } }))),
    readable("a lower-case bearer scheme", { authorization: `bearer ${valid}` }),
    readable("spaces around the token", { authorization: `Bearer   ${valid}` }),
    { name: "referrers of a malformed digest", method: "GET", path: "/v2/alice/app/referrers/latest", headers: bearer(valid), status: 400, code: "DIGEST_INVALID" },
    { name: "referrers of an unregistered algorithm", method: "GET", path: "/v2/alice/app/referrers/md5:d41d8cd98f00b204e9800998ecf8427e", headers: bearer(valid), status: 400, code: "UNSUPPORTED" },
    { name: "referrers without a token", method: "GET", path: `/v2/alice/app/referrers/sha256:${"0".repeat(64)}`, headers: {}, status: 401, code: "UNAUTHORIZED", challenge: pullChallenge },
    { name: "a sha512 blob of an unknown repository", method: "HEAD", path: `/v2/alice/app/blobs/sha512:${"0".repeat(128)}`, headers: bearer(valid), status: 404, code: "" },
    { name: "a blob of an unregistered algorithm", method: "GET", path: "/v2/alice/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", headers: bearer(valid), status: 400, code: "UNSUPPORTED" },
  ];
}

/** A whole answer: status, the headers a registry client reads, and the body. */
interface FullAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

const READ_HEADERS = ["content-type", "content-length", "docker-content-digest", "location", "oci-subject", "oci-filters-applied", "ratelimit-policy", "ratelimit", "www-authenticate"];
/** RateLimit's t depends on when each stack's bucket was last charged; its remaining r and the policy do not. */
const timeless = (name: string, value: string) => (name === "ratelimit" ? value.replace(/;t=\d+/, ";t=<seconds>") : value);

function exchange(stack: Stack, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<FullAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(stack.url);
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: body ? { ...headers, "content-length": String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const picked: Record<string, string | undefined> = {};
        for (const h of READ_HEADERS) picked[h] = res.headers[h] === undefined ? undefined : timeless(h, String(res.headers[h]).replace(stack.url, "<url>"));
        resolve({ status: res.statusCode ?? 0, headers: picked, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const sha = (algorithm: string, data: Buffer) => `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;

describe("the two enforcement modes answer alike", { skip: filtersBuilt ? false : "build/filters/*.wasm missing: run `node scripts/build.mjs`" }, () => {
  const stacks = new Map<EnforceMode, Stack>();
  const dirs: string[] = [];

  before(async () => {
    for (const mode of ["filter", "app"] as EnforceMode[]) {
      const dataDir = mkdtempSync(join(tmpdir(), `modes-alike-${mode}-`));
      dirs.push(dataDir);
      // Demo keys (marked as such in filter-configs.ts), so the table's tokens verify in both stacks.
      writeFileSync(join(dataDir, "keys.json"), JSON.stringify({ keys: DEMO_SIGNING_KEYS }));
      const stack = await startStack({ enforce: mode, dataDir, quiet: true, seed: false, concurrency: 1, uiDir: dataDir });
      stacks.set(mode, stack);
      // The tables' tokens name alice (Personal by default): the plan enforced is her current one.
      assert.equal((await accounts(stack, "POST", "/api/signup", { username: "alice", password: ALICE_PASSWORD, plan: "personal" })).status, 201);
    }
  });
  after(async () => {
    for (const s of stacks.values()) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("should give every edge case the same status, error code and challenge in both modes, as the table says", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [...badInputCases(now), ...edgeCases(now)];
    const names = new Set(cases.map((c) => c.name));
    assert.equal(names.size, cases.length, "case names are unique");
    for (const c of cases) {
      const filter = await send(stacks.get("filter")!, c);
      const app = await send(stacks.get("app")!, c);
      assert.deepEqual(app, filter, `${c.name}: app mode differs from filter mode`);
      assert.equal(filter.status, c.status, c.name);
      assert.equal(filter.code, c.code, c.name);
      if (c.status === 401) assert.equal(filter.challenge, c.challenge, c.name);
    }
  });

  it("should answer OCI v1.1 pushes and the referrers API identically, headers and bodies included", async () => {
    const now = Math.floor(Date.now() / 1000);
    const auth = bearer(mintToken({ now, plan: "team", access: [{ name: "alice/app", actions: ["pull", "push", "delete"] }] }));
    // This test deletes, which Team allows: alice upgrades, and filter mode's cached plan expires first.
    for (const stack of stacks.values()) assert.equal((await accounts(stack, "POST", "/api/plan", { plan: "team" })).status, 200);
    await new Promise((wait) => setTimeout(wait, PLAN_TTL_MS + 100));
    const json = { ...auth, "content-type": "application/vnd.oci.image.manifest.v1+json" };
    const config = Buffer.from("{}");
    const layer = Buffer.from("a sha512 layer\n");
    const subject = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha("sha256", config), size: 2 }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha("sha512", layer), size: layer.length }] }));
    const sbom = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", artifactType: "application/spdx+json", config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha("sha256", config), size: 2 }, layers: [], subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha("sha256", subject), size: subject.length } }));
    const steps: [string, string, Record<string, string>, Buffer?][] = [
      ["POST", `/v2/alice/app/blobs/uploads/?digest=${sha("sha256", config)}`, auth, config],
      ["POST", `/v2/alice/app/blobs/uploads/?digest=${sha("sha512", layer)}`, auth, layer],
      ["POST", `/v2/alice/app/blobs/uploads/?digest=${sha("sha512", Buffer.from("other"))}`, auth, layer],
      ["HEAD", `/v2/alice/app/blobs/${sha("sha512", layer)}`, auth],
      ["PUT", `/v2/alice/app/manifests/${sha("sha256", sbom)}`, json, sbom],
      ["PUT", "/v2/alice/app/manifests/v1", json, subject],
      ["PUT", `/v2/alice/app/manifests/${sha("sha512", subject)}`, json, subject],
      ["GET", `/v2/alice/app/referrers/${sha("sha256", subject)}`, auth],
      ["GET", `/v2/alice/app/referrers/${sha("sha256", subject)}?artifactType=application%2Fspdx%2Bjson`, auth],
      ["GET", `/v2/alice/app/referrers/${sha("sha256", subject)}?artifactType=none`, auth],
      ["DELETE", `/v2/alice/app/manifests/${sha("sha256", sbom)}`, auth],
      ["GET", `/v2/alice/app/referrers/${sha("sha256", subject)}`, auth],
      ["GET", `/v2/alice/app/referrers/${sha("sha256", subject)}`, bearer(mintToken({ now, access: [] }))],
    ];
    const answers: Record<string, FullAnswer[]> = { filter: [], app: [] };
    for (const mode of ["filter", "app"] as EnforceMode[]) {
      for (const [method, path, headers, body] of steps) answers[mode].push(await exchange(stacks.get(mode)!, method, path, headers, body));
    }
    for (let i = 0; i < steps.length; i++) assert.deepEqual(answers.app[i], answers.filter[i], `${steps[i][0]} ${steps[i][1]}: app mode differs from filter mode`);
    // What the answers say, once (both modes are equal).
    assert.deepEqual(answers.filter.map((a) => a.status), [201, 201, 400, 200, 201, 201, 201, 200, 200, 200, 202, 200, 401]);
    assert.equal(answers.filter[4].headers["oci-subject"], sha("sha256", subject));
    assert.equal(answers.filter[6].headers["docker-content-digest"], sha("sha512", subject));
    assert.equal(JSON.parse(answers.filter[7].body).manifests[0].digest, sha("sha256", sbom));
    assert.equal(answers.filter[8].headers["oci-filters-applied"], "artifactType");
    assert.deepEqual(JSON.parse(answers.filter[9].body).manifests, []);
    assert.deepEqual(JSON.parse(answers.filter[11].body).manifests, []);
    assert.match(answers.filter[12].headers["www-authenticate"] ?? "", /error="insufficient_scope"/);
  });
});
