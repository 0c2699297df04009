/** @jsxRuntime automatic */
// The page frame: skip link, navigation that reflects the session, and the route table.
import { useEffect, useRef } from "react";
import { AccountPage } from "./pages/AccountPage.tsx";
import { HubPage } from "./pages/HubPage.tsx";
import { LoginPage } from "./pages/LoginPage.tsx";
import { PlansPage } from "./pages/PlansPage.tsx";
import { RepositoryPage } from "./pages/RepositoryPage.tsx";
import { SignupPage } from "./pages/SignupPage.tsx";
import { SpeedPage } from "./pages/SpeedPage.tsx";
import { Link, navigate, useLocation } from "./router.tsx";
import { useSession } from "./session.tsx";
import { useLoad } from "./useLoad.ts";

const repoPrefix = "/repositories/";

/** The document title for a path, so each page is announced and bookmarked by its name. Pure. */
export function titleFor(path: string): string {
  const names: Record<string, string> = { "/": "Repositories", "/login": "Log in", "/signup": "Sign up", "/account": "Account", "/plans": "Plans", "/speed": "Speed vs power" };
  const name = path.startsWith(repoPrefix) ? decodeURIComponent(path.slice(repoPrefix.length)) : names[path] ?? "Page not found";
  return `${name} · Image Hub`;
}

/** Picks the page for a path (without query); unknown paths get a plain "not found". Pure apart from rendering. */
export function routeFor(path: string) {
  if (path === "/") return <HubPage />;
  if (path.startsWith(repoPrefix) && path.length > repoPrefix.length) {
    return <RepositoryPage key={path} name={decodeURIComponent(path.slice(repoPrefix.length)).replace(/\/+$/, "")} />;
  }
  switch (path) {
    case "/login":
      return <LoginPage />;
    case "/signup":
      return <SignupPage />;
    case "/account":
      return <AccountPage />;
    case "/plans":
      return <PlansPage />;
    case "/speed":
      return <SpeedPage />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{path}</code>. <Link to="/">Back to the repositories</Link>.
          </p>
        </section>
      );
  }
}

function NavLink({ to, children }: { to: string; children: string }) {
  const location = useLocation();
  const path = location.split("?")[0];
  const active = to === "/" ? path === "/" || path.startsWith(repoPrefix) : path === to;
  return (
    <Link to={to} aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

/** The whole app; needs a SessionProvider above it. */
export function App() {
  const { api, me, loading, logOut } = useSession();
  // Said by the access service, which knows which mode this run enforces in.
  const enforcement = useLoad(() => api.enforcement(), [api]);
  const location = useLocation();
  const path = location.split("?")[0];
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After an in-app navigation, move focus to the new page so keyboard and screen-reader users
  // start at its content instead of at the link they just used.
  useEffect(() => {
    document.title = titleFor(path);
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [path]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Image Hub
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/">Hub</NavLink>
            </li>
            <li>
              <NavLink to="/plans">Plans</NavLink>
            </li>
            <li>
              <NavLink to="/speed">Speed vs power</NavLink>
            </li>
            {me ? (
              <>
                <li>
                  <NavLink to="/account">{`Account (${me.username})`}</NavLink>
                </li>
                <li>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      logOut();
                      navigate("/");
                    }}
                  >
                    Log out
                  </button>
                </li>
              </>
            ) : loading ? null : (
              <>
                <li>
                  <NavLink to="/login">Log in</NavLink>
                </li>
                <li>
                  <NavLink to="/signup">Sign up</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {routeFor(path)}
      </main>
      <footer className="site-footer">
        <p data-testid="enforcement">
          {enforcement.data === "filter"
            ? "Pull limits on this hub are enforced by proxy-wasm filters in Envoy (filter mode)."
            : enforcement.data === "app"
              ? "Pull limits on this hub are enforced in the access service (app mode, for comparison)."
              : "Pull limits are enforced by proxy-wasm filters in Envoy, or in the application for comparison."}
        </p>
      </footer>
    </>
  );
}
