// `npm test`: installs Envoy when missing, builds every filter and the UI, then runs every
// `*.test.ts` file with node's test runner (its closing `# pass` / `# fail` summary is what CI reads).
// Extra arguments are path substrings that narrow the files: `npm test -- add-header host`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureEnvoy } from "./ensure-envoy.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_CONDITION = "--conditions=proxy-wasm-source";
const SKIP = new Set(["node_modules", "build", "dist", ".git", ".venv-envoy", ".data", "test-artifacts"]);
// The scaffold's template is a project of its own; test/packages/scaffold.test.ts runs its tests there.
const SKIP_PATHS = new Set(["filters/create/template"]);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (SKIP.has(name) || SKIP_PATHS.has(relative(root, p))) continue;
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, p));
  }
  return out;
}

const started = Date.now();
const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
try {
  ensureEnvoy();
} catch (err) {
  console.error(`npm test: ${err.message}`);
  process.exit(1);
}
const build = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit", cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

const files = findTests(root).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error("npm test: no test files matched");
  process.exit(1);
}
// Inside the repository the workspace packages (proxy-wasm-host-emulator) resolve to their TypeScript
// sources through the "proxy-wasm-source" export condition; NODE_OPTIONS passes it on to the processes
// tests spawn. Outside users get the compiled dist/ (test/packages/scaffold.test.ts checks that path).
const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  cwd: root,
  env: { ...process.env, NODE_ENV: "test", NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${SOURCE_CONDITION}`.trim() },
});
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`npm test: ${files.length} files in ${secs}s`);
process.exit(run.status ?? 1);
