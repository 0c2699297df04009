// The scaffold behind `npm create proxy-wasm-filter`: validates everything first, then copies
// template/ (replacing __NAME__ and friends) and writes package.json, so a refused run writes nothing.
// Dependency-free on purpose: `npx ./create-proxy-wasm-filter-x.y.z.tgz` must work offline.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const own = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

/** The packages a scaffolded project depends on; released in lockstep with this scaffold. */
export const SDK_PACKAGE = "proxy-wasm-as-sdk";
export const HOST_PACKAGE = "proxy-wasm-host-emulator";

/** Versions the generated project pins for its tools (the ones this repository tests with). */
const TOOLS = { assemblyscript: "0.28.20", tsx: "4.23.15", "@types/node": "20.19.43" };

/** A refused scaffold: the message is one line for the user; nothing was written. */
export class ScaffoldError extends Error {}

/**
 * Parses the command line (`<dir> [--name n] [--sdk spec] [--host spec] [--help]`). Throws
 * ScaffoldError for an unknown option, a missing value or a missing <dir>.
 */
export function parseArgs(argv) {
  const out = { dir: undefined, name: undefined, sdk: undefined, host: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--name" || a === "--sdk" || a === "--host") {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ScaffoldError(`${a} needs a value`);
      out[a.slice(2)] = v;
    } else if (a.startsWith("-")) throw new ScaffoldError(`unknown option ${a} (try --help)`);
    else if (out.dir === undefined) out.dir = a;
    else throw new ScaffoldError(`unexpected argument ${a}: give one folder`);
  }
  if (!out.help && out.dir === undefined) throw new ScaffoldError("give the folder to create, e.g. `npm create proxy-wasm-filter my-filter`");
  return out;
}

/**
 * Returns why `name` is not a valid npm package name, or undefined when it is. npm's rules: 1–214
 * characters, lowercase, URL-safe, not starting with "." or "_", an optional @scope/.
 */
export function invalidName(name) {
  if (name.length === 0 || name.length > 214) return "must be 1 to 214 characters";
  if (name !== name.toLowerCase()) return "must be lowercase";
  if (name === "node_modules" || name === "favicon.ico") return "is reserved";
  if (!/^(?:@[a-z0-9-*~][a-z0-9-*._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) return "may contain only a-z, 0-9, '-', '.', '_' and '~' (and start with a letter, a digit, '-' or '~')";
  return undefined;
}

// A dependency spec: a path to a packed tarball or a folder becomes a file: spec, anything else
// (a version range, a tag, a registry spec) is used as given.
function dependencySpec(spec, fallback) {
  if (spec === undefined) return fallback;
  if (spec.startsWith("file:")) return `file:${resolve(spec.slice(5))}`;
  if (spec.startsWith(".") || spec.startsWith("/") || spec.endsWith(".tgz") || existsSync(spec)) {
    if (!existsSync(spec)) throw new ScaffoldError(`${spec} does not exist`);
    return `file:${resolve(spec)}`;
  }
  return spec;
}

function copyTemplate(from, to, replacements) {
  cpSync(from, to, { recursive: true });
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else {
        let text = readFileSync(p, "utf8");
        for (const [k, v] of Object.entries(replacements)) text = text.split(k).join(v);
        writeFileSync(p, text);
      }
    }
  };
  walk(to);
  // npm never packs a file named .gitignore, so the template holds it as `gitignore`.
  renameSync(join(to, "gitignore"), join(to, ".gitignore"));
}

/**
 * Creates the project folder. Throws ScaffoldError, having written nothing, when the folder exists
 * and is not empty, the package name is invalid, or a --sdk/--host path does not exist. Returns the
 * folder, the package name and the text to print.
 */
export function scaffold({ dir, name, sdk, host }) {
  const target = resolve(dir);
  const pkgName = name ?? basename(target);
  const why = invalidName(pkgName);
  if (why) throw new ScaffoldError(`"${pkgName}" is not a valid package name: it ${why}${name === undefined ? " (choose another folder name or pass --name)" : ""}`);
  const short = pkgName.replace(/^@[^/]+\//, "");
  const sdkSpec = dependencySpec(sdk, `^${own.version}`);
  const hostSpec = dependencySpec(host, `^${own.version}`);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new ScaffoldError(`${dir} exists and is not a folder`);
    if (readdirSync(target).length > 0) throw new ScaffoldError(`${dir} is not empty; choose a new or empty folder`);
  }

  mkdirSync(target, { recursive: true });
  copyTemplate(join(here, "template"), target, { __NAME__: short, __ROOT_ID__: short.replace(/[^a-z0-9]/g, "_") });
  const pkg = {
    name: pkgName,
    version: "0.1.0",
    private: true,
    description: `${short}: an Envoy proxy-wasm filter in AssemblyScript`,
    type: "module",
    scripts: {
      build: `asc src/index.ts --config asconfig.json --target release -o build/${short}.wasm && asc src/index.ts --config asconfig.json --target debug -o build/${short}.debug.wasm`,
      test: "npm run build && node --import tsx --test test/*.test.ts",
      envoy: "npm run build && tsx scripts/envoy.ts",
    },
    devDependencies: {
      "@types/node": TOOLS["@types/node"],
      assemblyscript: TOOLS.assemblyscript,
      [SDK_PACKAGE]: sdkSpec,
      [HOST_PACKAGE]: hostSpec,
      tsx: TOOLS.tsx,
    },
    // npm 11 asks before running install scripts; tsx's esbuild has one.
    allowScripts: { esbuild: true },
  };
  writeFileSync(join(target, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  const shown = relative(process.cwd(), target) || ".";
  const nextSteps = [
    `Created ${shown} (${pkgName}). Next:`,
    "",
    `  cd ${shown}`,
    "  npm install",
    "  npm test          # builds build/" + short + ".wasm and runs test/filter.test.ts in the emulator",
    "  npm run envoy     # runs it in real Envoy 1.40 and prints a curl to try",
  ].join("\n");
  return { dir: target, name: pkgName, nextSteps };
}
