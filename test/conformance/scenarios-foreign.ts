// Scenarios for modules built with other SDKs (test/fixtures): the Go SDK, G-Core's AssemblyScript
// SDK and @solo-io/proxy-runtime 0.1.8. All three fixtures have the same behaviour (see
// test/fixtures/go-sdk/main.go); each scenario passes its own metric prefix as the configuration,
// because Envoy's custom metric names are process-wide.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Scenario, ScenarioFilter } from "./types.ts";

/** One foreign fixture: its module, root id, how its one log line reads, and VM sharing. */
interface Fixture {
  sdk: string;
  module: string;
  rootId?: string;
  /** The fixture's info line as the host logs it (G-Core writes "[INFO]: …" to WASI stdout). */
  line(text: string): string;
  /**
   * VM id for scenarios on one worker that do not trap: the Go module (2.7 MiB) then compiles once
   * per Envoy instead of once per scenario. Its shared-data key and metrics carry the prefix, so
   * scenarios stay independent. The AssemblyScript SDKs keep one VM per scenario (G-Core has a
   * single root context per VM).
   */
  sharedVmId?: string;
  /** Built only when its toolchain is present; its scenarios are left out otherwise. */
  optional?: boolean;
}

const built = (module: string) => existsSync(fileURLToPath(new URL(`../../build/test-filters/${module}.wasm`, import.meta.url)));

const fixtures: Fixture[] = [
  { sdk: "go", module: "go-fixture", line: (t) => `go ${t}`, sharedVmId: "go_fixture", optional: true },
  // Optional (built only with the wasm32-wasip1 target installed); not run on the machine these were written on.
  { sdk: "rust", module: "rust-fixture", line: (t) => `rust ${t}`, optional: true },
  { sdk: "gcore", module: "gcore-fixture", line: (t) => `[INFO]: gcore ${t}` },
  { sdk: "proxy-runtime", module: "proxy-runtime-fixture", rootId: "fixture", line: (t) => `proxy-runtime ${t}` },
];


function scenariosFor(f: Fixture): Scenario[] {
  const id = f.sdk.replace("-", "_");
  const filter = (name: string, shareVm: boolean): ScenarioFilter[] => [
    { module: f.module, rootId: f.rootId, config: name, ...(shareVm && f.sharedVmId ? { vmId: f.sharedVmId } : {}) },
  ];
  const scenario = (s: Omit<Scenario, "name" | "filters"> & { name: string; shareVm?: boolean }): Scenario => {
    const name = `${id}_${s.name}`;
    const { shareVm = true, ...rest } = s;
    return { ...rest, name, filters: filter(name, shareVm && (s.concurrency ?? 1) === 1) };
  };
  const m = (name: string, metric: string) => `${id}_${name}_${metric}`;
  return [
    scenario({
      name: "start",
      covers: `${f.sdk} fixture starts (VM start, plugin start, metrics defined, tick armed) and serves nothing yet`,
      requests: [],
      expect: { metrics: { [m("start", "requests")]: 0 } },
    }),
    scenario({
      name: "plain",
      covers: `${f.sdk} fixture: request and response header added, one log line, a counter, a shared-data read/write`,
      requests: [{ path: "/plain" }],
      expect: {
        status: [200],
        upstreamCount: 1,
        upstreamHeaders: { "x-foreign": f.sdk, "x-hits": "1" },
        responseHeaders: { "x-foreign-response": f.sdk },
        responseBody: "upstream",
        logs: [f.line("request /plain")],
        metrics: { [m("plain", "requests")]: 1 },
      },
    }),
    scenario({
      name: "local_reply",
      covers: `${f.sdk} fixture: local reply 403 from request headers runs through the plugin's own response path; upstream not reached`,
      requests: [{ path: "/deny", headers: [["x-reply", "1"]] }],
      expect: {
        status: [403],
        upstreamCount: 0,
        responseHeaders: { "x-denied": f.sdk, "content-type": "text/plain", "x-foreign-response": f.sdk },
        responseBody: `denied by ${f.sdk}`,
        logs: [f.line("request /deny")],
      },
    }),
    scenario({
      name: "bodies",
      covers: `${f.sdk} fixture: request body buffered to its end (size logged), both bodies intact`,
      requests: [{ method: "POST", path: "/upload", body: "b".repeat(3000) }],
      upstream: { echoBody: true },
      expect: { status: [200], upstreamBody: "b".repeat(3000), responseBody: "b".repeat(3000), logs: [f.line("request body 3000 bytes")] },
    }),
    scenario({
      name: "trailers",
      covers: `${f.sdk} fixture: request trailers reach on_request_trailers after the buffered body; the added trailer reaches the upstream`,
      trailers: true,
      requests: [{ method: "POST", path: "/tr", body: "abc", trailers: [["x-client-trailer", "1"]] }],
      upstream: { echoBody: true },
      expect: { status: [200], upstreamBody: "abc", upstreamTrailers: { "x-client-trailer": "1", "x-foreign-trailer": f.sdk } },
    }),
    scenario({
      name: "callout",
      covers: `${f.sdk} fixture: HTTP callout pauses the request; the answer's status and body become request headers; resumed`,
      requests: [{ path: "/c", headers: [["x-callout", "/ok"]] }],
      expect: { status: [200], upstreamHeaders: { "x-callout-status": "200", "x-callout-body": "callout-ok", "x-foreign": f.sdk } },
    }),
    scenario({
      name: "callout_reset",
      covers: `${f.sdk} fixture: a callout whose upstream drops the connection answers the router's 503`,
      requests: [{ path: "/c", headers: [["x-callout", "/reset"]] }],
      expect: {
        status: [200],
        upstreamHeaders: { "x-callout-status": "503", "x-callout-body": "upstream connect error or disconnect/reset before headers. reset reason: connection termination" },
      },
    }),
    scenario({
      name: "tick",
      covers: `${f.sdk} fixture: a 100 ms tick set at plugin start counts on the root context`,
      requests: [{ path: "/t" }],
      settleMs: 350,
      expect: { status: [200], metricsAtLeast: { [m("tick", "ticks")]: 3 } },
    }),
    scenario({
      name: "shared_workers",
      covers: `${f.sdk} fixture: the shared counter (CAS read-modify-write) counts across the VMs of two workers`,
      concurrency: 2,
      requests: Array.from({ length: 12 }, (_, i) => ({ path: `/w${i}` })),
      // Context ids count per worker VM, and which worker takes a connection is the kernel's choice.
      normalize: [[/(context_id: |context id: |context_map: 1, )\d+/g, "$1<id>"]],
      expect: { status: Array<number>(12).fill(200), upstreamHeaders: { "x-hits": "1" }, workersAtLeast: 2, metrics: { [m("shared_workers", "requests")]: 12 } },
    }),
    scenario({
      name: "trap",
      shareVm: false,
      covers: `${f.sdk} fixture: a trap in on_request_headers fails the VM; fail-closed 503 for that stream and the next`,
      requests: [{ path: "/boom", headers: [["x-trap", "1"]] }, { path: "/after" }],
      expect: { status: [503, 503], upstreamCount: 0, responseBody: "" },
    }),
    scenario({
      name: "many_streams",
      covers: `${f.sdk} fixture: 1,000 sequential streams; linear memory after the last equals memory after the 10th`,
      requests: Array.from({ length: 1000 }, () => ({ path: "/m" })),
      expect: {
        status: Array<number>(1000).fill(200),
        upstreamCount: 1000,
        metrics: { [m("many_streams", "requests")]: 1000 },
        sameMetrics: [[m("many_streams", "mem_now"), m("many_streams", "mem_10")]],
      },
    }),
  ];
}

/**
 * Foreign-SDK scenarios of every fixture that was built: the Go one needs `go` on PATH (the build
 * prints "skipped: go not found" otherwise), the Rust one the wasm32-wasip1 target.
 */
export const foreignScenarios: Scenario[] = fixtures.filter((f) => !f.optional || built(f.module)).flatMap(scenariosFor);

/** Why the Go scenarios are missing, or undefined when they run. */
export const goSkipReason: string | undefined = built("go-fixture") ? undefined : "skipped: go not found (build/test-filters/go-fixture.wasm not built)";
