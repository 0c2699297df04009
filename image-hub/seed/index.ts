/**
 * Demo data for the local run: one user per plan and a few small images the project builds
 * itself, pushed through the public API exactly as a client would. Idempotent: re-seeding an
 * existing data folder changes nothing visible.
 * @module
 */
import type { Catalog } from "../catalog.ts";
import { RegistryClient } from "./client.ts";
import { join } from "node:path";
import { buildImage, writeOciLayout } from "./oci.ts";

/** A demo login printed at start. */
export interface DemoUser {
  username: string;
  password: string;
  plan: string;
}

/** DEMO_PASSWORD is a DEMO credential, printed on start; never use it for anything real. */
export const DEMO_PASSWORD = "demo-password";

const DEMO_NAMES: Record<string, string> = { personal: "alice", team: "bob", enterprise: "carol" };

/** demoUsers returns one demo login per catalog plan (alice, bob, carol for the shipped catalog). */
export function demoUsers(catalog: Catalog): DemoUser[] {
  return catalog.plans.map((p) => ({ username: DEMO_NAMES[p.id] ?? `demo-${p.id}`, password: DEMO_PASSWORD, plan: p.id }));
}

/** The demo images: repository (in the owner's namespace), tag, and the files of the single layer. */
function demoImages(users: DemoUser[]): { user: DemoUser; repo: string; tag: string; files: Record<string, string> }[] {
  const [first, second, third] = users;
  const out = [];
  if (first) {
    out.push({ user: first, repo: `${first.username}/hello`, tag: "1.0", files: { "hello.txt": "Hello from Image Hub!\n", "etc/motd": "Pulled through the sidecar.\n" } });
  }
  if (second) {
    out.push({ user: second, repo: `${second.username}/tools`, tag: "latest", files: { "usr/share/tools/README": "A tools image seeded by npm start.\n" } });
    out.push({ user: second, repo: `${second.username}/tools`, tag: "2.1", files: { "usr/share/tools/README": "Tools, version 2.1.\n", "usr/share/tools/VERSION": "2.1\n" } });
  }
  if (third) {
    out.push({ user: third, repo: `${third.username}/webapp`, tag: "stable", files: { "srv/www/index.html": "<h1>webapp</h1>\n", "srv/www/robots.txt": "User-agent: *\n" } });
  }
  return out;
}

/**
 * seedDemo creates the demo users (existing ones are kept) and pushes the demo images through
 * `baseUrl` (Envoy in the local run); with `layoutDir`, it also writes each image there as an OCI
 * layout (`<dir>/<owner>-<name>`, tagged). Resolves to the demo logins; rejects with the failing call's
 * status and body when the stack refuses something it should accept.
 */
export async function seedDemo(baseUrl: string, catalog: Catalog, layoutDir?: string): Promise<DemoUser[]> {
  const users = demoUsers(catalog);
  for (const u of users) {
    const res = await fetch(`${baseUrl}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: u.username, password: u.password, plan: u.plan }),
    });
    if (res.status !== 201 && res.status !== 409) throw new Error(`seeding user ${u.username}: ${res.status} ${await res.text()}`);
  }
  for (const img of demoImages(users)) {
    const image = await buildImage(img.files, { "org.opencontainers.image.title": img.repo });
    // The same image as an OCI layout on disk, for trying real clients: `skopeo copy oci:<dir>:<tag> …`.
    if (layoutDir) writeOciLayout(join(layoutDir, img.repo.replace("/", "-")), image, img.tag);
    const client = new RegistryClient(baseUrl, img.user.username, img.user.password);
    // Already seeded on an earlier start: leave it (and its last-push time) alone.
    const head = await client.request("HEAD", `/v2/${img.repo}/manifests/${img.tag}`, `repository:${img.repo}:pull,push`);
    if (head.status === 200) continue;
    await client.pushImage(img.repo, img.tag, image);
  }
  return users;
}
