/**
 * The table of held-out figures that `npm run examples` prints and docs/examples.md quotes.
 */
import type { ExampleMetricsFile, ExampleResult } from './artifacts.js';
import type { MetricCheck } from './example.js';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '—' : value.toFixed(digits);
}

const SYMBOL = { '>=': '≥', '<=': '≤' } as const;

function describeCheck(baselineRmse: number | undefined): (c: MetricCheck) => string {
  return (c) =>
    c.metric === 'rmse' && baselineRmse !== undefined
      ? `RMSE ${SYMBOL[c.comparison]} ${c.threshold.toFixed(2)} (${(c.threshold / baselineRmse).toFixed(2)} × baseline)`
      : `${c.metric} ${SYMBOL[c.comparison]} ${c.threshold}`;
}

/**
 * A Markdown table with one row per example, plus one per candidate named `<name> (candidate)`:
 * split sizes, held-out figures, baseline and rule.
 */
export function formatExamplesTable(results: readonly ExampleResult[]): string {
  const lines = [
    '| model | task | train / test rows | held-out result | baseline | rule | passed |',
    '|---|---|---|---|---|---|---|',
  ];
  const entries: { label: string; metrics: ExampleMetricsFile; passed: boolean }[] = results.flatMap((r) => [
    { label: r.name, metrics: r.metrics, passed: r.metrics.passed },
    ...(r.candidate === undefined ? [] : [{ label: `${r.name} (candidate)`, metrics: r.candidate.metrics, passed: r.candidate.passed }]),
  ]);
  for (const r of entries) {
    const m = r.metrics;
    const rows = `${m.split.trainRows} / ${m.split.testRows}`;
    let result: string;
    let baseline: string;
    if (m.task === 'classification') {
      result = `accuracy ${fixed(m.heldOut.accuracy, 4)}, log-loss ${fixed(m.heldOut.logLoss, 4)}`;
      baseline = `majority class: accuracy ${fixed(m.baseline.accuracy, 4)}`;
    } else {
      result = `RMSE ${fixed(m.heldOut.rmse, 2)} (${fixed(m.heldOut.rmseRatio, 3)} × baseline), MAE ${fixed(m.heldOut.mae, 2)}, R² ${fixed(m.heldOut.r2, 3)}`;
      baseline = `training mean ${fixed(m.baseline.trainMean, 2)}: RMSE ${fixed(m.baseline.rmse, 2)}`;
    }
    const rule = m.checks.map(describeCheck(m.baseline.rmse)).join('; ');
    lines.push(`| ${r.label} | ${m.task} | ${rows} | ${result} | ${baseline} | ${rule} | ${r.passed ? 'yes' : 'NO'} |`);
  }
  return lines.join('\n');
}
