// Module hygiene of EVERY built filter: the exports Envoy looks up, no start section, and imports that
// Envoy provides (env.proxy_* of ABI 0.2.1 and its WASI functions) — never env.abort, env.seed,
// env.trace, env.Date.now or env.console.*, which would make Envoy refuse to load the module.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "./builds.ts";
import { summarize } from "./wasm-sections.ts";

/** Every host function of proxy-wasm ABI 0.2.1 (proxy-wasm-spec-v0.2.1.md). */
const proxyHostcalls = new Set([
  "proxy_log", "proxy_get_log_level", "proxy_get_current_time_nanoseconds", "proxy_set_tick_period_milliseconds",
  "proxy_set_effective_context", "proxy_done", "proxy_get_buffer_status", "proxy_get_buffer_bytes", "proxy_set_buffer_bytes",
  "proxy_get_header_map_size", "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_value",
  "proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value", "proxy_continue_stream",
  "proxy_close_stream", "proxy_get_status", "proxy_send_local_response", "proxy_http_call", "proxy_grpc_call",
  "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_cancel", "proxy_grpc_close", "proxy_get_shared_data",
  "proxy_set_shared_data", "proxy_register_shared_queue", "proxy_resolve_shared_queue", "proxy_enqueue_shared_queue",
  "proxy_dequeue_shared_queue", "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric",
  "proxy_get_property", "proxy_set_property", "proxy_call_foreign_function",
]);

/** WASI functions Envoy registers with WASI-compatible signatures (proxy-wasm-host.md §2.2). */
const envoyWasi = new Set([
  "fd_write", "fd_pwrite", "fd_read", "fd_pread", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
  "fd_prestat_get", "fd_prestat_dir_name", "fd_filestat_get", "fd_advise", "fd_allocate", "fd_datasync", "fd_sync",
  "fd_tell", "fd_readdir", "fd_renumber", "path_open", "environ_sizes_get", "environ_get", "args_sizes_get", "args_get",
  "clock_time_get", "clock_res_get", "random_get", "sched_yield", "poll_oneoff", "proc_exit",
]);

/**
 * Modules built by other SDKs on purpose (test/fixtures), which prove the emulator is SDK-neutral:
 * @solo-io/proxy-runtime 0.1.8 (AssemblyScript 0.14, ABI 0.2.0, start section, wasi_unstable),
 * the Go SDK (ABI 0.2.0), G-Core's AssemblyScript SDK and the optional Rust one (ABI 0.2.1). They are checked
 * only to be what they claim: the ABI marker, by module.
 */
const foreignSdkFixtures = new Map([
  ["build/test-filters/proxy-runtime-add-header.wasm", "proxy_abi_version_0_2_0"],
  ["build/test-filters/proxy-runtime-fixture.wasm", "proxy_abi_version_0_2_0"],
  ["build/test-filters/gcore-fixture.wasm", "proxy_abi_version_0_2_1"],
  ["build/test-filters/go-fixture.wasm", "proxy_abi_version_0_2_0"],
  ["build/test-filters/rust-fixture.wasm", "proxy_abi_version_0_2_1"],
]);

/** Sources and the folder their modules are built into (as scripts/build.mjs builds them). */
const sources: [string, string, (name: string) => string | undefined][] = [
  ["filters", "build/filters", (n) => (n !== "sdk" && n !== "host" && existsSync(join(repoRoot, "filters", n, "index.ts")) ? n : undefined)],
  ["test/conformance/filters", "build/test-filters", (n) => (n.endsWith(".ts") ? n.slice(0, -3) : undefined)],
  ["test/sdk/harness", "build/test-sdk", (n) => (n.endsWith(".ts") ? n.slice(0, -3) : undefined)],
];
/** Every module the sources promise, release and debug, plus the foreign fixtures: derived from the sources, so a missing build fails below instead of shrinking the list. */
const expected = [
  ...sources.flatMap(([src, out, name]) =>
    readdirSync(join(repoRoot, src)).sort().flatMap((n) => {
      const base = name(n);
      return base === undefined ? [] : [join(out, `${base}.wasm`), join(out, `${base}.debug.wasm`)];
    }),
  ),
  // The foreign fixtures every build makes: Go's only where go is installed, Rust's only with its optional target.
  ...[...foreignSdkFixtures.keys()].filter((m) => !m.includes("rust-") && (!m.includes("go-") || spawnSync("go", ["version"]).status === 0)),
];
/** Checked when built, never required: the Rust fixture needs an optional rustup target. */
const optional = [...foreignSdkFixtures.keys()].filter((m) => m.includes("rust-"));
const modules = [...expected, ...optional].filter((m) => existsSync(join(repoRoot, m)));

describe("module hygiene", () => {
  it("should find every module the sources promise (the checks below must not pass vacuously)", () => {
    assert.ok(expected.length >= 20, `only ${expected.length} modules expected: are the sources there?`);
    assert.deepEqual(expected.filter((m) => !modules.includes(m)), [], "run `node scripts/build.mjs` first");
  });

  for (const path of modules.filter((m) => foreignSdkFixtures.has(m))) {
    it(`${path} should be the foreign-SDK fixture it is excluded as (${foreignSdkFixtures.get(path)})`, () => {
      const summary = summarize(new Uint8Array(readFileSync(join(repoRoot, path))));
      assert.ok(summary.exports.some((e) => e.name === foreignSdkFixtures.get(path)));
    });
  }

  for (const path of modules.filter((m) => !foreignSdkFixtures.has(m))) {
    describe(path, () => {
      const summary = summarize(new Uint8Array(readFileSync(join(repoRoot, path))));
      const funcExport = (name: string) => summary.exports.find((e) => e.name === name && e.kind === 0);

      it("should export proxy_abi_version_0_2_1, _initialize, malloc and proxy_on_memory_allocate as functions", () => {
        for (const name of ["proxy_abi_version_0_2_1", "_initialize", "malloc", "proxy_on_memory_allocate"]) {
          assert.ok(funcExport(name), `missing function export ${name}`);
        }
        assert.equal(funcExport("malloc")!.index, funcExport("proxy_on_memory_allocate")!.index, "one allocator, two names");
        assert.ok(summary.exports.some((e) => e.name === "memory" && e.kind === 2), "memory must be exported");
      });

      it("should have no start section", () => {
        assert.equal(summary.hasStart, false);
      });

      it("should import only ABI 0.2.1 env.proxy_* and Envoy's WASI functions", () => {
        for (const imp of summary.imports) {
          const what = `${imp.module}.${imp.name}`;
          assert.equal(imp.kind, 0, `${what} is not a function import`);
          if (imp.module === "env") assert.ok(proxyHostcalls.has(imp.name), `${what} is not a proxy-wasm 0.2.1 hostcall`);
          else assert.ok(imp.module === "wasi_snapshot_preview1" && envoyWasi.has(imp.name), `${what} is not provided by Envoy`);
        }
      });
    });
  }
});
