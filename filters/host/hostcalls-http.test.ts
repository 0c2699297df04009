// Result codes and effects of the header, buffer, memory, log, property and stream-control
// hostcalls, called directly in a chosen context (proxy-wasm-host.md §2.1, §3, §4.2, §4.9).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { WasmResult as R } from "./abi.ts";
import { HttpContext, type RootContext } from "./context.ts";
import { HeaderMap } from "./headers.ts";
import { createHost, type Host } from "./host.ts";
import { serializePairs, toBytePairs } from "./pairs.ts";
import { Probe, proxyModule } from "./test-support.ts";

const wasm = proxyModule("");
let host: Host;
let probe: Probe;
let root: RootContext;

/** A fresh stream context with the given request headers current. */
function stream(headers: [string, string][] = [[":path", "/p?q=1#f"], [":method", "GET"], ["host", "h"]]): HttpContext {
  const s = host.http();
  s.callOnRequestHeaders(headers, false);
  const ctx = host.plugin.vms[0].contexts.get(s.id) as HttpContext;
  ctx.requestHeaders = HeaderMap.fromUtf8("requestHeaders", headers);
  return ctx;
}

before(async () => {
  host = await createHost({ wasm, pluginConfig: "plugin-cfg", vmConfig: "vm-cfg", rootId: "r", vmId: "v", name: "p", logLevel: "trace" });
  assert.equal(host.start().ok, true);
  probe = Probe.forHost(host);
  root = host.plugin.roots[0];
});

describe("header hostcalls", () => {
  it("should get a value by lowercased key, first entry only, NOT_FOUND when absent", () => {
    const ctx = stream([[":path", "/"], ["x-a", "1"], ["x-a", "2"]]);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, ...probe.put("X-A"), ...probe.out), R.ok);
    assert.equal(probe.outputText(), "1");
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, ...probe.put("x-none"), ...probe.out), R.notFound);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 8, ...probe.put("x-a"), ...probe.out), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, 0xfffffff0, 100, ...probe.out), R.invalidMemoryAccess);
  });

  it("should serialize pairs byte for byte with pseudo-headers first", () => {
    const ctx = stream([["x-b", "2"], [":path", "/"], ["x-c", ""], [":method", "GET"]]);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_pairs", 0, ...probe.out), R.ok);
    assert.deepEqual(probe.output(), serializePairs(toBytePairs([[":path", "/"], [":method", "GET"], ["x-b", "2"], ["x-c", ""]])));
  });

  it("should write (0,0) without allocating for an empty or unavailable map", () => {
    const ctx = stream();
    const vm = host.plugin.vms[0];
    const original = vm.allocate.bind(vm);
    let allocations = 0;
    vm.allocate = (n: number) => (allocations++, original(n));
    try {
      probe.setOut(7);
      assert.equal(probe.call(ctx, "env.proxy_get_header_map_pairs", 3, ...probe.out), R.ok);
      assert.deepEqual([probe.u32(probe.out[0]), probe.u32(probe.out[1])], [0, 0]);
      assert.equal(probe.call(ctx, "env.proxy_get_header_map_pairs", 2, ...probe.out), R.ok);
      assert.equal(allocations, 0);
    } finally {
      vm.allocate = original;
    }
  });

  it("should return INVALID_MEMORY_ACCESS when the allocator returns 0", () => {
    const ctx = stream();
    const vm = host.plugin.vms[0];
    const original = vm.allocate;
    vm.allocate = () => 0;
    try {
      assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, ...probe.put(":path"), ...probe.out), R.invalidMemoryAccess);
    } finally {
      vm.allocate = original;
    }
  });

  it("should join inline headers in one entry and keep custom repeats (and cookie) separate", () => {
    const ctx = stream([[":path", "/"], ["user-agent", "a"], ["cookie", "c=1"], ["x-custom", "1"]]);
    for (const [k, v] of [["User-Agent", "b"], ["cookie", "d=2"], ["x-custom", "2"]]) {
      assert.equal(probe.call(ctx, "env.proxy_add_header_map_value", 0, ...probe.put(k), ...probe.put(v)), R.ok);
    }
    assert.deepEqual(ctx.requestHeaders!.toUtf8(), [[":path", "/"], ["user-agent", "a,b"], ["cookie", "c=1"], ["x-custom", "1"], ["cookie", "d=2"], ["x-custom", "2"]]);
  });

  it("should replace (remove then add), remove every entry, and report byteSize", () => {
    const ctx = stream([[":path", "/"], ["x-a", "1"], ["x-b", "2"], ["x-a", "3"]]);
    assert.equal(probe.call(ctx, "env.proxy_replace_header_map_value", 0, ...probe.put("x-a"), ...probe.put("9")), R.ok);
    assert.deepEqual(ctx.requestHeaders!.toUtf8(), [[":path", "/"], ["x-b", "2"], ["x-a", "9"]]);
    assert.equal(probe.call(ctx, "env.proxy_remove_header_map_value", 0, ...probe.put("X-B")), R.ok);
    assert.equal(probe.call(ctx, "env.proxy_remove_header_map_value", 0, ...probe.put("absent")), R.ok);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_size", 0, probe.out[0]), R.ok);
    assert.equal(probe.u32(probe.out[0]), ":path".length + 1 + "x-a".length + 1);
  });

  it("should clear the map on malformed set_header_map_pairs and still return OK", () => {
    const ctx = stream();
    assert.equal(probe.call(ctx, "env.proxy_set_header_map_pairs", 0, ...probe.put(Uint8Array.of(1, 0, 0))), R.ok);
    assert.deepEqual(ctx.requestHeaders!.toUtf8(), []);
    const pairs = serializePairs(toBytePairs([["X-Up", "v"], [":path", "/n"]]));
    assert.equal(probe.call(ctx, "env.proxy_set_header_map_pairs", 0, ...probe.put(pairs)), R.ok);
    assert.deepEqual(ctx.requestHeaders!.toUtf8(), [[":path", "/n"], ["x-up", "v"]]);
  });

  it("should refuse unavailable maps: value and mutations BAD_ARGUMENT, pairs OK-empty", () => {
    const ctx = stream();
    ctx.requestHeaders = undefined;
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, ...probe.put(":path"), ...probe.out), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_add_header_map_value", 0, ...probe.put("a"), ...probe.put("b")), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_size", 0, probe.out[0]), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_get_header_map_value", 2, ...probe.put(":status"), ...probe.out), R.badArgument);
  });

  it("should make maps read-only in on_log, with request trailers NOT_FOUND", () => {
    const ctx = stream();
    ctx.inLog = true;
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 1, ...probe.put("x"), ...probe.out), R.notFound);
    assert.equal(probe.call(ctx, "env.proxy_add_header_map_value", 0, ...probe.put("a"), ...probe.put("b")), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_get_header_map_value", 0, ...probe.put(":method"), ...probe.out), R.ok);
  });

  it("should create trailers in the last body chunk", () => {
    const ctx = stream();
    ctx.trailersCreatable = "request";
    assert.equal(probe.call(ctx, "env.proxy_add_header_map_value", 1, ...probe.put("x-t"), ...probe.put("1")), R.ok);
    assert.deepEqual(ctx.requestTrailers!.toUtf8(), [["x-t", "1"]]);
  });
});

describe("buffer hostcalls", () => {
  it("should read configuration buffers by Envoy's availability rules", () => {
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 6, 0, 100, ...probe.out), R.ok);
    assert.equal(probe.outputText(), "vm-cfg");
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 7, 0, 100, ...probe.out), R.notFound);
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 9, 0, 100, ...probe.out), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 6, 1, 0xffffffff, ...probe.out), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_get_buffer_status", 4, ...probe.out), R.notFound);
  });

  it("should clamp reads and give OK (0,0) past the end", () => {
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 6, 3, 100, ...probe.out), R.ok);
    assert.equal(probe.outputText(), "cfg");
    probe.setOut(5);
    assert.equal(probe.call(root, "env.proxy_get_buffer_bytes", 6, 50, 10, ...probe.out), R.ok);
    assert.deepEqual([probe.u32(probe.out[0]), probe.u32(probe.out[1])], [0, 0]);
  });

  it("should prepend at 0, replace with (0, >=len), append past the end, refuse the middle", () => {
    const ctx = stream();
    ctx.requestBody = { bytes: new TextEncoder().encode("body") };
    assert.equal(probe.call(ctx, "env.proxy_set_buffer_bytes", 0, 0, 0, ...probe.put(">")), R.ok);
    assert.equal(probe.call(ctx, "env.proxy_set_buffer_bytes", 0, 5, 0, ...probe.put("<")), R.ok);
    assert.equal(Buffer.from(ctx.requestBody.bytes).toString(), ">body<");
    assert.equal(probe.call(ctx, "env.proxy_set_buffer_bytes", 0, 2, 1, ...probe.put("x")), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_set_buffer_bytes", 0, 0, 100, ...probe.put("new")), R.ok);
    assert.equal(Buffer.from(ctx.requestBody.bytes).toString(), "new");
    assert.equal(probe.call(ctx, "env.proxy_get_buffer_status", 0, ...probe.out), R.ok);
    assert.equal(probe.u32(probe.out[0]), 3);
  });

  it("should treat a missing body as empty for reads and refuse writes", () => {
    const ctx = stream();
    assert.equal(probe.call(ctx, "env.proxy_get_buffer_bytes", 1, 0, 10, ...probe.out), R.ok);
    assert.equal(probe.output().length, 0);
    assert.equal(probe.call(ctx, "env.proxy_set_buffer_bytes", 1, 0, 0, ...probe.put("x")), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_set_buffer_bytes", 6, 0, 0, ...probe.put("x")), R.badArgument);
  });
});

describe("log, stream control and context hostcalls", () => {
  it("should log with Envoy's prefix and refuse level 6 and bad memory", () => {
    const before = host.getLogs().length;
    assert.equal(probe.call(root, "env.proxy_log", 3, ...probe.put("from root")), R.ok);
    assert.equal(probe.call(stream(), "env.proxy_log", 4, ...probe.put("from stream")), R.ok);
    assert.equal(probe.call(root, "env.proxy_log", 6, ...probe.put("x")), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_log", 2, 0xffffff00, 0x1000), R.invalidMemoryAccess);
    const lines = host.getLogs().slice(before).filter((l) => l.source === "wasm");
    assert.deepEqual(lines.map((l) => [l.level, l.line]), [["warn", "wasm log r v: from root"], ["error", "wasm log p r v: from stream"]]);
    assert.equal(probe.call(root, "env.proxy_get_log_level", probe.out[0]), R.ok);
    assert.equal(probe.u32(probe.out[0]), 0);
  });

  it("should map stream types: upstream UNIMPLEMENTED, out of range BAD_ARGUMENT", () => {
    const ctx = stream();
    assert.equal(probe.call(ctx, "env.proxy_continue_stream", 3), R.unimplemented);
    assert.equal(probe.call(ctx, "env.proxy_continue_stream", 4), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_close_stream", 4), R.badArgument);
    assert.equal(probe.call(ctx, "env.proxy_continue_stream", 1), R.ok);
    assert.equal(ctx.requestHeaders, undefined, "continuing drops request-side access (Envoy quirk)");
  });

  it("should refuse an unknown effective context and proxy_done when nothing is pending", () => {
    assert.equal(probe.call(root, "env.proxy_set_effective_context", 999), R.badArgument);
    assert.equal(probe.call(root, "env.proxy_set_effective_context", root.id), R.ok);
    assert.equal(probe.call(root, "env.proxy_done"), R.notFound);
  });
});

describe("property hostcalls", () => {
  const path = (...parts: string[]) => probe.put(parts.join("\0"));
  const get = (ctx: HttpContext | RootContext, ...parts: string[]) => probe.call(ctx, "env.proxy_get_property", ...path(...parts), ...probe.out);

  it("should resolve plugin_* everywhere and request.* only on a stream", () => {
    assert.equal(get(root, "plugin_name"), R.ok);
    assert.equal(probe.outputText(), "p");
    assert.equal(get(root, "plugin_root_id"), R.ok);
    assert.equal(probe.outputText(), "r");
    assert.equal(get(root, "plugin_vm_id"), R.ok);
    assert.equal(probe.outputText(), "v");
    assert.equal(get(root, "request", "path"), R.notFound);
  });

  it("should encode strings raw, ints as 8 bytes LE, and maps as pairs", () => {
    const ctx = stream();
    assert.equal(get(ctx, "request", "path"), R.ok);
    assert.equal(probe.outputText(), "/p?q=1#f");
    assert.equal(get(ctx, "request", "query"), R.ok);
    assert.equal(probe.outputText(), "q=1");
    assert.equal(get(ctx, "source", "address"), R.ok);
    assert.equal(probe.outputText(), "127.0.0.1:40000");
    assert.equal(get(ctx, "source", "port"), R.ok);
    assert.deepEqual(probe.output(), Uint8Array.of(0x40, 0x9c, 0, 0, 0, 0, 0, 0));
    // An HTTP/1 `host` header is Envoy's legacy alias of `:authority`.
    assert.equal(get(ctx, "request", "headers"), R.ok);
    assert.deepEqual(probe.output(), serializePairs(toBytePairs([[":path", "/p?q=1#f"], [":method", "GET"], [":authority", "h"]])));
    assert.equal(get(ctx, "request", "headers", "host"), R.ok);
    assert.equal(probe.outputText(), "h");
    assert.equal(get(ctx, "xds", "listener_direction"), R.ok);
    assert.equal(probe.output().length, 8);
    assert.equal(get(ctx, "upstream", "address"), R.notFound, "no upstream connection yet");
  });

  it("should join repeated header values with a comma for request.headers.<name>", () => {
    const ctx = stream([[":path", "/"], ["x-r", "1"], ["X-R", "2"]]);
    assert.equal(get(ctx, "request", "headers", "x-r"), R.ok);
    assert.equal(probe.outputText(), "1,2");
    assert.equal(get(ctx, "request", "headers", "absent"), R.notFound);
  });

  it("should accept a trailing NUL, refuse a dotted single part and an empty path", () => {
    const ctx = stream();
    assert.equal(probe.call(ctx, "env.proxy_get_property", ...probe.put("request\0method\0"), ...probe.out), R.ok);
    assert.equal(probe.outputText(), "GET");
    assert.equal(get(ctx, "request.path"), R.notFound);
    assert.equal(probe.call(ctx, "env.proxy_get_property", 0, 0, ...probe.out), R.serializationFailure);
  });

  it("should round-trip set_property on a stream and refuse it on a root", () => {
    const ctx = stream();
    assert.equal(probe.call(root, "env.proxy_set_property", ...path("k"), ...probe.put("v")), R.notFound);
    assert.equal(probe.call(ctx, "env.proxy_set_property", ...path("my_key"), ...probe.put("value")), R.ok);
    assert.equal(get(ctx, "my_key"), R.ok);
    assert.equal(probe.outputText(), "value");
  });
});
