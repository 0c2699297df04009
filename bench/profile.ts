// `npx tsx bench/profile.ts [--streams N] [--filters a,b] [--wasm-dir D] [--top N]`: where a request's time goes in V8. Each
// policy filter (and add-header, an empty chain, `token-auth+lookup`: token-auth on its cached
// plan-lookup path, and `policy`: the three composed in one module, 300 users rotating per request as
// in the envoy-cost section, so its token cache and shards hold what they hold there) runs N streams in the emulator, the same
// requests as the "filters" section, under V8's CPU profiler (node:inspector, 50 µs sampling); the
// modules are compiled like the release build but keep their function names (asc --debug), so the
// profile names SDK and filter functions (--wasm-dir D profiles D/<name>.wasm instead, e.g. an older
// build to compare with). Prints the top functions by self time, per filter.
// Numbers go into filters/sdk/PERFORMANCE.md; this is a tool, not a benchmark (profiling slows V8).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadFilterConfigs } from "./lib/deps.ts";
import { startEmulatedChain, type EmulatedFilter, type EmulatedRequest } from "./lib/emulator.ts";
import { generateBenchKey, makeUsers } from "./lib/identity.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const REPO = "bench/app";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Compiles filters/<name>/index.ts with the release settings plus function names; throws on a compile error. */
function namedBuild(name: string): string {
  const given = arg("--wasm-dir", "");
  if (given) return join(given, `${name}.wasm`);
  const out = join(root, "build/profile", `${name}.wasm`);
  mkdirSync(join(root, "build/profile"), { recursive: true });
  const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
  const r = spawnSync(process.execPath, [asc, join(root, "filters", name, "index.ts"), "--config", "asconfig.json", "--target", "release", "--debug", "-o", out], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`asc ${name}: ${r.stdout}${r.stderr}`);
  return out;
}

async function main(): Promise<void> {
  const streams = Number(arg("--streams", "20000"));
  const wanted = arg("--filters", "(empty chain),add-header,token-auth,plan-enforcement,rate-limit").split(",");
  const key = generateBenchKey();
  const configs = await loadFilterConfigs(root);
  const policy = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }] });
  const users = await makeUsers(key, "prof", { enterprise: Math.max(300, Math.ceil(streams / 900) + 2) }, REPO);
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 50 });
  for (const label of wanted) {
    let filters: EmulatedFilter[] = [];
    if (label === "add-header") filters = [{ name: label, wasmPath: namedBuild(label), pluginConfig: readFileSync(join(root, "filters/add-header/config.example.json"), "utf8"), rootId: "add_header" }];
    else if (label === "token-auth+lookup") {
      // token-auth with its live-plan lookup; the emulator's clock stands still, so after each user's
      // first request every request takes the cached path (README "Live plans").
      const spec = configs.policyFilterChain({ realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }], planLookup: { cluster: "plans", secret: "bench-only-sidecar-secret" } }, { only: ["token-auth"] })[0];
      filters = [{ name: "token-auth", wasmPath: namedBuild("token-auth"), pluginConfig: spec.pluginConfig, rootId: spec.rootId }];
    } else if (label === "policy") {
      const spec = configs.composedPolicyFilter({ realm: "http://127.0.0.1/api/token", keys: [{ kid: key.kid, k: key.k }] });
      filters = [{ name: "policy", wasmPath: namedBuild("policy"), pluginConfig: spec.pluginConfig, rootId: spec.rootId }];
    } else if (label !== "(empty chain)") {
      const spec = policy.find((p) => p.name === label);
      if (!spec) throw new Error(`unknown filter ${label}`);
      filters = [{ name: label, wasmPath: namedBuild(label), pluginConfig: spec.pluginConfig, rootId: spec.rootId }];
    }
    const chain = await startEmulatedChain(root, filters, label === "token-auth+lookup" ? "enterprise" : undefined);
    let i = 0;
    const request = (): EmulatedRequest => {
      const u = label === "policy" ? users[i++ % 300] : users[Math.floor(i++ / 900) % users.length];
      const who: [string, string][] =
        label === "plan-enforcement" || label === "rate-limit"
          ? [["x-hub-user", u.name], ["x-hub-plan", u.plan], ["x-hub-access", `repository:${REPO}:pull`]]
          : [["authorization", `Bearer ${u.token}`]];
      return { method: "GET", path: `/v2/${REPO}/manifests/latest`, headers: [...who, ["accept", "application/json"]] };
    };
    for (let w = 0; w < 1000; w++) await chain.exchange(request());
    i = 0;
    await session.post("Profiler.start");
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < streams; k++) await chain.exchange(request());
    const perStreamUs = Number(process.hrtime.bigint() - t0) / 1000 / streams;
    const { profile } = await session.post("Profiler.stop");
    await chain.close();
    const total = (profile.nodes as Node[]).reduce((n, x) => n + x.hitCount, 0);
    const self = new Map<string, number>();
    for (const n of profile.nodes as Node[]) {
      const where = n.callFrame.url.startsWith("wasm://") ? "wasm" : n.callFrame.url.includes("/filters/host/") ? "emulator" : n.callFrame.url ? "js" : "v8";
      const name = `${where}: ${n.callFrame.functionName || "(anonymous)"}`;
      self.set(name, (self.get(name) ?? 0) + n.hitCount);
    }
    const byKind = new Map<string, number>();
    for (const [name, hits] of self) byKind.set(name.split(":")[0], (byKind.get(name.split(":")[0]) ?? 0) + hits);
    console.log(`\n## ${label}: ${perStreamUs.toFixed(1)} µs per stream under the profiler, ${streams} streams`);
    console.log(`share of samples: ${[...byKind].map(([k, v]) => `${k} ${((100 * v) / total).toFixed(1)}%`).join(", ")}`);
    for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`);
    const wasm = [...self].filter(([n]) => n.startsWith("wasm:")).sort((a, b) => b[1] - a[1]);
    const wasmTotal = wasm.reduce((n, [, h]) => n + h, 0);
    if (wasmTotal > 0) {
      console.log(`inside the module (${((100 * wasmTotal) / total).toFixed(1)}% of samples, ≈ ${((perStreamUs * wasmTotal) / total).toFixed(1)} µs per stream):`);
      for (const [name, hits] of wasm.slice(0, Number(arg("--top", "12")))) console.log(`${((100 * hits) / wasmTotal).toFixed(1).padStart(5)}% of wasm  ${name.slice(6)}`);
    }
  }
  session.disconnect();
}

main().catch((err: Error) => {
  console.error(`profile: ${err.message}`);
  process.exit(1);
});
