/** @jsxRuntime automatic */
// "Speed vs power": what enforcing plans in the sidecar filters costs and saves, from the latest
// benchmark run (bench/results/latest.json, shape in bench/results-types.ts). When no run exists
// yet the page says so instead of showing made-up numbers.
import type { BenchResults, Regime, RunResult, Workload } from "../../../bench-results.ts";
import { BarChart, type Bar } from "../components/BarChart.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { formatDate } from "../format.ts";
import { useSession } from "../session.tsx";
import { useLoad } from "../useLoad.ts";

/**
 * Bars for one workload and regime, one per scenario in the run's order. A scenario without that
 * run becomes a "not measured" bar, and a run without the value (e.g. no 429 at all) a "none" bar,
 * rather than disappearing.
 */
export function scenarioBars(results: BenchResults, workload: Workload, regime: Regime, pick: (r: RunResult) => number | null | undefined): Bar[] {
  return results.scenarios.map((s) => {
    const run = results.runs.find((r) => r.scenario === s.id && r.workload === workload && r.regime === regime);
    const value = run ? pick(run) ?? null : null;
    return run && value === null ? { label: s.title, value, missing: "none in this run" } : { label: s.title, value };
  });
}

/** Accepts only the schema this page was written for; anything else is reported, not half-drawn. */
export function isBenchResults(value: unknown): value is BenchResults {
  const v = value as Partial<BenchResults> | null;
  return !!v && v.schema === "image-hub-bench/1" && Array.isArray(v.scenarios) && Array.isArray(v.runs) && Array.isArray(v.findings);
}

/** The page; loads the results once. */
export function SpeedPage() {
  const { api } = useSession();
  const results = useLoad(() => api.benchResults(), [api]);

  return (
    <section aria-labelledby="speed-title">
      <h1 id="speed-title">Speed vs power</h1>
      <p>
        Image Hub can enforce tokens, plans and pull limits in two places: in Envoy's sidecar, with the proxy-wasm filters, or inside the application with ordinary libraries. The sidecar costs some
        latency on every request; in return it turns away over-limit pulls before they reach the application, which then spends no CPU on them. These charts show what both cost, with plain Envoy and
        Envoy's native filters as anchors, measured side by side in one run on one machine.
      </p>
      {results.error ? <ErrorNotice error={results.error} onRetry={results.reload} /> : null}
      {results.loading && !results.data ? <p aria-live="polite">Loading benchmark results…</p> : null}
      {!results.loading && !results.error && results.data === null ? (
        <p className="notice" role="status">
          <strong>No benchmark results yet.</strong> Run <code>npm run bench</code>; it writes <code>bench/results/latest.json</code>, which this page reads.
        </p>
      ) : null}
      {results.data !== null && results.data !== undefined && !isBenchResults(results.data) ? (
        <p className="notice notice-error" role="alert">
          The benchmark results file is not in the expected format (schema image-hub-bench/1), so it is not drawn.
        </p>
      ) : null}
      {isBenchResults(results.data) ? <ResultsView results={results.data} /> : null}
    </section>
  );
}

function ResultsView({ results }: { results: BenchResults }) {
  const us = "µs";
  return (
    <>
      <p className="muted">
        Run of {formatDate(results.generatedAt)} on {results.machine.cpuModel} ({results.machine.cores} cores), Envoy {results.versions.envoy ?? "not found"}, Node {results.versions.node}.
        {results.quick ? " This was a quick run: the numbers are indicative only." : ""}
      </p>

      <h2>Findings</h2>
      <ul className="findings">
        {results.findings.map((f) => (
          <li key={f.id} className="card">
            <p>
              <strong>{f.question}</strong>
            </p>
            <p>
              {f.value === null ? "Not measured" : `${f.value.toLocaleString("en-US", { maximumFractionDigits: 2 })} ${f.unit}`}
              {/* An informational figure has no target to meet or miss. */}
              {f.target === "informational" ? " · informational" : (
                <>
                  {" "}· target {f.target} ·{" "}
                  <span className={f.met === true ? "met" : f.met === false ? "missed" : "muted"}>{f.met === true ? "met" : f.met === false ? "not met" : "not measured"}</span>
                </>
              )}
            </p>
            {f.detail ? <p className="muted">{f.detail}</p> : null}
          </li>
        ))}
      </ul>

      <h2>Charts</h2>
      <div className="charts">
        <BarChart title="Median latency of rejected (429) pulls" unit={us} note="lower is better" digits={0} bars={scenarioBars(results, "pulls", "over", (r) => r.latencyUs.rejected?.p50)} />
        <BarChart title="Application CPU per 1,000 rejected pulls" unit="ms" note="lower is better" bars={scenarioBars(results, "pulls", "over", (r) => r.appCpuMsPer1kRejected)} />
        <BarChart title="Successful pulls per second, closed loop" unit="req/s" note="higher is better" digits={0} bars={scenarioBars(results, "pulls", "throughput", (r) => r.okRps)} />
        <BarChart title="Median pull latency under capacity" unit={us} note="lower is better" digits={0} bars={scenarioBars(results, "pulls", "under", (r) => r.latencyUs.ok?.p50)} />
        <BarChart title="99th percentile pull latency under capacity" unit={us} note="lower is better" digits={0} bars={scenarioBars(results, "pulls", "under", (r) => r.latencyUs.ok?.p99)} />
        <BarChart title="Median latency of a trivial request" unit={us} note="pure proxy overhead, lower is better" digits={0} bars={scenarioBars(results, "trivial", "under", (r) => r.latencyUs.all?.p50)} />
        {results.filterCosts.length ? (
          <BarChart title="Per-request cost of each filter in the emulator (median)" unit={us} note="lower is better" digits={2} bars={results.filterCosts.map((c) => ({ label: c.filter, value: c.latencyUs.p50 }))} />
        ) : null}
        {results.envoyChain ? (
          <BarChart
            title="Latency the three-filter chain adds in Envoy"
            unit={us}
            note={`measured with ${results.envoyChain.tool}`}
            digits={0}
            bars={[
              { label: "added p50", value: results.envoyChain.addedP50Us },
              { label: "added p99", value: results.envoyChain.addedP99Us },
            ]}
          />
        ) : null}
      </div>

      <h2>Scenarios</h2>
      <dl className="facts facts-wide">
        {results.scenarios.map((s) => (
          <div key={s.id}>
            <dt>{s.title}</dt>
            <dd>{s.description}</dd>
          </div>
        ))}
      </dl>

      {results.notMeasured.length ? (
        <>
          <h2>Not measured in this run</h2>
          <ul>
            {results.notMeasured.map((n) => (
              <li key={`${n.section}/${n.item}`}>
                {n.section} / {n.item}: {n.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
