// Layout and accessibility of the Image Hub UI in Chromium (bundled or system: browser.ts) against the `npm start` stack:
// every page at 375 px and 1440 px without sideways scrolling (screenshots kept in
// test-artifacts/ui-e2e/), labelled form fields, a keyboard path with a visible focus ring, and a
// logged-out pull that leads to log-in without reaching the registry.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Stack } from "../../image-hub/start.ts";
import { browserChoice, launchBrowser, screenshot, type BrowserSession } from "./browser.ts";
import { enforceMode, startTestStack, type TestStack } from "./stack.ts";

// In-page scripts are strings because the root tsconfig has no DOM library (the project's code is
// Node code); playwright evaluates them in the page, where the DOM exists.

/** Widest element edge beyond the viewport, in px (0 when nothing sticks out). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
}

/** Form fields on the page that have neither a <label> nor an aria-label. */
async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll("input, select, textarea")]
    .filter((el) => (el.labels ? el.labels.length : 0) === 0 && !el.getAttribute("aria-label"))
    .map((el) => el.outerHTML.slice(0, 80))`);
}

/** The focused element's text, outline and position, as the keyboard user sees it. */
async function focused(page: Page): Promise<{ id: string; text: string; outline: string; width: number; left: number }> {
  return page.evaluate(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { id: el.id, text: el.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth), left: el.getBoundingClientRect().left };
  })()`);
}

const choice = browserChoice();

describe(`Image Hub UI layout and accessibility (${choice.label}, ${enforceMode()} mode)`, { timeout: 110_000 }, () => {
  let stack: Stack | undefined;
  let browser: BrowserSession | undefined;
  let running: TestStack | undefined;

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

  it("a logged-out pull leads to log-in and never reaches the registry", async () => {
    const page = browser!.page;
    const registryCalls: string[] = [];
    page.on("request", (req) => {
      const path = new URL(req.url()).pathname;
      if (path.startsWith("/v2/") || path === "/api/token") registryCalls.push(path);
    });
    await page.goto(stack!.url);
    const first = page.locator(".repo-card h2 a").first();
    await first.click();
    await page.locator(".pull-box > button.primary").click();
    const alert = page.locator(".pull-box [role=alert]");
    await alert.getByText("Please log in.").waitFor();
    await screenshot(page, "layout-401-logged-out-pull");
    assert.deepEqual(registryCalls, []);
    await alert.getByRole("link", { name: "Log in" }).click();
    await page.waitForURL((u) => u.pathname === "/login" && (u.searchParams.get("next") ?? "").startsWith("/repositories/"));
  });

  it("labels every form field and keeps a keyboard path with a visible focus ring", async () => {
    const page = browser!.page;
    for (const path of ["/signup", "/login", "/"]) {
      await page.goto(stack!.url + path);
      await page.locator("main input").first().waitFor();
      assert.deepEqual(await unlabelled(page), [], `unlabelled fields on ${path}`);
    }
    await page.keyboard.press("Tab");
    const skip = await focused(page);
    assert.equal(skip.text, "Skip to content");
    assert.notEqual(skip.outline, "none");
    assert.ok(skip.width >= 2, `focus outline is ${skip.width}px`);
    assert.ok(skip.left >= 0, "the skip link is on screen when focused");
    await screenshot(page, "layout-keyboard-skip-link");
    // Tab to the Plans link in the header and follow it with Enter.
    let onPlans = false;
    for (let i = 0; i < 8 && !onPlans; i++) {
      await page.keyboard.press("Tab");
      onPlans = (await focused(page)).text === "Plans";
    }
    assert.ok(onPlans, "the Plans link is reachable with Tab");
    assert.notEqual((await focused(page)).outline, "none");
    await page.keyboard.press("Enter");
    await page.waitForURL("**/plans");
    await page.locator(".plan-card").first().waitFor();
    assert.equal((await focused(page)).id, "main", "focus moves to the new page's content");
    assert.equal(await page.title(), "Plans · Image Hub");
  });

  it("lays out every page at 375 px and 1440 px without sideways scrolling", async () => {
    const page = browser!.page;
    const user = stack!.demoUsers[0];
    await page.goto(`${stack!.url}/login`);
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/account");
    await page.goto(stack!.url);
    const repoPath = (await page.locator(".repo-card h2 a").first().getAttribute("href"))!;
    const pages: [string, string, string][] = [
      ["hub", "/", ".repo-card"],
      ["repository", repoPath, ".pull-box"],
      ["plans", "/plans", ".plan-card"],
      ["account", "/account", "[data-testid=account-plan]"],
      ["speed", "/speed", ".chart, main p.notice[role=status]"],
    ];
    for (const width of [375, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, path, ready] of pages) {
        await page.goto(stack!.url + path);
        await page.locator(ready).first().waitFor();
        await screenshot(page, `layout-${width}-${name}`);
        assert.ok((await overflow(page)) <= 0, `${name} scrolls sideways at ${width}px by ${await overflow(page)}px`);
      }
      const nav = await page.getByRole("navigation", { name: "Main" }).boundingBox();
      assert.ok(nav && nav.x + nav.width <= width, `the navigation fits in ${width}px`);
    }
    assert.deepEqual(browser!.pageErrors, []);
  });
});
