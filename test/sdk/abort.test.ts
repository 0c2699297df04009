// An AssemblyScript abort (a throw, a failed assertion, a bad cast) becomes exactly one critical log
// line "abort: <message> at <file>(<line>:<col>)", then wasi proc_exit(255), then a trap that fails the VM.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const CRITICAL = 5;

for (const build of bothBuilds("build/test-sdk", "abort-filter")) {
  describe(`abort handler (${build.label})`, () => {
    it("should log one critical line with message, file and line, then proc_exit(255) and trap", async () => {
      const host = await MiniHost.load(build.path, { logLevel: 0 });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 1 });
      const before = host.logs.length;

      // Call onRequestHeaders with the header that makes the filter throw.
      assert.throws(() => host.stream([["x-abort", "token store unavailable"]], []), WebAssembly.RuntimeError);

      const lines = host.logs.slice(before);
      assert.equal(lines.length, 1, `expected one log line, got ${JSON.stringify(lines)}`);
      assert.equal(lines[0].level, CRITICAL);
      assert.match(lines[0].message, /^abort: token store unavailable at test\/sdk\/harness\/abort-filter\.ts\(\d+:\d+\)$/);
      assert.deepEqual(host.exitCodes, [255]);
    });

    it("should not abort or log when the request is ordinary", async () => {
      const host = await MiniHost.load(build.path, { logLevel: 0 });
      host.startPlugin();
      const result = host.stream([[":path", "/"]], [[":status", "200"]]);
      assert.equal(result.requestAction, 0);
      assert.deepEqual(host.logs, []);
      assert.deepEqual(host.exitCodes, []);
    });
  });
}
