/**
 * Emulator plumbing for the policy-filter tests: start the generated chain (or one filter) on the
 * project's emulator with a manual clock, and an upstream that records what reaches it.
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createChain, ManualClock, type Chain, type ChainResult, type ClusterHandler, type UpstreamRequest } from "proxy-wasm-host-emulator";
import { type Catalog } from "../../image-hub/catalog.ts";
import { EXAMPLE_REALM, policyFilterChain, type PolicyFilterName } from "../../image-hub/filter-configs.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Both builds of every filter: the tests run each case against each (Go vmTest style). */
export const BUILDS = [
  { label: "release", debug: false },
  { label: "debug", debug: true },
] as const;

/** A chain under test with its clock and everything its upstream received. */
export interface PolicyHarness {
  chain: Chain;
  clock: ManualClock;
  /** Requests that reached the upstream, in order. */
  seen: UpstreamRequest[];
  /** The clock as whole seconds since the epoch (for minting tokens). */
  nowSeconds(): number;
  /** Sends one request; the upstream answers 200 with a JSON body. */
  send(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<ChainResult>;
}

/** Options of startPolicy. */
export interface StartPolicyOptions {
  only?: readonly PolicyFilterName[];
  debug?: boolean;
  workers?: number;
  catalog?: Catalog;
  /** Replace one filter's generated configuration (used to try bad configurations). */
  configOverride?: Partial<Record<PolicyFilterName, string>>;
  /** Handlers of the clusters the filters' callouts name (token-auth's plan lookup). */
  clusters?: Record<string, ClusterHandler | null>;
  /** Run the filters as ONE composed module (filters/policy) instead of one module each. */
  composed?: boolean;
}

/** The composed module's configuration: each filter's text as its object, or as a string when it is not JSON. */
function composedConfig(parts: [PolicyFilterName, string][]): string {
  const value = (text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return JSON.stringify(Object.fromEntries(parts.map(([name, text]) => [name, value(text)])));
}

/**
 * startPolicy builds and starts the filters in chain order with the example realm and demo keys.
 * Rejects with the emulator's ChainStartError when a configuration is refused.
 */
export async function startPolicy(options: StartPolicyOptions = {}): Promise<PolicyHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const specs = policyFilterChain({ realm: EXAMPLE_REALM }, { only: options.only, debug: options.debug, catalog: options.catalog });
  const chain = await createChain({
    clock,
    workers: options.workers ?? 1,
    logLevel: "debug",
    clusters: options.clusters,
    filters: options.composed
      ? [
          {
            name: "policy",
            rootId: "policy",
            failurePolicy: "FAIL_CLOSED" as const,
            wasm: readFileSync(`${root}build/filters/policy${options.debug ? ".debug" : ""}.wasm`),
            pluginConfig: composedConfig(specs.map((s) => [s.name, options.configOverride?.[s.name] ?? s.pluginConfig])),
          },
        ]
      : specs.map((s) => ({
          name: s.name,
          rootId: s.rootId,
          failurePolicy: s.failurePolicy,
          wasm: readFileSync(s.wasm),
          pluginConfig: options.configOverride?.[s.name] ?? s.pluginConfig,
        })),
  });
  const seen: UpstreamRequest[] = [];
  return {
    chain,
    clock,
    seen,
    nowSeconds: () => Math.floor(clock.now() / 1000),
    send: (method, path, headers = {}, body) =>
      chain.exchange({ method, path, headers, body }, (request) => {
        seen.push(request);
        return { status: 200, headers: [["content-type", "application/json"]], body: '{"ok":true}' };
      }),
  };
}

/** header returns the first value of `name` in a result's or request's header list. */
export function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** registryError parses a registry error body and returns its single error; throws when malformed. */
export function registryError(body: string): { code: string; message: string; detail: unknown } {
  const parsed = JSON.parse(body) as { errors?: { code: string; message: string; detail: unknown }[] };
  if (!Array.isArray(parsed.errors) || parsed.errors.length !== 1) throw new Error(`not a single registry error: ${body}`);
  const error = parsed.errors[0]!;
  if (typeof error.code !== "string" || typeof error.message !== "string" || !("detail" in error)) throw new Error(`malformed registry error: ${body}`);
  return error;
}
