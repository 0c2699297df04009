/** @jsxRuntime automatic */
// The account: plan, pulls made and remaining in the current window, and when the quota is full
// again, all as /api/me reports them (the enforcer's own count), and the pulls served per repository
// and hour over the last 24 hours (/api/me/usage).
import { BarChart } from "../components/BarChart.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatSeconds, windowPhrase } from "../format.ts";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.tsx";
import { useLoad } from "../useLoad.ts";

/** The account page; offers log-in when nobody is logged in. */
export function AccountPage({ now = () => Date.now() }: { now?: () => number }) {
  const { api, me, loading, error, refresh, logOut } = useSession();
  const catalog = useLoad(() => api.plans(), [api]);
  const usage = useLoad(() => (me ? api.usage() : Promise.resolve(null)), [api, me]);

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
              <dt>Pulls made in this window</dt>
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
      <section aria-labelledby="usage-title">
        <h2 id="usage-title">Pulls in the last 24 hours</h2>
        {usage.error ? <ErrorNotice error={usage.error} onRetry={usage.reload} /> : null}
        {usage.data && usage.data.repositories.length === 0 ? <p data-testid="usage-empty">No pulls in the last 24 hours.</p> : null}
        {usage.data?.repositories.map((r) => (
          <div key={r.name} data-testid="usage-repository" data-repository={r.name} data-total={r.pulls.reduce((a, b) => a + b, 0)}>
            <BarChart
              title={`${r.name}: ${r.pulls.reduce((a, b) => a + b, 0)} pulls`}
              unit=" pulls"
              digits={0}
              note="per hour, oldest first"
              bars={r.pulls.map((n, i) => ({ label: hourLabel(usage.data!.hours[i]), value: n }))}
            />
          </div>
        ))}
      </section>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            void refresh();
            usage.reload();
          }}
        >
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

/** "14:00" for an ISO hour start, in the viewer's time zone. */
function hourLabel(iso: string | undefined): string {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? `${String(d.getHours()).padStart(2, "0")}:00` : "?";
}
