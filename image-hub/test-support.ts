/**
 * Helpers shared by the Image Hub service tests: in-process services in a temp folder, a signed-up
 * user, and raw HTTP for requests fetch cannot make (a body cut off mid-stream).
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnforceMode } from "./access/policy.ts";
import type { Catalog } from "./catalog.ts";
import { RegistryClient } from "./seed/client.ts";
import { startServices, type Services } from "./services.ts";

/** A running test instance: services, its data folder, and a stop that also deletes the folder. */
export interface TestHub extends Services {
  dataDir: string;
  /** Creates a user and returns a registry client for them; rejects when sign-up fails. */
  user(username: string, plan?: string): Promise<RegistryClient>;
  /** Stops the services and deletes the data folder; never rejects. */
  close(): Promise<void>;
}

/** TEST_PASSWORD is the password of every test user. */
export const TEST_PASSWORD = "test-password";

/**
 * startTestHub starts storage + access on free ports in a fresh temp folder, with the project's
 * catalog unless one is given; 5xx errors are logged as usual. Rejects like startServices.
 */
export async function startTestHub(mode: EnforceMode = "app", catalog?: Catalog): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), "image-hub-test-"));
  const services = await startServices({ dataDir, mode, catalog });
  return {
    ...services,
    dataDir,
    async user(username, plan = "personal") {
      const res = await fetch(`${services.accessUrl}/api/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: TEST_PASSWORD, plan }),
      });
      if (res.status !== 201) throw new Error(`signup ${username}: ${res.status} ${await res.text()}`);
      return new RegistryClient(services.accessUrl, username, TEST_PASSWORD);
    },
    async close() {
      await services.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * sendPartial starts a request announcing `announced` bytes, writes `sent` bytes, then destroys the
 * socket (a client dying mid-upload). Resolves once the socket is gone; never rejects.
 */
export function sendPartial(url: string, method: string, headers: Record<string, string>, announced: number, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers: { ...headers, "content-length": String(announced) } });
    req.on("error", () => resolve());
    req.on("close", () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), 100));
  });
}

/** rawGet sends a GET with the path exactly as given (no URL normalisation); never rejects on a status. */
export function rawGet(base: string, path: string, token?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = http.request({ host: u.hostname, port: u.port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * json reads a response body as JSON. Typed loosely on purpose: tests check bodies with
 * assertions, and a wrong shape fails there. Rejects when the body is not JSON.
 */
export async function json(res: Response): Promise<any> {
  return res.json();
}

/** waitUntil polls `probe` every 25 ms until it returns true; rejects after `timeoutMs`. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
