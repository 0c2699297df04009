/**
 * The Chromium the UI end-to-end tests drive through playwright-core: headless, a fresh profile per
 * run, never a browser downloaded at test time. By default a system `chromium` on PATH is used when
 * there is one, else the one `npm install` brings (the npm package `@sparticuz/chromium`: a headless
 * build that links only libc, libexpat and libgcc, unpacked once into node_modules/.cache).
 * IMAGE_HUB_TEST_BUNDLED_TOOLS=1 forces the bundled one. Screenshots go to test-artifacts/ui-e2e/
 * (gitignored).
 * @module
 */
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { bundledToolsForced, onPath } from "../tools.ts";

/** Where each step's screenshot is kept. */
export const artifactsDir = fileURLToPath(new URL("../../test-artifacts/ui-e2e/", import.meta.url));

const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// The package exports no package.json; its folder is two levels above its entry point (build/cjs).
const packageDir = join(dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")), "..", "..");
const bundledVersion = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
const cacheDir = join(packageDir, "..", "..", ".cache", `image-hub-chromium-${bundledVersion}`);

/** Which browser the tests use and how to start it. */
export interface BrowserChoice {
  /** Shown in test names and output, e.g. `bundled Chromium (@sparticuz/chromium 147.0.0)` or `system chromium (/usr/bin/chromium)`. */
  label: string;
  bundled: boolean;
  /** The system binary; undefined for the bundled one (unpacked on first launch). */
  systemPath?: string;
}

/** Picks the browser: the bundled one when forced or when no `chromium` is on PATH; throws on a bad IMAGE_HUB_TEST_BUNDLED_TOOLS. */
export function browserChoice(): BrowserChoice {
  const system = bundledToolsForced() ? undefined : (onPath("chromium") ?? onPath("chromium-browser"));
  if (system) return { label: `system chromium (${system})`, bundled: false, systemPath: system };
  return { label: `bundled Chromium (@sparticuz/chromium ${bundledVersion})`, bundled: true };
}

/**
 * Unpacks the bundled Chromium once into node_modules/.cache and returns its binary and the
 * environment it needs. The package unpacks into os.tmpdir() and reuses whatever `chromium` it finds
 * there, so it is pointed (TMPDIR) at a private staging folder that is renamed into place when
 * complete: test files starting in parallel never run a half-written binary. Rejects when the
 * package's files are missing.
 */
function bundledChromium(): Promise<{ executablePath: string; env: Record<string, string> }> {
  unpacked ??= unpackBundledChromium();
  return unpacked;
}
let unpacked: ReturnType<typeof unpackBundledChromium> | undefined;

async function unpackBundledChromium(): Promise<{ executablePath: string; env: Record<string, string> }> {
  const executablePath = join(cacheDir, "chromium");
  if (!existsSync(executablePath)) {
    mkdirSync(dirname(cacheDir), { recursive: true });
    const staging = mkdtempSync(`${cacheDir}.unpacking-`);
    const { default: packaged } = await import("@sparticuz/chromium");
    const savedTmp = process.env.TMPDIR;
    let unpacking: Promise<string>;
    try {
      // executablePath() reads os.tmpdir() synchronously, before its first await.
      process.env.TMPDIR = staging;
      unpacking = packaged.executablePath();
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    await unpacking;
    // The package's own fonts.conf names /tmp/fonts; this one names the unpacked fonts, after the system's.
    writeFileSync(
      join(staging, "fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${join(cacheDir, "fonts")}</dir>\n  <cachedir>${join(cacheDir, "fonts-cache")}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(staging, cacheDir);
    } catch (err) {
      // Another test file finished unpacking first: use its copy.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(executablePath)) throw err;
    }
  }
  return { executablePath, env: { FONTCONFIG_FILE: join(cacheDir, "fonts.conf") } };
}

/** A running browser with one page. */
export interface BrowserSession {
  context: BrowserContext;
  /** What `browser.version()` reports, e.g. `147.0.7727.0`. */
  version: string;
  page: Page;
  /** Uncaught exceptions and console errors of the page, except the browser's own note on each non-2xx fetch. */
  pageErrors: string[];
  /** Closes the browser and removes its profile; never rejects. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium (see {@link browserChoice}) with a fresh --user-data-dir (playwright
 * passes it as the persistent context's directory). Rejects when the browser does not start.
 */
export async function launchBrowser(viewport = { width: 1440, height: 900 }, choice: BrowserChoice = browserChoice()): Promise<BrowserSession> {
  const launch = choice.bundled ? await bundledChromium() : { executablePath: choice.systemPath!, env: {} };
  const userDataDir = mkdtempSync(join(tmpdir(), "ui-e2e-profile-"));
  let context: BrowserContext;
  try {
    const env = { ...(process.env as Record<string, string>), ...launch.env };
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: launch.executablePath, env, headless: true, args: chromiumArgs, viewport, timeout: 60_000 });
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
  // A persistent context has no Browser object to ask; the user agent names the version.
  const userAgent = await page.evaluate(() => navigator.userAgent);
  return {
    context,
    version: /Chrome\/([\d.]+)/.exec(userAgent)?.[1] ?? userAgent,
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
