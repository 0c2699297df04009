// Fuzzing each policy filter, and the chain, in the emulator against an oracle that knows the answer
// (fuzz-gen.ts builds every request with its ground truth, fuzz-oracle.ts turns it into the exact
// outcome): status, error, challenge, RateLimit headers, whether the upstream saw the request and
// which identity and plan reached it. Runs are bounded by count (FUZZ_COUNT), never by time; each
// target has its own fixed regression seed, and FUZZ_SEED replays any failure the report prints.
// Longer runs: `npm run fuzz -- --count N`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BUILDS } from "./emulator.ts";
import { countFor, fuzzEmulator, seedFor } from "./fuzz-run.ts";
import { type Target } from "./fuzz-oracle.ts";

const TARGETS: { target: Target; count: number }[] = [
  { target: "chain", count: 1500 },
  { target: "token-auth", count: 500 },
  { target: "plan-enforcement", count: 500 },
  { target: "rate-limit", count: 500 },
];

for (const build of BUILDS) {
  describe(`fuzzing the policy filters against the oracle (${build.label})`, () => {
    for (const { target, count } of TARGETS) {
      it(`should answer exactly as the oracle says, never trapping: ${target}`, async (t) => {
        const seed = seedFor(`${target}/${build.label}`, 20261204);
        const report = await fuzzEmulator(target, { debug: build.debug, seed, count: countFor(count) });
        t.diagnostic(`seed ${seed}: ${report.requests} requests in ${report.seconds.toFixed(1)} s, statuses ${JSON.stringify(report.statuses)}`);
        assert.equal(report.failures.length, 0, report.failures.join("\n\n"));
        // No VM of any filter failed along the way, and nothing logged at critical.
        for (const plugin of report.policy.chain.plugins) for (const vm of plugin.vms) assert.equal(vm.failed, false, `a ${target} VM failed (seed ${seed})`);
        assert.deepEqual(report.policy.chain.getLogs("critical"), []);
        // The inputs reached both outcomes.
        assert.ok((report.statuses[200] ?? 0) > 0 && Object.keys(report.statuses).length >= 2, `statuses seen: ${JSON.stringify(report.statuses)}`);
      });
    }
  });
}
