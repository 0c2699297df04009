import { DEMO_SIGNING_KEYS, POLICY_FILTERS, type PolicyFilterName, type SigningKey } from "../../image-hub/filter-configs.ts";

// Deployment parameters of the generated manifests. The committed YAML uses DEFAULT_PARAMS; a cluster
// operator regenerates with their own values (`tsx manifests/generate.ts --help`).

/** The policy filters, in the order the sidecar must run them (CONTRACT.md: token-auth → plan-enforcement → rate-limit). */
export const FILTER_ORDER = POLICY_FILTERS;

/** Name of one policy filter. */
export type FilterName = PolicyFilterName;

/** Everything about the cluster that the manifests cannot derive from the project's sources. */
export interface ManifestParams {
  /** Kubernetes namespace of every Image Hub object. */
  namespace: string;
  /** The project image (manifests/image/Dockerfile) that runs ui, access and storage. */
  appImage: string;
  /** Static file server image for the in-mesh filter server (serves the .wasm files from a ConfigMap). */
  filterServerImage: string;
  /** Public base URL clients use; the token endpoint (`<publicUrl>/api/token`) is the 401 challenge realm. */
  publicUrl: string;
  /** HS256 keys shared by the access service (signs with the first) and token-auth (verifies). */
  jwtKeys: readonly SigningKey[];
  /** Shared secret the sidecar adds as `x-hub-sidecar` so the access service trusts x-hub-* headers. */
  sidecarSecret: string;
  /** Container ports, also the ports of the Kubernetes Services and Consul upstream listeners. */
  ports: { ui: number; access: number; storage: number; filterServer: number };
}

/**
 * Parameters of the committed manifests. The keys are DEMO VALUES, public in this repository: never use
 * them outside a demo cluster; regenerate with your own (`--jwt-key kid=secret --sidecar-secret ...`).
 */
export const DEFAULT_PARAMS: ManifestParams = {
  namespace: "image-hub",
  appImage: "image-hub:0.1.0",
  filterServerImage: "docker.io/nginxinc/nginx-unprivileged:1.27-alpine",
  publicUrl: "http://localhost:8080",
  jwtKeys: DEMO_SIGNING_KEYS,
  sidecarSecret: "demo-only-sidecar-secret",
  ports: { ui: 3000, access: 5000, storage: 5001, filterServer: 8080 },
};

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks parameters before generation; throws an Error naming the bad field. */
export function checkParams(p: ManifestParams): void {
  if (!NAME.test(p.namespace) || p.namespace.length > 63) throw new Error(`params.namespace: "${p.namespace}" is not a DNS-1123 label`);
  for (const field of ["appImage", "filterServerImage"] as const) {
    if (!/^[a-z0-9][\w.\-/:@]*$/.test(p[field])) throw new Error(`params.${field}: "${p[field]}" is not an image reference`);
  }
  let url: URL;
  try {
    url = new URL(p.publicUrl);
  } catch {
    throw new Error(`params.publicUrl: "${p.publicUrl}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("params.publicUrl: must be http or https");
  if (p.jwtKeys.length === 0) throw new Error("params.jwtKeys: at least one key is required");
  if (p.sidecarSecret.length < 16) throw new Error("params.sidecarSecret: must be at least 16 characters");
  // It travels as a header value and inside the Consul Lua script: visible ASCII only.
  if (!/^[\x21-\x7e]+$/.test(p.sidecarSecret)) throw new Error("params.sidecarSecret: must be visible ASCII (no spaces or control characters)");
  const seen = new Set<number>();
  for (const [name, port] of Object.entries(p.ports)) {
    if (!Number.isInteger(port) || port < 1024 || port > 65535) throw new Error(`params.ports.${name}: must be an integer in 1024-65535`);
    if (seen.has(port)) throw new Error(`params.ports.${name}: ${port} is used twice`);
    seen.add(port);
  }
}

/** The token endpoint clients are sent to (the 401 challenge realm). */
export function realm(p: ManifestParams): string {
  return `${p.publicUrl.replace(/\/$/, "")}/api/token`;
}
