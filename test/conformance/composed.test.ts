// Separate vs composed in real Envoy 1.40: the three policy filters as three modules and as ONE
// composed module (filters/policy) run side by side in one Envoy, and every request of the
// equivalence table must get the same status, headers and body, and reach the upstream (with the
// same headers) exactly when it does through the three modules. With the plan lookup configured, a
// request paused for the callout must resume through plan-enforcement and rate-limit the same way.
// Then the SDK's Composition in general (test filter compose-trace): two tracing filters as two
// Envoy filters and composed in one module log the same callbacks in the same order (request in
// order, response in reverse, lazy creation, a local reply's path, a resumed callout), in Envoy and
// in the emulator alike.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { startEnvoy, type EnvoyInstance } from "proxy-wasm-host-emulator/envoy";
import { comparable } from "./compare.ts";
import { runInEmulator } from "./emulator-runner.ts";
import { runInEnvoy } from "./envoy-runner.ts";
import type { Observation, Scenario } from "./types.ts";
import { composedPolicyFilter, EXAMPLE_REALM, policyFilterChain, type TokenAuthParams } from "../../image-hub/filter-configs.ts";
import { equivalenceSteps, type Step } from "../policy/cases.ts";
import { send, startUpstream, type RecordingUpstream } from "../policy/http.ts";
import { mintToken } from "../policy/tokens.ts";

const SECRET = "conformance-sidecar-secret";
const plans: Record<string, string> = {};
let accessDown = false;
let access: Server;
let upstream: RecordingUpstream;
let envoy: EnvoyInstance;

/** The three modules, and the composed one, for `params`; each listener gets its own VM ids (own shared data). */
function listeners(suffix: string, params: TokenAuthParams) {
  return [
    { name: `separate${suffix}`, filters: policyFilterChain(params).map((f) => ({ ...f, vmId: `${f.name}${suffix}` })), routes: [{ prefix: "/", cluster: "app" }] },
    { name: `composed${suffix}`, filters: [{ ...composedPolicyFilter(params), vmId: `policy${suffix}` }], routes: [{ prefix: "/", cluster: "app" }] },
  ];
}

before(async () => {
  upstream = await startUpstream();
  // The access service's plan answer (image-hub/CONTRACT.md): 200 with the plan id, 404 for an unknown user.
  access = createServer((req, res) => {
    const user = String(req.headers["x-hub-user"] ?? "");
    if (accessDown) res.writeHead(503).end();
    else if (plans[user]) res.writeHead(200, { "content-type": "text/plain" }).end(plans[user]);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => access.listen(0, "127.0.0.1", r));
  const accessPort = (access.address() as { port: number }).port;
  envoy = await startEnvoy({
    clusters: [
      { name: "app", port: upstream.port },
      { name: "access", port: accessPort },
    ],
    listeners: [...listeners("", { realm: EXAMPLE_REALM }), ...listeners("_lookup", { realm: EXAMPLE_REALM, planLookup: { cluster: "access", secret: SECRET } })],
  });
});

after(async () => {
  await envoy?.stop();
  await upstream?.close();
  await new Promise<void>((r) => (access ? access.close(() => r()) : r()));
});

/** What the client saw, and what the upstream received (undefined when nothing reached it). */
async function observe(listener: string, step: Step) {
  const before = upstream.seen.length;
  // One host for both listeners (by default the client names the listener's port).
  const r = await send(envoy.urls[listener]!, { method: step.method, path: step.path, headers: { host: "policy.test", ...step.headers }, body: step.body });
  const reached = upstream.seen.slice(before);
  // date and the upstream's timing differ by nature; x-request-id is random per request.
  const drop = (h: IncomingHttpHeaders, names: string[]) => Object.fromEntries(Object.entries(h).filter(([k]) => !names.includes(k)));
  return {
    status: r.status,
    headers: drop(r.headers, ["date", "x-envoy-upstream-service-time"]),
    body: r.body,
    upstream: reached.map((s) => ({ method: s.method, path: s.path, bodyBytes: s.bodyBytes, headers: drop(s.headers, ["x-request-id"]) })),
  };
}

/** Sends `step` through both listeners of `suffix` and requires the same observation; returns it. */
async function same(suffix: string, step: Step) {
  const a = await observe(`separate${suffix}`, step);
  const b = await observe(`composed${suffix}`, step);
  assert.deepEqual(b, a, step.name);
  return b;
}

describe("conformance: three policy modules vs one composed module, in Envoy 1.40", () => {
  it("should answer the whole equivalence table identically", async () => {
    const statuses = new Set<number>();
    for (const step of equivalenceSteps(Math.floor(Date.now() / 1000))) statuses.add((await same("", step)).status);
    // The table reached every kind of answer: passes and each filter's refusals.
    assert.deepEqual([...statuses].sort(), [200, 400, 401, 403, 404, 413, 429]);
  });

  it("should resume a request paused for the plan lookup through the next filters, and fail closed alike", async () => {
    const now = Math.floor(Date.now() / 1000);
    const auth = (sub: string, actions: string[]) => ({ authorization: `Bearer ${mintToken({ now, sub, plan: "personal", access: [{ name: `${sub}/app`, actions }] })}` });
    const pull = (sub: string): Step => ({ name: `pull by ${sub}`, method: "GET", path: `/v2/${sub}/app/manifests/v1`, headers: auth(sub, ["pull"]) });
    plans.alice = "team";
    plans.bob = "personal";
    // Looked up (the request pauses, the answer resumes it), then answered from the cache.
    for (let i = 0; i < 2; i++) {
      const r = await same("_lookup", pull("alice"));
      assert.equal(r.status, 200);
      assert.equal(r.upstream[0]!.headers["x-hub-plan"], "team");
      assert.equal(r.headers["ratelimit-policy"], '"team";q=100;w=60');
      assert.match(String(r.headers["ratelimit"]), new RegExp(`^"team";r=${99 - i};t=${i + 1}$`));
    }
    // Resumed into plan-enforcement's refusal: Personal does not allow delete.
    const del = await same("_lookup", { name: "delete by bob", method: "DELETE", path: "/v2/bob/app/manifests/v1", headers: auth("bob", ["pull", "push", "delete"]) });
    assert.equal(del.status, 403);
    assert.deepEqual(del.upstream, []);
    // A user the access service no longer knows: 401 from the callout answer.
    assert.equal((await same("_lookup", pull("carol"))).status, 401);
    // The access service down: 503 once nothing confirmed is younger than the TTL (1 s).
    accessDown = true;
    await new Promise((r) => setTimeout(r, 1100));
    const down = await same("_lookup", pull("alice"));
    assert.equal(down.status, 503);
    assert.equal(down.headers["retry-after"], "1");
    assert.deepEqual(down.upstream, []);
  });
});

/** Two tracing filters with modes `a` and `b`: as two Envoy filters, and composed in one module. */
function tracePair(a: string, b: string): [Scenario, Scenario] {
  const id = `compose_${a}_${b}`.replaceAll("-", "_");
  // With a later filter paused, Envoy passes body chunks to the filters before it while it waits; a
  // composed module is paused as a whole, so they see the body only after the resume (SDK README,
  // "Composing filters"). Those pairs send a GET without a body, so the log lines compare exactly.
  const body = b.startsWith("pause") ? undefined : "hello";
  const base = { requests: [{ method: body === undefined ? "GET" : "POST", path: "/trace", body }], expect: {} };
  return [
    {
      ...base,
      name: `${id}_separate`,
      covers: `two filters (${a}, ${b}) as two modules`,
      filters: [
        { module: "compose-trace", rootId: "trace", config: `a ${a}` },
        { module: "compose-trace", rootId: "trace", config: `b ${b}` },
      ],
    },
    { ...base, name: `${id}_composed`, covers: `the same two filters composed`, filters: [{ module: "compose-trace", rootId: "traces", config: { a: `a ${a}`, b: `b ${b}` } }] },
  ];
}

const MODES: [string, string][] = [
  ["pass", "pass"],
  ["reply", "pass"],
  ["pass", "reply"],
  ["pause", "pass"],
  ["pause", "reply"],
  ["pass", "pause"],
  ["pause", "pause"],
  ["pause-reply", "pass"],
];

describe("conformance: the SDK's Composition vs separate filters, in Envoy 1.40 and the emulator", () => {
  const pairs = MODES.map(([a, b]) => tracePair(a, b));
  const envoySide = new Map<string, Observation>();
  const emulatorSide = new Map<string, Observation>();
  before(
    async () => {
      for (const [name, o] of await runInEnvoy(pairs.flat(), 1)) envoySide.set(name, o);
      for (const s of pairs.flat()) emulatorSide.set(s.name, await runInEmulator(s));
    },
    { timeout: 120_000 },
  );

  /** What must be identical between separate and composed: the client's answer, the upstream's view, the log lines. */
  const seen = (s: Scenario, o: Observation) => {
    const c = comparable(s, o);
    return { responses: c.responses, upstream: c.upstream, streamLogs: c.streamLogs };
  };

  for (const [separate, composed] of pairs) {
    it(`${composed.covers}: ${separate.filters.map((f) => f.config).join(" → ")}`, () => {
      const e = envoySide.get(separate.name)!;
      assert.deepEqual(seen(composed, envoySide.get(composed.name)!), seen(separate, e), "composed vs separate, in Envoy");
      // Envoy is the reference for the emulator, separate and composed.
      assert.deepEqual(seen(separate, emulatorSide.get(separate.name)!), seen(separate, e), "separate in the emulator vs separate in Envoy");
      assert.deepEqual(seen(composed, emulatorSide.get(composed.name)!), seen(separate, e), "composed in the emulator vs separate in Envoy");
      // Something happened: every scenario logs its first filter's request headers.
      assert.ok(e.streamLogs.some((l) => l.message.startsWith("a request_headers")), JSON.stringify(e.streamLogs));
    });
  }
});
