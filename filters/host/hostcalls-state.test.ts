// Result codes of the shared data, queue, metric, time, callout and WASI hostcalls
// (proxy-wasm-host.md §2.1, §2.2, §4.5–§4.8), called directly in a chosen context.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { WasmResult as R } from "./abi.ts";
import { ManualClock } from "./clock.ts";
import { type RootContext } from "./context.ts";
import { createHost, type Host } from "./host.ts";
import { serializePairs, toBytePairs } from "./pairs.ts";
import { Probe, proxyModule } from "./test-support.ts";

let host: Host;
let probes: Probe[];
let roots: RootContext[];

/** startedHost creates and starts a host of the probe module; fails the test when it does not start. */
async function startedHost(options: { clock?: ManualClock } = {}): Promise<Host> {
  const started = await createHost({ wasm: proxyModule(""), workers: 2, vmId: "vm", clusters: { auth: null }, env: { MODE: "demo" }, logLevel: "trace", ...options });
  assert.equal(started.start().ok, true);
  return started;
}

before(async () => {
  host = await startedHost();
  probes = [Probe.forHost(host, 0), Probe.forHost(host, 1)];
  roots = host.plugin.roots;
});

describe("shared data", () => {
  it("should number CAS globally from 1 and check it only for existing keys", () => {
    const [p0, p1] = probes;
    const set = (p: Probe, key: string, value: string, cas: number) => p.call(roots[0], "env.proxy_set_shared_data", ...p.put(key), ...p.put(value), cas);
    assert.equal(set(p0, "new", "a", 12345), R.ok, "a missing key accepts any cas");
    assert.equal(p1.call(roots[1], "env.proxy_get_shared_data", ...p1.put("new"), ...p1.out, 600), R.ok);
    assert.equal(p1.outputText(), "a");
    assert.equal(p1.u32(600), 1);
    assert.equal(set(p1, "other", "b", 0), R.ok);
    assert.equal(host.getSharedData("other")!.cas, 2);
    assert.equal(set(p0, "new", "c", 1), R.ok);
    assert.equal(set(p0, "new", "d", 1), R.casMismatch);
    assert.equal(set(p0, "new", "e", 0), R.ok, "cas 0 is unconditional");
    assert.equal(p0.call(roots[0], "env.proxy_get_shared_data", ...p0.put("absent"), ...p0.out, 600), R.notFound);
  });

  it("should return an empty value as (0,0) with OK", () => {
    const p = probes[0];
    assert.equal(p.call(roots[0], "env.proxy_set_shared_data", ...p.put("empty"), 0, 0, 0), R.ok);
    p.setOut(9);
    assert.equal(p.call(roots[0], "env.proxy_get_shared_data", ...p.put("empty"), ...p.out, 600), R.ok);
    assert.deepEqual([p.u32(p.out[0]), p.u32(p.out[1])], [0, 0]);
  });
});

describe("shared queues", () => {
  it("should register once per name, resolve by vm_id, and report EMPTY and NOT_FOUND", () => {
    const [p0, p1] = probes;
    assert.equal(p0.call(roots[0], "env.proxy_register_shared_queue", ...p0.put("q"), 600), R.ok);
    const token = p0.u32(600);
    assert.ok(token >= 1);
    assert.equal(p1.call(roots[1], "env.proxy_register_shared_queue", ...p1.put("q"), 600), R.ok);
    assert.equal(p1.u32(600), token);
    assert.equal(p1.call(roots[1], "env.proxy_resolve_shared_queue", 0, 0, ...p1.put("q"), 604), R.ok);
    assert.equal(p1.u32(604), token);
    assert.equal(p1.call(roots[1], "env.proxy_resolve_shared_queue", ...p1.put("vm"), ...p1.put("q"), 604), R.ok);
    assert.equal(p1.call(roots[1], "env.proxy_resolve_shared_queue", 0, 0, ...p1.put("nope"), 604), R.notFound);
    assert.equal(p0.call(roots[0], "env.proxy_dequeue_shared_queue", token, ...p0.out), R.empty);
    assert.equal(p0.call(roots[0], "env.proxy_enqueue_shared_queue", token, ...p0.put("item")), R.ok);
    assert.equal(host.getQueueSize(token), 1);
    assert.equal(p1.call(roots[1], "env.proxy_dequeue_shared_queue", token, ...p1.out), R.ok);
    assert.equal(p1.outputText(), "item");
    assert.equal(p0.call(roots[0], "env.proxy_enqueue_shared_queue", 999, ...p0.put("x")), R.notFound);
    assert.equal(p0.call(roots[0], "env.proxy_dequeue_shared_queue", 999, ...p0.out), R.notFound);
  });
});

describe("metrics", () => {
  const define = (p: Probe, type: number, name: string) => {
    assert.equal(p.call(roots[0], "env.proxy_define_metric", type, ...p.put(name), 600), R.ok);
    return p.u32(600);
  };

  it("should hand out ids by type (counters 4, 8; gauges 5; histograms 6), new per call", () => {
    const p = probes[0];
    const first = define(p, 0, "requests");
    assert.equal(first % 4, 0);
    assert.equal(define(p, 0, "requests"), first + 4);
    assert.equal(define(p, 1, "inflight") % 4, 1);
    assert.equal(define(p, 2, "sizes") % 4, 2);
    assert.equal(p.call(roots[0], "env.proxy_define_metric", 3, ...p.put("bad"), 600), R.badArgument);
  });

  it("should refuse counter increments of 0 or less, add on record, and aggregate across workers", () => {
    const [p0, p1] = probes;
    const c0 = define(p0, 0, "hits");
    const c1 = define(p1, 0, "hits");
    assert.equal(p0.call(roots[0], "env.proxy_increment_metric", c0, 0n), R.badArgument);
    assert.equal(p0.call(roots[0], "env.proxy_increment_metric", c0, -1n), R.badArgument);
    assert.equal(p0.call(roots[0], "env.proxy_increment_metric", c0, 2n), R.ok);
    assert.equal(p1.call(roots[1], "env.proxy_record_metric", c1, 5n), R.ok);
    assert.equal(host.getCounter("hits"), 7n);
    assert.equal(p1.call(roots[1], "env.proxy_get_metric", c1, 600), R.ok);
    assert.equal(p1.u64(600), 7n);
  });

  it("should let gauges go down, refuse histogram reads and increments, and NOT_FOUND unknown ids", () => {
    const p = probes[0];
    const g = define(p, 1, "level");
    const h = define(p, 2, "latency");
    assert.equal(p.call(roots[0], "env.proxy_record_metric", g, 10n), R.ok);
    assert.equal(p.call(roots[0], "env.proxy_increment_metric", g, -3n), R.ok);
    assert.equal(host.getGauge("level"), 7n);
    assert.equal(p.call(roots[0], "env.proxy_record_metric", h, 42n), R.ok);
    assert.deepEqual(host.getHistogram("latency"), [42n]);
    assert.equal(p.call(roots[0], "env.proxy_get_metric", h, 600), R.badArgument);
    assert.equal(p.call(roots[0], "env.proxy_increment_metric", h, 1n), R.badArgument);
    assert.equal(p.call(roots[0], "env.proxy_increment_metric", 4000, 1n), R.notFound);
    assert.equal(p.call(roots[0], "env.proxy_get_metric", 4001, 600), R.notFound);
  });
});

describe("time and callouts", () => {
  it("should report the emulated wall clock in ns", async () => {
    // Its own host and clock, started at a known instant: the expectation never comes from the clock under test.
    const own = await startedHost({ clock: new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0, 250)) });
    const p = Probe.forHost(own, 0);
    assert.equal(p.call(own.plugin.roots[0], "env.proxy_get_current_time_nanoseconds", 600), R.ok);
    assert.equal(p.u64(600), 1_795_608_000_250_000_000n);
    own.advanceTime(1500);
    p.call(own.plugin.roots[0], "env.proxy_get_current_time_nanoseconds", 600);
    assert.equal(p.u64(600), 1_795_608_001_750_000_000n);
  });

  it("should validate proxy_http_call and hand out tokens 4, 8 per worker", () => {
    const p = probes[0];
    const good = serializePairs(toBytePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]));
    const noAuthority = serializePairs(toBytePairs([[":method", "GET"], [":path", "/check"]]));
    const call = (cluster: string, headers: Uint8Array, timeout: number) =>
      p.call(roots[0], "env.proxy_http_call", ...p.put(cluster), ...p.put(headers), ...p.put("body"), 0, 0, timeout, 600);
    assert.equal(call("auth", noAuthority, 100), R.badArgument);
    assert.equal(call("unknown", good, 100), R.badArgument);
    assert.equal(call("auth", good, 2 ** 31), R.badArgument);
    assert.equal(call("auth", good, 0), R.ok);
    assert.equal(p.u32(600), 4);
    assert.equal(call("auth", good, 100), R.ok);
    assert.equal(p.u32(600), 8);
    const pending = host.getCallouts();
    assert.deepEqual(pending.map((c) => [c.token, c.worker, c.cluster, c.timeoutMs]), [[4, 0, "auth", 0], [8, 0, "auth", 100]]);
    assert.deepEqual(pending[0].headers.at(-1), ["content-length", "4"]);
    host.advanceTime(100);
    assert.deepEqual(host.getCallouts().map((c) => c.token), [4], "the timed-out callout is answered with 504");
    assert.deepEqual(host.getAllCallouts().map((c) => [c.token, c.state]), [[4, "pending"], [8, "timeout"]]);
  });

  it("should set get_status to (11, reset) when a callout fails", async () => {
    // Its own host and callout, so nothing depends on the callouts other tests left pending.
    const own = await startedHost();
    const p = Probe.forHost(own, 0);
    const root = own.plugin.roots[0];
    const headers = serializePairs(toBytePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]));
    assert.equal(p.call(root, "env.proxy_http_call", ...p.put("auth"), ...p.put(headers), ...p.put(""), 0, 0, 1000, 600), R.ok);
    const token = p.u32(600);
    own.respondCallout(token, { failure: true }, 0);
    const roots = own.plugin.roots;
    assert.equal(p.call(roots[0], "env.proxy_get_status", 600, ...p.out), R.ok);
    assert.equal(p.u32(600), 11);
    assert.equal(p.outputText(), "", "the message is cleared after the callback");
  });
});

describe("WASI", () => {
  it("should log fd 1 at info and fd 2 at error without the trailing newline, and refuse fd 3", () => {
    const p = probes[0];
    const [text, len] = p.put("hello\n");
    const iov = new Uint8Array(8);
    new DataView(iov.buffer).setUint32(0, text, true);
    new DataView(iov.buffer).setUint32(4, len, true);
    const [iovPtr] = p.put(iov);
    const before = host.getLogs().length;
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.fd_write", 1, iovPtr, 1, 600), 0);
    assert.equal(p.u32(600), 6);
    assert.equal(p.call(roots[0], "wasi_unstable.fd_write", 2, iovPtr, 1, 600), 0);
    assert.equal(p.call(roots[0], "wasi_unstable.fd_write", 3, iovPtr, 1, 600), 8);
    assert.deepEqual(host.getLogs().slice(before).map((l) => [l.level, l.message]), [["info", "hello"], ["error", "hello"]]);
  });

  it("should serve clocks 0 and 1, refuse others, and limit random_get to 64 KiB", () => {
    const p = probes[0];
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.clock_time_get", 0, 1n, 600), 0);
    assert.equal(p.u64(600), BigInt(host.runtime.clock.now()) * 1_000_000n);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.clock_time_get", 1, 1n, 600), 0);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.clock_time_get", 2, 1n, 600), 58);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.random_get", 2048, 65537), 28);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.random_get", 2048, 0), 0);
  });

  it("should read a monotonic clock that is never 0 and strictly increases, like Envoy's steady clock", () => {
    const p = probes[0];
    const read = () => {
      assert.equal(p.call(roots[0], "wasi_snapshot_preview1.clock_time_get", 1, 1n, 600), 0);
      return p.u64(600);
    };
    const first = read();
    const second = read();
    assert.ok(first > 0n, "Go's runtime refuses to start on a zero monotonic clock");
    assert.ok(second > first);
  });

  it("should expose the configured environment, no args and no preopens", () => {
    const p = probes[0];
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.environ_sizes_get", 600, 604), 0);
    assert.deepEqual([p.u32(600), p.u32(604)], [1, "MODE=demo\0".length]);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.environ_get", 608, 700), 0);
    assert.equal(p.u32(608), 700);
    assert.equal(Buffer.from(p.vm.memory.read(700, 10)!).toString(), "MODE=demo\0");
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.args_sizes_get", 600, 604), 0);
    assert.deepEqual([p.u32(600), p.u32(604)], [0, 0]);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.fd_prestat_get", 3, 600), 8);
    assert.equal(p.call(roots[0], "wasi_snapshot_preview1.poll_oneoff", 0, 0, 0, 600), 0);
    assert.equal(p.u32(600), 0);
  });

  it("should log proc_exit at trace level and not trap", () => {
    const p = probes[0];
    assert.equal(p.call(roots[0], "wasi_unstable.proc_exit", 3), undefined);
    assert.equal(host.getLogs("trace").at(-1)!.message, "wasi_unstable proc_exit 3");
    assert.equal(host.vmState(0), "ok");
  });
});

describe("ManualClock", () => {
  it("should start the realtime clock at the real time and move both clocks only with advance", () => {
    const before = Date.now();
    const clock = new ManualClock();
    assert.ok(clock.now() >= before && clock.now() <= Date.now(), "realtime starts at the wall clock, as Envoy's does");
    const mono = clock.monotonicNs();
    clock.advance(250);
    assert.equal(clock.now() - before >= 250, true);
    assert.ok(clock.monotonicNs() >= mono + 250_000_000n);
    assert.equal(new ManualClock(Date.UTC(2026, 0, 1)).nowNs(), BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n, "a fixed start stays available");
  });
});
