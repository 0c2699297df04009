// The quota a user sees is the enforcer's count, in both modes, through the real stack (Envoy with 2
// workers): a Personal user's pullsPerWindow manifest GETs on fresh connections (spread over both
// workers), then GET /v2/_quota and /api/me agree with the last pull's RateLimit-* headers and with
// the count of pulls served; the next pull is 429; in filter mode a restart of the access service
// changes nothing, because the answer comes from the rate-limit filter's shared bucket.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { buildImage } from "../../image-hub/seed/oci.ts";
import { startStack, type Stack } from "../../image-hub/start.ts";

const PASSWORD = "quota-password";
const filtersBuilt = ["token-auth", "plan-enforcement", "rate-limit"].every((n) => existsSync(new URL(`../../build/filters/${n}.wasm`, import.meta.url)));

/** One GET on a connection of its own (agent: false), so Envoy's workers share the requests. */
function getFresh(stack: Stack, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(stack.url);
    const req = http.request({ host: u.hostname, port: u.port, method: "GET", path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function signUp(stack: Stack, username: string): Promise<{ client: RegistryClient; session: string }> {
  const res = await fetch(`${stack.url}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: PASSWORD, plan: "personal" }) });
  assert.equal(res.status, 201, await res.clone().text());
  return { client: new RegistryClient(stack.url, username, PASSWORD), session: ((await res.json()) as { token: string }).token };
}

describe("the quota is the enforcer's count", { skip: filtersBuilt ? false : "build/filters/*.wasm missing: run `node scripts/build.mjs`" }, () => {
  const stacks: Stack[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of stacks) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const mode of ["filter", "app"] as const) {
    it(`--enforce ${mode}, 2 Envoy workers: pullsPerWindow pulls → used = limit, remaining = 0, as the last pull said; then 429`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), `e2e-quota-${mode}-`));
      dirs.push(dataDir);
      const stack = await startStack({ enforce: mode, dataDir, quiet: true, seed: false, concurrency: 2 });
      stacks.push(stack);
      const limit = stack.services.catalog.plans.find((p) => p.id === "personal")!.pullsPerWindow;
      const { client, session } = await signUp(stack, "quin");
      await client.pushImage("quin/app", "v1", await buildImage({ "q.txt": "quota\n" }));
      const token = await client.token("repository:quin/app:pull");
      const auth = { authorization: `Bearer ${token}` };
      const workerConnections = async () => Object.values(await stack.envoy.stats("worker_\\d+\\.downstream_cx_total$"));
      const before = await workerConnections();

      const pulls = [];
      for (let i = 0; i < limit; i++) pulls.push(await getFresh(stack, "/v2/quin/app/manifests/v1", auth));
      assert.deepEqual(pulls.map((p) => p.status), Array(limit).fill(200));
      const last = pulls[limit - 1]!;
      assert.equal(last.headers["ratelimit-remaining"], "0");
      // Both workers served connections of this test.
      const afterPulls = await workerConnections();
      assert.equal(afterPulls.length, 2, JSON.stringify(afterPulls));
      assert.ok(afterPulls.every((n, i) => n > (before[i] ?? 0)), `connections per worker ${JSON.stringify(before)} → ${JSON.stringify(afterPulls)}`);

      const expected = { plan: "personal", limit, used: limit, remaining: 0, resetSeconds: Number(last.headers["ratelimit-reset"]), windowSeconds: stack.services.catalog.windowSeconds };
      const check = async (label: string) => {
        for (let i = 0; i < 4; i++) {
          const quota = await getFresh(stack, "/v2/_quota", auth);
          assert.equal(quota.status, 200, quota.body);
          assert.equal(quota.headers["content-type"], "application/json");
          const body = JSON.parse(quota.body) as Record<string, number>;
          assert.equal(String(body.limit), last.headers["ratelimit-limit"], label);
          assert.equal(String(body.remaining), last.headers["ratelimit-remaining"], label);
          // Reset is in whole seconds and the clock moved on by at most a second or two.
          assert.ok(body.resetSeconds <= expected.resetSeconds && body.resetSeconds >= expected.resetSeconds - 2, `${label}: reset ${body.resetSeconds}`);
          assert.deepEqual({ ...body, resetSeconds: expected.resetSeconds, usedResetSeconds: 0 }, { ...expected, usedResetSeconds: 0 }, label);
          const me = await fetch(`${stack.url}/api/me`, { headers: { authorization: `Bearer ${session}` } });
          assert.equal(me.status, 200);
          const q = ((await me.json()) as { quota: Record<string, number> }).quota;
          assert.deepEqual({ ...q, resetSeconds: expected.resetSeconds, usedResetSeconds: 0 }, { ...expected, usedResetSeconds: 0 }, `${label}: /api/me`);
        }
      };
      await check("after the pulls");
      const refused = await getFresh(stack, "/v2/quin/app/manifests/v1", auth);
      assert.equal(refused.status, 429);
      await check("after the 429 (a refusal counts nothing)");
      if (mode === "filter") {
        await stack.services.restartAccess();
        await check("after restarting the access service");
        assert.equal((await getFresh(stack, "/v2/quin/app/manifests/v1", auth)).status, 429);
      }
    });
  }
});
