/**
 * A minimal registry client that does what a real one does against Image Hub: fetch a token from
 * the token endpoint with Basic credentials, then push blobs (POST + PUT) and manifests, or pull.
 * Used by the seeding and by tests; real clients (skopeo) are tested separately.
 * @module
 */
import type { OciImage, Blob } from "./oci.ts";

/** RegistryClient talks to one Image Hub as one user; tokens are cached per scope. */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly basic: string;
  private readonly tokens = new Map<string, string>();

  /** `baseUrl` without a trailing slash, e.g. http://127.0.0.1:8080. Never throws. */
  constructor(baseUrl: string, username: string, password: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  /** token resolves a registry token for the scope; rejects with the status and body when refused. */
  async token(scope: string): Promise<string> {
    const cached = this.tokens.get(scope);
    if (cached) return cached;
    const res = await fetch(`${this.baseUrl}/api/token?service=image-hub&scope=${encodeURIComponent(scope)}`, { headers: { authorization: this.basic } });
    if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    this.tokens.set(scope, token);
    return token;
  }

  /** request sends one registry call with a token for `scope`; resolves to the response, any status. */
  async request(method: string, path: string, scope: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers = { ...init.headers, authorization: `Bearer ${await this.token(scope)}` };
    return fetch(path.startsWith("http") ? path : `${this.baseUrl}${path}`, { method, headers, body: init.body && new Uint8Array(init.body) });
  }

  /** pushBlob uploads one blob to `repo` (POST then PUT) unless it is there; rejects on any refusal. */
  async pushBlob(repo: string, blob: Blob): Promise<void> {
    const scope = `repository:${repo}:pull,push`;
    const head = await this.request("HEAD", `/v2/${repo}/blobs/${blob.digest}`, scope);
    if (head.status === 200) return;
    const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`, scope);
    if (start.status !== 202) throw new Error(`upload start for ${repo} answered ${start.status}: ${await start.text()}`);
    const location = new URL(start.headers.get("location") ?? "", this.baseUrl);
    location.searchParams.set("digest", blob.digest);
    const put = await this.request("PUT", location.toString(), scope, { body: blob.bytes, headers: { "content-type": "application/octet-stream" } });
    if (put.status !== 201) throw new Error(`blob upload to ${repo} answered ${put.status}: ${await put.text()}`);
  }

  /** pushImage uploads the image's blobs and tags its manifest; rejects on any refusal. */
  async pushImage(repo: string, tag: string, image: OciImage): Promise<string> {
    for (const blob of [image.config, ...image.layers]) await this.pushBlob(repo, blob);
    const res = await this.request("PUT", `/v2/${repo}/manifests/${tag}`, `repository:${repo}:pull,push`, {
      body: image.manifest.bytes,
      headers: { "content-type": image.manifest.mediaType },
    });
    if (res.status !== 201) throw new Error(`manifest push to ${repo}:${tag} answered ${res.status}: ${await res.text()}`);
    return res.headers.get("docker-content-digest") ?? "";
  }

  /** pullManifest GETs a manifest (a counted pull); resolves to the response, any status. */
  pullManifest(repo: string, ref: string): Promise<Response> {
    return this.request("GET", `/v2/${repo}/manifests/${ref}`, `repository:${repo}:pull`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
  }
}
