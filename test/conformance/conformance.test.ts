// Differential conformance: every scenario runs in the emulator and in real Envoy 1.40; each side
// must meet the scenario's expectations and the two sides must observe the same thing (after the
// ignore sets in compare.ts). Envoy starts: one per worker count plus one per refusal scenario.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { comparable, unmet } from "./compare.ts";
import { runInEmulator } from "./emulator-runner.ts";
import { runInEnvoy, runRefusalInEnvoy } from "./envoy-runner.ts";
import { foreignScenarios, goSkipReason } from "./scenarios-foreign.ts";
import { hostScenarios } from "./scenarios-host.ts";
import { httpScenarios } from "./scenarios-http.ts";
import type { Observation, Scenario } from "./types.ts";

const scenarios: Scenario[] = [...httpScenarios, ...hostScenarios, ...foreignScenarios];
const isRefusal = (s: Scenario) => s.expect.refusedWithLog !== undefined;
const envoy = new Map<string, Observation>();
const emulator = new Map<string, Observation>();
const started = Date.now();
let envoyStarts = 0;

describe("conformance: emulator vs Envoy 1.40", () => {
  before(
    async () => {
      const names = new Set<string>();
      for (const s of scenarios) {
        if (names.has(s.name)) throw new Error(`duplicate scenario name ${s.name}`);
        names.add(s.name);
      }
      for (const concurrency of [1, 2]) {
        const group = scenarios.filter((s) => !isRefusal(s) && (s.concurrency ?? 1) === concurrency);
        if (group.length === 0) continue;
        envoyStarts++;
        for (const [name, o] of await runInEnvoy(group, concurrency)) envoy.set(name, o);
      }
      for (const s of scenarios.filter(isRefusal)) {
        envoyStarts++;
        envoy.set(s.name, await runRefusalInEnvoy(s));
      }
      for (const s of scenarios) emulator.set(s.name, await runInEmulator(s));
    },
    { timeout: 300_000 },
  );

  after(() => {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`conformance: ${scenarios.length} scenarios, ${envoyStarts} Envoy starts, ${secs}s${goSkipReason ? `; Go fixture ${goSkipReason}` : ""}`);
  });

  for (const s of scenarios) {
    it(`${s.name} — ${s.covers}`, () => {
      const e = envoy.get(s.name);
      const m = emulator.get(s.name);
      assert.ok(e && m, "both sides ran");
      assert.deepEqual(unmet(s, e), [], "Envoy does not meet the scenario's expectations");
      assert.deepEqual(comparable(s, m), comparable(s, e), "the emulator observed something else than Envoy");
      assert.deepEqual(unmet(s, m), [], "the emulator does not meet the scenario's expectations");
    });
  }
});
