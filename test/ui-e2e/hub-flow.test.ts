// The Image Hub UI in Chromium (bundled or system: browser.ts) against the stack `npm start` runs (startStack from
// image-hub/start.ts, filter mode, free port, temp data folder): sign up on Personal, log in, pull
// until limited, see the 429, upgrade to Team, pull again (the upgrade applies within a second), and
// find the pulls made on the Account page's counters and usage chart; last, the pull box's oras command
// is run as shown. Every step leaves a screenshot in
// test-artifacts/ui-e2e/. Plan numbers come from the catalog, never from this file.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { loadCatalog } from "../../image-hub/catalog.ts";
import type { Stack } from "../../image-hub/start.ts";
import { browserChoice, launchBrowser, screenshot, type BrowserSession } from "./browser.ts";
import { enforceMode, startTestStack, type TestStack } from "./stack.ts";

const catalog = loadCatalog();
const personal = catalog.plans.find((p) => p.id === "personal")!;
const team = catalog.plans.find((p) => p.id === "team")!;
const minute = catalog.windowSeconds === 60 ? "per minute" : `per ${catalog.windowSeconds} seconds`;

/** Clicks the Pull button and resolves to the notice it produced: "ok", "limit" or the alert's text. */
async function pullOnce(page: Page): Promise<{ kind: "ok" | "limit" | "other"; text: string }> {
  const button = page.locator(".pull-box > button.primary");
  await button.click();
  await page.locator(".pull-box > button.primary:not([disabled])").waitFor();
  const notice = page.locator("#pull-status .notice-ok, .pull-box [role=alert]").first();
  await notice.waitFor();
  const text = (await notice.textContent()) ?? "";
  const cls = (await notice.getAttribute("class")) ?? "";
  return { kind: cls.includes("notice-ok") ? "ok" : cls.includes("notice-limit") ? "limit" : "other", text };
}

const choice = browserChoice();

describe(`Image Hub UI end to end (${choice.label}, ${enforceMode()} mode)`, { timeout: 110_000 }, () => {
  let stack: Stack | undefined;
  let browser: BrowserSession | undefined;
  let running: TestStack | undefined;
  let repoPath = "";
  /** Pulls the hub served in this test, and when the first one was. */
  let served = 0;
  let firstPullAt = 0;
  /** When the server confirmed the upgrade. */
  let upgradedAt = 0;
  const username = `e2e${Date.now().toString(36)}`;
  const password = "e2e-demo-password";

  before(async () => {
    running = await startTestStack();
    stack = running.stack;
    browser = await launchBrowser({ width: 1440, height: 900 }, choice);
    console.log(`ui-e2e: ${choice.label}, Chromium ${browser.version}`);
  });

  after(async () => {
    await browser?.close();
    await running?.stop();
  });

  it("1. signs up on Personal", async () => {
    const page = browser!.page;
    await page.goto(`${stack!.url}/signup`);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Plan").selectOption(personal.id);
    await screenshot(page, "01-signup-form");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/login?**");
    await page.getByText("Account created. Log in to start pulling.").waitFor();
    await screenshot(page, "01-signed-up");
  });

  it("2. logs in and sees the plan and quota from /api/me", async () => {
    const page = browser!.page;
    assert.equal(await page.getByLabel("Username").inputValue(), username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/account");
    await page.getByTestId("account-plan").getByText(personal.name, { exact: true }).waitFor();
    assert.equal(await page.getByTestId("account-username").textContent(), username);
    assert.equal(await page.getByTestId("account-remaining").textContent(), String(personal.pullsPerWindow));
    assert.match((await page.locator("main").textContent())!, new RegExp(`${personal.pullsPerWindow} pulls ${minute}`));
    // The footer says which enforcement mode this run uses, as the access service reports it.
    await page.getByTestId("enforcement").getByText(`(${enforceMode()} mode`).waitFor();
    await screenshot(page, "02-logged-in-account");
  });

  it("3. pulls a seeded image from the Hub until the plan's limit", async () => {
    const page = browser!.page;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Hub", exact: true }).click();
    const first = page.locator(".repo-card h2 a").first();
    await first.waitFor();
    repoPath = (await first.getAttribute("href"))!;
    await screenshot(page, "03-hub");
    await first.click();
    await page.locator(".pull-box > button.primary").waitFor();
    firstPullAt = Date.now();
    const firstPull = await pullOnce(page);
    assert.equal(firstPull.kind, "ok", firstPull.text);
    assert.match(firstPull.text, new RegExp(`Pulled .*Manifest sha256:[0-9a-f]{12}.*${personal.pullsPerWindow - 1} of ${personal.pullsPerWindow} pulls ${minute} left`));
    await screenshot(page, "03-first-pull");
    // The bucket refills slowly (one pull per window/limit seconds), so a slow machine may earn a
    // few pulls while the loop runs; the 429 must still come within a bounded number of clicks.
    const slack = 10;
    let ok = 1;
    let last = firstPull;
    for (let i = 0; i < personal.pullsPerWindow + slack && last.kind === "ok"; i++) {
      last = await pullOnce(page);
      if (last.kind === "ok") ok++;
    }
    assert.equal(last.kind, "limit", `expected the 429 notice, got: ${last.text}`);
    assert.ok(ok >= personal.pullsPerWindow, `only ${ok} pulls succeeded before the limit`);
    served = ok;
  });

  it("4. shows the 429 plainly: limit, window, when to retry, and an upgrade button", async () => {
    const page = browser!.page;
    const notice = page.locator(".notice-limit");
    const text = (await notice.textContent())!;
    assert.match(text, /Pull limit reached\./);
    assert.match(text, new RegExp(`Your plan allows ${personal.pullsPerWindow} pulls ${minute}`));
    assert.match(text, /You can pull again in \d+ seconds?\./);
    assert.doesNotMatch(text, /daily/i);
    // What an upgrade does, and when.
    assert.match(text, /An upgrade takes effect within a second, also for the token you already hold/);
    assert.equal(await page.locator("#pull-status .notice-ok").count(), 0);
    await screenshot(page, "04-limited-429");
  });

  it("5. upgrades to Team from the 429 notice, and the change persists", async () => {
    const page = browser!.page;
    await page.locator(".notice-limit").getByRole("button", { name: "Upgrade plan" }).click();
    await page.waitForURL("**/plans");
    await page.getByRole("button", { name: `Upgrade to ${team.name}` }).click();
    await page.getByText(`You are now on the ${team.name} plan.`).waitFor();
    upgradedAt = Date.now();
    assert.equal(await page.locator(".plan-current h2").textContent(), team.name);
    await screenshot(page, "05-upgraded-plans");
    await page.goto(`${stack!.url}/account`);
    await page.getByTestId("account-plan").getByText(team.name, { exact: true }).waitFor();
    await screenshot(page, "05-upgraded-account-after-reload");
  });

  it("6. the next pull succeeds, on Team's limit", async () => {
    const page = browser!.page;
    await page.goto(`${stack!.url}${repoPath}`);
    await page.locator(".pull-box > button.primary").waitFor();
    // The enforcer applies a plan change within a second (its plan cache's TTL): a pull in that second
    // may still meet the old limit; one after it may not.
    let sentAt = Date.now();
    let pull = await pullOnce(page);
    while (pull.kind === "limit" && sentAt - upgradedAt < 1000) {
      await new Promise((wait) => setTimeout(wait, 100));
      sentAt = Date.now();
      pull = await pullOnce(page);
    }
    assert.equal(pull.kind, "ok", `the first pull after the upgrade was refused: ${pull.text}`);
    assert.match(pull.text, new RegExp(`of ${team.pullsPerWindow} pulls ${minute} left`));
    served++;
    await screenshot(page, "06-pull-after-upgrade");
  });

  it("7. the Account page counts the pulls made, and charts them per repository and hour", async () => {
    const page = browser!.page;
    const repository = decodeURIComponent(repoPath.slice("/repositories/".length));
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Account/ }).click();
    await page.waitForURL("**/account");
    await page.getByTestId("account-plan").getByText(team.name, { exact: true }).waitFor();
    const chart = page.locator(`[data-testid=usage-repository][data-repository="${repository}"]`);
    await chart.waitFor();
    await screenshot(page, "07-account-usage");
    // The chart counts what was served (the 429s are not), all of it within the last 24 hours.
    assert.equal(await chart.getAttribute("data-total"), String(served));
    assert.match((await chart.textContent())!, new RegExp(`${repository}: ${served} pulls`));
    assert.equal(await page.locator("[data-testid=usage-repository]").count(), 1);
    // "Pulls made in this window" is a count of served pulls. The count window opened at the first
    // pull; if this run took longer than a window, the pull after the upgrade opened a new one.
    const used = Number(await page.getByTestId("account-used").textContent());
    if (Date.now() - firstPullAt < (catalog.windowSeconds - 5) * 1000) assert.equal(used, served);
    else assert.ok(used >= 1 && used <= served, `used ${used} of ${served}`);
    assert.deepEqual(browser!.pageErrors, []);
  });

  it("8. the pull box's first command is the installed oras, and run as shown it pulls the image", async () => {
    const page = browser!.page;
    await page.goto(`${stack!.url}${repoPath}`);
    const field = page.locator(".pull-box .copy-field").first();
    await field.waitFor();
    assert.match((await field.locator("label").textContent())!, /^With oras/);
    // The page shows the USERNAME placeholder until the session has loaded; wait for the user's own
    // command (a page that never shows it fails here on the timeout).
    await page.waitForFunction((user) => document.querySelector<HTMLInputElement>(".pull-box .copy-field input")?.value.includes(`--user ${user} `), username, { timeout: 15_000 });
    const command = await field.locator("input").inputValue();
    const repository = decodeURIComponent(repoPath.slice("/repositories/".length));
    const host = new URL(stack!.url).host;
    assert.match(command, new RegExp(`^\\.venv-envoy/bin/python scripts/oras-cli\\.py pull --user ${username} --password PASSWORD ${host}/${repository}:\\S+ --out \\S+$`));
    // Run it from the project folder as the label says; only the password placeholder is filled in and
    // the output folder moved to a temporary one.
    const out = mkdtempSync(join(tmpdir(), "ui-e2e-oras-"));
    try {
      const [program, ...args] = command.replace("PASSWORD", password).replace(/--out \S+$/, `--out ${out}`).split(" ");
      const root = fileURLToPath(new URL("../../", import.meta.url));
      const { stdout } = await promisify(execFile)(program, args, { cwd: root, timeout: 60_000 });
      assert.match(stdout, new RegExp(`^pulled ${host}/${repository}:`));
      assert.ok(readdirSync(out).length > 0, "oras wrote no layer");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
