// The fuzz generator and oracle (fuzz.test.ts) through the three policy filters in real Envoy 1.40
// (--concurrency 2): every answer as the oracle says, no 5xx, no trap and no VM failure per Envoy's
// own wasm stats and log. Bounded by count (FUZZ_ENVOY_COUNT); `npm run fuzz -- --count N` for more.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { countFor, seedFor } from "./fuzz-run.ts";
import { runEnvoyFuzz, startEnvoyFuzzTarget, type EnvoyFuzzTarget } from "./envoy-fuzz-harness.ts";

let target: EnvoyFuzzTarget;
before(async () => {
  target = await startEnvoyFuzzTarget();
});
after(async () => {
  await target?.stop();
});

describe("fuzzing the policy chain in Envoy against the oracle", () => {
  it("should answer every request exactly as the oracle says, with no 5xx and no trap", async (t) => {
    const seed = seedFor("chain/envoy", 20261204);
    const count = Number(process.env.FUZZ_ENVOY_COUNT ?? countFor(2000));
    const report = await runEnvoyFuzz(target, seed, count);
    t.diagnostic(`seed ${seed}: ${report.requests} requests in ${report.seconds.toFixed(1)} s (${(report.requests / report.seconds).toFixed(0)}/s), statuses ${JSON.stringify(report.statuses)}`);
    assert.equal(report.failures.length, 0, report.failures.join("\n\n"));
    assert.equal(report.requests, count);
    t.diagnostic(`wasm stats after the run: ${JSON.stringify(report.health.stats)}`);
    const serverErrors = Object.entries(report.statuses).filter(([s]) => Number(s) >= 500);
    assert.deepEqual(serverErrors, [], `5xx answers (seed ${seed})`);
    assert.deepEqual(report.health.trapLines, [], `Envoy reported a trap (seed ${seed})`);
    assert.deepEqual(report.health.errors, []);
    // No VM was created during the run (a failed VM would be replaced) and none is failing.
    for (const [name, value] of Object.entries(report.health.stats)) {
      if (/v8\.(created|active)|vm_reload|wasm_vm_count/.test(name)) assert.equal(value, report.before[name] ?? 0, `${name} changed during the run`);
    }
    assert.ok((report.statuses[200] ?? 0) > 0 && (report.statuses[401] ?? 0) > 0 && (report.statuses[429] ?? 0) > 0, `statuses seen: ${JSON.stringify(report.statuses)}`);
  });
});
