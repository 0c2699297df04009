// The scaffold's refusals (one clear line, nothing written) and what it writes, through its CLI as
// `npm create` runs it. The full outside-user flow (pack, install, build, test, Envoy) is
// test/packages/scaffold.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("./index.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "create-cli-"));

function create(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: "utf8" });
}

describe("create-proxy-wasm-filter", () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it("should refuse a folder that is not empty with one line, writing nothing", () => {
    mkdirSync(join(work, "taken"));
    writeFileSync(join(work, "taken/notes.txt"), "mine");
    const r = create("taken");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "create-proxy-wasm-filter: taken is not empty; choose a new or empty folder\n");
    assert.deepEqual(readdirSync(join(work, "taken")), ["notes.txt"]);
  });

  const badNames: [string, string[], string][] = [
    ["uppercase folder name", ["MyFilter"], '"MyFilter" is not a valid package name: it must be lowercase (choose another folder name or pass --name)'],
    ["space in --name", ["ok-folder", "--name", "my filter"], `"my filter" is not a valid package name: it may contain only a-z, 0-9, '-', '.', '_' and '~' (and start with a letter, a digit, '-' or '~')`],
    ["leading dot", ["ok-folder", "--name", ".hidden"], `".hidden" is not a valid package name: it may contain only a-z, 0-9, '-', '.', '_' and '~' (and start with a letter, a digit, '-' or '~')`],
  ];
  for (const [label, args, message] of badNames) {
    it(`should refuse an invalid package name (${label}) with one line, writing nothing`, () => {
      const before = readdirSync(work).sort();
      const r = create(...args);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `create-proxy-wasm-filter: ${message}\n`);
      assert.deepEqual(readdirSync(work).sort(), before);
    });
  }

  it("should refuse a missing tarball path and an unknown option", () => {
    assert.equal(create("x-filter", "--sdk", "./nowhere.tgz").stderr, "create-proxy-wasm-filter: ./nowhere.tgz does not exist\n");
    assert.equal(create("x-filter", "--force").stderr, "create-proxy-wasm-filter: unknown option --force (try --help)\n");
    assert.equal(existsSync(join(work, "x-filter")), false);
  });

  it("should write the project, depending on the published names by default", () => {
    const r = create("hello-filter");
    assert.equal(r.status, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(join(work, "hello-filter/package.json"), "utf8"));
    const version = JSON.parse(readFileSync(fileURLToPath(new URL("./package.json", import.meta.url)), "utf8")).version;
    assert.equal(pkg.type, "module");
    assert.equal(pkg.devDependencies["proxy-wasm-as-sdk"], `^${version}`);
    assert.equal(pkg.devDependencies["proxy-wasm-host-emulator"], `^${version}`);
    assert.match(pkg.scripts.build, /-o build\/hello-filter\.wasm .*-o build\/hello-filter\.debug\.wasm$/);
    const filter = readFileSync(join(work, "hello-filter/src/index.ts"), "utf8");
    assert.match(filter, /const NAME = "hello-filter";/);
    assert.doesNotMatch(filter + readFileSync(join(work, "hello-filter/test/filter.test.ts"), "utf8"), /__NAME__/);
    assert.ok(existsSync(join(work, "hello-filter/.gitignore")));
  });

  it("should accept an empty existing folder", () => {
    mkdirSync(join(work, "empty-one"));
    assert.equal(create("empty-one").status, 0);
    assert.ok(existsSync(join(work, "empty-one/src/index.ts")));
  });
});
