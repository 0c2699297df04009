/** @jsxRuntime automatic */
// The whole app in a jsdom window against the in-memory fake: the pages show real data from the
// API, the account comes from /api/me, a pull reports its quota, and limits lead to the plans page.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { byText, cleanup, click, render, submit, type, waitFor } from "./dom.ts";
import { createApi, type Api } from "../src/api.ts";
import { App } from "../src/App.tsx";
import { SessionProvider } from "../src/session.tsx";
import { createFakeHub, fakeRepositories, type FakeHub } from "./fake-hub.ts";

afterEach(cleanup);

async function app(hub: FakeHub, path = "/"): Promise<{ el: HTMLElement; api: Api }> {
  window.history.replaceState(null, "", path);
  const api = createApi({ fetch: hub.fetch });
  const el = await render(
    <SessionProvider api={api}>
      <App />
    </SessionProvider>,
  );
  return { el, api };
}

async function signedIn(plan: string) {
  const hub = createFakeHub();
  const seed = createApi({ fetch: hub.fetch });
  await seed.signUp("carol", "pw-carol", plan);
  await seed.logIn("carol", "pw-carol");
  return hub;
}

const text = () => document.body.textContent ?? "";

describe("Hub page", () => {
  it("lists repositories from the API with visibility, tags, size, last push and pulls", async () => {
    const hub = createFakeHub();
    const { el } = await app(hub);
    await waitFor(() => el.querySelector(".repo-list"), "repository list");
    const cards = [...el.querySelectorAll(".repo-card")];
    assert.equal(cards.length, fakeRepositories.length);
    assert.match(cards[0].textContent!, /demo\/hello.*public.*Tags1.*Size2\.0 KiB.*Last push.*2026.*Pulls42/);
    assert.match(cards[1].textContent!, /demo\/tools.*private.*Tags0.*Size5\.0 MiB.*Last pushnever.*Pulls3/);
  });

  it("searches through the API and says when nothing matches", async () => {
    const hub = createFakeHub();
    const { el } = await app(hub);
    await waitFor(() => el.querySelector(".repo-list"), "repository list");
    await type(el.querySelector("#repo-search"), "tools");
    await waitFor(() => el.querySelectorAll(".repo-card").length === 1, "filtered list");
    assert.ok(hub.seen.some((s) => s.path === "/api/repositories?q=tools"));
    await type(el.querySelector("#repo-search"), "nothing-like-this");
    await waitFor(() => text().includes("No repository matches “nothing-like-this”."), "no-match message");
  });

  it("shows a network failure instead of an empty list, and recovers on retry", async () => {
    const hub = createFakeHub();
    hub.failNextWith = "connection refused";
    const { el } = await app(hub);
    const alert = await waitFor(() => el.querySelector('[role="alert"]'), "network alert");
    assert.match(alert.textContent!, /Network error.*connection refused/);
    await click(byText("button", "Try again"));
    await waitFor(() => el.querySelector(".repo-list"), "list after retry");
  });
});

describe("accounts", () => {
  it("signs up with a catalog plan, logs in and shows the account from /api/me", async () => {
    const hub = createFakeHub();
    const { el } = await app(hub, "/signup");
    const select = await waitFor(() => el.querySelector<HTMLSelectElement>("#signup-plan:not([disabled])"), "plan select");
    assert.deepEqual([...select.options].map((o) => o.value), hub.catalog.plans.map((p) => p.id));
    assert.equal(select.value, hub.catalog.defaultPlan);
    assert.match(select.options[0].textContent!, /per minute/);
    await type(el.querySelector("#signup-username"), "dave");
    await type(el.querySelector("#signup-password"), "pw-dave");
    await submit(el.querySelector("form.form"));
    await waitFor(() => window.location.pathname === "/login", "redirect to log-in");
    assert.equal(hub.users.get("dave")?.plan, hub.catalog.defaultPlan);
    await waitFor(() => text().includes("Account created"), "created notice");
    assert.equal(el.querySelector<HTMLInputElement>("#login-username")!.value, "dave");
    await type(el.querySelector("#login-password"), "pw-dave");
    await submit(el.querySelector("form.form"));
    await waitFor(() => window.location.pathname === "/account", "account page");
    const plan = await waitFor(() => el.querySelector('[data-testid="account-plan"]'), "plan on account page");
    const personal = hub.catalog.plans.find((p) => p.id === hub.catalog.defaultPlan)!;
    await waitFor(() => plan.textContent === personal.name, "plan name from the catalog");
    assert.equal(el.querySelector('[data-testid="account-remaining"]')!.textContent, String(personal.pullsPerWindow));
    assert.match(text(), new RegExp(`${personal.pullsPerWindow} pulls per minute`));
    assert.ok(byText("nav a", "Account (dave)"));
  });

  it("says a duplicate sign-up plainly", async () => {
    const hub = createFakeHub();
    await createApi({ fetch: hub.fetch }).signUp("erin", "x", "personal");
    const { el } = await app(hub, "/signup");
    await waitFor(() => el.querySelector("#signup-plan:not([disabled])"), "plan select");
    await type(el.querySelector("#signup-username"), "erin");
    await type(el.querySelector("#signup-password"), "y");
    await submit(el.querySelector("form.form"));
    const alert = await waitFor(() => el.querySelector('[role="alert"]'), "409 alert");
    assert.match(alert.textContent!, /That username is taken/);
    assert.equal(window.location.pathname, "/signup");
  });

  it("says wrong credentials plainly and stays logged out", async () => {
    const hub = createFakeHub();
    await createApi({ fetch: hub.fetch }).signUp("frank", "right", "personal");
    const { el, api } = await app(hub, "/login");
    await type(el.querySelector("#login-username"), "frank");
    await type(el.querySelector("#login-password"), "wrong");
    await submit(el.querySelector("form.form"));
    const alert = await waitFor(() => el.querySelector('[role="alert"]'), "401 alert");
    assert.match(alert.textContent!, /Wrong username or password/);
    assert.equal(api.isLoggedIn(), false);
  });

  it("logs out from the account page", async () => {
    const hub = await signedIn("personal");
    const { el, api } = await app(hub, "/account");
    await waitFor(() => el.querySelector('[data-testid="account-username"]'), "account");
    await click(byText("main button", "Log out"));
    assert.equal(api.isLoggedIn(), false);
    assert.equal(window.location.pathname, "/");
    await waitFor(() => byText("nav a", "Log in"), "log-in link in the nav");
  });

  it("offers log-in on the account page when logged out", async () => {
    await app(createFakeHub(), "/account");
    const link = await waitFor(() => byText("main a", "Log in"), "log-in link");
    assert.equal(link.getAttribute("href"), "/login?next=%2Faccount");
  });
});

describe("repository page and pulls", () => {
  it("shows tags with digests and sizes and the pull commands", async () => {
    const { el } = await app(createFakeHub(), "/repositories/demo/hello");
    await waitFor(() => el.querySelector("table"), "tag table");
    const row = el.querySelector("tbody tr")!;
    assert.match(row.textContent!, /^1\.0sha256:6f1c0d7e0b9a2\.0 KiB/);
    assert.equal(row.querySelector("code")!.getAttribute("title"), fakeRepositories[0].tags[0].digest);
    const commands = [...el.querySelectorAll<HTMLInputElement>(".copy-field input")].map((i) => i.value);
    assert.deepEqual(commands, [
      ".venv-envoy/bin/python scripts/oras-cli.py pull --user USERNAME --password PASSWORD 127.0.0.1:8080/demo/hello:1.0 --out demo-hello",
      "skopeo copy --src-tls-verify=false --src-creds USERNAME:PASSWORD docker://127.0.0.1:8080/demo/hello:1.0 oci:demo-hello:1.0",
      "docker pull 127.0.0.1:8080/demo/hello:1.0",
    ]);
  });

  it("offers no pull for a repository without tags", async () => {
    const { el } = await app(createFakeHub(), "/repositories/demo/tools");
    await waitFor(() => byText("p", "There is nothing to pull until an image is pushed with a tag."), "no-tags note");
    assert.equal(el.querySelector(".pull-box"), null);
    assert.ok(byText("p", "This repository has no tags yet."));
  });

  it("a logged-out pull leads to log-in and sends nothing to the registry", async () => {
    const hub = createFakeHub();
    const { el } = await app(hub, "/repositories/demo/hello");
    await click(await waitFor(() => byText("button", "Pull demo/hello:1.0"), "pull button"));
    const alert = await waitFor(() => el.querySelector('[role="alert"]'), "401 alert");
    assert.match(alert.textContent!, /Please log in/);
    assert.equal(alert.querySelector("a")!.getAttribute("href"), "/login?next=%2Frepositories%2Fdemo%2Fhello");
    assert.ok(!hub.seen.some((s) => s.path.startsWith("/v2/") || s.path.startsWith("/api/token")));
  });

  it("a pull the token does not grant says which scope is missing, offers no log-in and stays logged in", async () => {
    const hub = await signedIn("personal");
    const { el, api } = await app(hub, "/repositories/demo/secret");
    await click(await waitFor(() => byText("button", "Pull demo/secret:1.0"), "pull button"));
    const alert = await waitFor(() => el.querySelector('.pull-box [role="alert"]'), "insufficient_scope alert");
    assert.match(alert.textContent!, /^Your token does not allow this: repository:demo\/secret:pull\. token does not grant pull on demo\/secret\./);
    assert.doesNotMatch(alert.textContent!, /log in/i);
    assert.deepEqual([...alert.querySelectorAll("a")].map((a) => a.getAttribute("href")), ["/plans"]);
    assert.equal(api.isLoggedIn(), true);
    assert.ok(hub.seen.some((s) => s.path === "/v2/demo/secret/manifests/1.0"));
  });

  it("pulls, shows the remaining quota, and on the limit shows the 429 with an upgrade that works", async () => {
    const hub = await signedIn("personal");
    const personal = hub.catalog.plans.find((p) => p.id === "personal")!;
    const { el } = await app(hub, "/repositories/demo/hello");
    const button = await waitFor(() => byText("button", "Pull demo/hello:1.0"), "pull button");
    await click(button);
    await waitFor(() => el.querySelector(".notice-ok"), "pull result");
    assert.match(el.querySelector(".notice-ok")!.textContent!, new RegExp(`Pulled demo/hello:1\\.0\\..*${personal.pullsPerWindow - 1} of ${personal.pullsPerWindow} pulls per minute left`));
    for (let i = 1; i < personal.pullsPerWindow; i++) {
      await click(button);
      await waitFor(() => el.querySelector('[data-testid="quota-remaining"]')?.textContent === String(personal.pullsPerWindow - 1 - i), `pull ${i + 1}`);
    }
    await click(button);
    const alert = await waitFor(() => el.querySelector(".notice-limit"), "429 notice");
    assert.match(alert.textContent!, new RegExp(`allows ${personal.pullsPerWindow} pulls per minute`));
    assert.match(alert.textContent!, /You can pull again in \d+ seconds?\./);
    assert.equal(el.querySelector(".notice-ok"), null);
    await click(byText("button", "Upgrade plan"));
    assert.equal(window.location.pathname, "/plans");
    await click(await waitFor(() => byText("button", "Upgrade to Team"), "upgrade button"));
    await waitFor(() => text().includes("You are now on the Team plan."), "plan changed notice");
    assert.equal(hub.users.get("carol")!.plan, "team");
    assert.equal(el.querySelector(".plan-current h2")!.textContent, "Team");
    assert.ok(byText("button", "Downgrade to Personal"));
  });
});

describe("plans page", () => {
  it("shows every catalog plan with its real limits and offers sign-up when logged out", async () => {
    const hub = createFakeHub();
    const { el } = await app(hub, "/plans");
    await waitFor(() => el.querySelector(".plan-list"), "plan list");
    const cards = [...el.querySelectorAll(".plan-card")];
    assert.equal(cards.length, hub.catalog.plans.length);
    hub.catalog.plans.forEach((p, i) => {
      assert.match(cards[i].textContent!, new RegExp(`${p.name}.*${p.pullsPerWindow.toLocaleString("en-US")} pulls per minute`));
      assert.equal(cards[i].querySelector("a")!.getAttribute("href"), `/signup?plan=${p.id}`);
    });
    assert.doesNotMatch(text(), /daily|unlimited/i);
  });
});

describe("speed vs power page", () => {
  it("says plainly when no results exist yet", async () => {
    const { el } = await app(createFakeHub(), "/speed");
    const note = await waitFor(() => byText("p", "No benchmark results yet."), "no-results note");
    assert.match(note.textContent!, /npm run bench/);
    assert.equal(el.querySelector(".chart"), null);
  });

  it("refuses a results file of another shape instead of drawing it", async () => {
    const hub = createFakeHub();
    hub.benchResults = { something: "else" };
    const { el } = await app(hub, "/speed");
    const alert = await waitFor(() => el.querySelector('[role="alert"]'), "format alert");
    assert.match(alert.textContent!, /not in the expected format/);
  });
});
