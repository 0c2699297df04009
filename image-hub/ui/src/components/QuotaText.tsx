/** @jsxRuntime automatic */
// One sentence about the pull quota, used after a pull and on the account page.
import type { Quota } from "../api.ts";
import { formatSeconds, windowPhrase } from "../format.ts";

/** Says remaining of limit, the window and when the quota is full again; says so when unknown. */
export function QuotaText({ quota }: { quota: Quota | null }) {
  if (!quota) return <span>The server did not report your remaining pulls.</span>;
  const window = quota.windowSeconds > 0 ? ` ${windowPhrase(quota.windowSeconds)}` : "";
  const reset = quota.resetSeconds > 0 ? `full again in ${formatSeconds(quota.resetSeconds)}` : "full now";
  return (
    <span>
      <strong data-testid="quota-remaining">{quota.remaining}</strong> of {quota.limit} pulls{window} left ({reset}).
    </span>
  );
}
