// `npx tsx bench/hostcalls.ts [--requests N] [--wasm-dir D]`: how many times an allowed registry pull
// crosses the wasm boundary, per request, for the three policy filters as three modules and as one
// composed module (filters/policy), counted in the emulator. Hostcalls (guest → host, by name) are
// counted by wrapping the module's imports; calls into the guest (callbacks and the host's malloc
// re-entries) by wrapping its exports. --wasm-dir D counts D/<name>.wasm instead (e.g. an older
// build to compare with; the composed arm is left out when D has no policy.wasm).
// Numbers go into filters/sdk/PERFORMANCE.md; this is a tool, not a benchmark.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createChain, type ChainFilter } from "proxy-wasm-host-emulator";
import { loadFilterConfigs } from "./lib/deps.ts";
import { generateBenchKey, makeUsers } from "./lib/identity.ts";
import { buildBenchModules } from "./lib/modules.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const REPO = "bench/app";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const counts = new Map<string, number>();
const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);

// Wrap every instance the emulator creates (filters/host/vm.ts uses new WebAssembly.Instance).
const Original = WebAssembly.Instance;
function Counting(this: unknown, module: WebAssembly.Module, imports: WebAssembly.Imports = {}) {
  const wrapped: WebAssembly.Imports = {};
  for (const [ns, entries] of Object.entries(imports)) {
    wrapped[ns] = {};
    for (const [name, value] of Object.entries(entries)) {
      wrapped[ns]![name] = typeof value === "function" ? (...a: unknown[]) => (bump(`→ host ${name}`), (value as (...x: unknown[]) => unknown)(...a)) : value;
    }
  }
  const instance = new Original(module, wrapped);
  const exports: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    exports[name] = typeof value === "function" ? (...a: unknown[]) => (bump(`→ guest ${name}`), (value as (...x: unknown[]) => unknown)(...a)) : value;
  }
  return { exports } as WebAssembly.Instance;
}
(WebAssembly as { Instance: unknown }).Instance = Counting;

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
const { modules } = await buildBenchModules(root);
const contract = modules.find((m) => m.id === "policy-hostcalls");
if (contract) arms.push(["the hostcalls alone (policy-hostcalls.wat)", [{ name: "policy-hostcalls", rootId: "", wasm: readFileSync(contract.wasm), pluginConfig: "" }]]);

for (const [label, filters] of arms) {
  const c = await createChain({ filters });
  const send = (i: number) =>
    c.exchange({ method: "GET", path: `/${"v2"}/${REPO}/manifests/v${i % 5}`, headers: { authorization: `Bearer ${users[i % users.length]!.token}` } }, () => ({ status: 200, body: "{}" }));
  // Warm-up: first-use work (metric definitions, caches) is not per-request cost.
  for (let i = 0; i < 50; i++) await send(i);
  counts.clear();
  for (let i = 0; i < requests; i++) {
    const r = await send(i);
    if (r.status !== 200) throw new Error(`${label}: request ${i} answered ${r.status}: ${r.body}`);
  }
  const rows = [...counts].map(([name, n]) => [name, n / requests] as const).sort((a, b) => b[1] - a[1]);
  const total = (prefix: string) => rows.filter(([n]) => n.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  console.log(`\n${label} (${dir}): per allowed pull, ${requests} requests`);
  for (const [name, v] of rows) console.log(`  ${v.toFixed(2).padStart(6)}  ${name}`);
  console.log(`  hostcalls ${total("→ host").toFixed(2)}, calls into the guest ${total("→ guest").toFixed(2)}, crossings ${(total("→ host") + total("→ guest")).toFixed(2)}`);
}
