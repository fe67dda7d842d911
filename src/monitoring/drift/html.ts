/**
 * The drift report as one self-contained HTML page: the verdicts on top, a table of every feature,
 * then a chart per feature — the reference against the live window, as shares per histogram bin
 * (numeric, the profile's bins) or per category (the same top categories on both sides). Inline SVG
 * and CSS only: no script, no network, so it can be mailed, archived or opened from disk.
 */
import type { EndpointDriftReport } from './monitor.js';
import type { DriftReport, DriftSummary, FeatureDrift, PerformanceReport } from './types.js';

const REFERENCE_COLOUR = '#7a8ca3';
const LIVE_COLOUR = '#d9534f';
const CHART_WIDTH = 560;
const CHART_HEIGHT = 170;
const MARGIN = { top: 10, right: 10, bottom: 38, left: 44 } as const;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A number for a report: `digits` significant digits, exponent form for the very small and large, `—` for none. */
export const formatReportNumber = (x: number | null | undefined, digits = 3): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
};
const fmt = formatReportNumber;

const time = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));

/** Bars of two distributions: a pair per bin or category, heights as shares of each side's values. */
interface ChartData {
  readonly labels: readonly string[];
  readonly reference: readonly number[];
  readonly live: readonly number[];
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

/** The chart of one feature, or null when a side has nothing to draw. */
export function chartData(reference: DriftSummary, live: DriftSummary): ChartData | null {
  if (reference.kind === 'numeric' && live.kind === 'numeric') {
    const edges = reference.histogram.edges;
    if (edges.length < 2 || reference.histogram.counts.length !== edges.length - 1) return null;
    const labels = reference.histogram.counts.map((_, i) => fmt(edges[i] ?? null, 3));
    return { labels, reference: shares(reference.histogram.counts), live: shares(live.histogram.counts) };
  }
  if (reference.kind === 'categorical' && live.kind === 'categorical') {
    const labels = reference.top.map((c) => c.category);
    const liveShares = new Map(live.top.map((c) => [c.category, c.share]));
    const refPart = reference.top.map((c) => c.share);
    const livePart = labels.map((l) => liveShares.get(l) ?? 0);
    if (reference.rest > 0 || live.rest > 0) {
      labels.push('(rest)');
      refPart.push(reference.count - reference.missing === 0 ? 0 : reference.rest / (reference.count - reference.missing));
      livePart.push(live.count - live.missing === 0 ? 0 : live.rest / (live.count - live.missing));
    }
    return { labels, reference: refPart, live: livePart };
  }
  return null;
}

/** An SVG of paired bars (reference grey, live red) with a share axis. */
export function barChartSvg(data: ChartData, title: string): string {
  const w = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const h = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = Math.max(1e-9, ...data.reference, ...data.live);
  const n = Math.max(1, data.labels.length);
  const slot = w / n;
  const bar = Math.max(1, slot * 0.4);
  const y = (v: number): number => MARGIN.top + h - (v / max) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(title)}">`);
  // axis: 0 and the top share
  parts.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + h}" x2="${MARGIN.left + w}" y2="${MARGIN.top + h}" stroke="#999"/>`);
  parts.push(`<text x="${MARGIN.left - 4}" y="${MARGIN.top + h}" text-anchor="end" font-size="10">0</text>`);
  parts.push(`<text x="${MARGIN.left - 4}" y="${MARGIN.top + 8}" text-anchor="end" font-size="10">${fmt(max * 100, 2)}%</text>`);
  const labelEvery = Math.ceil(n / 12);
  data.labels.forEach((label, i) => {
    const x0 = MARGIN.left + i * slot + slot / 2 - bar;
    const r = data.reference[i] ?? 0;
    const l = data.live[i] ?? 0;
    parts.push(`<rect class="ref" x="${x0.toFixed(1)}" y="${y(r).toFixed(1)}" width="${bar.toFixed(1)}" height="${(MARGIN.top + h - y(r)).toFixed(1)}" fill="${REFERENCE_COLOUR}"><title>reference ${escapeHtml(label)}: ${fmt(r * 100)}%</title></rect>`);
    parts.push(`<rect class="live" x="${(x0 + bar).toFixed(1)}" y="${y(l).toFixed(1)}" width="${bar.toFixed(1)}" height="${(MARGIN.top + h - y(l)).toFixed(1)}" fill="${LIVE_COLOUR}"><title>live ${escapeHtml(label)}: ${fmt(l * 100)}%</title></rect>`);
    if (i % labelEvery === 0) {
      const short = label.length > 10 ? `${label.slice(0, 9)}…` : label;
      parts.push(`<text x="${(MARGIN.left + i * slot + slot / 2).toFixed(1)}" y="${MARGIN.top + h + 14}" text-anchor="middle" font-size="10">${escapeHtml(short)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

function featureRow(f: FeatureDrift): string {
  const verdict = f.status === 'insufficient_data' ? 'too little data' : f.drifted ? 'DRIFT' : 'no drift';
  return `<tr class="${f.drifted ? 'drift' : ''}"><td><a href="#f-${escapeHtml(encodeURIComponent(f.name))}">${escapeHtml(f.name)}</a></td><td>${f.kind}</td><td>${f.method}</td><td>${fmt(f.statistic)}</td><td>${fmt(f.adjustedPValue)}</td><td>${fmt(f.effectSize)}</td><td>${fmt(f.effectThreshold)}</td><td>${f.sizes.reference} / ${f.sizes.live}</td><td>${verdict}</td></tr>`;
}

function summaryText(s: DriftSummary): string {
  if (s.kind === 'numeric') return `n ${s.count}, missing ${s.missing}, mean ${fmt(s.mean)}, std ${fmt(s.std)}, min ${fmt(s.min)}, max ${fmt(s.max)}`;
  return `n ${s.count}, missing ${s.missing}, ${s.categories} categories`;
}

function featureSection(f: FeatureDrift): string {
  const data = chartData(f.reference, f.live);
  const chart = data === null ? '<p>No chart: a side has no values.</p>' : barChartSvg(data, `${f.name}: reference against live`);
  const fresh = f.newCategories.length === 0 ? '' : `<p>New categories: ${f.newCategories.map(escapeHtml).join(', ')}</p>`;
  return `<section id="f-${escapeHtml(encodeURIComponent(f.name))}"><h3>${escapeHtml(f.name)} <small>${f.drifted ? '<span class="bad">drift</span>' : f.status === 'insufficient_data' ? 'too little data' : 'no drift'} · ${f.method} ${fmt(f.statistic)}, effect ${fmt(f.effectSize)} (threshold ${fmt(f.effectThreshold)}), adjusted p ${fmt(f.adjustedPValue)}</small></h3>${chart}<p class="sides">reference: ${summaryText(f.reference)}<br>live: ${summaryText(f.live)}</p>${fresh}</section>`;
}

function performanceSection(p: PerformanceReport | null): string {
  if (p === null) return '';
  const verdict = p.degraded === null ? 'not judged' : p.degraded ? '<span class="bad">degraded</span>' : 'not degraded';
  return `<h2>Performance (labels from feedback)</h2><p>${p.task}, ${p.labels} labels: ${p.metric} ${fmt(p.value)} against the reference's ${fmt(p.reference)}${p.referenceLabels === null ? '' : ` (${p.referenceLabels} reference rows)`}; relative change ${p.relativeChange === null ? '—' : `${fmt(p.relativeChange * 100)}%`}${p.test === null ? '' : `, ${p.test} p ${fmt(p.pValue)}`} — ${verdict}.</p>`;
}

function windowSection(title: string, r: DriftReport): string {
  const w = r.window;
  const d = r.dataset;
  const features = [...r.features].sort((a, b) => Number(b.drifted) - Number(a.drifted) || (b.effectSize ?? -1) - (a.effectSize ?? -1));
  return [
    `<h2>${escapeHtml(title)}: <span class="${r.status === 'drift' ? 'bad' : ''}">${r.status.replace('_', ' ')}</span></h2>`,
    `<p>Window ${w.sequence} (${w.state}${w.closeReason === null ? '' : `, closed by ${w.closeReason}`}), ${w.rows} rows, ${time(w.since)} → ${time(w.until)}.</p>`,
    `<p>Dataset: ${d.driftedFeatures.length} of ${d.evaluated} evaluated features drifted (share ${fmt(d.driftedShare)}, threshold ${fmt(d.threshold)})${d.driftedFeatures.length === 0 ? '' : `: ${d.driftedFeatures.map(escapeHtml).join(', ')}`}. Tests at α ${r.settings.alpha} with ${r.settings.multipleTesting} adjustment; distances need a significant test too: ${r.settings.requireSignificance ? 'yes' : 'no'}.</p>`,
    '<table><thead><tr><th>feature</th><th>kind</th><th>method</th><th>statistic</th><th>p (adj.)</th><th>effect</th><th>threshold</th><th>n ref / live</th><th>verdict</th></tr></thead><tbody>',
    ...features.map(featureRow),
    ...(r.predictions === null ? [] : [featureRow({ ...r.predictions, name: `(predictions) ${r.predictions.name}` })]),
    '</tbody></table>',
    performanceSection(r.performance),
    '<h2>Reference <span style="color:' + REFERENCE_COLOUR + '">■</span> against live <span style="color:' + LIVE_COLOUR + '">■</span>, share of values per bin or category</h2>',
    ...(r.predictions === null ? [] : [featureSection({ ...r.predictions, name: `(predictions) ${r.predictions.name}` })]),
    ...features.map(featureSection),
  ].join('\n');
}

/** The whole page for an endpoint version: the open window, then the last closed one (verdicts only). */
export function renderDriftHtml(report: EndpointDriftReport, generatedAt: number): string {
  const title = `Drift — ${report.endpoint} (${report.model}:${report.version})`;
  const previous = report.previous === null ? '' : `<h2>Last closed window: ${report.previous.status.replace('_', ' ')}</h2><p>Window ${report.previous.window.sequence}, ${report.previous.window.rows} rows, ${time(report.previous.window.since)} → ${time(report.previous.window.until)}; drifted: ${report.previous.dataset.driftedFeatures.map(escapeHtml).join(', ') || 'none'}.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
tr.drift td{background:#fdecea}.bad{color:#c9302c;font-weight:600}small{color:#555;font-weight:normal}
section{margin:1.5em 0}.sides{color:#555;font-size:12px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${time(generatedAt)} by Slipway from the reference profile of ${escapeHtml(report.model)}:${report.version}.</p>
${windowSection('Open window', report.current)}
${previous}
</body></html>
`;
}
