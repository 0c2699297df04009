/**
 * The stack `npm start` runs, started for one UI end-to-end test file on a free port with a
 * temporary data folder. Filter mode by default, like `npm start`; UI_E2E_ENFORCE=app runs the same
 * tests against the in-app enforcement (`npm start -- --enforce app`).
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnforceMode } from "../../image-hub/access/policy.ts";
import { startStack, type Stack } from "../../image-hub/start.ts";

/** The enforcement mode to test; throws naming UI_E2E_ENFORCE when it holds anything else. */
export function enforceMode(): EnforceMode {
  const mode = process.env.UI_E2E_ENFORCE ?? "filter";
  if (mode !== "filter" && mode !== "app") throw new Error(`UI_E2E_ENFORCE must be filter or app, not "${mode}"`);
  return mode;
}

/** A started stack and how to remove it. */
export interface TestStack {
  stack: Stack;
  /** Stops the stack and deletes its data folder; never rejects. */
  stop(): Promise<void>;
}

/** Starts and seeds the stack; rejects (leaving nothing behind) when startStack does. */
export async function startTestStack(): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "ui-e2e-data-"));
  try {
    const stack = await startStack({ enforce: enforceMode(), dataDir, quiet: true });
    return {
      stack,
      async stop() {
        await stack.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
