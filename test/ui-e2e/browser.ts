/**
 * Debian's chromium driven through playwright-core for the UI end-to-end tests: headless, a fresh
 * profile per run, never a downloaded browser. Screenshots go to test-artifacts/ui-e2e/ (gitignored).
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Where Debian installs chromium; the tests never fall back to a downloaded build. */
export const chromiumPath = "/usr/bin/chromium";

/** Where each step's screenshot is kept. */
export const artifactsDir = fileURLToPath(new URL("../../test-artifacts/ui-e2e/", import.meta.url));

const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A running browser with one page. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors of the page, except the browser's own note on each non-2xx fetch. */
  pageErrors: string[];
  /** Closes the browser and removes its profile; never rejects. */
  close(): Promise<void>;
}

/**
 * Launches headless chromium with a fresh --user-data-dir (playwright passes it as the persistent
 * context's directory). Rejects when /usr/bin/chromium is missing or does not start.
 */
export async function launchBrowser(viewport = { width: 1440, height: 900 }): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(join(tmpdir(), "ui-e2e-profile-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport, timeout: 60_000 });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => {
    // Chromium logs every non-2xx response as "Failed to load resource"; the UI shows those itself.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) pageErrors.push(msg.text());
  });
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as `<name>.png` in the artifacts folder and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
