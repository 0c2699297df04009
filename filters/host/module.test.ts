// Loading and linking rules (proxy-wasm-host.md §6 items 1–7) and the binary reader they rest on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AbiVersion, envImportNames, importType, wasiImportNames } from "./abi-table.ts";
import { readModuleInfo } from "./binary.ts";
import { createHost } from "./host.ts";
import { PluginLoadError, prepareModule } from "./module.ts";
import { bumpMalloc, importProxy, proxyModule, wat } from "./test-support.ts";

/** Asserts that preparing the module fails with Envoy's message and fail state. */
function assertRefused(bytes: Uint8Array, message: RegExp, failState?: string): void {
  assert.throws(
    () => prepareModule(bytes),
    (err: unknown) => err instanceof PluginLoadError && message.test(err.message) && (failState === undefined || err.failState === failState),
  );
}

describe("binary reader", () => {
  it("should read import and export types in section order, and the start section", () => {
    const bytes = wat(`(module
      (import "env" "proxy_increment_metric" (func (param i32 i64) (result i32)))
      (import "env" "mem" (memory 3))
      (func $s)
      (func (export "b") (param i32 i32) (result i32) (i32.const 0))
      (func (export "a"))
      (start $s))`);
    const info = readModuleInfo(bytes);
    assert.deepEqual(info.imports[0], { module: "env", name: "proxy_increment_metric", kind: "func", type: { params: ["i32", "i64"], results: ["i32"] } });
    assert.equal(info.imports[1].kind, "memory");
    assert.equal(info.imports[1].memoryMinimum, 3);
    assert.deepEqual(info.exports.map((e) => e.name), ["b", "a"]);
    assert.deepEqual(info.exports[0].type, { params: ["i32", "i32"], results: ["i32"] });
    assert.equal(info.hasStartSection, true);
  });

  it("should refuse bytes that are not a wasm module", () => {
    assertRefused(new TextEncoder().encode("not wasm"), /Failed to load Wasm code: not a WebAssembly 1.0 binary/, "unableToInitializeCode");
  });
});

describe("ABI marker", () => {
  it("should refuse a module without a marker", () => {
    assertRefused(wat(`(module (memory (export "memory") 1) ${bumpMalloc})`), /^Missing or unknown Proxy-Wasm ABI version$/);
  });

  it("should refuse the vNEXT marker proxy_abi_version_0_x_x", () => {
    assertRefused(wat(`(module (memory (export "memory") 1) ${bumpMalloc} (func (export "proxy_abi_version_0_x_x")))`), /Missing or unknown/);
  });

  it("should take the first marker in export order", () => {
    const bytes = wat(`(module (memory (export "memory") 1) ${bumpMalloc}
      (func $m) (export "proxy_abi_version_0_2_0" (func $m)) (export "proxy_abi_version_0_2_1" (func $m)))`);
    assert.equal(prepareModule(bytes).abiVersion, "0_2_0");
  });
});

describe("import linking", () => {
  it("should refuse proxy_get_log_level under ABI 0.2.0 and accept it under 0.2.1", () => {
    const imports = importProxy("get_log_level", 1);
    assertRefused(proxyModule("", { imports, abi: "0_2_0" }), /missing import: env.proxy_get_log_level/, "unableToInitializeCode");
    assert.equal(prepareModule(proxyModule("", { imports, abi: "0_2_1" })).abiVersion, "0_2_1");
  });

  it("should refuse proxy_continue_stream under 0.1.0 and link proxy_continue_request there", () => {
    assertRefused(proxyModule("", { imports: importProxy("continue_stream", 1), abi: "0_1_0" }), /missing import: env.proxy_continue_stream/);
    const ok = proxyModule("", { imports: `(import "env" "proxy_continue_request" (func (result i32)))`, abi: "0_1_0" });
    assert.equal(prepareModule(ok).abiVersion, "0_1_0");
  });

  it("should refuse an unknown function, a global import and an import of the wrong type", () => {
    assertRefused(proxyModule("", { imports: `(import "env" "abort" (func (param i32 i32 i32 i32)))` }), /missing import: env.abort/);
    assertRefused(proxyModule("", { imports: `(import "env" "seed" (global f64))` }), /missing import: env.seed/);
    assertRefused(proxyModule("", { imports: `(import "env" "proxy_log" (func (param i32 i32) (result i32)))` }), /import type mismatch for env.proxy_log: want \(i32,i32,i32\)->i32, have \(i32,i32\)->i32/);
  });

  it("should link WASI under both module names, including cpp-host's 6-parameter path_link", () => {
    const imports = `(import "wasi_unstable" "proc_exit" (func (param i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_link" (func (param i32 i32 i32 i32 i32 i32) (result i32)))`;
    assert.equal(prepareModule(proxyModule("", { imports })).info.imports.length, 3);
    assertRefused(proxyModule("", { imports: `(import "wasi_snapshot_preview1" "path_link" (func (param i32 i32 i32 i32 i32 i32 i32) (result i32)))` }), /import type mismatch/);
  });
});

describe("export checks", () => {
  it("should refuse a 2-parameter proxy_on_request_headers under 0.2.x", () => {
    assertRefused(proxyModule(`(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`), /^Bad function signature for: proxy_on_request_headers$/, "unableToInitializeCode");
  });

  it("should refuse main as ()->i32 next to _initialize, and ignore it without _initialize", () => {
    const main = `(func (export "main") (result i32) (i32.const 0))`;
    assertRefused(proxyModule(`(func (export "_initialize")) ${main}`), /Bad function signature for: main/);
    assert.ok(!prepareModule(proxyModule(main)).callable.has("main"));
  });

  it("should refuse a module with neither malloc nor proxy_on_memory_allocate", () => {
    const bytes = wat(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))`);
    assertRefused(bytes, /^Wasm module is missing malloc function\.$/, "unableToInitializeCode");
  });

  it("should prefer malloc when both allocators are exported", async () => {
    const bytes = proxyModule(`
      (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0))`);
    const host = await createHost({ wasm: bytes, pluginConfig: "abc" });
    assert.equal(host.start().ok, true);
    // Copy-out of a non-empty value goes through the allocator: malloc succeeds where the other returns 0.
    assert.notEqual(host.plugin.vms[0].allocate(16), 0);
  });
});

describe("initialization", () => {
  it("should call _initialize then main(0,0), and _start only without _initialize", async () => {
    const logCall = (name: string, at: number) => `(call $log (i32.const 2) (i32.const ${at}) (i32.const ${name.length}))`;
    const imports = `(import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))`;
    const data = `(data (i32.const 100) "init") (data (i32.const 200) "main") (data (i32.const 300) "start")`;
    const reactor = proxyModule(`${data}
      (func (export "_initialize") (drop ${logCall("init", 100)}))
      (func (export "main") (param i32 i32) (result i32) (drop ${logCall("main", 200)}) (i32.const 0))
      (func (export "_start") (drop ${logCall("start", 300)}))`, { imports });
    const host = await createHost({ wasm: reactor });
    assert.equal(host.start().ok, true);
    assert.deepEqual(host.getLogs().map((l) => l.message), ["init", "main"]);

    const command = proxyModule(`${data} (func (export "_start") (drop ${logCall("start", 300)}))`, { imports });
    const host2 = await createHost({ wasm: command });
    host2.start();
    assert.deepEqual(host2.getLogs().map((l) => l.message), ["start"]);
  });

  it("should fail the VM when _initialize calls a restricted hostcall", async () => {
    const bytes = proxyModule(`(func (export "_initialize") (drop (call $get_property (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`, {
      imports: importProxy("get_property", 4),
    });
    const host = await createHost({ wasm: bytes });
    const result = host.start();
    assert.equal(result.ok, false);
    assert.equal(result.failState, "unableToInitializeCode");
    assert.match(result.message!, /restricted_callback: proxy_get_property called during VM initialization/);
  });

  it("should trap a hostcall other than log, fd_write, clock or poll_oneoff made inside malloc", async () => {
    const bytes = wat(`(module
      ${importProxy("get_property", 4)}
      ${importProxy("get_buffer_bytes", 5)}
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (drop (call $get_property (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) (i32.const 1024))
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (drop (call $get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) (i32.const 16) (i32.const 20))) (i32.const 1)))`);
    const host = await createHost({ wasm: bytes, pluginConfig: "cfg" });
    const result = host.start();
    assert.equal(result.ok, false);
    assert.equal(result.failState, "runtimeError");
    assert.match(result.message!, /restricted_callback: proxy_get_property called during malloc/);
  });
});

describe("import table completeness", () => {
  for (const version of ["0_1_0", "0_2_0", "0_2_1"] as AbiVersion[]) {
    it(`should link and instantiate a ${version} module importing every name Envoy registers`, async () => {
      const decl = (module: string, name: string) => {
        const t = importType(version, module, name)!;
        const results = t.results.length ? `(result ${t.results.join(" ")})` : "";
        return `(import "${module}" "${name}" (func (param ${t.params.join(" ")}) ${results}))`;
      };
      const imports = [
        ...envImportNames(version).map((n) => decl("env", n)),
        ...wasiImportNames.map((n) => decl("wasi_snapshot_preview1", n)),
        ...wasiImportNames.map((n) => decl("wasi_unstable", n)),
      ].join("\n");
      const host = await createHost({ wasm: proxyModule("", { imports, abi: version }) });
      assert.deepEqual(host.start(), { ok: true, failState: "ok" });
    });
  }
});
