// console.*, Date.now, trace and Math.random work in a filter and go through the proxy-wasm ABI
// (asconfig "use" maps them into the SDK instead of env.console.log, env.Date.now, env.trace, env.seed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

for (const build of bothBuilds("build/test-sdk", "runtime-globals")) {
  describe(`AssemblyScript globals (${build.label})`, () => {
    it("should log console and trace output through proxy_log and read the host clock", async () => {
      const host = await MiniHost.load(build.path, { logLevel: 0 });
      host.startPlugin();
      const result = host.stream([[":path", "/"]], []);
      assert.deepEqual(host.logs, [
        { level: 2, message: "now 1700000000123" },
        { level: 3, message: "careful" },
        { level: 0, message: "trace: traced 1.5, 42.0" },
      ]);
      assert.deepEqual(result.request, [
        [":path", "/"],
        ["x-random-in-range", "yes"],
      ]);
      assert.equal(host.calls.get("random_get"), 1, "Math.random seeds once from wasi random_get");
    });

    it("should gate console output by the host log level", async () => {
      const host = await MiniHost.load(build.path, { logLevel: 3 });
      host.startPlugin();
      host.stream([[":path", "/"]], []);
      assert.deepEqual(host.logs, [{ level: 3, message: "careful" }]);
    });
  });
}
