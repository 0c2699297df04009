// `npm test` on a machine without Python, or with a Debian Python that lacks the venv module: it
// must stop at once with the one command that fixes it, never a stack trace or ENOENT. The real
// scripts/test.mjs and scripts/ensure-envoy.mjs (with the installer it wraps) run from a scratch copy of the project root that has
// no .venv-envoy, with a PATH that holds only node (and, for the second case, a python3 whose venv
// module fails the way Debian's does without python3-venv).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A scratch project root with the two scripts, the installer and a bin folder holding node; returns both paths. */
function scratchRoot(): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), "missing-python-"));
  mkdirSync(join(dir, "scripts"));
  for (const f of ["test.mjs", "ensure-envoy.mjs"]) copyFileSync(join(root, "scripts", f), join(dir, "scripts", f));
  // ensure-envoy.mjs wraps the host package's installer, which keeps its place relative to the root.
  const installer = join(dirname(createRequire(import.meta.url).resolve("proxy-wasm-host-emulator/package.json")), "envoy", "install.mjs");
  const copy = join(dir, relative(root, installer));
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(installer, copy);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "node"));
  return { dir, bin };
}

function npmTest(dir: string, bin: string) {
  return spawnSync(join(bin, "node"), [join(dir, "scripts", "test.mjs")], { cwd: dir, encoding: "utf8", env: { PATH: bin, HOME: dir }, timeout: 30_000 });
}

describe("npm test without a usable Python", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("should stop with the apt-get command when Python is missing", () => {
    const { dir, bin } = scratchRoot();
    dirs.push(dir);
    const r = npmTest(dir, bin);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^npm test: Python 3 is required .*Install it: `apt-get install -y python3 python3-venv`\n$/);
    assert.doesNotMatch(r.stderr, /ENOENT|\n\s+at /);
  });

  it("should stop with the apt-get command, leaving no half-made virtualenv, when the venv module is missing", () => {
    const { dir, bin } = scratchRoot();
    dirs.push(dir);
    // Debian's python3 without python3-venv: `--version` works, `-m venv` creates the folder, then fails.
    const python = join(bin, "python3");
    writeFileSync(python, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Python 3.11.2"; exit 0; fi\nif [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1; fi\nexit 1\n`);
    chmodSync(python, 0o755);
    const r = npmTest(dir, bin);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /npm test: Could not create the virtualenv .*venv module is missing\. Install it: `apt-get install -y python3-venv`\n$/);
    assert.doesNotMatch(r.stderr, /ENOENT|\n\s+at /);
    assert.equal(existsSync(join(dir, ".venv-envoy")), false);
  });
});
