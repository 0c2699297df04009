/**
 * Checks SMP files against the official SMP v0.6.1 protos: builds bench/smp-check (Go, from the Go
 * module proxy) into build/smp-check and runs it. Needs `go`; where it is missing the check is
 * skipped unless SMP_REQUIRE_GO is set (CI sets it), so a machine without Go still runs npm test.
 * @module
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const binary = join(root, "build/smp-check/smp-check");
let built: string | undefined;

/** goMissing returns why the proto check cannot run here, or undefined when `go` is on PATH. */
export function goMissing(): string | undefined {
  const probe = spawnSync("go", ["version"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : "go is not installed";
}

/** buildSmpCheck compiles the checker once per process; throws with go's output when the build fails. */
export function buildSmpCheck(): string {
  if (built) return built;
  const result = spawnSync("go", ["build", "-mod=readonly", "-o", binary, "."], { cwd: join(root, "bench/smp-check"), encoding: "utf8", timeout: 240_000 });
  if (result.status !== 0) throw new Error(`go build of bench/smp-check failed:\n${result.stdout}${result.stderr}`);
  built = binary;
  return built;
}

/** checkWithProtos parses every part of the SMP file at `path` into the official messages; returns the checker's verdict and output. */
export function checkWithProtos(path: string): { ok: boolean; output: string } {
  const result = spawnSync(buildSmpCheck(), [path], { encoding: "utf8", timeout: 60_000 });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}
