// The manifests pin each filter by sha256, which stays meaningful only if a release build is
// reproducible: compiling the same source again, from a checkout at another path (as CI does), must give
// the same bytes as build/filters/<name>.wasm. One filter (the largest, token-auth) keeps the file fast
// on a busy machine: path independence is a property of the compiler, not of one filter's code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex, wasmPath } from "../src/inputs.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("a second release build of token-auth, elsewhere on disk, is byte-identical to build/filters", { timeout: 170_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "wasm-repro-"));
  try {
    // A copy of the sources the filters compile from, so any absolute path in the output would differ.
    const copy = join(dir, "checkout");
    cpSync(join(root, "filters"), join(copy, "filters"), { recursive: true, filter: (src) => !src.includes(`${join(root, "filters", "host")}`) });
    cpSync(join(root, "asconfig.json"), join(copy, "asconfig.json"));
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
    const name = "token-auth";
    const built = join(root, wasmPath(name));
    assert.ok(existsSync(built), `${wasmPath(name)} is missing: run node scripts/build.mjs --filters`);
    const out = join(dir, `${name}.wasm`);
    // Same flags as scripts/build.mjs (absolute entry, cwd = the checkout).
    const asc = spawnSync(
      process.execPath,
      [join(copy, "node_modules/assemblyscript/bin/asc.js"), join(copy, "filters", name, "index.ts"), "--config", "asconfig.json", "--target", "release", "-o", out],
      { cwd: copy, encoding: "utf8", timeout: 160_000 },
    );
    assert.equal(asc.status, 0, `asc ${name}: ${asc.stderr}`);
    assert.equal(sha256Hex(readFileSync(out)), sha256Hex(readFileSync(built)), `${name}: rebuild differs from ${wasmPath(name)} (stale build or non-reproducible output)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
