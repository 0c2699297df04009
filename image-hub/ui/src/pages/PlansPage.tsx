/** @jsxRuntime automatic */
// Plans straight from the catalog (/api/plans), with the real limits; a logged-in user can move to
// any other plan and the change is persisted by the server (the original's /upgrade was not).
import { useState } from "react";
import { ApiError, type Plan } from "../api.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatBytes, formatPrice, formatSeconds, windowPhrase } from "../format.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { asApiError, useLoad } from "../useLoad.ts";

const actionWords: Record<string, string> = { pull: "pull", push: "push", delete: "delete images" };

/** The plans page. */
export function PlansPage() {
  const { api, me, refresh } = useSession();
  const catalog = useLoad(() => api.plans(), [api]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [changed, setChanged] = useState<string | null>(null);

  if (catalog.error) return <ErrorNotice error={catalog.error} onRetry={catalog.reload} />;
  if (!catalog.data) return <p aria-live="polite">Loading plans…</p>;
  const { plans, windowSeconds } = catalog.data;
  const currentIndex = plans.findIndex((p) => p.id === me?.plan);

  const change = async (plan: Plan) => {
    setBusy(plan.id);
    setError(null);
    setChanged(null);
    try {
      await api.changePlan(plan.id);
      await refresh();
      setChanged(plan.name);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="plans-title">
      <h1 id="plans-title">Plans</h1>
      <p>
        A pull is one manifest download. Pulls are counted per user, and the allowance refills steadily: with {plans[0].pullsPerWindow} pulls {windowPhrase(windowSeconds)} you can pull{" "}
        {plans[0].pullsPerWindow} times at once, then once more every {formatSeconds(windowSeconds / plans[0].pullsPerWindow)}.
      </p>
      {changed ? (
        <p role="status" className="notice notice-ok">
          You are now on the <strong>{changed}</strong> plan.
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      <ul className="plan-list">
        {plans.map((p, i) => {
          const current = p.id === me?.plan;
          const verb = currentIndex >= 0 && i < currentIndex ? "Downgrade" : "Upgrade";
          return (
            <li key={p.id} className={`card plan-card${current ? " plan-current" : ""}`} aria-current={current ? "true" : undefined}>
              <h2>{p.name}</h2>
              <p className="price">{formatPrice(p.priceUsdPerMonth)}</p>
              <ul className="plan-facts">
                <li>
                  <strong>{p.pullsPerWindow.toLocaleString("en-US")}</strong> pulls {windowPhrase(windowSeconds)}
                </li>
                <li>
                  {p.privateRepositories.toLocaleString("en-US")} private {p.privateRepositories === 1 ? "repository" : "repositories"}
                </li>
                <li>Layers up to {formatBytes(p.maxBlobBytes)}</li>
                <li>Can {p.actions.map((a) => actionWords[a] ?? a).join(", ")}</li>
              </ul>
              {current ? (
                <p className="current-label">Your current plan</p>
              ) : me ? (
                <button type="button" className={verb === "Upgrade" ? "primary" : undefined} disabled={busy !== null} onClick={() => change(p)}>
                  {busy === p.id ? "Changing…" : `${verb} to ${p.name}`}
                </button>
              ) : (
                <Link className="button primary" to={`/signup?plan=${encodeURIComponent(p.id)}`}>
                  Sign up for {p.name}
                </Link>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
