// `npm run pack`: compiles the emulator package afresh (filters/host/dist) and packs the three workspace
// packages into build/packages/<name>-<version>.tgz (or `--out <dir>`). The scaffold's default
// dependency ranges are its own version, so the three versions must match.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const PACKAGES = ["filters/sdk", "filters/host", "filters/create"];

const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, "build/packages");

const versions = PACKAGES.map((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  return `${pkg.name}@${pkg.version}`;
});
if (new Set(versions.map((v) => v.split("@").pop())).size !== 1) {
  console.error(`pack: the packages must share one version, got ${versions.join(", ")}`);
  process.exit(1);
}

rmSync(join(root, "filters/host/dist"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "filters/host/tsconfig.build.json")], { cwd: root, stdio: "inherit" });
mkdirSync(out, { recursive: true });
const packed = JSON.parse(
  execFileSync("npm", ["pack", "--json", "--pack-destination", out, ...PACKAGES.flatMap((p) => ["--workspace", p])], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }),
);
for (const p of packed) console.log(`pack: ${join(out, p.filename)} (${p.entryCount} files, ${(p.size / 1024).toFixed(1)} KiB)`);
