#!/usr/bin/env node
// `npm create proxy-wasm-filter <dir>` / `npx create-proxy-wasm-filter <dir>`: see README.md.
import { parseArgs, scaffold, ScaffoldError } from "./scaffold.mjs";

try {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(
      "usage: create-proxy-wasm-filter <dir> [--name <package name>] [--sdk <spec>] [--host <spec>]\n" +
        "  --sdk, --host  where proxy-wasm-as-sdk / proxy-wasm-host-emulator come from: a version range\n" +
        "                 (default: this scaffold's version) or a path to a packed .tgz or a folder",
    );
  } else {
    const created = scaffold(options);
    console.log(created.nextSteps);
  }
} catch (err) {
  if (!(err instanceof ScaffoldError)) throw err;
  console.error(`create-proxy-wasm-filter: ${err.message}`);
  process.exit(1);
}
