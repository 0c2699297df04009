// Logging is gated by the host's log level: a disabled line makes no proxy_log call, the SDK asks for
// the level once every REFRESH streams (and on configure and tick), and logs nothing per stream.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bothBuilds } from "./builds.ts";
import { MiniHost } from "./mini-host.ts";

const TRACE = 0;
const DEBUG = 1;
const INFO = 2;
const OFF = 6;
const config = JSON.stringify({ request: [{ name: "x-a", value: "1" }], response: [{ name: "x-b", value: "2" }] });
const STREAMS = 100;
/** LOG_LEVEL_REFRESH_STREAMS in filters/sdk/hostcalls/log.ts: the bound on how late a runtime level change applies. */
const REFRESH = 32;

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
      assert.equal((host.calls.get("proxy_get_log_level") ?? 0) - levelBefore, Math.floor(STREAMS / REFRESH), "one level query every REFRESH streams (configure asked last)");
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

    it("should apply a level changed at runtime within REFRESH streams", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: config, logLevel: INFO });
      host.startPlugin();
      runStreams(host, 3);
      assert.equal(host.logs.length, 1);
      host.logLevel = TRACE;
      runStreams(host, REFRESH);
      // The last of those streams ran at the new level and logged its two debug lines.
      assert.ok(host.logs.length >= 3, "debug lines within REFRESH streams of the change");
      assert.deepEqual(host.logs.at(-1), { level: DEBUG, message: "add-header: added 1 response headers" });
      host.logLevel = INFO;
      runStreams(host, REFRESH);
      const settled = host.logs.length;
      runStreams(host, 3);
      assert.equal(host.logs.length, settled, "quiet again within REFRESH streams");
    });

    it("should send nothing, not even critical, when logging is off", async () => {
      const host = await MiniHost.load(build.path, { pluginConfig: "{not json", logLevel: OFF });
      assert.deepEqual(host.startPlugin(), { vmStart: 1, configure: 0 });
      assert.equal(host.calls.get("proxy_log") ?? 0, 0);
    });
  });
}
