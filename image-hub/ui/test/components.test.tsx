/** @jsxRuntime automatic */
// Component tests in a jsdom window: each kind of error is said plainly with the right next step,
// charts keep their numbers readable, and the formatting helpers never say "daily" for a minute.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { byText, cleanup, click, render } from "./dom.ts";
import { ApiError } from "../src/api.ts";
import { BarChart } from "../src/components/BarChart.tsx";
import { ErrorNotice } from "../src/components/ErrorNotice.tsx";
import { QuotaText } from "../src/components/QuotaText.tsx";
import { formatBytes, formatPrice, formatSeconds, shortDigest, windowPhrase } from "../src/format.ts";
import { queryParam, safeNext } from "../src/router.tsx";

afterEach(cleanup);

describe("ErrorNotice", () => {
  it("says a 429's limit, window and retry time, and its Upgrade button opens the plans page", async () => {
    const error = new ApiError({ kind: "http", status: 429, code: "TOOMANYREQUESTS", message: "pull rate limit exceeded", limit: { limit: 10, windowSeconds: 60, retryAfterSeconds: 6 } });
    const el = await render(<ErrorNotice error={error} />);
    const alert = el.querySelector('[role="alert"]')!;
    assert.match(alert.textContent!, /Pull limit reached/);
    assert.match(alert.textContent!, /10 pulls per minute/);
    assert.match(alert.textContent!, /pull again in 6 seconds/);
    assert.doesNotMatch(alert.textContent!, /daily/i);
    await click(byText("button", "Upgrade plan"));
    assert.equal(window.location.pathname, "/plans");
  });

  it("leads a 401 to log-in, coming back to the current page", async () => {
    window.history.replaceState(null, "", "/repositories/demo/hello");
    const el = await render(<ErrorNotice error={new ApiError({ kind: "http", status: 401, code: "UNAUTHORIZED", message: "You are not logged in." })} />);
    const link = el.querySelector("a")!;
    assert.equal(link.textContent, "Log in");
    assert.equal(link.getAttribute("href"), `/login?next=${encodeURIComponent("/repositories/demo/hello")}`);
    await click(link);
    assert.equal(window.location.pathname, "/login");
  });

  it("says a 401 insufficient_scope names the scope the token lacks and offers no log-in", async () => {
    window.history.replaceState(null, "", "/repositories/carol/secret");
    const challenge = { error: "insufficient_scope", scope: "repository:carol/secret:pull" };
    const error = new ApiError({ kind: "http", status: 401, code: "UNAUTHORIZED", message: "token does not grant pull on carol/secret", challenge });
    const el = await render(<ErrorNotice error={error} />);
    const alert = el.querySelector('[role="alert"]')!;
    assert.match(alert.textContent!, /^Your token does not allow this: repository:carol\/secret:pull\. token does not grant pull on carol\/secret\. You are logged in/);
    assert.doesNotMatch(alert.textContent!, /log in/i);
    assert.deepEqual([...alert.querySelectorAll("a")].map((a) => a.getAttribute("href")), ["/plans"]);
  });

  it("keeps the log-in prompt for a 401 whose challenge has no insufficient_scope", async () => {
    const challenge = { error: null, scope: "repository:carol/secret:pull" };
    const el = await render(<ErrorNotice error={new ApiError({ kind: "http", status: 401, code: "UNAUTHORIZED", message: "authentication required", challenge })} />);
    assert.match(el.querySelector('[role="alert"]')!.textContent!, /^Please log in\. authentication required/);
    assert.equal(el.querySelector("a")!.textContent, "Log in");
  });

  it("says what a 403 does not allow", async () => {
    const el = await render(<ErrorNotice error={new ApiError({ kind: "http", status: 403, code: "DENIED", message: "plan personal does not allow delete" })} />);
    assert.match(el.textContent!, /Not allowed\. plan personal does not allow delete/);
    assert.equal(el.querySelector("a")!.getAttribute("href"), "/plans");
  });

  it("shows network errors with a retry that calls back", async () => {
    let retried = 0;
    const error = new ApiError({ kind: "network", status: 0, code: "NETWORK", message: "Image Hub could not be reached (fetch failed)" });
    const el = await render(<ErrorNotice error={error} onRetry={() => retried++} />);
    assert.match(el.querySelector('[role="alert"]')!.textContent!, /Network error\. Image Hub could not be reached \(fetch failed\)/);
    await click(byText("button", "Try again"));
    assert.equal(retried, 1);
  });

  it("shows any other status with its code and message", async () => {
    const el = await render(<ErrorNotice error={new ApiError({ kind: "http", status: 500, code: "UNKNOWN", message: "internal error" })} />);
    assert.equal(el.querySelector('[role="alert"]')!.textContent, "Error 500 (UNKNOWN): internal error");
  });
});

describe("BarChart", () => {
  it("labels every bar with its value, scales to the largest and marks missing values", async () => {
    const el = await render(<BarChart title="Median latency" unit="µs" note="lower is better" digits={0} bars={[{ label: "filter", value: 200 }, { label: "app", value: 800 }, { label: "native", value: null }]} />);
    assert.equal(el.querySelector("figcaption")!.textContent, "Median latency — lower is better");
    const rows = [...el.querySelectorAll(".chart-row")].map((r) => r.textContent);
    assert.deepEqual(rows, ["filter200 µs", "app800 µs", "nativenot measured"]);
    const widths = [...el.querySelectorAll<HTMLElement>(".chart-bar")].map((b) => b.style.width);
    assert.deepEqual(widths, ["25%", "100%", "0%"]);
    assert.equal(el.querySelector(".chart-track")!.getAttribute("aria-hidden"), "true");
  });
});

describe("QuotaText", () => {
  it("says remaining of limit, the window and when it is full again", async () => {
    const el = await render(<QuotaText quota={{ limit: 10, remaining: 3, used: 7, resetSeconds: 42, windowSeconds: 60 }} />);
    assert.equal(el.textContent, "3 of 10 pulls per minute left (full again in 42 seconds).");
  });

  it("says so when the server sent no quota", async () => {
    const el = await render(<QuotaText quota={null} />);
    assert.equal(el.textContent, "The server did not report your remaining pulls.");
  });
});

describe("format helpers", () => {
  it("names windows by their length", () => {
    assert.deepEqual([60, 3600, 86400, 120, 45, 0].map(windowPhrase), ["per minute", "per hour", "per day", "per 2 minutes", "per 45 seconds", "per window"]);
  });

  it("formats sizes, durations, prices and digests", () => {
    assert.deepEqual([0, 1023, 1536, 104857600, -1].map(formatBytes), ["0 B", "1023 B", "1.5 KiB", "100 MiB", "unknown"]);
    assert.deepEqual([0.2, 1, 59, 60, 61, 125, -4].map(formatSeconds), ["1 second", "1 second", "59 seconds", "1 minute", "1 minute 1 second", "2 minutes 5 seconds", "0 seconds"]);
    assert.deepEqual([0, 9, Number.NaN].map(formatPrice), ["Free", "$9 / month", "price unknown"]);
    assert.equal(shortDigest("sha256:0123456789abcdef0123"), "sha256:0123456789ab");
  });

  it("accepts only same-origin paths as a log-in target", () => {
    assert.equal(queryParam("/login?next=%2Fplans&x=1", "next"), "/plans");
    assert.equal(queryParam("/login", "next"), null);
    assert.equal(safeNext("/plans", "/account"), "/plans");
    assert.equal(safeNext("//evil.example/", "/account"), "/account");
    assert.equal(safeNext("https://evil.example/", "/account"), "/account");
    assert.equal(safeNext(null, "/account"), "/account");
  });
});
