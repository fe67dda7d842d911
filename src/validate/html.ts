/**
 * The validation report as one self-contained HTML page: the verdict and the gates on top, then
 * accuracy (with a confusion matrix and a reliability diagram), latency by batch size, robustness
 * under noise, the per-feature checks, stability and edge cases — candidate beside baseline where
 * there is one. Inline SVG and CSS only: no script, no network.
 */
import { escapeHtml, formatReportNumber } from '../monitoring/drift/html.js';
import type { ClassificationMetrics } from './metrics.js';
import type { FeaturePerturbation, ValidationReport, VersionMeasurements } from './types.js';

const CANDIDATE_COLOUR = '#2f6fb0';
const BASELINE_COLOUR = '#9aa7b8';
const W = 560;
const H = 200;
const M = { top: 12, right: 12, bottom: 40, left: 52 } as const;

const fmt = (x: number | null | undefined, digits = 4): string => formatReportNumber(x, digits);

const e = (text: string): string => escapeHtml(text);

interface Series {
  readonly name: string;
  readonly colour: string;
  readonly values: readonly (number | null)[];
}

/** Grouped bars: one group per label, one bar per series. */
function barChart(title: string, labels: readonly string[], series: readonly Series[], unit: string): string {
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1e-12, ...all);
  const slot = w / Math.max(1, labels.length);
  const bar = Math.max(2, (slot * 0.7) / Math.max(1, series.length));
  const y = (v: number): number => M.top + h - (Math.max(0, v) / max) * h;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${e(title)}">`];
  parts.push(`<line x1="${M.left}" y1="${M.top + h}" x2="${M.left + w}" y2="${M.top + h}" stroke="#999"/>`);
  parts.push(`<text x="${M.left - 4}" y="${M.top + h}" text-anchor="end" font-size="10">0</text>`);
  parts.push(`<text x="${M.left - 4}" y="${M.top + 9}" text-anchor="end" font-size="10">${e(fmt(max, 3))}${e(unit)}</text>`);
  labels.forEach((label, i) => {
    const x0 = M.left + i * slot + slot * 0.15;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      parts.push(`<rect x="${(x0 + k * bar).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(M.top + h - y(v)).toFixed(1)}" fill="${s.colour}"><title>${e(`${s.name} ${label}: ${fmt(v)}${unit}`)}</title></rect>`);
    });
    parts.push(`<text x="${(M.left + i * slot + slot / 2).toFixed(1)}" y="${M.top + h + 14}" text-anchor="middle" font-size="10">${e(label)}</text>`);
  });
  parts.push(`<text x="${M.left + w / 2}" y="${H - 4}" text-anchor="middle" font-size="11">${e(title)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** A reliability diagram: mean confidence against accuracy per bin, with the diagonal. */
function reliabilityChart(c: ClassificationMetrics): string {
  const bins = c.calibration?.bins ?? [];
  const size = 220;
  const pad = 30;
  const s = size - 2 * pad;
  const x = (v: number): number => pad + v * s;
  const y = (v: number): number => size - pad - v * s;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" role="img" aria-label="reliability diagram">`];
  parts.push(`<rect x="${pad}" y="${pad}" width="${s}" height="${s}" fill="none" stroke="#999"/>`);
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  for (const b of bins) {
    if (b.count === 0 || b.meanConfidence === null || b.accuracy === null) continue;
    const r = Math.min(9, 2 + Math.sqrt(b.count));
    parts.push(`<circle cx="${x(b.meanConfidence).toFixed(1)}" cy="${y(b.accuracy).toFixed(1)}" r="${r.toFixed(1)}" fill="${CANDIDATE_COLOUR}" fill-opacity="0.7"><title>${e(`(${fmt(b.lower, 2)}, ${fmt(b.upper, 2)}]: ${b.count} rows, confidence ${fmt(b.meanConfidence)}, accuracy ${fmt(b.accuracy)}`)}</title></circle>`);
  }
  parts.push(`<text x="${size / 2}" y="${size - 6}" text-anchor="middle" font-size="10">confidence</text>`);
  parts.push(`<text x="10" y="${size / 2}" font-size="10" transform="rotate(-90 10 ${size / 2})" text-anchor="middle">accuracy</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function confusionTable(c: ClassificationMetrics): string {
  const classes = c.classes.slice(0, 30);
  const max = Math.max(1, ...c.confusionMatrix.flat());
  const head = `<tr><th>true \\ predicted</th>${classes.map((k) => `<th>${e(k)}</th>`).join('')}</tr>`;
  const rows = classes.map((k, i) => {
    const cells = classes.map((_, j) => {
      const n = c.confusionMatrix[i]?.[j] ?? 0;
      const shade = Math.round(255 - (n / max) * 160);
      const colour = i === j ? `rgb(${shade},${Math.min(255, shade + 40)},${shade})` : `rgb(255,${shade},${shade})`;
      return `<td style="background:${n === 0 ? '#fff' : colour}">${n}</td>`;
    });
    return `<tr><th>${e(k)}</th>${cells.join('')}</tr>`;
  });
  return `<table class="matrix">${head}${rows.join('')}</table>${c.classes.length > classes.length ? `<p>First ${classes.length} of ${c.classes.length} classes.</p>` : ''}`;
}

/** Numbers (and the no-value dash) are right-aligned; text reads from the left. */
const NUMERIC_CELL = /^(?:[-+]?[\d.,]+(?:e[-+]?\d+)?|—)$/i;

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (c: string): string => `<td${NUMERIC_CELL.test(c) ? ' class="n"' : ''}>${e(c)}</td>`;
  return `<table><tr>${headers.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</table>`;
}

function worstTable(title: string, worst: readonly FeaturePerturbation[], metric: string): string {
  if (worst.length === 0) return '';
  return `<h3>${e(title)}</h3>${table(['feature', metric, 'drop', 'changed', 'non-finite'], worst.map((w) => [w.feature, fmt(w.value), fmt(w.drop), fmt(w.changedShare, 3), fmt(w.nonFiniteShare, 3)]))}`;
}

function accuracySection(c: VersionMeasurements, b: VersionMeasurements | null): string {
  const a = c.accuracy;
  if (a === null) return '<h2>Accuracy</h2><p>Not measured: no labelled data was given (--data and --target).</p>';
  const parts = [`<h2>Accuracy (${e(a.task)}, ${a.rows} rows${a.skippedRows > 0 ? `, ${a.skippedRows} skipped` : ''})</h2>`];
  const names = a.task === 'classification' ? ['accuracy', 'macro.precision', 'macro.recall', 'macro.f1', 'weighted.f1', 'roc_auc', 'log_loss', 'ece', 'brier'] : ['mae', 'rmse', 'r2', 'mape', 'max_error'];
  parts.push(table(['figure', `candidate ${c.model}:${c.version}`, ...(b === null ? [] : [`baseline ${b.model}:${b.version}`])], names.map((n) => [n, fmt(c.figures[n]), ...(b === null ? [] : [fmt(b.figures[n])])])));
  const cls = a.classification;
  if (cls !== undefined) {
    parts.push('<div class="row">');
    parts.push(`<div><h3>Confusion matrix</h3>${confusionTable(cls)}</div>`);
    if (cls.calibration !== undefined) parts.push(`<div><h3>Reliability (ECE ${e(fmt(cls.calibration.ece))})</h3>${reliabilityChart(cls)}</div>`);
    parts.push('</div>');
    parts.push(`<h3>Per class</h3>${table(['class', 'precision', 'recall', 'F1', 'support'], cls.classes.map((k) => {
      const m = cls.perClass[k];
      return [k, fmt(m?.precision), fmt(m?.recall), fmt(m?.f1), String(m?.support ?? 0)];
    }))}`);
  }
  if (a.slices !== undefined) {
    const headline = a.task === 'classification' ? 'accuracy' : 'rmse';
    parts.push(`<h3>By ${e(a.slices.column)}</h3>`);
    parts.push(table(['slice', 'rows', headline], a.slices.slices.map((s) => [s.name, String(s.count), fmt(s.metrics.task === 'classification' ? s.metrics.accuracy : s.metrics.rmse)])));
  }
  return parts.join('');
}

function performanceSection(c: VersionMeasurements, b: VersionMeasurements | null): string {
  const labels = c.performance.latency.map((l) => `batch ${l.batchSize}`);
  const at = (m: VersionMeasurements | null, key: 'p50Ms' | 'p99Ms'): (number | null)[] => c.performance.latency.map((l) => m?.performance.latency.find((x) => x.batchSize === l.batchSize)?.[key] ?? null);
  const series: Series[] = [{ name: 'candidate p99', colour: CANDIDATE_COLOUR, values: at(c, 'p99Ms') }];
  if (b !== null) series.push({ name: 'baseline p99', colour: BASELINE_COLOUR, values: at(b, 'p99Ms') });
  const rows = (m: VersionMeasurements): string[][] => m.performance.latency.map((l) => [`${m.model}:${m.version}`, String(l.batchSize), String(l.runs), fmt(l.p50Ms), fmt(l.p95Ms), fmt(l.p99Ms), fmt(l.rowsPerSecond, 5)]);
  const facts = (m: VersionMeasurements): string[] => [
    `${m.model}:${m.version}`,
    fmt(m.performance.sizeBytes / 1024, 5),
    fmt(m.performance.loadMs),
    fmt(m.performance.firstCallMs),
    fmt(m.performance.memory.rssDeltaBytes / (1024 * 1024)),
  ];
  return [
    '<h2>Performance</h2>',
    table(['version', 'size KiB', 'load ms', 'first call ms', 'memory added MiB'], [facts(c), ...(b === null ? [] : [facts(b)])]),
    barChart('p99 latency by batch size (ms)', labels, series, ' ms'),
    table(['version', 'batch', 'runs', 'p50 ms', 'p95 ms', 'p99 ms', 'rows/s'], [...rows(c), ...(b === null ? [] : rows(b))]),
  ].join('');
}

function robustnessSection(c: VersionMeasurements, b: VersionMeasurements | null): string {
  const r = c.robustness;
  if (r === null) return '';
  const metric = r.metric;
  const labels = r.noise.map((n) => `σ×${n.level}`);
  const series: Series[] = [{ name: 'candidate', colour: CANDIDATE_COLOUR, values: r.noise.map((n) => n.value) }];
  if (b?.robustness !== null && b?.robustness !== undefined) {
    const br = b.robustness;
    series.push({ name: 'baseline', colour: BASELINE_COLOUR, values: r.noise.map((n) => br.noise.find((x) => x.level === n.level)?.value ?? null) });
  }
  const wc = r.worstCase;
  return [
    `<h2>Robustness (${r.rows} rows; clean ${e(metric)} ${e(fmt(r.clean))})</h2>`,
    barChart(`${metric} under Gaussian noise (per-feature σ)`, labels, series, ''),
    table(['noise', metric, metric === 'accuracy' ? 'drop' : 'relative increase', 'changed', 'non-finite'], r.noise.map((n) => [`σ×${n.level}`, fmt(n.value), fmt(n.drop), fmt(n.changedShare, 3), fmt(n.nonFiniteShare, 3)])),
    worstTable(`Zeroed features (mean drop ${fmt(r.zeroed.meanDrop)} over ${r.zeroed.features})`, r.zeroed.worst, metric),
    worstTable(`Missing features (NaN; non-finite outputs ${fmt(r.missing.nonFiniteShare, 3)})`, r.missing.worst, metric),
    worstTable(`Out-of-range features (one range beyond the data; changed ${fmt(r.outOfRange.changedShare, 3)})`, r.outOfRange.worst, metric),
    `<h3>Worst-case search</h3><p>ε = ${e(fmt(wc.epsilon))}·σ (L∞), ${wc.rows} rows, a finite-difference gradient-sign step and ${wc.trials} random corners each: ${
      wc.flipRate !== null ? `${e(fmt(wc.flipRate * 100, 3))}% of correctly classified rows flipped` : `mean largest shift ${e(fmt(wc.meanShift))} target σ`
    }.</p>`,
  ].join('');
}

function edgeSection(c: VersionMeasurements): string {
  const s = c.stability;
  return [
    '<h2>Stability</h2>',
    `<p>Same batch twice: max |Δ| ${e(fmt(s.repeatMaxAbsDiff))}. Batch against one by one: max |Δ| ${e(fmt(s.batchMaxAbsDiff))}. Predictions ${s.identicalPredictions ? 'identical' : '<strong>differ</strong>'}.</p>`,
    '<h2>Edge cases</h2>',
    table(['case', 'expected', 'outcome', 'code', 'passed'], c.edgeCases.map((x) => [`${x.name}: ${x.description}`, x.expect, x.outcome, x.code ?? (x.finiteOutputs === false ? 'non-finite outputs' : ''), x.passed ? 'yes' : 'NO'])),
  ].join('');
}

export function renderValidationHtml(r: ValidationReport): string {
  const c = r.candidate;
  const b = r.baseline;
  const verdict = r.passed ? '<span class="pass">PASSED</span>' : '<span class="fail">FAILED</span>';
  const gates =
    r.gates === null
      ? '<p>No gates were given.</p>'
      : table(['gate', 'check', 'actual', 'threshold', 'passed', 'reason'], r.gates.results.map((g) => [g.name, g.check, fmt(g.actual), fmt(g.threshold), g.passed ? 'yes' : 'NO', g.reason]));
  const data = r.data === null ? 'no data (performance, stability and edge cases only)' : `${r.data.name} (${r.data.rows} rows, ${r.data.features} features, target ${r.data.target ?? '—'})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation of ${e(r.model)}:${r.version}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}td.n{text-align:right}
th{background:#f4f6f8}.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}.row{display:flex;gap:32px;flex-wrap:wrap}
table.matrix td{min-width:28px;text-align:center}
</style></head><body>
<h1>Validation of ${e(r.model)}:${r.version} — ${verdict}</h1>
<p>Report ${e(r.id)}, ${e(r.createdAt)} by ${e(r.createdBy)}, ${e(fmt(r.durationMs / 1000, 3))} s. Data: ${e(data)}.${b === null ? '' : ` Baseline: ${e(b.model)}:${b.version}.`}${
    r.comparison?.agreement !== null && r.comparison?.agreement !== undefined ? ` Agreement with the baseline: ${e(fmt(r.comparison.agreement * 100, 4))}%.` : ''
  }</p>
<h2>Gates</h2>${gates}
${accuracySection(c, b)}
${performanceSection(c, b)}
${robustnessSection(c, b)}
${edgeSection(c)}
</body></html>
`;
}
