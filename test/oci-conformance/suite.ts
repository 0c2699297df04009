/**
 * The OCI distribution-spec conformance suite as a tool for the project's tests: finds `go`, builds
 * the pinned suite once from the Go module proxy into build/oci-conformance/<version>/ (cached), runs
 * it against a registry and reads its JUnit report.
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The suite's module and the pinned pseudo-version (the module publishes no tags). */
export const SUITE_MODULE = "github.com/opencontainers/distribution-spec/conformance";
/** SUITE_VERSION is main of 2026-08-31; with `OCI_VERSION=1.1` it runs the spec v1.1 checks. */
export const SUITE_VERSION = "v0.0.0-20260831232431-97274622c111";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** Where the compiled suite is cached, per pinned version. */
export const SUITE_DIR = join(root, "build", "oci-conformance", SUITE_VERSION);

/** findGo returns "go" when a working `go` is on PATH (.ci/run puts it there), else undefined. */
export function findGo(): string | undefined {
  const probe = spawnSync("go", ["version"], { encoding: "utf8", timeout: 30_000 });
  return probe.status === 0 ? "go" : undefined;
}

/**
 * buildSuite compiles the pinned suite with `go test -c` unless the binary is already cached, and
 * returns its path. Throws with go's output when the download or the build fails.
 */
export function buildSuite(go: string): string {
  const binary = join(SUITE_DIR, "conformance.test");
  if (existsSync(binary)) return binary;
  mkdirSync(SUITE_DIR, { recursive: true });
  writeFileSync(join(SUITE_DIR, "go.mod"), `module imagehub.local/oci-conformance\n\ngo 1.24\n`);
  // GOTOOLCHAIN=local: build with the installed go, never download another toolchain.
  const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
  const steps: string[][] = [
    ["get", `${SUITE_MODULE}@${SUITE_VERSION}`],
    ["test", "-c", "-o", `${binary}.partial`, SUITE_MODULE],
  ];
  for (const args of steps) {
    const r = spawnSync(go, args, { cwd: SUITE_DIR, env, encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) throw new Error(`go ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  // Renamed only when complete, so an interrupted build is never taken for a cached one.
  renameSync(`${binary}.partial`, binary);
  return binary;
}

/** The suite's totals (its JUnit report) and how long it ran. */
export interface SuiteResult {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  disabled: number;
  /** Names and first message line of every failed, errored or skipped check. */
  problems: string[];
  /** The suite's printed summary (the per-API and per-data table). */
  summary: string;
  seconds: number;
}

/** What the suite needs to reach a registry. */
export interface SuiteTarget {
  /** host:port of the registry (plain HTTP). */
  registry: string;
  username: string;
  password: string;
  /** Repositories the user may push to, pull from and delete in. */
  repo1: string;
  repo2: string;
  /** Scratch folder for the results. */
  workDir: string;
}

function attribute(tag: string, name: string): number {
  const m = new RegExp(`\\b${name}="(\\d+)"`).exec(tag);
  return m ? Number(m[1]) : 0;
}

/**
 * runSuite runs the suite with every API and data workflow of spec v1.1 on (upload cancel and the
 * digest-header checks too)
 * against `target`. Resolves with the totals whatever the outcome; rejects only when the suite
 * produced no report.
 */
export async function runSuite(binary: string, target: SuiteTarget, extraEnv: Record<string, string> = {}): Promise<SuiteResult> {
  const resultsDir = join(target.workDir, "results");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? target.workDir,
    OCI_VERSION: "1.1",
    OCI_REGISTRY: target.registry,
    OCI_TLS: "disabled",
    OCI_REPO1: target.repo1,
    OCI_REPO2: target.repo2,
    OCI_USERNAME: target.username,
    OCI_PASSWORD: target.password,
    OCI_RESULTS_DIR: resultsDir,
    OCI_LOG: "error",
    // Off by default at spec 1.1 only because some registries lack them; Image Hub has them: upload
    // cancel, and Docker-Content-Digest on every blob and manifest answer.
    OCI_API_BLOBS_UPLOAD_CANCEL: "true",
    OCI_API_BLOBS_DIGEST_HEADER: "true",
    OCI_API_MANIFESTS_DIGEST_HEADER: "true",
    ...extraEnv,
  };
  const started = Date.now();
  const output = await new Promise<string>((resolve) => {
    execFile(binary, [], { cwd: target.workDir, env, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
  const seconds = (Date.now() - started) / 1000;
  const junitFile = join(resultsDir, "junit.xml");
  if (!existsSync(junitFile)) throw new Error(`the conformance suite wrote no report:\n${output.slice(-4000)}`);
  const junit = readFileSync(junitFile, "utf8");
  const top = /<testsuites\b[^>]*>/.exec(junit)?.[0] ?? "";
  const suite = /<testsuite\b[^>]*>/.exec(junit)?.[0] ?? "";
  const problems: string[] = [];
  for (const m of junit.matchAll(/<testcase name="([^"]*)"[^>]*status="(failure|error|skipped)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    const firstLine = m[3].replace(/<[^>]*>/g, "").trim().split("\n")[0]?.trim() ?? "";
    problems.push(`${m[2]}: ${m[1]}: ${firstLine}`);
  }
  const summaryStart = output.indexOf("OCI Conformance Result");
  return {
    tests: attribute(top, "tests"),
    failures: attribute(top, "failures"),
    errors: attribute(suite, "errors"),
    skipped: attribute(top, "skipped"),
    disabled: attribute(top, "disabled"),
    problems,
    summary: summaryStart < 0 ? output.slice(-2000) : output.slice(summaryStart).split("\n\n\n")[0],
    seconds,
  };
}
