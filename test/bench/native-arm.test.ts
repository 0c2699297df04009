// The benchmark's native arm in real Envoy: it must do the client-visible work the wasm policy chain
// does (verify the token, hand the upstream the identity, tell the client its quota, refuse over
// quota), or "filter ÷ native" compares against a lighter job.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";
import { generateBenchKey, makeUsers } from "../../bench/lib/identity.ts";
import { nativeFilters, nativeRateLimitRoute, type PlanLimit } from "../../bench/lib/native.ts";
import { send, startUpstream, type RecordingUpstream } from "../policy/http.ts";

const catalog = JSON.parse(readFileSync(new URL("../../image-hub/plans.json", import.meta.url), "utf8")) as { windowSeconds: number; plans: PlanLimit[] };
const personal = catalog.plans.find((p) => p.id === "personal");
const MANIFEST = "/v2/bench/app/manifests/latest";

describe("bench native arm (jwt_authn + local_ratelimit) in Envoy", () => {
  let upstream: RecordingUpstream;
  let envoy: EnvoyInstance;
  let token: string;
  let user: string;

  before(async () => {
    assert.ok(personal, "image-hub/plans.json has a personal plan");
    const key = await generateBenchKey();
    const [u] = await makeUsers(key, "native", { personal: 1 }, "bench/app");
    token = u.token;
    user = u.name;
    upstream = await startUpstream();
    envoy = await startEnvoy({
      clusters: [{ name: "upstream", port: upstream.port }],
      filters: nativeFilters(key),
      routes: [{ prefix: "/v2/", typedPerFilterConfig: nativeRateLimitRoute(catalog.plans, catalog.windowSeconds) }, { prefix: "/" }],
      concurrency: 1,
    });
  });

  after(async () => {
    await envoy?.stop();
    await upstream?.close();
  });

  test("refuses a pull without a token before the upstream", async () => {
    const res = await send(envoy.url, { path: MANIFEST });
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, 0);
  });

  test("passes the identity upstream and sends the quota on every answer, then refuses over quota", async () => {
    const limit = personal!.pullsPerWindow;
    for (let i = 1; i <= limit; i++) {
      const res = await send(envoy.url, { path: MANIFEST, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `pull ${i}`);
      assert.equal(res.headers["x-ratelimit-limit"], String(limit), `pull ${i}`);
      assert.equal(res.headers["x-ratelimit-remaining"], String(limit - i), `pull ${i}`);
    }
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers["x-hub-user"], user);
    assert.equal(seen.headers["x-hub-plan"], "personal");
    const refused = await send(envoy.url, { path: MANIFEST, headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers["x-ratelimit-remaining"], "0");
    assert.ok(Number(refused.headers["x-ratelimit-reset"]) > 0, "a refusal says when a token comes back");
    assert.equal(upstream.seen.length, limit, "the refused pull never reached the upstream");
  });
});
