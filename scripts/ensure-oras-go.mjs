// Builds the ORAS Go CLI (module `oras.land/oras`, a stock OCI client that asks for token scopes step
// by step) from the Go module proxy into build/tools/oras-<version>/oras, when `go` is on PATH. Cached:
// does nothing when that binary exists. Nothing from the oras repository is vendored; `go install`
// fetches and compiles the pinned release. `node scripts/ensure-oras-go.mjs` prints the binary's path.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The ORAS CLI release the e2e tests and image-hub/README.md use. */
export const ORAS_GO_VERSION = "1.3.6";
const root = fileURLToPath(new URL("..", import.meta.url));
const toolDir = join(root, "build", "tools", `oras-${ORAS_GO_VERSION}`);

/** Where the built CLI lives (it exists once ensureOrasGo returned it). */
export const orasGoPath = join(toolDir, "oras");

/** Returns `go version` output when a Go toolchain is on PATH, or undefined. */
function findGo() {
  const r = spawnSync("go", ["version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Returns `{ path }` of the built CLI, building it first when missing (a couple of minutes the first
 * time), or `{ skipped: "go not found" }` when there is no Go toolchain. Throws an Error carrying go's
 * own output when the build fails (e.g. the module proxy is unreachable).
 */
export function ensureOrasGo({ quiet = false } = {}) {
  if (existsSync(orasGoPath)) return { path: orasGoPath };
  if (!findGo()) return { skipped: "go not found" };
  if (!quiet) console.log(`ensure-oras-go: building oras.land/oras/cmd/oras@v${ORAS_GO_VERSION} with go (first time only)…`);
  mkdirSync(join(root, "build", "tools"), { recursive: true });
  // Built into a temporary folder and renamed, so an interrupted build never leaves a half binary.
  const tmp = mkdtempSync(join(root, "build", "tools", ".oras-"));
  try {
    const r = spawnSync("go", ["install", `oras.land/oras/cmd/oras@v${ORAS_GO_VERSION}`], {
      encoding: "utf8",
      // GOFLAGS from the user's environment (e.g. -mod=vendor) must not reach a pkg@version install.
      env: { ...process.env, GOBIN: tmp, GOFLAGS: "-mod=mod", GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "auto" },
      timeout: 15 * 60_000,
    });
    if (r.status !== 0) throw new Error(`go install oras.land/oras/cmd/oras@v${ORAS_GO_VERSION} failed:\n${r.stderr || r.error?.message}`);
    rmSync(toolDir, { recursive: true, force: true });
    renameSync(tmp, toolDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { path: orasGoPath };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const r = ensureOrasGo();
    if (r.skipped) {
      console.error(`ensure-oras-go: skipped: ${r.skipped} (install Go from https://go.dev/dl/ to build the ORAS CLI)`);
      process.exit(1);
    }
    console.log(r.path);
  } catch (err) {
    console.error(`ensure-oras-go: ${err.message}`);
    process.exit(1);
  }
}
