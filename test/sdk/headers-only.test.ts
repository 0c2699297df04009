// The headers export set (filters/sdk/abi/headers.ts), through test/sdk/harness/headers-only.ts: it
// exports the root's and the stream's life and the two header callbacks only, and an HTTP callout or
// a timer, whose answers could never arrive, is refused without calling the host.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const UNIMPLEMENTED = 12;
const EXPORTED = [
  "_initialize", "proxy_abi_version_0_2_1", "malloc", "proxy_on_memory_allocate", "proxy_on_context_create", "proxy_on_vm_start",
  "proxy_on_configure", "proxy_on_done", "proxy_on_log", "proxy_on_delete", "proxy_on_request_headers", "proxy_on_response_headers",
];
const LEFT_OUT = [
  "proxy_on_request_body", "proxy_on_request_trailers", "proxy_on_response_body", "proxy_on_response_trailers",
  "proxy_on_tick", "proxy_on_queue_ready", "proxy_on_foreign_function", "proxy_on_http_call_response",
];

for (const build of bothBuilds("build/test-sdk", "headers-only")) {
  describe(`headers export set (${build.label})`, () => {
    it("should export the root, stream-life and header callbacks and nothing else", () => {
      const functions = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(build.path)))
        .filter((e) => e.kind === "function")
        .map((e) => e.name);
      assert.deepEqual([...functions].sort(), [...EXPORTED].sort());
      for (const name of LEFT_OUT) assert.ok(!functions.includes(name), `${name} is not exported`);
    });

    it("should refuse an HTTP callout and a timer with Unimplemented, without calling the host", async () => {
      const host = await MiniHost.load(build.path);
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
      const { request } = host.stream([[":path", "/"]], [[":status", "200"]]);
      assert.deepEqual(request.slice(-2), [["x-call", `0 ${UNIMPLEMENTED}`], ["x-tick", `${UNIMPLEMENTED}`]]);
      assert.equal(host.calls.get("proxy_http_call") ?? 0, 0);
      assert.equal(host.calls.get("proxy_set_tick_period_milliseconds") ?? 0, 0);
    });
  });
}
