// Small, pure formatting helpers shared by the pages. Kept free of React so unit tests can call them.

/**
 * Human-readable size in binary units ("1.5 MiB"). Safe to call with any number; returns "unknown"
 * for a negative, NaN or missing size rather than printing a misleading value.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * How a rate-limit window is said in words: "per minute" for 60 s, "per hour" for 3600 s, otherwise
 * "per N seconds". The original UI called a per-minute limit "daily"; this always follows the catalog.
 * Returns "per window" when the window is not a positive number.
 */
export function windowPhrase(windowSeconds: number): string {
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) return "per window";
  if (windowSeconds === 1) return "per second";
  if (windowSeconds === 60) return "per minute";
  if (windowSeconds === 3600) return "per hour";
  if (windowSeconds === 86400) return "per day";
  if (windowSeconds % 3600 === 0) return `per ${windowSeconds / 3600} hours`;
  if (windowSeconds % 60 === 0) return `per ${windowSeconds / 60} minutes`;
  return `per ${windowSeconds} seconds`;
}

/**
 * A duration in seconds as words ("45 seconds", "1 minute 5 seconds"). Negative or non-finite input
 * gives "0 seconds" because a wait that has already passed is no wait.
 */
export function formatSeconds(seconds: number): string {
  const s = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 0;
  const minutes = Math.floor(s / 60);
  const rest = s % 60;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (minutes === 0) return plural(rest, "second");
  return rest === 0 ? plural(minutes, "minute") : `${plural(minutes, "minute")} ${plural(rest, "second")}`;
}

/**
 * A timestamp (ISO string or epoch ms) as a short local date and time. Returns "never" for a missing
 * value and the raw input for a string the Date parser rejects, so bad data stays visible.
 */
export function formatDate(value: string | number | null | undefined): string {
  if (value == null || value === "") return "never";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString("en-GB", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A digest shortened for display ("sha256:0123456789ab"); the full value belongs in a title or copy field. */
export function shortDigest(digest: string): string {
  const [algo, hex] = digest.split(":");
  return hex ? `${algo}:${hex.slice(0, 12)}` : digest;
}

/** Price per month as words; 0 is "Free". Any non-finite price is shown as "price unknown". */
export function formatPrice(usdPerMonth: number): string {
  if (!Number.isFinite(usdPerMonth) || usdPerMonth < 0) return "price unknown";
  return usdPerMonth === 0 ? "Free" : `$${usdPerMonth} / month`;
}
