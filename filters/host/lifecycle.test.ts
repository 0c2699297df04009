// Call order, result mapping, workers, failure policies, ticks and queues through real guest
// callbacks (proxy-wasm-host.md §1.3, §1.7, §4.1, §4.6, §4.8, §4.10), with the proxytest-style API.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHost } from "./host.ts";
import { Probe, recorder, traces } from "./test-support.ts";

const request: [string, string][] = [[":path", "/"], [":method", "GET"], [":authority", "h"]];
const localReply = (status: number, detailsAt: number, detailsLen: number) =>
  `(drop (call $send_local_response (i32.const ${status}) (i32.const ${detailsAt}) (i32.const ${detailsLen}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))`;

describe("call order", () => {
  it("should start each worker (create, vm_start, configure) and run a stream create … log, done, delete", async () => {
    const host = await createHost({ wasm: recorder(), vmConfig: "vm-cfg", pluginConfig: '{"a":1}', workers: 2 });
    assert.deepEqual(host.start(), { ok: true, failState: "ok" });
    // Initialize http context; nothing is called before the first decode callback.
    const s = host.http({ worker: 1 });
    assert.deepEqual(traces(host.getLogs()).slice(3), ["proxy_on_context_create 1 0", "proxy_on_vm_start 1 6", "proxy_on_configure 1 7"]);
    // Call each callback.
    assert.equal(s.callOnRequestHeaders(request, false), "Continue");
    assert.equal(s.callOnRequestBody("abcd", true), "Continue");
    assert.equal(s.callOnResponseHeaders([[":status", "200"]], true), "Continue");
    s.complete();
    assert.deepEqual(traces(host.getLogs().filter((l) => l.worker === 1)).slice(3), [
      "proxy_on_context_create 2 1",
      "proxy_on_request_headers 2 3",
      "proxy_on_request_body 2 4",
      "proxy_on_response_headers 2 1",
      "proxy_on_log 2 0",
      "proxy_on_done 2 0",
      "proxy_on_delete 2 0",
    ]);
  });

  it("should refuse the plugin when on_vm_start or on_configure returns false", async () => {
    const vmStart = await createHost({ wasm: recorder({ returns: { proxy_on_vm_start: 0 } }) });
    assert.equal(vmStart.start().failState, "startFailed");
    const configure = await createHost({ wasm: recorder({ returns: { proxy_on_configure: 0 } }) });
    const result = configure.start();
    assert.equal(result.ok, false);
    assert.equal(result.failState, "configureFailed");
  });
});

describe("result mapping", () => {
  for (const [value, plain, allowed] of [[1, "StopAllIterationAndWatermark", "StopIteration"], [2, "Continue", "Continue"], [3, "StopAllIterationAndBuffer", "StopAllIterationAndBuffer"], [9, "StopAllIterationAndWatermark", "StopAllIterationAndWatermark"]] as const) {
    it(`should map headers result ${value} to ${plain} (${allowed} with allow_on_headers_stop_iteration)`, async () => {
      for (const [allow, expected] of [[false, plain], [true, allowed]] as const) {
        const host = await createHost({ wasm: recorder({ returns: { proxy_on_request_headers: value } }), allowOnHeadersStopIteration: allow });
        host.start();
        assert.equal(host.http().callOnRequestHeaders(request), expected);
      }
    });
  }

  it("should map data results and deliver the accumulated buffer after StopIterationAndBuffer", async () => {
    const host = await createHost({ wasm: recorder({ returns: { proxy_on_request_body: 1, proxy_on_response_body: 3, proxy_on_request_trailers: 5 } }) });
    host.start();
    const s = host.http();
    s.callOnRequestHeaders(request);
    assert.equal(s.callOnRequestBody("abc"), "StopIterationAndBuffer");
    assert.equal(s.callOnRequestBody("de"), "StopIterationAndBuffer");
    assert.equal(Buffer.from(s.getCurrentRequestBody()).toString(), "abcde");
    assert.deepEqual(traces(host.getLogs()).filter((t) => t.startsWith("proxy_on_request_body")), ["proxy_on_request_body 2 3", "proxy_on_request_body 2 5"]);
    assert.equal(s.callOnRequestTrailers([["t", "1"]]), "StopIteration");
    assert.equal(s.callOnResponseHeaders([[":status", "200"]]), "Continue");
    assert.equal(s.callOnResponseBody("x"), "StopIterationNoBuffer");
  });

  it("should force Stop when the callback sent a local reply, and record it with Envoy's details", async () => {
    const host = await createHost({
      wasm: recorder({ data: [[4096, "denied by policy"]], extra: { proxy_on_request_headers: localReply(403, 4096, 16) } }),
    });
    host.start();
    const s = host.http();
    assert.equal(s.callOnRequestHeaders(request), "StopAllIterationAndWatermark");
    assert.deepEqual(s.getSentLocalResponse(), { status: 403, details: "denied_by_policy", body: new Uint8Array(0), headers: [], grpcStatus: undefined });
  });
});

describe("failure policy", () => {
  const trapping = () => recorder({ extra: { proxy_on_request_headers: "(unreachable)" } });

  it("should fail closed: 503 wasm_fail_stream now and for later streams, with no further guest calls", async () => {
    const host = await createHost({ wasm: trapping() });
    host.start();
    const s = host.http();
    assert.equal(s.callOnRequestHeaders(request), "StopAllIterationAndWatermark");
    assert.equal(host.vmState(), "runtimeError");
    assert.deepEqual(s.getSentLocalResponse(), { status: 503, details: "wasm_fail_stream", body: new Uint8Array(0), headers: [], grpcStatus: 14 });
    assert.match(host.getLogs("error").at(-1)!.message, /Function: proxy_on_request_headers failed: RuntimeError: unreachable/);
    const callsBefore = traces(host.getLogs()).length;
    s.complete();
    const later = host.http();
    assert.equal(later.callOnRequestHeaders(request), "StopAllIterationAndWatermark");
    assert.equal(later.getSentLocalResponse()?.status, 503);
    later.complete();
    assert.equal(traces(host.getLogs()).length, callsBefore, "no on_log/on_done/on_delete or other callbacks after the failure");
  });

  it("should fail open: 503 for the stream that trapped, later streams skip the filter", async () => {
    const host = await createHost({ wasm: trapping(), failurePolicy: "FAIL_OPEN" });
    host.start();
    const trapped = host.http();
    assert.equal(trapped.callOnRequestHeaders(request), "StopAllIterationAndWatermark");
    assert.equal(trapped.getSentLocalResponse()?.status, 503);
    const later = host.http();
    assert.equal(later.callOnRequestHeaders(request), "Continue");
    assert.equal(later.id, 0, "the filter is not installed");
    assert.equal(later.getSentLocalResponse(), undefined);
  });

  it("should reload a fresh VM for new streams under FAIL_RELOAD", async () => {
    const host = await createHost({ wasm: trapping(), failurePolicy: "FAIL_RELOAD" });
    host.start();
    assert.equal(host.http().callOnRequestHeaders(request), "StopAllIterationAndWatermark");
    host.http();
    assert.equal(host.vmState(), "ok");
    assert.equal(traces(host.getLogs()).filter((t) => t.startsWith("proxy_on_vm_start")).length, 2);
  });

  it("should not fail the VM on proc_exit alone", async () => {
    const wasm = recorder();
    const host = await createHost({ wasm });
    host.start();
    Probe.forHost(host).call(host.plugin.roots[0], "wasi_unstable.proc_exit", 1);
    assert.equal(host.http().callOnRequestHeaders(request), "Continue");
  });
});

describe("ticks", () => {
  const ticking = (extra = "") =>
    recorder({ extra: { proxy_on_configure: "(drop (call $set_tick_period_milliseconds (i32.const 1000)))", proxy_on_tick: extra } });

  it("should tick one period after the call, every period, on every worker", async () => {
    const host = await createHost({ wasm: ticking(), workers: 2 });
    host.start();
    assert.equal(host.getTickPeriod(1), 1000);
    host.advanceTime(999);
    assert.equal(traces(host.getLogs()).filter((t) => t.startsWith("proxy_on_tick")).length, 0);
    host.advanceTime(1);
    host.advanceTime(3000);
    const ticks = host.getLogs().filter((l) => l.message === "proxy_on_tick 1 0");
    assert.deepEqual([ticks.filter((t) => t.worker === 0).length, ticks.filter((t) => t.worker === 1).length], [4, 4]);
  });

  it("should stop ticking when the VM fails in on_tick", async () => {
    const host = await createHost({ wasm: ticking("(unreachable)") });
    host.start();
    host.advanceTime(5000);
    assert.equal(host.vmState(), "runtimeError");
    assert.equal(host.getLogs().filter((l) => l.message === "proxy_on_tick 1 0").length, 1);
  });
});

describe("queues and root shutdown", () => {
  it("should call on_queue_ready after the enqueueing call, once per enqueue, on the registering root", async () => {
    const host = await createHost({
      wasm: recorder({ data: [[4096, "jobs"]], extra: { proxy_on_configure: "(drop (call $register_shared_queue (i32.const 4096) (i32.const 4) (i32.const 4200)))" } }),
      workers: 2,
    });
    host.start();
    const probe = Probe.forHost(host, 0);
    const root = host.plugin.roots[0];
    assert.equal(probe.call(root, "env.proxy_resolve_shared_queue", 0, 0, ...probe.put("jobs"), 600), 0);
    const token = probe.u32(600);
    probe.call(root, "env.proxy_enqueue_shared_queue", token, ...probe.put("a"));
    probe.call(root, "env.proxy_enqueue_shared_queue", token, ...probe.put("b"));
    const ready = () => host.getLogs().filter((l) => l.message.startsWith("proxy_on_queue_ready"));
    assert.equal(ready().length, 0, "not re-entrant: nothing runs inside enqueue");
    host.runPending();
    // The second worker registered last, so it receives the callbacks.
    assert.deepEqual(ready().map((l) => [l.worker, l.message]), [[1, `proxy_on_queue_ready 1 ${token}`], [1, `proxy_on_queue_ready 1 ${token}`]]);
  });

  it("should park a root whose on_done returns false until proxy_done", async () => {
    const host = await createHost({ wasm: recorder({ returns: { proxy_on_done: 0 } }) });
    host.start();
    host.shutdown();
    assert.deepEqual(traces(host.getLogs()).slice(-1), ["proxy_on_done 1 0"]);
    const probe = Probe.forHost(host);
    assert.equal(probe.call(host.plugin.roots[0], "env.proxy_done"), 0);
    assert.deepEqual(traces(host.getLogs()).slice(-1), ["proxy_on_delete 1 0"]);
    assert.equal(probe.call(host.plugin.roots[0], "env.proxy_done"), 1);
  });
});

describe("canary and worker isolation", () => {
  it("should run the start sequence on a discarded canary that never ticks", async () => {
    const host = await createHost({
      wasm: recorder({ extra: { proxy_on_configure: "(drop (call $set_tick_period_milliseconds (i32.const 100)))" } }),
      emulateCanary: true,
    });
    host.start();
    assert.deepEqual(host.getLogs().filter((l) => l.message.startsWith("proxy_on_configure")).map((l) => l.worker), [-1, 0]);
    host.advanceTime(250);
    assert.deepEqual(host.getLogs().filter((l) => l.message.startsWith("proxy_on_tick")).map((l) => l.worker), [0, 0]);
  });

  it("should keep guest globals per worker while shared data is process-wide", async () => {
    // Each worker's on_request_headers bumps a guest global and logs it as the trace's second number.
    const host = await createHost({
      wasm: recorder({ extra: { proxy_on_request_headers: "(i32.store (i32.const 4500) (i32.add (i32.load (i32.const 4500)) (i32.const 1)))" } }),
      workers: 2,
    });
    host.start();
    for (let i = 0; i < 4; i++) host.http().callOnRequestHeaders(request);
    const counts = [0, 1].map((w) => Probe.forHost(host, w).u32(4500));
    assert.deepEqual(counts, [2, 2], "round robin, and each instance has its own memory");
    const [p0, p1] = [Probe.forHost(host, 0), Probe.forHost(host, 1)];
    assert.equal(p0.call(host.plugin.roots[0], "env.proxy_set_shared_data", ...p0.put("k"), ...p0.put("v"), 0), 0);
    assert.equal(p1.call(host.plugin.roots[1], "env.proxy_get_shared_data", ...p1.put("k"), ...p1.out, 600), 0);
    assert.equal(p1.outputText(), "v");
  });
});
