// `npm run build`: compiles every filter to build/filters/<name>.wasm (release) and
// build/filters/<name>.debug.wasm, the conformance test filters to build/test-filters/, the emulator
// package to filters/host/dist/ (what `node` without the proxy-wasm-source condition loads), and the UI
// to build/ui/. A target is skipped when its output is newer than every source it depends on.
// Flags: --filters (filters and test filters only), --force (ignore timestamps).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const force = process.argv.includes("--force");
const filtersOnly = process.argv.includes("--filters");
const asc = join(root, "node_modules/assemblyscript/bin/asc.js");

/** Newest mtime (ms) of the files under the given paths. */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const n of readdirSync(p)) if (n !== "node_modules" && n !== "dist" && !n.endsWith(".test.ts")) t = Math.max(t, newest([join(p, n)]));
    } else t = Math.max(t, s.mtimeMs);
  }
  return t;
}

function upToDate(outputs, inputs) {
  if (force) return false;
  const src = newest(inputs);
  return outputs.every((o) => existsSync(o) && statSync(o).mtimeMs >= src);
}

function run(cmd, args, label) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${label} failed (exit ${code}):\n${out}`));
      if (out.includes("skipped:")) process.stdout.write(out);
      resolve();
    });
  });
}

/** One AssemblyScript entry compiled for both targets of the root asconfig.json. */
function ascJobs(entry, outDir, name, extraInputs) {
  const release = join(outDir, `${name}.wasm`);
  const debug = join(outDir, `${name}.debug.wasm`);
  const inputs = [entry, join(root, "filters/sdk"), join(root, "asconfig.json"), ...extraInputs];
  if (upToDate([release, debug], inputs)) return [];
  mkdirSync(outDir, { recursive: true });
  return [
    () => run(process.execPath, [asc, entry, "--config", "asconfig.json", "--target", "release", "-o", release], `asc ${name} (release)`),
    () => run(process.execPath, [asc, entry, "--config", "asconfig.json", "--target", "debug", "-o", debug, "-t", debug.replace(/\.wasm$/, ".wat")], `asc ${name} (debug)`),
  ];
}

/** The filters each composed module is built from (its index.ts imports their filter.ts). */
const composes = { policy: ["token-auth", "plan-enforcement", "rate-limit"] };
const jobs = [];
const filtersDir = join(root, "filters");
for (const name of readdirSync(filtersDir).sort()) {
  const entry = join(filtersDir, name, "index.ts");
  if (name === "sdk" || name === "host" || !existsSync(entry)) continue;
  // A filter depends on its own folder and filters/sdk (ascJobs adds the SDK); a composed module
  // (filters/policy) also on the folders of the filters it composes.
  const composed = (composes[name] ?? []).map((n) => join(filtersDir, n));
  jobs.push(...ascJobs(entry, join(root, "build/filters"), name, [join(filtersDir, name), ...composed]));
}
const testFilters = join(root, "test/conformance/filters");
if (existsSync(testFilters)) {
  for (const file of readdirSync(testFilters).sort()) {
    if (!file.endsWith(".ts")) continue;
    jobs.push(...ascJobs(join(testFilters, file), join(root, "build/test-filters"), file.replace(/\.ts$/, ""), []));
  }
}
// The SDK's own test modules (abort path, pair codec, JSON reader), compiled like filters.
const sdkHarness = join(root, "test/sdk/harness");
if (existsSync(sdkHarness)) {
  for (const file of readdirSync(sdkHarness).sort()) {
    if (!file.endsWith(".ts")) continue;
    jobs.push(...ascJobs(join(sdkHarness, file), join(root, "build/test-sdk"), file.replace(/\.ts$/, ""), []));
  }
}
// Extra build steps (the foreign-SDK fixtures, the UI) live next to what they build. The Go
// fixture's step prints "skipped: go not found" without a Go toolchain, the (optional) Rust one
// "skipped: …" without the wasm32-wasip1 target.
const extra = [];
for (const [dir, label] of [["proxy-runtime-0.1.8", "proxy-runtime 0.1.8 fixture"], ["gcore-sdk-as-1.2.3", "G-Core SDK fixture"], ["go-sdk", "Go SDK fixture"], ["rust-sdk", "Rust SDK fixture"]]) {
  const step = join(root, "test/fixtures", dir, "build.mjs");
  if (existsSync(step)) extra.push(() => run(process.execPath, [step], label));
}
// The emulator package's compiled JavaScript + .d.ts (typescript is a dev dependency: a production
// install that only runs `npm start` uses the sources and skips this).
const tsc = join(root, "node_modules/typescript/bin/tsc");
const hostDir = join(root, "filters/host");
if (existsSync(tsc) && !upToDate([join(hostDir, "dist/index.js")], [hostDir])) {
  extra.push(() => run(process.execPath, [tsc, "-p", join(hostDir, "tsconfig.build.json")], "tsc filters/host"));
}
const ui = join(root, "image-hub/ui/vite.config.ts");
if (!filtersOnly && existsSync(ui) && !upToDate([join(root, "build/ui/index.html")], [join(root, "image-hub/ui"), join(root, "image-hub/plans.json")])) {
  extra.push(() => run(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--config", ui, "--logLevel", "warn"], "vite build"));
}

const all = [...jobs, ...extra];
const started = Date.now();
let next = 0;
async function worker() {
  while (next < all.length) await all[next++]();
}
try {
  await Promise.all([worker(), worker()]);
  if (all.length) console.log(`build: ${all.length} step(s) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
