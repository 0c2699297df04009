// bench/modules/policy-hostcalls.wat stands for "the composed policy module's hostcalls with no work
// of its own" in the envoy-cost table. That holds only while it makes the same crossings per allowed
// pull as the module it stands for: this test counts both in the emulator and fails when the policy
// filters gain or lose a hostcall (then update the WAT module and its arm's label).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { composedPolicyFilter } from "../../image-hub/filter-configs.ts";
import { crossingsPerPull, installCrossingCounter } from "../../bench/lib/crossings.ts";
import { generateBenchKey, makeUsers } from "../../bench/lib/identity.ts";
import { buildWat } from "../../bench/lib/modules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const REPO = "bench/app";

test("the hostcall-floor module crosses the boundary exactly as the composed policy module does per allowed pull", async () => {
  installCrossingCounter();
  const key = generateBenchKey();
  const composed = composedPolicyFilter({ realm: "http://127.0.0.1/api/token", keys: [key] });
  const users = await makeUsers(key, "calls", { enterprise: 20 }, REPO);
  const tokens = users.map((u) => u.token);
  const wat = join(root, "build/bench/policy-hostcalls.wasm");
  mkdirSync(join(root, "build/bench"), { recursive: true });
  await buildWat(root, "policy-hostcalls.wat", wat);

  // 64 pulls: the SDK asks for the log level every 32 streams, a hostcall the WAT module leaves out.
  const policy = await crossingsPerPull([{ name: "policy", rootId: composed.rootId, wasm: readFileSync(composed.wasm), pluginConfig: composed.pluginConfig }], tokens, REPO, 64);
  const floor = await crossingsPerPull([{ name: "policy-hostcalls", rootId: "", wasm: readFileSync(wat), pluginConfig: "" }], tokens, REPO, 64);
  const perName = (p: typeof policy) => Object.fromEntries(p.rows.filter(([name]) => name !== "→ host proxy_get_log_level"));
  assert.deepEqual(perName(floor), perName(policy));
  assert.equal(floor.hostcalls, 13, "the arm's label says 13 hostcalls");
});
