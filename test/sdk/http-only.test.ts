// The HTTP-only export set (filters/sdk/abi/http.ts), through test/sdk/harness/http-only.ts: what it
// leaves out is absent from the module, and using a left-out feature fails loudly, never silently.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const CRITICAL = 5;
const UNIMPLEMENTED = 12;
const TCP_AND_GRPC = [
  "proxy_on_new_connection", "proxy_on_downstream_data", "proxy_on_upstream_data", "proxy_on_downstream_connection_close",
  "proxy_on_upstream_connection_close", "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive",
  "proxy_on_grpc_receive_trailing_metadata", "proxy_on_grpc_close",
];

for (const build of bothBuilds("build/test-sdk", "http-only")) {
  describe(`HTTP-only export set (${build.label})`, () => {
    it("should export the root and HTTP callbacks and no TCP or gRPC callback", () => {
      const names = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(build.path))).map((e) => e.name);
      for (const name of ["proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_http_call_response", "proxy_on_delete", "malloc"]) {
        assert.ok(names.includes(name), `${name} is exported`);
      }
      for (const name of TCP_AND_GRPC) assert.ok(!names.includes(name), `${name} is not exported`);
    });

    it("should refuse a gRPC callout with Unimplemented and a critical log, without calling the host", async () => {
      const host = await MiniHost.load(build.path, { rootId: "grpc" });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
      const { request } = host.stream([[":path", "/"]], [[":status", "200"]]);
      assert.deepEqual(request.at(-1), ["x-grpc", `0 ${UNIMPLEMENTED}`]);
      assert.equal(host.calls.get("proxy_grpc_call") ?? 0, 0);
      assert.deepEqual(host.logs.filter((l) => l.level === CRITICAL).map((l) => l.message), [
        'proxy-wasm sdk: gRPC callout needs abi/grpc exports',
      ]);
    });

    it("should report a TcpContext the module cannot serve", async () => {
      const host = await MiniHost.load(build.path, { rootId: "tcp" });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
      host.exports.proxy_on_context_create(2, 1);
      host.exports.proxy_on_done(2);
      host.exports.proxy_on_delete(2);
      assert.deepEqual(host.logs.map((l) => [l.level, l.message]), [
        [CRITICAL, 'proxy-wasm sdk: TcpContext needs abi/tcp exports'],
      ]);
    });
  });
}
