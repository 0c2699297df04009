// Logging is gated by the host's log level: a disabled line makes no proxy_log call, the SDK asks for
// the level at most once per stream, and the SDK itself logs nothing per stream.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const TRACE = 0;
const DEBUG = 1;
const INFO = 2;
const OFF = 6;
const config = JSON.stringify({ request: [{ name: "x-a", value: "1" }], response: [{ name: "x-b", value: "2" }] });
const STREAMS = 50;

function runStreams(host: MiniHost, count: number): void {
  for (let i = 0; i < count; i++) host.stream([[":path", "/"]], [[":status", "200"]]);
}

for (const build of bothBuilds("build/filters", "add-header")) {
  describe(`log level gating (${build.label})`, () => {
    it("should make no proxy_log call per stream at info level", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: config, logLevel: INFO });
      host.startPlugin();
      const logsBefore = host.calls.get("proxy_log") ?? 0;
      const levelBefore = host.calls.get("proxy_get_log_level") ?? 0;
      runStreams(host, STREAMS);
      assert.equal((host.calls.get("proxy_log") ?? 0) - logsBefore, 0);
      assert.equal((host.calls.get("proxy_get_log_level") ?? 0) - levelBefore, STREAMS, "one level query per stream");
      assert.deepEqual(host.logs, [{ level: INFO, message: "add-header: adding 1 request and 1 response headers" }]);
    });

    it("should send the filter's debug lines at debug level", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: config, logLevel: DEBUG });
      host.startPlugin();
      runStreams(host, 2);
      assert.deepEqual(host.logs.slice(1), [
        { level: DEBUG, message: "add-header: added 1 request headers" },
        { level: DEBUG, message: "add-header: added 1 response headers" },
        { level: DEBUG, message: "add-header: added 1 request headers" },
        { level: DEBUG, message: "add-header: added 1 response headers" },
      ]);
    });

    it("should apply a level changed at runtime from the next stream on", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: config, logLevel: INFO });
      host.startPlugin();
      runStreams(host, 3);
      assert.equal(host.logs.length, 1);
      host.logLevel = TRACE;
      runStreams(host, 1);
      assert.equal(host.logs.length, 3);
      host.logLevel = INFO;
      runStreams(host, 3);
      assert.equal(host.logs.length, 3);
    });

    it("should send nothing, not even critical, when logging is off", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: "{not json", logLevel: OFF });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 0 });
      assert.equal(host.calls.get("proxy_log") ?? 0, 0);
    });
  });
}
