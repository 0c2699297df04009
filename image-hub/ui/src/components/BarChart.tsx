/** @jsxRuntime automatic */
// A horizontal bar chart built from plain elements: each row carries its label and value as text,
// and the bar itself is decoration, so screen readers read the numbers and nothing overflows at
// 375 px. Hand-written because the page needs only labelled bars, and a chart library would be the
// largest dependency of the UI for that.
import { useId } from "react";

/** One bar; a null or non-finite value is shown as `missing` (default "not measured"). */
export interface Bar {
  label: string;
  value: number | null;
  missing?: string;
}

/** Props of BarChart: bars are drawn in the given order; `unit` follows every value. */
export interface BarChartProps {
  title: string;
  unit: string;
  bars: Bar[];
  /** Said next to the title, e.g. "lower is better". */
  note?: string;
  digits?: number;
}

const measured = (v: number | null): v is number => v !== null && Number.isFinite(v) && v >= 0;

/** Renders the chart; bars are scaled to the largest measured value. */
export function BarChart({ title, unit, bars, note, digits = 1 }: BarChartProps) {
  const id = useId();
  const max = Math.max(0, ...bars.map((b) => (measured(b.value) ? b.value : 0)));
  return (
    <figure className="chart" aria-labelledby={id}>
      <figcaption id={id}>
        <strong>{title}</strong>
        {note ? <span className="chart-note"> — {note}</span> : null}
      </figcaption>
      <ul className="chart-rows">
        {bars.map((b) => {
          const ok = measured(b.value);
          const pct = ok && max > 0 ? (100 * (b.value as number)) / max : 0;
          return (
            <li key={b.label} className="chart-row">
              <span className="chart-label">{b.label}</span>
              <span className="chart-track" aria-hidden="true">
                <span className="chart-bar" style={{ width: `${Math.max(pct, ok ? 0.5 : 0)}%` }} />
              </span>
              <span className="chart-value">{ok ? `${(b.value as number).toLocaleString("en-US", { maximumFractionDigits: digits })} ${unit}` : (b.missing ?? "not measured")}</span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
