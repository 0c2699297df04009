// The shapes the Hub's API returns, as the UI uses them (api.ts turns the raw JSON into these).

/** One plan of the catalog (image-hub/plans.json), as GET /api/plans returns it. */
export interface Plan {
  id: string;
  name: string;
  pullsPerWindow: number;
  actions: string[];
  maxBlobBytes: number;
  privateRepositories: number;
  priceUsdPerMonth: number;
}

/** The plan catalog: every plan shares one rate-limit window. */
export interface PlanCatalog {
  windowSeconds: number;
  defaultPlan: string;
  plans: Plan[];
}

/** Pull quota of the current window, from /api/me or from the RateLimit-Policy and RateLimit fields of a pull. */
export interface Quota {
  limit: number;
  remaining: number;
  used: number;
  /** Seconds until the quota is full again (read from a 429's fields: its Retry-After). */
  resetSeconds: number;
  windowSeconds: number;
}

/** The logged-in account as the server knows it. */
export interface Me {
  username: string;
  /** Plan id, as in the catalog. */
  plan: string;
  /** Plan name when the server sends it. */
  planName: string | null;
  quota: Quota | null;
}

/** Pulls served to the user per repository and hour, the last 24 hours (GET /api/me/usage). */
export interface Usage {
  /** ISO start of each hour, oldest first. */
  hours: string[];
  repositories: { name: string; pulls: number[] }[];
}

/** Where this run enforces pull limits (GET /api/status). */
export type EnforcementMode = "filter" | "app";

/** One tag of a repository; `size` is the size of the manifest it points to. */
export interface Tag {
  name: string;
  digest: string;
  size: number | null;
  pushedAt: string | null;
}

/**
 * A repository as listed on the Hub page and shown on its own page. The list carries only
 * `tagCount`; `tags` is filled on the repository's own page.
 */
export interface Repository {
  name: string;
  owner: string;
  visibility: "public" | "private";
  tagCount: number;
  tags: Tag[];
  /** Bytes of all blobs stored for the repository. */
  size: number | null;
  lastPushAt: string | null;
  pulls: number;
}

/** What a successful manifest pull through /v2/ returned. */
export interface PullResult {
  repository: string;
  reference: string;
  digest: string;
  mediaType: string;
  bytes: number;
  quota: Quota | null;
}
