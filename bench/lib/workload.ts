// Request generators of the scenario workloads: which path and headers each request carries, and
// how pulls are spread over users so each regime stays inside (or far beyond) the users' limits.
import type { BenchUser } from "./identity.ts";
import type { RequestSpec } from "./load.ts";

/** How a scenario's client authenticates: a Bearer token, or the identity headers a sidecar would set. */
export type ClientAuth = "bearer" | "identity-headers";

/** Headers for one request of `user`. identity-headers mimics what token-auth sets (CONTRACT.md). */
export function authHeaders(user: BenchUser, auth: ClientAuth, repository: string): Record<string, string> {
  if (auth === "bearer") return { authorization: `Bearer ${user.token}` };
  return { "x-hub-user": user.name, "x-hub-plan": user.plan, "x-hub-access": `repository:${repository}:pull` };
}

/**
 * Cycles through users weighted by their plan's pulls per window, so every user spends about the
 * same fraction of its quota. Throws when there are no users or a plan is unknown.
 */
export function weightedUsers(users: BenchUser[], pullsPerWindow: Record<string, number>): () => BenchUser {
  if (users.length === 0) throw new Error("workload: no users");
  const min = Math.min(...users.map((u) => quota(u, pullsPerWindow)));
  const slots: BenchUser[] = [];
  for (const u of users) for (let i = 0; i < Math.round(quota(u, pullsPerWindow) / min); i++) slots.push(u);
  // A fixed interleaving (stride through the slots) spreads each user's pulls over the run
  // instead of bursting them, without randomness that would make runs differ.
  const stride = coprimeStride(slots.length);
  let i = 0;
  return () => slots[(i++ * stride) % slots.length];
}

/** Cycles through users evenly (the over-capacity regime: every user far beyond its limit). */
export function roundRobin(users: BenchUser[]): () => BenchUser {
  if (users.length === 0) throw new Error("workload: no users");
  let i = 0;
  return () => users[i++ % users.length];
}

/** A request generator for manifest pulls of `repository`. */
export function pullRequests(next: () => BenchUser, auth: ClientAuth, repository: string, reference: string): () => RequestSpec {
  const path = manifestPath(repository, reference);
  return () => ({ path, headers: { ...authHeaders(next(), auth, repository), accept: "application/vnd.oci.image.manifest.v1+json" } });
}

/** A request generator for the trivial endpoint (`GET /v2/`, the registry base check). */
export function trivialRequests(next: () => BenchUser, auth: ClientAuth, repository: string): () => RequestSpec {
  return () => ({ path: "/v2/", headers: authHeaders(next(), auth, repository) });
}

/** Path of a manifest GET. */
export function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

function quota(u: BenchUser, pullsPerWindow: Record<string, number>): number {
  const q = pullsPerWindow[u.plan];
  if (!q) throw new Error(`workload: unknown plan ${u.plan}`);
  return q;
}

function coprimeStride(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (let s = Math.max(1, Math.floor(n * 0.618)); s > 1; s--) if (gcd(s, n) === 1) return s;
  return 1;
}
