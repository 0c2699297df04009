// Counting wasm boundary crossings in the emulator: every hostcall (guest → host, by import name)
// and every call into the guest (callbacks and the host's malloc re-entries, by export name). The
// emulator instantiates modules with `new WebAssembly.Instance` (filters/host/vm.ts), so wrapping that
// constructor sees every instance it creates; nothing in the emulator changes.
import { createChain, type ChainFilter } from "proxy-wasm-host-emulator";

/** Crossings per request by name ("→ host proxy_…" or "→ guest proxy_…"), highest first. */
export interface CrossingProfile {
  rows: (readonly [string, number])[];
  hostcalls: number;
  guestCalls: number;
}

const counts = new Map<string, number>();
const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
let installed = false;

/** Makes every later `new WebAssembly.Instance` count its crossings; call once, before creating chains. */
export function installCrossingCounter(): void {
  if (installed) return;
  installed = true;
  const Original = WebAssembly.Instance;
  function Counting(this: unknown, module: WebAssembly.Module, imports: WebAssembly.Imports = {}) {
    const wrapped: WebAssembly.Imports = {};
    for (const [ns, entries] of Object.entries(imports)) {
      wrapped[ns] = {};
      for (const [name, value] of Object.entries(entries)) {
        wrapped[ns]![name] = typeof value === "function" ? (...a: unknown[]) => (bump(`→ host ${name}`), (value as (...x: unknown[]) => unknown)(...a)) : value;
      }
    }
    const instance = new Original(module, wrapped);
    const exports: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(instance.exports)) {
      exports[name] = typeof value === "function" ? (...a: unknown[]) => (bump(`→ guest ${name}`), (value as (...x: unknown[]) => unknown)(...a)) : value;
    }
    return { exports } as WebAssembly.Instance;
  }
  (WebAssembly as { Instance: unknown }).Instance = Counting;
}

/**
 * Sends `requests` allowed registry pulls (one of `tokens` each, rotating) through `filters` after 50
 * warm-up pulls, and returns the crossings per pull. Rejects when the counter is not installed or a
 * pull is not answered 200 (the profile would not be an allowed pull's).
 */
export async function crossingsPerPull(filters: ChainFilter[], tokens: string[], repository: string, requests: number): Promise<CrossingProfile> {
  if (!installed) throw new Error("installCrossingCounter() must run before the chain is created");
  const chain = await createChain({ filters });
  const send = (i: number) =>
    chain.exchange({ method: "GET", path: `/v2/${repository}/manifests/v${i % 5}`, headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } }, () => ({ status: 200, body: "{}" }));
  // Warm-up: first-use work (metric definitions, caches) is not per-request cost.
  for (let i = 0; i < 50; i++) await send(i);
  counts.clear();
  for (let i = 0; i < requests; i++) {
    const r = await send(i);
    if (r.status !== 200) throw new Error(`request ${i} answered ${r.status}: ${r.body}`);
  }
  const rows = [...counts].map(([name, n]) => [name, n / requests] as const).sort((a, b) => b[1] - a[1]);
  const total = (prefix: string) => rows.filter(([n]) => n.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  return { rows, hostcalls: total("→ host"), guestCalls: total("→ guest") };
}
