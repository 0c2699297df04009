// Hand-written SVG bar charts: a horizontal bar per value is all the results need, and a charting
// library would pull a DOM or canvas dependency into a Node-only benchmark.

/** One bar: its label, its value (null = drawn as `note`, default "not measured") and an optional series. */
export interface Bar {
  label: string;
  value: number | null;
  series?: string;
  note?: string;
}

const COLORS = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2"];

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/**
 * Renders a horizontal bar chart as a standalone SVG document. Bars with a series get a colour per
 * series and a legend. Throws when there is nothing to draw (a caller bug).
 */
export function barChart(opts: { title: string; unit: string; bars: Bar[]; note?: string }): string {
  if (opts.bars.length === 0) throw new Error(`chart "${opts.title}" has no bars`);
  const series = [...new Set(opts.bars.map((b) => b.series ?? ""))];
  const labelWidth = 250;
  const barArea = 440;
  const rowHeight = 26;
  const top = 48;
  const legendHeight = series.length > 1 ? 24 : 0;
  const height = top + opts.bars.length * rowHeight + legendHeight + (opts.note ? 34 : 16);
  const width = labelWidth + barArea + 110;
  const max = Math.max(...opts.bars.map((b) => b.value ?? 0), 0);
  const scale = max > 0 ? barArea / max : 0;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(opts.title)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-family="sans-serif" font-size="15" font-weight="bold" fill="#111827">${escapeXml(opts.title)}</text>`,
    `<text x="12" y="40" font-family="sans-serif" font-size="11" fill="#4b5563">${escapeXml(opts.unit)}</text>`,
  ];
  opts.bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const color = COLORS[series.indexOf(bar.series ?? "") % COLORS.length];
    parts.push(`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end" font-family="sans-serif" font-size="12" fill="#111827">${escapeXml(bar.label)}</text>`);
    if (bar.value === null) {
      parts.push(`<text x="${labelWidth + 4}" y="${y + 16}" font-family="sans-serif" font-size="12" fill="#6b7280">${escapeXml(bar.note ?? "not measured")}</text>`);
      return;
    }
    const w = Math.max(1, bar.value * scale);
    parts.push(`<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${color}"/>`);
    parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 16}" font-family="sans-serif" font-size="12" fill="#111827">${escapeXml(formatValue(bar.value))}</text>`);
  });
  let y = top + opts.bars.length * rowHeight + 6;
  if (series.length > 1) {
    let x = labelWidth;
    series.forEach((s, i) => {
      parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
      parts.push(`<text x="${x + 16}" y="${y + 10}" font-family="sans-serif" font-size="11" fill="#111827">${escapeXml(s)}</text>`);
      x += 24 + s.length * 7;
    });
    y += legendHeight;
  }
  if (opts.note) parts.push(`<text x="12" y="${y + 14}" font-family="sans-serif" font-size="11" fill="#4b5563">${escapeXml(opts.note)}</text>`);
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function formatValue(v: number): string {
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
