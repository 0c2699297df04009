// The fake hub checked against the real one: the same script of API-client calls (the UI's own
// image-hub/ui/src/api.ts) runs against test/fake-hub.ts and against the real access service
// (storage + access, app enforcement), and both must give the same shapes and the same errors.
// The UI unit tests trust the fake; this is what makes that trust earned.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiError, createApi, type Api, type TokenStore } from "../src/api.ts";
import { buildImage } from "../../seed/oci.ts";
import { startTestHub, type TestHub } from "../../test-support.ts";
import { createFakeHub } from "./fake-hub.ts";

/** The type structure of a value: what both backends must agree on when their data differ. */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (typeof value === "object") return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  return typeof value;
}

type Outcome = { shape: unknown; facts?: unknown } | { error: { kind: string; status: number; code: string; limit: unknown } };

async function outcome(call: () => Promise<unknown>, facts?: (value: never) => unknown): Promise<Outcome> {
  try {
    const value = await call();
    return facts ? { shape: shape(value), facts: facts(value as never) } : { shape: shape(value) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { error: { kind: err.kind, status: err.status, code: err.code, limit: err.limit === null ? null : shape(err.limit) } };
  }
}

function memoryTokens(): TokenStore {
  let value: string | null = null;
  return { get: () => value, set: (t) => void (value = t) };
}

/** The script: every API call the pages make, happy paths and refusals. `repo:tag` exists on the backend. */
async function script(api: Api, tokens: TokenStore, repo: string, tag: string): Promise<Record<string, Outcome>> {
  const steps: Record<string, Outcome> = {};
  const step = async (name: string, call: () => Promise<unknown>, facts?: (value: never) => unknown) => void (steps[name] = await outcome(call, facts));
  await step("plans", () => api.plans(), (c: { plans: { id: string }[]; windowSeconds: number }) => [c.plans.map((p) => p.id), c.windowSeconds]);
  await step("sign up", () => api.signUp("carol", "contract-password-1", "personal"));
  await step("sign up again", () => api.signUp("carol", "contract-password-1", "personal"));
  await step("sign up with an unknown plan", () => api.signUp("dave", "contract-password-1", "gold"));
  await step("log in with a wrong password", () => api.logIn("carol", "wrong-password-1"));
  await step("log in", () => api.logIn("carol", "contract-password-1"));
  await step("me", () => api.me(), (m: { username: string; plan: string; planName: string; quota: { limit: number; remaining: number; windowSeconds: number } }) => [m.username, m.plan, m.planName, m.quota.limit, m.quota.remaining, m.quota.windowSeconds]);
  await step("change to an unknown plan", () => api.changePlan("gold"));
  await step("change plan", () => api.changePlan("team"), (m: { plan: string; planName: string; quota: { limit: number } }) => [m.plan, m.planName, m.quota.limit]);
  await step("back to personal", () => api.changePlan("personal"), (m: { plan: string; quota: { limit: number } }) => [m.plan, m.quota.limit]);
  await step("repositories", () => api.repositories());
  await step("search with no match", () => api.repositories("zzz-no-such-repo"), (list: unknown[]) => list.length);
  await step("repository", () => api.repository(repo), (r: { name: string }) => r.name === repo);
  await step("unknown repository", () => api.repository("nobody/nothing"));
  await step("pull", () => api.pull(repo, tag), (p: { digest: string; bytes: number; quota: { limit: number; remaining: number } }) => [/^sha256:[0-9a-f]{64}$/.test(p.digest), p.bytes > 0, p.quota.limit, p.quota.remaining]);
  for (let i = 0; i < 9; i++) await api.pull(repo, tag);
  await step("pull over the limit", () => api.pull(repo, tag));
  tokens.set("not-a-session");
  await step("me with a stale session", () => api.me());
  await step("me after a 401 forgot the session", () => api.me());
  return steps;
}

describe("UI API client: the fake hub answers like the real access service", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub("app");
    // The real hub needs an image to list and pull; the fake has its fixture repositories.
    const owner = await hub.user("erin", "team");
    await owner.pushImage("erin/app", "1.0", await buildImage({ "hello.txt": "hello" }));
  });
  after(() => hub?.close());

  it("should give the same shapes, facts and errors for every call of the script", async () => {
    const fake = createFakeHub();
    const fakeTokens = memoryTokens();
    const fromFake = await script(createApi({ fetch: fake.fetch, tokens: fakeTokens }), fakeTokens, "demo/hello", "1.0");
    const realTokens = memoryTokens();
    const fromReal = await script(createApi({ baseUrl: hub.accessUrl, tokens: realTokens }), realTokens, "erin/app", "1.0");
    // Every differing call, named: the fake must follow the real service.
    const differing = Object.keys(fromReal).filter((name) => JSON.stringify(fromFake[name]) !== JSON.stringify(fromReal[name]));
    assert.deepEqual(
      differing.map((name) => ({ call: name, fake: fromFake[name], real: fromReal[name] })),
      [],
      "the fake answers differently from the real access service",
    );
    assert.deepEqual(Object.keys(fromFake), Object.keys(fromReal));
    // The script reached both outcomes on both sides, and the expected refusals.
    const codes = Object.values(fromReal).flatMap((o) => ("error" in o ? [`${o.error.status} ${o.error.code}`] : []));
    assert.deepEqual(codes, ["409 USERNAME_TAKEN", "400 BAD_REQUEST", "401 UNAUTHORIZED", "400 BAD_REQUEST", "404 NOT_FOUND", "429 TOOMANYREQUESTS", "401 UNAUTHORIZED", "401 UNAUTHORIZED"]);
  });
});
