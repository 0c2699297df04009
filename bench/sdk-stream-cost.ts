// `npx tsx bench/sdk-stream-cost.ts [--streams N] [--rounds R] [name=path.wasm ...]`: what a module's
// own per-stream work costs in V8, without Envoy: each round drives N streams through the raw exports
// (context_create, request_headers, response_headers, response_body, log, done, delete: Envoy's seven
// calls for a request with a response body) of every module in turn, the order alternating between
// rounds, and prints the median ns per stream. Every host function is a stub that answers Ok (the log
// level query answers info), so the figures are the module's work plus V8's JS→wasm calls; the floor
// module (bench/modules/floor.wat) shows what the calls alone cost. Defaults: the floor and our empty
// and hello filters from build/bench/ (run `npm run bench -- --only envoy-cost` once to build them).
// Numbers go into filters/sdk/PERFORMANCE.md; this is a tool, not a benchmark of record.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
let streams = 100_000;
let rounds = 9;
const modules: [string, string][] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--streams") streams = Number(args[++i]);
  else if (args[i] === "--rounds") rounds = Number(args[++i]);
  else if (args[i].includes("=")) modules.push(args[i].split("=", 2) as [string, string]);
  else throw new Error(`unknown argument ${args[i]} (usage: [--streams N] [--rounds R] [name=path.wasm ...])`);
}
if (!modules.length) for (const m of ["floor", "sdk-empty", "sdk-hello"]) modules.push([m, join(root, "build/bench", `${m}.wasm`)]);

type Exports = Record<string, (...a: number[]) => number> & { memory?: WebAssembly.Memory };

async function load(path: string): Promise<Exports> {
  if (!existsSync(path)) throw new Error(`${path} is missing (npm run bench -- --only envoy-cost builds build/bench/)`);
  const module = await WebAssembly.compile(readFileSync(path));
  let exports: Exports | undefined;
  const imports: Record<string, Record<string, (...a: number[]) => number>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const stub =
      imp.name === "proxy_get_log_level"
        ? (ptr: number) => (new DataView(exports!.memory!.buffer).setUint32(ptr, 2, true), 0)
        : () => 0;
    (imports[imp.module] ??= {})[imp.name] = stub;
  }
  exports = (await WebAssembly.instantiate(module, imports)).exports as Exports;
  exports._initialize?.();
  exports.proxy_on_context_create(1, 0);
  exports.proxy_on_vm_start(1, 0);
  exports.proxy_on_configure(1, 0);
  return exports;
}

function round(e: Exports, first: number): number {
  const start = process.hrtime.bigint();
  for (let id = first; id < first + streams; id++) {
    e.proxy_on_context_create(id, 1);
    e.proxy_on_request_headers(id, 0, 1);
    e.proxy_on_response_headers(id, 0, 0);
    e.proxy_on_response_body(id, 10, 1);
    e.proxy_on_log(id);
    e.proxy_on_done(id);
    e.proxy_on_delete(id);
  }
  return Number(process.hrtime.bigint() - start) / streams;
}

const loaded = await Promise.all(modules.map(async ([name, path]) => ({ name, e: await load(path), ns: [] as number[] })));
let next = 2;
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...loaded].reverse() : loaded;
  for (const m of order) {
    m.ns.push(round(m.e, next));
    next += streams;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${streams} streams × ${rounds} rounds, 7 callbacks per stream, median ns per stream:`);
for (const m of loaded) console.log(`  ${m.name.padEnd(24)} ${median(m.ns).toFixed(0).padStart(6)}`);
