// The manifests pin each filter by sha256, which stays meaningful only if a release build is
// reproducible: compiling the same source again must give the same bytes as build/filters/<name>.wasm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex, wasmPath } from "../src/inputs.ts";
import { FILTER_ORDER } from "../src/params.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("a second release build of each policy filter is byte-identical to build/filters", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "wasm-repro-"));
  try {
    for (const name of FILTER_ORDER) {
      const built = join(root, wasmPath(name));
      assert.ok(existsSync(built), `${wasmPath(name)} is missing: run node scripts/build.mjs --filters`);
      const out = join(dir, `${name}.wasm`);
      // Same entry path and flags as scripts/build.mjs, so only the output location differs.
      const asc = spawnSync(
        process.execPath,
        [join(root, "node_modules/assemblyscript/bin/asc.js"), join(root, "filters", name, "index.ts"), "--config", "asconfig.json", "--target", "release", "-o", out],
        { cwd: root, encoding: "utf8", timeout: 180_000 },
      );
      assert.equal(asc.status, 0, `asc ${name}: ${asc.stderr}`);
      assert.equal(sha256Hex(readFileSync(out)), sha256Hex(readFileSync(built)), `${name}: rebuild differs from ${wasmPath(name)} (stale build or non-reproducible output)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
