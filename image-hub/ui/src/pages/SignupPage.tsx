/** @jsxRuntime automatic */
// Sign-up with a plan chosen from the catalog served by /api/plans (never a list typed into the UI).
import { useState, type FormEvent } from "react";
import { ApiError } from "../api.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatPrice, windowPhrase } from "../format.ts";
import { Link, navigate, queryParam, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import { asApiError, useLoad } from "../useLoad.ts";

/** The sign-up form; `?plan=<id>` preselects a plan. */
export function SignupPage() {
  const { api } = useSession();
  const location = useLocation();
  const catalog = useLoad(() => api.plans(), [api]);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [plan, setPlan] = useState<string | null>(queryParam(location, "plan"));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const chosen = plan ?? catalog.data?.defaultPlan ?? "";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signUp(username, password, chosen);
      navigate(`/login?created=1&username=${encodeURIComponent(username)}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="signup-title" className="narrow">
      <h1 id="signup-title">Sign up</h1>
      {catalog.error ? <ErrorNotice error={catalog.error} onRetry={catalog.reload} /> : null}
      <form onSubmit={submit} className="form">
        <label htmlFor="signup-username">Username</label>
        <input id="signup-username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} aria-describedby="signup-username-hint" />
        <p id="signup-username-hint" className="hint">
          2 to 32 lower-case letters and digits, optionally joined by ".", "_" or "-". Your repositories live under this name.
        </p>
        <label htmlFor="signup-password">Password</label>
        <input id="signup-password" name="password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="signup-password-hint" />
        <p id="signup-password-hint" className="hint">
          At least 8 characters.
        </p>
        <label htmlFor="signup-plan">Plan</label>
        <select id="signup-plan" name="plan" value={chosen} onChange={(e) => setPlan(e.target.value)} disabled={!catalog.data}>
          {catalog.data?.plans.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} — {p.pullsPerWindow} pulls {windowPhrase(catalog.data!.windowSeconds)}, {formatPrice(p.priceUsdPerMonth)}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={busy || !catalog.data}>
          {busy ? "Creating account…" : "Create account"}
        </button>
      </form>
      {error ? error.status === 409 ? (
        <p role="alert" className="notice notice-error">
          <strong>That username is taken.</strong> Choose another, or <Link to="/login">log in</Link> if it is yours.
        </p>
      ) : (
        <ErrorNotice error={error} />
      ) : null}
    </section>
  );
}
