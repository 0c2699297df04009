// A one-off diagnostic of the envoy-cost section (BENCH_COST_ADD_HEADER_SPLIT=1): where add-header's
// cost goes. The same module runs with its example configuration (2 request + 1 response headers, arm
// `add-header`), its request headers only, its first request header only, its response header only,
// and `{}`. Writing a REQUEST
// header may make Envoy clear the route cache, so that the router matches the route a second time;
// two more arms (the floor, and request-only) run behind a route table with ROUTE_PADDING
// non-matching routes ahead of the real one: if the cache is cleared, the request-only arm pays that
// longer match twice, and its cost over its own (padded) floor grows by one match of the padded table.
import type { ArmSpec } from "../lib/cost-arm.ts";
import type { WrkResult } from "../lib/wrk.ts";

/** Non-matching prefix routes ahead of the real route in the padded arms. */
export const ROUTE_PADDING = 1000;

type Header = { name: string; value: string };

/**
 * The diagnostic arms, built from the table's `add-header` arm (same module, root id and client
 * headers; its configuration split in parts) and `floor` arm; [] when either is missing.
 */
export function addHeaderSplitArms(arms: ArmSpec[]): ArmSpec[] {
  const base = arms.find((a) => a.id === "add-header");
  const floor = arms.find((a) => a.id === "floor");
  if (!base?.filters?.length || !floor) return [];
  const first = base.filters[0];
  const example = ("configuration" in first ? first.configuration : {}) as { request?: Header[]; response?: Header[] };
  const request = { request: example.request ?? [] };
  const response = { response: example.response ?? [] };
  const padded = [...Array.from({ length: ROUTE_PADDING }, (_, i) => ({ prefix: `/padding/${i}/`, directResponse: { status: 404 } })), { prefix: "/" }];
  const variant = (id: string, label: string, configuration: unknown, routes?: ArmSpec["routes"]): ArmSpec => ({
    ...base,
    id,
    label,
    diagnostic: true,
    routes,
    filters: (base.filters ?? []).map((f) => ({ ...f, name: id, configuration })),
  });
  const nReq = request.request.length;
  const nResp = response.response.length;
  return [
    variant("add-header-request", `add-header, its ${nReq} request header(s) only`, request),
    variant("add-header-request1", "add-header, its first request header only", { request: request.request.slice(0, 1) }),
    variant("add-header-response", `add-header, its ${nResp} response header(s) only`, response),
    variant("add-header-none", "add-header, {} (adds nothing)", {}),
    { ...floor, id: "floor-padded", label: `floor, ${ROUTE_PADDING} non-matching routes ahead`, diagnostic: true, routes: padded },
    variant("add-header-request-padded", `add-header, its ${nReq} request header(s) only, ${ROUTE_PADDING} non-matching routes ahead`, request, padded),
  ];
}

/**
 * The route-cache probe from the diagnostic's rounds, µs (medians over rounds of per-round figures):
 * what the padded table costs the floor (one match), and how much more the request-only arm pays
 * over its floor behind the padded table than behind the plain one (≈ one more match if the cache is
 * cleared, ≈ 0 if not). Null when the diagnostic's arms were not all measured.
 */
export function routeCacheProbe(rounds: Map<string, WrkResult>[]): { paddedMatch: number; extraWithRequestHeaders: number } | null {
  const ids = ["floor", "floor-padded", "add-header-request", "add-header-request-padded"];
  const full = rounds.filter((r) => ids.every((id) => r.has(id)));
  if (full.length === 0) return null;
  const p = (r: Map<string, WrkResult>, id: string) => r.get(id)!.p50;
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return Math.round((s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) * 10) / 10;
  };
  return {
    paddedMatch: med(full.map((r) => p(r, "floor-padded") - p(r, "floor"))),
    extraWithRequestHeaders: med(full.map((r) => p(r, "add-header-request-padded") - p(r, "floor-padded") - (p(r, "add-header-request") - p(r, "floor")))),
  };
}
