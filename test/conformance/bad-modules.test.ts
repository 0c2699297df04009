// Bad input: modules Envoy 1.40 refuses while creating the VM. Each is started in real Envoy and in
// the emulator; both must refuse it, log the same error lines (the first names the import or export)
// and the emulator must report the fail state Envoy's VM ends in. cpp-host's createWasm() follows
// every refusal with fail(UnableToInitializeCode, "Failed to load Wasm code" | "Failed to initialize
// Wasm code"), and fail() overwrites the state, so that last line is what fixes the state.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ChainStartError, createChain } from "proxy-wasm-host-emulator";
import { EnvoyStartError, startEnvoy } from "proxy-wasm-host-emulator/envoy";
import { bumpMalloc, proxyModule, wat } from "proxy-wasm-host-emulator/test-support";

const dir = mkdtempSync(join(tmpdir(), "bad-modules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Envoy's `[error][wasm]` lines while refusing, without the "Wasm VM failed " prefix some carry. */
async function envoyRefusal(name: string, bytes: Uint8Array): Promise<string[]> {
  const path = join(dir, `${name}.wasm`);
  writeFileSync(path, bytes);
  try {
    const envoy = await startEnvoy({ validate: false, clusters: [{ name: "up", port: 9 }], listeners: [{ name: "l", filters: [{ name, wasm: path }], routes: [{ prefix: "/", cluster: "up" }] }] });
    await envoy.stop();
  } catch (err) {
    if (!(err instanceof EnvoyStartError)) throw err;
    assert.ok(err.output.some((l) => l.includes(`Plugin ${name} failed to load`)), "Envoy names the plugin it could not load");
    return err.output.flatMap((l) => {
      const m = /\]\[error\]\[wasm\] (?:Wasm VM failed )?(.*)$/.exec(l);
      return m ? [m[1]!] : [];
    });
  }
  assert.fail("Envoy started with the bad module");
}

async function emulatorRefusal(name: string, bytes: Uint8Array): Promise<ChainStartError> {
  const err = await createChain({ filters: [{ wasm: bytes, name }] }).then(
    () => assert.fail("the emulator started the bad module"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ChainStartError, String(err));
  return err;
}

const cases = [
  {
    name: "unknown_import",
    bytes: () => proxyModule("", { imports: `(import "env" "proxy_does_not_exist" (func (param i32) (result i32)))` }),
    lines: ["Failed to load Wasm module due to a missing import: env.proxy_does_not_exist", "Failed to initialize Wasm code"],
  },
  {
    name: "missing_malloc",
    bytes: () => wat(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))`),
    lines: ["Wasm module is missing malloc function.", "Failed to initialize Wasm code"],
  },
  {
    name: "abi_0_3_0",
    bytes: () => wat(`(module (memory (export "memory") 1) ${bumpMalloc} (func (export "proxy_abi_version_0_3_0")))`),
    lines: ["Missing or unknown Proxy-Wasm ABI version", "Failed to load Wasm code"],
  },
];

describe("bad modules: refused like Envoy 1.40 refuses them", () => {
  for (const c of cases) {
    it(`should refuse ${c.name} with Envoy's lines and fail state`, { timeout: 60_000 }, async () => {
      const bytes = c.bytes();
      const envoyLines = await envoyRefusal(c.name, bytes);
      assert.deepEqual(envoyLines.slice(0, 2), c.lines, "Envoy's error lines");

      const err = await emulatorRefusal(c.name, bytes);
      assert.equal(err.failState, "unableToInitializeCode");
      assert.equal(err.message, `filter ${c.name}: ${c.lines[0]}`);
      assert.deepEqual(err.logs.map((l) => [l.level, l.message]), c.lines.map((m) => ["error", m]), "the emulator logs what Envoy logs");
    });
  }
});
