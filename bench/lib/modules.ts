// The comparison modules the "filter cost in Envoy" table needs and the filter build does not make:
// the no-op floor (bench/modules/floor.wat, assembled with wabt), the policy contract's hostcall
// floor and add-header's (bench/modules/*-hostcalls.wat, likewise), our SDK's empty and hello filters,
// and the same hello in the two peer AssemblyScript SDKs, compiled from their npm packages with the
// compiler each one requires. Outputs go to build/bench/; a module newer than its sources is reused.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One built comparison module. */
export interface BenchModule {
  id: "floor" | "policy-hostcalls" | "add-header-hostcalls" | "sdk-empty" | "sdk-hello" | "gcore-hello" | "solo-hello";
  wasm: string;
  /** Root id the module registers (Envoy passes it as plugin_root_id). */
  rootId: string;
}

function fresh(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  return inputs.every((i) => !existsSync(i) || statSync(i).mtimeMs <= t);
}

function run(args: string[], cwd: string, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${label}: compiler exited ${code}\n${out.slice(-2000)}`))));
  });
}

/** Assembles bench/modules/<file> into `out` with wabt (unless `out` is newer); rejects on a WAT error. */
export async function buildWat(root: string, file: string, out: string): Promise<void> {
  const src = join(root, "bench/modules", file);
  if (fresh(out, [src])) return;
  const wabt = await (await import("wabt")).default();
  const mod = wabt.parseWat(file, readFileSync(src, "utf8"));
  try {
    writeFileSync(out, Buffer.from(mod.toBinary({}).buffer));
  } finally {
    mod.destroy();
  }
}

/**
 * Builds every comparison module that is missing or stale and returns those that exist afterwards,
 * with a reason for each that could not be built (e.g. a peer package not installed). Never throws.
 */
export async function buildBenchModules(root: string): Promise<{ modules: BenchModule[]; failures: { id: string; reason: string }[] }> {
  const outDir = join(root, "build/bench");
  mkdirSync(outDir, { recursive: true });
  const src = (f: string) => join(root, "bench/modules", f);
  const nm = (p: string) => join(root, "node_modules", p);
  const asc = nm("assemblyscript/bin/asc.js");
  const sdkDir = join(root, "filters/sdk");
  const sdkSources = readdirSync(sdkDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts") || f === "asconfig.json");
  const sdkInputs = [join(root, "asconfig.json"), ...sdkSources.map((f) => join(sdkDir, f))];
  const ours = (id: "sdk-empty" | "sdk-hello") => async (out: string) => {
    if (fresh(out, [src(`${id}.ts`), ...sdkInputs])) return;
    // The same release settings as the project's filters (asconfig.json), so the arm is what users ship.
    await run([asc, src(`${id}.ts`), "--config", "asconfig.json", "--target", "release", "-o", out], root, id);
  };
  const jobs: { m: BenchModule; build: (out: string) => Promise<void> }[] = [
    { m: { id: "floor", wasm: join(outDir, "floor.wasm"), rootId: "" }, build: (out) => buildWat(root, "floor.wat", out) },
    { m: { id: "policy-hostcalls", wasm: join(outDir, "policy-hostcalls.wasm"), rootId: "" }, build: (out) => buildWat(root, "policy-hostcalls.wat", out) },
    { m: { id: "add-header-hostcalls", wasm: join(outDir, "add-header-hostcalls.wasm"), rootId: "" }, build: (out) => buildWat(root, "add-header-hostcalls.wat", out) },
    { m: { id: "sdk-empty", wasm: join(outDir, "sdk-empty.wasm"), rootId: "" }, build: ours("sdk-empty") },
    { m: { id: "sdk-hello", wasm: join(outDir, "sdk-hello.wasm"), rootId: "" }, build: ours("sdk-hello") },
    {
      m: { id: "gcore-hello", wasm: join(outDir, "gcore-hello.wasm"), rootId: "hello" },
      build: async (out) => {
        if (!existsSync(nm("@gcoredev/proxy-wasm-sdk-as/package.json"))) throw new Error("@gcoredev/proxy-wasm-sdk-as is not installed (npm install)");
        if (fresh(out, [src("gcore-hello.ts")])) return;
        // The wasi-shim's asconfig as its README says (by a relative path: asc resolves its "lib" wrongly from an absolute one), and -O3 (optimizeLevel 3, shrinkLevel 0): the release target asinit writes.
        await run([asc, src("gcore-hello.ts"), "--config", "node_modules/@assemblyscript/wasi-shim/asconfig.json", "-O3", "-o", out], root, "gcore-hello");
      },
    },
    {
      m: { id: "solo-hello", wasm: join(outDir, "solo-hello.wasm"), rootId: "hello" },
      build: async (out) => {
        const legacy = nm("assemblyscript-legacy/bin/asc");
        if (!existsSync(legacy) || !existsSync(nm("@solo-io/proxy-runtime/package.json"))) throw new Error("@solo-io/proxy-runtime or assemblyscript-legacy is not installed (npm install)");
        if (fresh(out, [src("solo-hello.ts")])) return;
        // --use abort=abort_proc_exit is what proxy-runtime asks for: Envoy provides no env.abort.
        await run([legacy, src("solo-hello.ts"), "-b", out, "--use", "abort=abort_proc_exit", "--optimize"], dirname(src("solo-hello.ts")), "solo-hello");
      },
    },
  ];
  const modules: BenchModule[] = [];
  const failures: { id: string; reason: string }[] = [];
  for (const { m, build } of jobs) {
    try {
      await build(m.wasm);
      modules.push(m);
    } catch (err) {
      failures.push({ id: m.id, reason: (err as Error).message });
    }
  }
  return { modules, failures };
}
