// Scenarios on host services: properties, shared data, metrics and ticks, callouts, failures,
// configuration refusal, and the project's real filters (add-header, the proxy-runtime 0.1.8 fixture).
// Covers proxy-wasm-host.md §6 items 8, 35–57.
import type { Scenario } from "./types.ts";

const scripted = (config: string, extra: Partial<Scenario["filters"][number]> = {}) => [{ module: "scripted", config, ...extra }];

/** Host-service scenarios; plain data, safe to import anywhere. */
export const hostScenarios: Scenario[] = [
  {
    name: "props_request",
    covers: "§6.52 request.path/url_path/query/method/host/scheme/protocol/headers.<name>",
    filters: scripted(
      "request_headers: prop request.path; prop request.url_path; prop request.query; prop request.method; prop request.host; prop request.scheme; prop request.protocol; prop request.headers.x-multi",
    ),
    requests: [{ method: "PUT", path: "/items/7?x=1&y=2", headers: [["x-multi", "a"], ["x-multi", "b"]], body: "" }],
    expect: {
      logs: [
        "prop request.path -> 0 /items/7?x=1&y=2",
        "prop request.url_path -> 0 /items/7",
        "prop request.query -> 0 x=1&y=2",
        "prop request.method -> 0 PUT",
      ],
    },
  },
  {
    name: "props_log_phase",
    covers: "§4.9 availability: request.* readable again in on_log; response.code / code_details there",
    filters: scripted("response_headers: prop response.code int\nlog: prop request.path; prop request.method; prop response.code int; prop response.code_details"),
    requests: [{ path: "/logged?x=1" }],
    upstream: { status: 201 },
    expect: {
      logs: ["prop response.code -> 0 201", "prop request.path -> 0 /logged?x=1", "prop request.method -> 0 GET", "prop response.code_details -> 0 via_upstream"],
    },
  },
  {
    name: "props_more",
    covers: "§4.9 [I] settled: deprecated node.* → 1; xds.node.id empty; request.headers.host (the :authority); request.useragent/id/size; xds.listener_direction; upstream.address once connected",
    filters: scripted(
      "request_headers: prop node.id; prop xds.node.id; prop request.headers.host; prop request.useragent; prop request.id; prop request.size int; prop xds.listener_direction int; prop upstream.address\nresponse_headers: prop upstream.address",
    ),
    requests: [{ path: "/q", headers: [["user-agent", "ua/1"]] }],
    normalize: [[/127\.0\.0\.1:\d+/, "127.0.0.1:<port>"]],
    expect: {
      logs: [
        "prop node.id -> 1 ",
        "prop xds.node.id -> 0 ",
        "prop request.headers.host -> 0 conformance.test",
        "prop request.useragent -> 0 ua/1",
        "prop request.id -> 0 <uuid>",
        "prop request.size -> 0 0",
        "prop xds.listener_direction -> 0 0",
        "prop upstream.address -> 1 ",
        "prop upstream.address -> 0 127.0.0.1:<port>",
      ],
    },
  },
  {
    name: "props_plugin",
    covers: "§6.53 plugin_name / plugin_root_id / plugin_vm_id on the stream and the root; request.* on the root → NOT_FOUND",
    filters: scripted("configure: prop plugin_name; prop plugin_root_id; prop plugin_vm_id; prop request.path\nrequest_headers: prop plugin_name; prop plugin_root_id; prop plugin_vm_id", { rootId: "conf_root" }),
    requests: [{ path: "/a" }],
    expect: { logs: ["prop plugin_name -> 0 props_plugin_f0", "prop plugin_root_id -> 0 conf_root", "prop plugin_vm_id -> 0 props_plugin_f0"] },
  },
  {
    name: "props_source",
    covers: "§6.52 source.address includes the port; source.port and destination.port are 8-byte integers",
    filters: scripted("request_headers: prop source.address; prop source.port int; prop destination.port int; prop connection.mtls hex; prop source.nothing"),
    requests: [{ path: "/a" }],
    normalize: [
      [/127\.0\.0\.1:\d+/, "127.0.0.1:<port>"],
      [/port -> 0 \d+/, "port -> 0 <port>"],
    ],
    expect: {
      status: [200],
      logs: [
        "prop source.address -> 0 127.0.0.1:<port>",
        "prop source.port -> 0 <port>",
        "prop destination.port -> 0 <port>",
        "prop connection.mtls -> 0 00",
        "prop source.nothing -> 1 ",
      ],
    },
  },
  {
    name: "props_set_get",
    covers: "§6.54 set_property then get_property on a stream round-trips; set on the root → NOT_FOUND",
    filters: scripted("configure: setprop my.root v\nrequest_headers: setprop my_key hello~there; prop my_key\nresponse_headers: prop my_key"),
    requests: [{ path: "/a" }],
    expect: { logs: ["setprop my_key -> 0", "prop my_key -> 0 hello there", "prop my_key -> 0 hello there"] },
  },
  {
    name: "loglevel",
    covers: "§6.66 get_log_level reflects the configured wasm log level (debug)",
    filters: scripted("request_headers: loglevel; log debug visible~at~debug; log trace hidden~at~trace"),
    requests: [{ path: "/a" }],
    expect: { logs: ["loglevel = 1", "visible at debug"] },
  },
  {
    name: "shared_cas",
    covers: "§6.43 CAS: new key with any cas succeeds, stale cas → 8, cas=0 overwrites, cas starts at 1 (process-wide: keep this the first scenario that sets shared data in its Envoy)",
    concurrency: 2,
    filters: scripted("request_headers: shared.get k_cas; shared.set k_cas v1 77; shared.get k_cas; shared.set k_cas v2 last; shared.set k_cas v3 0; shared.set k_cas stale 1; shared.get k_cas; shared.set k_empty ~ 0; shared.get k_empty"),
    requests: [{ path: "/a" }],
    expect: {
      logs: [
        "shared.get k_cas -> 1",
        "shared.set k_cas v1 cas=77 -> 0",
        "shared.get k_cas = v1 cas=1",
        "shared.set k_cas v2 cas=last -> 0",
        "shared.set k_cas v3 cas=0 -> 0",
        "shared.set k_cas stale cas=1 -> 8",
        "shared.get k_cas = v3 cas=3",
      ],
    },
  },
  {
    name: "shared_incr_workers",
    covers: "§6.10/§4.1 two workers' VMs share data (CAS read-modify-write counter over 12 requests on both workers)",
    concurrency: 2,
    filters: scripted("request_headers: shared.incr n_incr\nresponse_headers: shared.value n_incr"),
    // 12 connections: the kernel spreads them over both workers (all on one: p = 2^-11).
    requests: Array.from({ length: 12 }, () => ({ path: "/a" })),
    expect: { status: Array<number>(12).fill(200), logs: ["shared.value n_incr = 1", "shared.value n_incr = 12"], workersAtLeast: 2 },
  },
  {
    name: "metrics_counter_gauge",
    covers: "§6.47–50 counter and gauge via define/increment/get; counter offset ≤ 0 → 2; same name aggregates across 2 workers",
    concurrency: 2,
    filters: scripted("request_headers: counter cc_hits 1; counter cc_hits 0; gauge cc_level -3"),
    requests: Array.from({ length: 4 }, () => ({ path: "/a" })),
    compareLogs: false,
    expect: { metrics: { cc_hits: 4, cc_level: -12 }, logs: ["counter cc_hits +0 -> 2 = 1"] },
  },
  {
    name: "ticks",
    covers: "§6.42 tick period set in on_configure; ticks call the root; metrics from ticks",
    filters: scripted("configure: tick 50\ntick: counter tk_ticks 1"),
    requests: [{ path: "/a" }],
    settleMs: 400,
    // How many ticks fit in 400 ms depends on the machine on the Envoy side, so logs are not compared;
    // the counter the tick handler bumps proves ticks ran on both sides (8 are due at 50 ms).
    compareLogs: false,
    expect: { status: [200], metricsAtLeast: { tk_ticks: 3 } },
  },
  {
    name: "callout_ok",
    covers: "§6.36 token 4, the callback gets :status among the headers; §6.37 response body readable in the callback",
    filters: scripted("request_headers: callout callout /ok 5000; return 1\ncallout: get callout x-callout; body callout; continue req"),
    requests: [{ path: "/a" }],
    expect: { status: [200], upstreamCount: 1, logs: ["callout callout /ok -> 0 token=4", "get callout x-callout = yes", 'body callout len=10 -> 0 "callout-ok"'] },
  },
  {
    name: "callout_timeout",
    covers: "§6.38 callout timeout → a router-generated 504 delivered as a response [I]",
    filters: scripted("request_headers: callout callout /slow 200; return 1\ncallout: continue req"),
    requests: [{ path: "/a" }],
    expect: { status: [200], upstreamCount: 1, logs: ['callout response token=4 headers=3 body=24 status=504 "upstream request timeout"'] },
  },
  {
    name: "callout_reset",
    covers: "§6.38 [I] settled: an upstream reset arrives as the router's 503 local reply, not as (0,0,0)",
    filters: scripted("request_headers: callout callout /reset 5000; return 1\ncallout: continue req"),
    requests: [{ path: "/a" }],
    expect: {
      status: [200],
      upstreamCount: 1,
      logs: ['callout response token=4 headers=3 body=95 status=503 "upstream connect error or disconnect/reset before headers. reset reason: connection termination"'],
    },
  },
  {
    name: "callout_bad",
    covers: "§6.35 unknown cluster → BAD_ARGUMENT (2), no token",
    filters: scripted("request_headers: callout nowhere /ok 5000"),
    requests: [{ path: "/a" }],
    expect: { status: [200], logs: ["callout nowhere /ok -> 2 token=0"] },
  },
  {
    name: "trap_fail_closed",
    covers: "§6.55 trap in on_request_headers, fail closed: 503, upstream not reached, later streams 503 too",
    filters: scripted("request_headers: log info before~trap; trap\nlog: log info on_log~after~trap", { failurePolicy: "FAIL_CLOSED" }),
    requests: [{ path: "/a" }, { path: "/b" }],
    expect: { status: [503, 503], upstreamCount: 0, logs: ["before trap"], logsAbsent: ["on_log after trap"] },
  },
  {
    name: "trap_fail_open",
    covers: "§6.55 [I] settled: fail open still answers 503 to the stream that trapped; later streams skip the filter",
    filters: scripted("request_headers: log info before~trap; trap", { failurePolicy: "FAIL_OPEN" }),
    requests: [{ path: "/a" }, { path: "/b" }],
    expect: { status: [503, 200], upstreamCount: 1, logs: ["before trap"] },
  },
  {
    name: "abort_logs_critical",
    covers: "§6.57 an AssemblyScript abort: one critical log line, proc_exit, then the trap fails the stream (fail closed)",
    filters: scripted("request_headers: abort"),
    requests: [{ path: "/a" }],
    normalize: [[/\(\d+:\d+\)$/, "(<line>:<column>)"]],
    expect: { status: [503], upstreamCount: 0, logs: ["abort: scripted abort at test/conformance/filters/scripted.ts(<line>:<column>)"] },
  },
  {
    name: "bad_config_refused",
    covers: "§6.8 on_configure returning false: Envoy refuses the configuration; the emulator must refuse it too",
    filters: scripted("refuse: missing~field~'limit'"),
    requests: [],
    expect: { refusedWithLog: "scripted: configuration refused: missing field 'limit'" },
  },
  {
    name: "add_header",
    covers: "issue 3: add-header works in real Envoy (configured headers upstream and downstream)",
    filters: [{ module: "add-header", config: { request: [{ name: "x-added-request", value: "req-value" }, { name: "user-agent", value: "added" }], response: [{ name: "x-added-response", value: "resp-value" }] } }],
    requests: [{ path: "/a", headers: [["user-agent", "client"]] }],
    expect: { status: [200], upstreamHeaders: { "x-added-request": "req-value", "user-agent": "client,added" }, responseHeaders: { "x-added-response": "resp-value" } },
  },
  {
    name: "add_header_bad_config",
    covers: "§6.8 add-header refuses a bad configuration with a log naming the problem; Envoy refuses to start",
    filters: [{ module: "add-header", config: { request: [{ name: "x-a", value: 5 }] } }],
    requests: [],
    expect: { refusedWithLog: "add-header: config.request[0].value: expected a string, got a number" },
  },
  {
    name: "proxy_runtime_fixture",
    covers: "issue 2/3: a @solo-io/proxy-runtime 0.1.8 filter (ABI 0.2.0) runs the same in both hosts",
    filters: [{ module: "proxy-runtime-add-header", config: "from-config", rootId: "add_header" }],
    requests: [{ path: "/a" }],
    expect: { status: [200], responseHeaders: { hello: "from-config" } },
  },
];
