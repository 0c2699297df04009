/** @jsxRuntime automatic */
// The account: plan, pulls used and remaining in the current window, and when the window resets,
// all as /api/me reports them.
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatSeconds, windowPhrase } from "../format.ts";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.tsx";
import { useLoad } from "../useLoad.ts";

/** The account page; offers log-in when nobody is logged in. */
export function AccountPage({ now = () => Date.now() }: { now?: () => number }) {
  const { api, me, loading, error, refresh, logOut } = useSession();
  const catalog = useLoad(() => api.plans(), [api]);

  if (loading && !me) return <p aria-live="polite">Loading your account…</p>;
  if (error) return <ErrorNotice error={error} onRetry={() => void refresh()} />;
  if (!me) {
    return (
      <section aria-labelledby="account-title" className="narrow">
        <h1 id="account-title">Account</h1>
        <p>You are not logged in.</p>
        <Link className="button primary" to="/login?next=%2Faccount">
          Log in
        </Link>
      </section>
    );
  }
  const plan = catalog.data?.plans.find((p) => p.id === me.plan);
  const q = me.quota;
  const resetAt = q ? new Date(now() + q.resetSeconds * 1000).toLocaleTimeString("en-GB") : "";

  return (
    <section aria-labelledby="account-title" className="narrow">
      <h1 id="account-title">Account</h1>
      {catalog.error ? <ErrorNotice error={catalog.error} onRetry={catalog.reload} /> : null}
      <dl className="facts facts-wide card">
        <div>
          <dt>Username</dt>
          <dd data-testid="account-username">{me.username}</dd>
        </div>
        <div>
          <dt>Plan</dt>
          <dd data-testid="account-plan">{me.planName ?? plan?.name ?? me.plan}</dd>
        </div>
        {q ? (
          <>
            <div>
              <dt>Pull limit</dt>
              <dd>
                {q.limit} pulls {windowPhrase(q.windowSeconds)}
              </dd>
            </div>
            <div>
              <dt>Used in this window</dt>
              <dd data-testid="account-used">{q.used}</dd>
            </div>
            <div>
              <dt>Remaining</dt>
              <dd data-testid="account-remaining">{q.remaining}</dd>
            </div>
            <div>
              <dt>Quota full again</dt>
              <dd>{q.resetSeconds > 0 ? `in ${formatSeconds(q.resetSeconds)} (at ${resetAt})` : "now"}</dd>
            </div>
          </>
        ) : (
          <div>
            <dt>Pulls</dt>
            <dd>The server did not report your usage.</dd>
          </div>
        )}
      </dl>
      <div className="actions">
        <button type="button" onClick={() => void refresh()}>
          Refresh
        </button>
        <Link className="button" to="/plans">
          Change plan
        </Link>
        <button
          type="button"
          onClick={() => {
            logOut();
            navigate("/");
          }}
        >
          Log out
        </button>
      </div>
    </section>
  );
}
