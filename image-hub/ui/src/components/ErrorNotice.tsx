/** @jsxRuntime automatic */
// Says plainly what went wrong and what the user can do next. The original UI swallowed every error
// except 429 and called a per-minute limit "daily"; here each kind of failure gets its own words.
import type { ApiError } from "../api.ts";
import { formatSeconds, windowPhrase } from "../format.ts";
import { Link, navigate, useLocation } from "../router.tsx";

/** Props: the error to explain, and an optional retry for failures that may pass on their own. */
export interface ErrorNoticeProps {
  error: ApiError;
  onRetry?: () => void;
}

/** Renders an alert for any ApiError; never renders nothing for an error it does not know. */
export function ErrorNotice({ error, onRetry }: ErrorNoticeProps) {
  const location = useLocation();
  const retry = onRetry ? (
    <button type="button" onClick={onRetry}>
      Try again
    </button>
  ) : null;

  if (error.kind === "network") {
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>Network error.</strong> {error.message}. Nothing was changed; check that Image Hub is running and try again.
        </p>
        {retry}
      </div>
    );
  }
  if (error.status === 429) {
    const l = error.limit;
    const limitText = l && Number.isFinite(l.limit) ? `${l.limit} pulls ${windowPhrase(l.windowSeconds)}` : "its pull limit";
    const retryText = l && Number.isFinite(l.retryAfterSeconds) ? `You can pull again in ${formatSeconds(l.retryAfterSeconds)}.` : "Try again later.";
    return (
      <div role="alert" className="notice notice-limit">
        <p>
          <strong>Pull limit reached.</strong> Your plan allows {limitText}. {retryText}
        </p>
        <p>
          An upgrade takes effect within a second, also for the token you already hold: your quota then refills at the new plan's rate, so
          the next pull goes through. Pulls you made stay counted in this window.
        </p>
        <button type="button" className="primary" onClick={() => navigate("/plans")}>
          Upgrade plan
        </button>
      </div>
    );
  }
  if (error.insufficientScope) {
    // A valid token that lacks the scope: the user is logged in, so a log-in prompt would be wrong.
    const scope = error.challenge?.scope;
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>Your token does not allow this{scope ? `: ${scope}` : ""}.</strong> {error.message}. You are logged in, but your plan or
          your permissions on this repository do not include it.
        </p>
        <Link to="/plans">Compare plans</Link>
      </div>
    );
  }
  if (error.status === 401) {
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>Please log in.</strong> {error.message}
        </p>
        <Link className="button primary" to={`/login?next=${encodeURIComponent(location)}`}>
          Log in
        </Link>
      </div>
    );
  }
  if (error.status === 403) {
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>Not allowed.</strong> {error.message}. Your plan or your permissions on this repository do not include this.
        </p>
        <Link to="/plans">Compare plans</Link>
      </div>
    );
  }
  const what = error.kind === "invalid-response" ? "Unexpected answer" : `Error ${error.status}`;
  return (
    <div role="alert" className="notice notice-error">
      <p>
        <strong>{what}</strong> ({error.code}): {error.message}
      </p>
      {retry}
    </div>
  );
}
