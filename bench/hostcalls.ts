// `npx tsx bench/hostcalls.ts [--requests N] [--wasm-dir D]`: how many times an allowed registry pull
// crosses the wasm boundary, per request, for the three policy filters as three modules and as one
// composed module (filters/policy), counted in the emulator. Hostcalls (guest → host, by name) are
// counted by wrapping the module's imports; calls into the guest (callbacks and the host's malloc
// re-entries) by wrapping its exports (bench/lib/crossings.ts). --wasm-dir D counts D/<name>.wasm instead (e.g. an older
// build to compare with; the composed arm is left out when D has no policy.wasm).
// Numbers go into filters/sdk/PERFORMANCE.md; this is a tool, not a benchmark.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChainFilter } from "proxy-wasm-host-emulator";
import { crossingsPerPull, installCrossingCounter } from "./lib/crossings.ts";
import { loadFilterConfigs } from "./lib/deps.ts";
import { generateBenchKey, makeUsers } from "./lib/identity.ts";
import { buildWat } from "./lib/modules.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const REPO = "bench/app";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

installCrossingCounter();

const requests = Number(arg("--requests", "200"));
const dir = arg("--wasm-dir", join(root, "build/filters"));
const configs = await loadFilterConfigs(root);
const key = generateBenchKey();
const params = { realm: "http://127.0.0.1/api/token", keys: [key] };
const chain = configs.policyFilterChain(params);
const composed = configs.composedPolicyFilter(params);
const users = await makeUsers(key, "calls", { enterprise: 50 }, REPO);

const arms: [string, ChainFilter[]][] = [
  ["three modules", chain.map((f) => ({ name: f.name, rootId: f.rootId, wasm: readFileSync(join(dir, `${f.name}.wasm`)), pluginConfig: f.pluginConfig }))],
];
if (existsSync(join(dir, "policy.wasm"))) {
  arms.push(["one composed module", [{ name: "policy", rootId: "policy", wasm: readFileSync(join(dir, "policy.wasm")), pluginConfig: composed.pluginConfig }]]);
}
// The envoy-cost arm that makes the composed module's hostcalls with no work of its own: its counts
// should match the composed module's (bench/modules/policy-hostcalls.wat).
const contract = join(root, "build/bench/policy-hostcalls.wasm");
mkdirSync(dirname(contract), { recursive: true });
await buildWat(root, "policy-hostcalls.wat", contract);
arms.push(["the hostcalls alone (policy-hostcalls.wat)", [{ name: "policy-hostcalls", rootId: "", wasm: readFileSync(contract), pluginConfig: "" }]]);

for (const [label, filters] of arms) {
  const p = await crossingsPerPull(filters, users.map((u) => u.token), REPO, requests);
  console.log(`\n${label} (${dir}): per allowed pull, ${requests} requests`);
  for (const [name, v] of p.rows) console.log(`  ${v.toFixed(2).padStart(6)}  ${name}`);
  console.log(`  hostcalls ${p.hostcalls.toFixed(2)}, calls into the guest ${p.guestCalls.toFixed(2)}, crossings ${(p.hostcalls + p.guestCalls).toFixed(2)}`);
}
