// The quota a user sees is the enforcer's count, in both modes, through the real stack (Envoy with 2
// workers): a Personal user's pullsPerWindow manifest GETs on fresh connections (spread over both
// workers), then GET /v2/_quota and /api/me agree with the last pull's RateLimit fields and with
// the count of pulls served; the next pull is 429; in filter mode a restart of the access service
// changes nothing, because the answer comes from the rate-limit filter's shared bucket. Then live
// plans: an upgrade and a downgrade apply within 1 s to the token the client already holds; an
// unknown plan is 400 and changes nothing; in filter mode, with the access service stopped, token-auth
// uses the last confirmed plan for at most its TTL and then refuses (503) instead of trusting the
// token's richer claim.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RegistryClient } from "../../image-hub/seed/client.ts";
import { buildImage } from "../../image-hub/seed/oci.ts";
import { startStack, type Stack } from "../../image-hub/start.ts";
import { parseQuotaFields } from "../../image-hub/ratelimit-fields.ts";

const PASSWORD = "quota-password";
const filtersBuilt = ["token-auth", "plan-enforcement", "rate-limit"].every((n) => existsSync(new URL(`../../build/filters/${n}.wasm`, import.meta.url)));

/** One GET on a connection of its own (agent: false), so Envoy's workers share the requests. */
/** The RateLimit-Policy and RateLimit of an answer, parsed; null when either is missing or malformed. */
const fieldsOf = (r: { headers: http.IncomingHttpHeaders }) => parseQuotaFields((name) => {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
});

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
      const lastFields = fieldsOf(last);
      assert.deepEqual({ ...lastFields, resetSeconds: 0 }, { policy: "personal", limit, windowSeconds: stack.services.catalog.windowSeconds, remaining: 0, resetSeconds: 0 }, String(last.headers.ratelimit));
      // Both workers served connections of this test.
      const afterPulls = await workerConnections();
      assert.equal(afterPulls.length, 2, JSON.stringify(afterPulls));
      assert.ok(afterPulls.every((n, i) => n > (before[i] ?? 0)), `connections per worker ${JSON.stringify(before)} → ${JSON.stringify(afterPulls)}`);

      const expected = { plan: "personal", limit, used: limit, remaining: 0, resetSeconds: lastFields!.resetSeconds, windowSeconds: stack.services.catalog.windowSeconds };
      const check = async (label: string) => {
        for (let i = 0; i < 4; i++) {
          const quota = await getFresh(stack, "/v2/_quota", auth);
          assert.equal(quota.status, 200, quota.body);
          assert.equal(quota.headers["content-type"], "application/json");
          const body = JSON.parse(quota.body) as Record<string, number>;
          assert.equal(body.limit, lastFields!.limit, label);
          assert.equal(body.remaining, lastFields!.remaining, label);
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

      const team = stack.services.catalog.plans.find((p) => p.id === "team")!.pullsPerWindow;
      const setPlan = (plan: string) => fetch(`${stack.url}/api/plan`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${session}` }, body: JSON.stringify({ plan }) });
      /** Pulls with the same token until `done` holds; returns the answer and the ms since `from`. */
      const pullUntil = async (from: number, done: (r: Awaited<ReturnType<typeof getFresh>>) => boolean) => {
        for (;;) {
          const r = await getFresh(stack, "/v2/quin/app/manifests/v1", auth);
          if (done(r) || Date.now() - from > 3000) return { r, ms: Date.now() - from };
          await new Promise((w) => setTimeout(w, 50));
        }
      };
      // An unknown plan: 400 BAD_REQUEST, and the plan stays Personal (the next pull is still 429).
      const bad = await setPlan("platinum");
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "BAD_REQUEST");
      assert.equal((await getFresh(stack, "/v2/quin/app/manifests/v1", auth)).status, 429);

      const upgraded = await setPlan("team");
      assert.equal(upgraded.status, 200);
      const up = await pullUntil(Date.now(), (r) => r.status === 200);
      assert.equal(up.r.status, 200, `still ${up.r.status} ${up.ms} ms after the upgrade`);
      assert.ok(up.ms <= 1000 + 250, `upgrade took ${up.ms} ms`);
      assert.equal(fieldsOf(up.r)?.limit, team);
      assert.equal(fieldsOf(up.r)?.policy, "team");

      const downgraded = await setPlan("personal");
      assert.equal(downgraded.status, 200);
      const down = await pullUntil(Date.now(), (r) => fieldsOf(r)?.limit === limit);
      assert.equal(fieldsOf(down.r)?.limit, limit, `still ${down.r.headers["ratelimit-policy"]} ${down.ms} ms after the downgrade`);
      assert.ok(down.ms <= 1000 + 250, `downgrade took ${down.ms} ms`);

      if (mode === "filter") {
        // A token minted while the user was on Team claims Team; the user is Personal now.
        await setPlan("team");
        const teamToken = await client.token("repository:quin/app:pull");
        await setPlan("personal");
        const teamAuth = { authorization: `Bearer ${teamToken}` };
        const confirmed = await pullUntil(Date.now(), (r) => fieldsOf(r)?.limit === limit);
        assert.equal(fieldsOf(confirmed.r)?.policy, "personal");
        const quotaWith = async (headers: Record<string, string>) => getFresh(stack, "/v2/_quota", headers);
        assert.equal(JSON.parse((await quotaWith(teamAuth)).body).plan, "personal", "the token's Team claim grants nothing");
        await stack.services.stopAccess();
        try {
          // At most one TTL after the last confirmation, the filter stops using it and fails closed.
          const stopped = Date.now();
          let last = await quotaWith(teamAuth);
          while (last.status === 200 && Date.now() - stopped < 3000) {
            assert.equal(JSON.parse(last.body).plan, "personal", "never richer than confirmed");
            await new Promise((w) => setTimeout(w, 50));
            last = await quotaWith(teamAuth);
          }
          assert.ok(Date.now() - stopped <= 1000 + 250, `answered from the cache for ${Date.now() - stopped} ms`);
          assert.equal(last.status, 503);
          assert.equal(last.headers["retry-after"], "1");
          assert.deepEqual(JSON.parse(last.body), { errors: [{ code: "UNAVAILABLE", message: "current plan could not be confirmed", detail: null }] });
          assert.equal((await getFresh(stack, "/v2/quin/app/manifests/v1", teamAuth)).status, 503);
        } finally {
          await stack.services.startAccess();
        }
        const back = await quotaWith(teamAuth);
        assert.equal(back.status, 200);
        assert.equal(JSON.parse(back.body).plan, "personal");
      }
    });
  }
});
