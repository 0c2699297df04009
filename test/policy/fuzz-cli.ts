// `npm run fuzz -- --count N [--seed S] [--lanes L] [--only emulator|envoy]`: long fuzz runs of the
// policy filters against the oracle, in the emulator (chain, both builds) and through the three
// filters in real Envoy. Prints requests per second, statuses, VM restarts and traps; exits 1 on
// any disagreement with the oracle, any 5xx, any trap or VM restart. Bounded by count, not time.
import { parseArgs } from "node:util";
import { fuzzEmulator, seedFor } from "./fuzz-run.ts";
import { runEnvoyFuzz, startEnvoyFuzzTarget } from "./envoy-fuzz-harness.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "20000" }, seed: { type: "string" }, lanes: { type: "string", default: "8" }, only: { type: "string" } } });
const count = Number(values.count);
const lanes = Number(values.lanes);
if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${values.count}`);
if (values.seed !== undefined) process.env.FUZZ_SEED = values.seed;
const seed = seedFor("cli", Date.now() % 1_000_000_007);
let failed = false;

if (values.only !== "envoy") {
  for (const debug of [false, true]) {
    const report = await fuzzEmulator("chain", { debug, seed, count, maxFailures: 5 });
    const failedVms = report.policy.chain.plugins.flatMap((p) => p.vms).filter((vm) => vm.failed).length;
    console.log(`emulator (${debug ? "debug" : "release"}), seed ${seed}: ${report.requests} requests in ${report.seconds.toFixed(1)} s (${(report.requests / report.seconds).toFixed(0)}/s), statuses ${JSON.stringify(report.statuses)}, quota answers ${report.quotaAnswers}, failed VMs ${failedVms}`);
    for (const f of report.failures) console.log(f);
    failed ||= report.failures.length > 0 || failedVms > 0;
  }
}
if (values.only !== "emulator") {
  const target = await startEnvoyFuzzTarget();
  try {
    const report = await runEnvoyFuzz(target, seed, count, lanes);
    const changed = Object.entries(report.health.stats).filter(([n, v]) => /v8\.(created|active)|vm_reload|wasm_vm_count/.test(n) && v !== (report.before[n] ?? 0));
    const serverErrors = Object.entries(report.statuses).filter(([s]) => Number(s) >= 500);
    console.log(`Envoy, seed ${seed}: ${report.requests} requests in ${report.seconds.toFixed(1)} s (${(report.requests / report.seconds).toFixed(0)}/s over ${lanes} connections), statuses ${JSON.stringify(report.statuses)}, quota answers ${report.quotaAnswers}`);
    console.log(`Envoy wasm: VM restarts/failures during the run ${JSON.stringify(changed)}, trap lines ${report.health.trapLines.length}, error logs ${report.health.errors.length}`);
    console.log(`Envoy wasm stats: ${JSON.stringify(report.health.stats)}`);
    for (const f of report.failures) console.log(f);
    failed ||= report.failures.length > 0 || serverErrors.length > 0 || changed.length > 0 || report.health.trapLines.length > 0 || report.health.errors.length > 0;
  } finally {
    await target.stop();
  }
}
console.log(failed ? `fuzz: FAILED (replay with --seed ${seed})` : "fuzz: every answer as the oracle says");
process.exit(failed ? 1 : 0);
