// Dependencies flow one way (GUIDE): no two modules import each other, the app's UI never imports the
// benchmark, and outside their own folders the SDK and the emulator are imported by package name only.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
type Graph = { circular(): string[][]; obj(): Record<string, string[]> };
// madge ships no type declarations.
const madge = createRequire(import.meta.url)("madge") as (paths: string[], config: object) => Promise<Graph>;

const graph = await madge(
  ["filters", "image-hub", "bench", "manifests", "test"].map((p) => join(root, p)),
  { baseDir: root, fileExtensions: ["ts", "tsx"], excludeRegExp: [/node_modules/, /\/dist\//] },
);
const edges = Object.entries(graph.obj());

it("should have no import circles", () => {
  assert.deepEqual(graph.circular(), []);
});

it("should keep the UI free of imports from bench/", () => {
  const fromUi = edges.filter(([file]) => file.startsWith("image-hub/ui/")).flatMap(([file, deps]) => deps.filter((d) => d.startsWith("bench/")).map((d) => `${file} → ${d}`));
  assert.deepEqual(fromUi, []);
});

it("should import the SDK and the emulator by package name outside their own folders", () => {
  const packages = ["filters/sdk", "filters/host"];
  const inside = (path: string, pkg: string): boolean => path === pkg || path.startsWith(`${pkg}/`);
  const byPath: string[] = [];
  // scripts/ensure-envoy.mjs is left out on purpose: npm's postinstall runs it before anything is built,
  // so it reaches the installer (plain JavaScript) by path.
  for (const file of sourceFiles(["filters", "image-hub", "bench", "manifests", "test"])) {
    const text = readFileSync(join(root, file), "utf8");
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)["'](\.[^"']*)["']/g)) {
      const target = relative(root, resolve(root, dirname(file), m[1]));
      const pkg = packages.find((p) => inside(target, p));
      if (pkg && !inside(file, pkg)) byPath.push(`${file} → ${m[1]}`);
    }
  }
  assert.deepEqual(byPath, []);
});

function sourceFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      if (name === "node_modules" || name === "dist" || name === "build") continue;
      const rel = join(dir, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|tsx|mts)$/.test(name)) out.push(rel);
    }
  };
  dirs.forEach(walk);
  return out;
}
