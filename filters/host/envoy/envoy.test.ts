// The harness against real Envoy 1.40, with a hand-written WAT module (fixtures/probe.wat) so it is
// tested independently of the SDK and the emulator.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";
import { buildBootstrap, EnvoyStartError, startEnvoy, validateBootstrap, type EnvoyInstance, type RouteSpec } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "envoy-harness-test-"));
const probeWasm = join(dir, "probe.wasm");

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

async function upstream(name: string, seen: Seen[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => res.writeHead(200, { "x-upstream": name, "content-type": "text/plain" }).end(`from ${name}`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

before(async () => {
  const wabt = await wabtInit();
  const mod = wabt.parseWat("probe.wat", readFileSync(new URL("./fixtures/probe.wat", import.meta.url), "utf8"));
  writeFileSync(probeWasm, Buffer.from(mod.toBinary({}).buffer));
  mod.destroy();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("buildBootstrap", () => {
  it("generates a loopback listener, the wasm chain, the router last, routes and clusters", () => {
    const b = buildBootstrap({
      clusters: [{ name: "app", port: 9000, requestTimeoutMs: 2500 }, { name: "callouts", port: 9001, connectTimeoutMs: 250 }],
      filters: [
        { name: "one", wasm: "/x/one.wasm", rootId: "r", configuration: { a: 1 }, failurePolicy: "FAIL_OPEN", allowOnHeadersStopIteration: true },
        { kind: "native", name: "envoy.filters.http.local_ratelimit", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "rl" } },
      ],
      routes: [{ prefix: "/api/", cluster: "callouts", requestHeadersToAdd: { "x-hub-sidecar": "demo-secret" }, responseHeadersToRemove: ["x-envoy-upstream-service-time"] }, { prefix: "/" }],
    });
    const listener = (b.config.static_resources as { listeners: Record<string, unknown>[] }).listeners[0]!;
    assert.deepEqual(listener.address, { socket_address: { address: "127.0.0.1", port_value: 0 } });
    const hcm = (listener.filter_chains as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!.filters[0]!.typed_config;
    const chain = hcm.http_filters as { name: string; typed_config: Record<string, unknown> }[];
    assert.deepEqual(chain.map((f) => f.name), ["one", "envoy.filters.http.local_ratelimit", "envoy.filters.http.router"]);
    assert.deepEqual(chain[0]!.typed_config.config, {
      name: "one",
      root_id: "r",
      failure_policy: "FAIL_OPEN",
      allow_on_headers_stop_iteration: true,
      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: '{"a":1}' },
      vm_config: { vm_id: "one", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/x/one.wasm" } } },
    });
    const routes = (hcm.route_config as { virtual_hosts: { routes: Record<string, unknown>[] }[] }).virtual_hosts[0]!.routes;
    assert.deepEqual(routes[0], {
      match: { prefix: "/api/" },
      route: { cluster: "callouts" },
      request_headers_to_add: [{ header: { key: "x-hub-sidecar", value: "demo-secret" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
      response_headers_to_remove: ["x-envoy-upstream-service-time"],
    });
    assert.deepEqual(routes[1], { match: { prefix: "/" }, route: { cluster: "app", timeout: "2.5s" } });
    assert.match(b.yaml, /connect_timeout: 0\.25s/);
  });

  it("names the field of a bad option", () => {
    assert.throws(() => buildBootstrap({ clusters: [{ name: "a", port: 0 }] }), /clusters\[0\]\.port/);
    const misspelt = { prefix: "/", requestHeaderToAdd: { a: "b" } } as unknown as RouteSpec;
    assert.throws(() => buildBootstrap({ clusters: [{ name: "a", port: 1 }], routes: [misspelt] }), /listeners\[0\]\.routes\[0\]\.requestHeaderToAdd: unknown field/);
    assert.throws(() => buildBootstrap({ clusters: [{ name: "a", port: 1 }], routes: [{ cluster: "b" }] }), /listeners\[0\]\.routes\[0\]\.cluster: unknown cluster "b"/);
    assert.throws(
      () => buildBootstrap({ clusters: [{ name: "a", port: 1 }], filters: [{ name: "f", wasm: "/f.wasm" }, { name: "f", wasm: "/g.wasm" }] }),
      /listeners\[0\]\.filters\[1\]\.name: duplicate filter "f"/,
    );
    assert.throws(
      () => buildBootstrap({ clusters: [{ name: "a", port: 1 }], filters: [{ name: "f", wasm: "/f.wasm", failurePolicy: "NOPE" as "FAIL_OPEN" }] }),
      /listeners\[0\]\.filters\[0\]\.failurePolicy/,
    );
    assert.throws(() => buildBootstrap({ clusters: [{ name: "a", port: 1, moreEndpoints: [{ port: 70000 }] }] }), /clusters\[0\]\.moreEndpoints\[0\]\.port/);
  });

  it("balances a cluster over more endpoints and copies a listener's local reply config", () => {
    const localReplyConfig = { mappers: [{ filter: { response_flag_filter: { flags: ["RLSE"] } }, status_code: 503 }] };
    const { config } = buildBootstrap({ listeners: [{ name: "front", localReplyConfig }], clusters: [{ name: "a", port: 1, moreEndpoints: [{ port: 2 }, { host: "127.0.0.2", port: 3 }] }] });
    const resources = config.static_resources as { listeners: any[]; clusters: any[] };
    const endpoints = resources.clusters[0].load_assignment.endpoints[0].lb_endpoints.map((e: any) => e.endpoint.address.socket_address);
    assert.deepEqual(endpoints, [{ address: "127.0.0.1", port_value: 1 }, { address: "127.0.0.1", port_value: 2 }, { address: "127.0.0.2", port_value: 3 }]);
    assert.deepEqual(resources.listeners[0].filter_chains[0].filters[0].typed_config.local_reply_config, localReplyConfig);
  });
});

describe("validateBootstrap", () => {
  it("accepts a good bootstrap and refuses an unknown wasm runtime", async () => {
    const good = buildBootstrap({ clusters: [{ name: "a", port: 1 }], filters: [{ name: "p", wasm: probeWasm }] });
    const ok = await validateBootstrap(good);
    assert.equal(ok.ok, true, ok.output.join("\n"));
    assert.ok(ok.output.some((l) => l.includes("OK")), "validate prints that the configuration is OK");
    const bad = buildBootstrap({ clusters: [{ name: "a", port: 1 }], filters: [{ name: "p", wasm: probeWasm }], runtime: "envoy.wasm.runtime.nope" });
    const refused = await validateBootstrap(bad);
    assert.equal(refused.ok, false);
  });
});

describe("startEnvoy", () => {
  const seenA: Seen[] = [];
  const seenB: Seen[] = [];
  let a: { server: Server; port: number };
  let b: { server: Server; port: number };
  let envoy: EnvoyInstance | undefined;

  before(async () => {
    a = await upstream("a", seenA);
    b = await upstream("b", seenB);
    envoy = await startEnvoy({
      concurrency: 2,
      componentLogLevel: { wasm: "debug" },
      clusters: [{ name: "a", port: a.port }, { name: "b", port: b.port, requestTimeoutMs: 3000 }],
      filters: [{ name: "probe_plugin", wasm: probeWasm, rootId: "probe_root", vmId: "probe_vm", configuration: { greeting: "hi" } }],
      routes: [{ prefix: "/b/", cluster: "b", requestHeadersToAdd: { "x-route": "b" }, responseHeadersToRemove: ["x-upstream"] }, { prefix: "/" }],
    });
  });
  after(async () => {
    await envoy?.stop();
    a.server.close();
    b.server.close();
  });

  it("runs the module on the V8 runtime and routes by prefix with route headers", async () => {
    const e = envoy!;
    const toA = await get(`${e.url}/hello`);
    assert.equal(toA.status, 200);
    assert.equal(toA.body, "from a");
    assert.equal(toA.headers["x-probe"], "response");
    assert.equal(toA.headers["x-upstream"], "a");
    const toB = await get(`${e.url}/b/x`);
    assert.equal(toB.body, "from b");
    assert.equal(toB.headers["x-upstream"], undefined, "the route removes x-upstream");
    assert.equal(seenA.length, 1);
    assert.equal(seenA[0]!.headers["x-probe"], "request");
    assert.equal(seenA[0]!.headers["x-route"], undefined);
    assert.equal(seenB[0]!.headers["x-route"], "b");
    assert.equal(seenB[0]!.headers["x-envoy-expected-rq-timeout-ms"], "3000");
    const stats = await e.stats("wasm");
    assert.ok((stats["wasm.envoy.wasm.runtime.v8.created"] ?? 0) >= 3, JSON.stringify(stats));
    assert.match(await e.statsPrometheus(), /envoy_wasm_envoy_wasm_runtime_v8_created/);
  });

  it("parses wasm log lines of root and stream contexts", async () => {
    const e = envoy!;
    const done = await e.waitForLog((l) => l.message === "stream done");
    assert.deepEqual({ ...done, thread: 0 }, { level: "debug", message: "stream done", pluginName: "probe_plugin", rootId: "probe_root", vmId: "probe_vm", thread: 0 });
    const configs = e.logs("probe_plugin").filter((l) => l.message === '{"greeting":"hi"}');
    // One on_configure per VM instance: the canary, the main thread and each of the 2 workers.
    assert.equal(configs.length, 4);
    assert.ok(configs.every((l) => l.level === "info" && l.rootId === "probe_root" && l.pluginName === undefined));
  });

  it("stops Envoy", async () => {
    const pid = envoy!.pid;
    await envoy!.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    await envoy!.stop();
  });
});

describe("startEnvoy with native filters and several listeners", () => {
  it("runs local_ratelimit on one listener and the wasm probe on another", async (t) => {
    const seen: Seen[] = [];
    const up = await upstream("a", seen);
    t.after(() => up.server.close());
    const envoy = await startEnvoy({
      clusters: [{ name: "a", port: up.port }],
      listeners: [
        {
          name: "limited",
          filters: [
            {
              kind: "native",
              name: "envoy.filters.http.local_ratelimit",
              typedConfig: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                stat_prefix: "rl",
                token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: "60s" },
                filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "rl_enabled" },
                filter_enforced: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "rl_enforced" },
              },
            },
          ],
        },
        { name: "wasm", filters: [{ name: "probe_plugin", wasm: probeWasm }] },
      ],
    });
    t.after(() => envoy.stop());
    assert.deepEqual(Object.keys(envoy.urls), ["limited", "wasm"]);
    assert.equal((await get(`${envoy.urls.limited}/x`)).status, 200);
    const limited = await get(`${envoy.urls.limited}/x`);
    assert.equal(limited.status, 429);
    assert.equal(seen.length, 1, "the limited request must not reach the upstream");
    const viaWasm = await get(`${envoy.urls.wasm}/y`);
    assert.equal(viaWasm.headers["x-probe"], "response");
    assert.equal(seen[1]!.headers["x-probe"], "request");
    assert.equal((await envoy.stats("rl"))["rl.http_local_rate_limit.rate_limited"], 1);
  });
});

describe("startEnvoy refusals", () => {
  it("rejects with Envoy's output when the module does not exist", async () => {
    const err = await startEnvoy({ clusters: [{ name: "a", port: 1 }], filters: [{ name: "p", wasm: join(dir, "missing.wasm") }] }).then(
      () => assert.fail("Envoy should refuse a missing module"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EnvoyStartError);
    assert.equal(err.phase, "validate");
    assert.ok(err.output.join("\n").includes("missing.wasm"), err.message);
  });

  it("reports a start-phase failure when validation is skipped", async () => {
    const err = await startEnvoy({ validate: false, clusters: [{ name: "a", port: 1 }], filters: [{ name: "p", wasm: join(dir, "missing.wasm") }] }).then(
      () => assert.fail("Envoy should refuse a missing module"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EnvoyStartError);
    assert.equal(err.phase, "start");
    assert.match(err.message, /Envoy did not start/);
  });

  it("rejects promptly when the Envoy binary cannot be spawned", async () => {
    const err = await startEnvoy({ validate: false, envoyPath: join(dir, "no-such-envoy"), clusters: [{ name: "a", port: 1 }] }).then(
      () => assert.fail("a missing binary cannot start"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EnvoyStartError);
    assert.match(err.output.join("\n"), /spawn error: .*ENOENT/);
  });
});
