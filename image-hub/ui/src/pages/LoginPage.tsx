/** @jsxRuntime automatic */
// Log-in. A 401 anywhere in the UI links here with `next`, so the user lands back where they were.
import { useState, type FormEvent } from "react";
import { ApiError } from "../api.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Link, navigate, queryParam, safeNext, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import { asApiError } from "../useLoad.ts";

/** The log-in form. */
export function LoginPage() {
  const { api, refresh } = useSession();
  const location = useLocation();
  const [username, setUsername] = useState(queryParam(location, "username") ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const justSignedUp = queryParam(location, "created") === "1";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.logIn(username, password);
      await refresh();
      navigate(safeNext(queryParam(location, "next"), "/account"));
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="login-title" className="narrow">
      <h1 id="login-title">Log in</h1>
      {justSignedUp ? (
        <p role="status" className="notice notice-ok">
          Account created. Log in to start pulling.
        </p>
      ) : null}
      <form onSubmit={submit} className="form">
        <label htmlFor="login-username">Username</label>
        <input id="login-username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      {error ? error.status === 401 ? (
        <p role="alert" className="notice notice-error">
          <strong>Wrong username or password.</strong> Check both and try again.
        </p>
      ) : (
        <ErrorNotice error={error} />
      ) : null}
      <p>
        No account yet? <Link to="/signup">Sign up</Link>
      </p>
    </section>
  );
}
