// CPU pinning of the envoy-cost table (bench/lib/pin.ts): the CPU-list parser, the cases where
// nothing is pinned, and, where taskset exists and 2 CPUs are allowed, that a pinned process really
// runs on the Envoy CPU and that the bench process gets its affinity back.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parseCpuList, startPinning, tasksetPath } from "../../bench/lib/pin.ts";

const allowed = (pid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "";

describe("parseCpuList", () => {
  const cases: [string, number[]][] = [
    ["0", [0]],
    ["0-1", [0, 1]],
    ["0,2-4,7", [0, 2, 3, 4, 7]],
    ["0-1\n", [0, 1]],
    ["zero", []],
    ["0-", []],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.deepEqual(parseCpuList(input), want));
});

describe("startPinning", () => {
  test("pins nothing when turned off, and says so", () => {
    const p = startPinning({ disabled: true });
    assert.deepEqual(p.plan, { used: false, reason: "off by default, BENCH_COST_PIN=1 pins" });
    assert.equal(p.pinEnvoy(process.pid), false);
    assert.equal(p.pinSelf(), false);
  });

  test("pins nothing without taskset, and says so", () => {
    const p = startPinning({ taskset: null });
    assert.equal(p.plan.used, false);
    assert.match(p.plan.reason, /taskset not installed|not on Linux/);
  });

  const skip = !tasksetPath() || process.platform !== "linux" || parseCpuList(allowed(process.pid)).length < 2 ? "needs taskset and 2 CPUs" : false;
  test("puts a process on the Envoy CPU and this process on the others, then restores it", { skip }, async (t) => {
    const before = allowed(process.pid);
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    t.after(() => child.kill());
    await new Promise((resolve) => child.once("spawn", resolve));
    const p = startPinning();
    assert.equal(p.plan.used, true, p.plan.reason);
    assert.equal(p.pinEnvoy(child.pid!), true);
    assert.equal(allowed(child.pid!), p.plan.envoyCpus);
    assert.equal(p.pinSelf(), true);
    assert.deepEqual(parseCpuList(allowed(process.pid)), parseCpuList(p.plan.clientCpus!));
    assert.ok(!parseCpuList(allowed(process.pid)).includes(Number(p.plan.envoyCpus)), "the client never shares the Envoy CPU");
    p.restore();
    assert.deepEqual(parseCpuList(allowed(process.pid)), parseCpuList(before));
  });
});
