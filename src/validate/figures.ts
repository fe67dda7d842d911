/**
 * The figures of a version's measurements: every number a gate can name, as a flat map of dotted
 * names (`accuracy`, `latency.p99_ms`, `robustness.noise_0.1.accuracy_drop`). docs/validation.md
 * lists them; a figure that was not measured (no data, no probabilities) is absent, and a gate on
 * it fails saying so. Non-finite values are left out: JSON cannot carry them.
 */
import type { VersionMeasurements } from './types.js';

const MB = 1024 * 1024;

export function figuresOf(m: Omit<VersionMeasurements, 'figures'>): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, value: number | null | undefined): void => {
    if (value !== null && value !== undefined && Number.isFinite(value)) out[name] = value;
  };

  const c = m.accuracy?.classification;
  if (c !== undefined) {
    put('accuracy', c.accuracy);
    put('macro.precision', c.macro.precision);
    put('macro.recall', c.macro.recall);
    put('macro.f1', c.macro.f1);
    put('weighted.precision', c.weighted.precision);
    put('weighted.recall', c.weighted.recall);
    put('weighted.f1', c.weighted.f1);
    put('roc_auc', c.rocAuc);
    put('log_loss', c.logLoss);
    put('ece', c.calibration?.ece);
    put('brier', c.brier);
  }
  const r = m.accuracy?.regression;
  if (r !== undefined) {
    put('mae', r.mae);
    put('rmse', r.rmse);
    put('r2', r.r2);
    put('mape', r.mape);
    put('max_error', r.maxError);
  }
  if (m.accuracy !== null) put('rows', m.accuracy.rows);

  const p = m.performance;
  put('size_bytes', p.sizeBytes);
  put('size_mb', p.sizeBytes / MB);
  put('load_ms', p.loadMs);
  put('first_call_ms', p.firstCallMs);
  put('memory.rss_delta_mb', p.memory.rssDeltaBytes / MB);
  put('memory.peak_mb', p.memory.rssPeakBytes / MB);
  const first = p.latency[0];
  if (first !== undefined) {
    // the smallest batch measured (1, or the model's fixed batch) is what `latency.*` means
    put('latency.p50_ms', first.p50Ms);
    put('latency.p95_ms', first.p95Ms);
    put('latency.p99_ms', first.p99Ms);
    put('latency.mean_ms', first.meanMs);
  }
  let best = 0;
  for (const l of p.latency) {
    const at = `latency.batch_${l.batchSize}`;
    put(`${at}.p50_ms`, l.p50Ms);
    put(`${at}.p95_ms`, l.p95Ms);
    put(`${at}.p99_ms`, l.p99Ms);
    put(`${at}.mean_ms`, l.meanMs);
    put(`${at}.rows_per_s`, l.rowsPerSecond);
    best = Math.max(best, l.rowsPerSecond);
  }
  put('throughput.rows_per_s', best);

  const rb = m.robustness;
  if (rb !== null) {
    const drop = rb.metric === 'accuracy' ? 'accuracy_drop' : 'rmse_increase';
    for (const n of rb.noise) {
      put(`robustness.noise_${n.level}.${rb.metric}`, n.value);
      put(`robustness.noise_${n.level}.${drop}`, n.drop);
      put(`robustness.noise_${n.level}.changed_share`, n.changedShare);
    }
    put('robustness.zeroed.worst_drop', rb.zeroed.worst[0]?.drop);
    put('robustness.zeroed.mean_drop', rb.zeroed.meanDrop);
    put('robustness.missing.worst_drop', rb.missing.worst[0]?.drop);
    put('robustness.missing.mean_drop', rb.missing.meanDrop);
    put('robustness.missing.non_finite_share', rb.missing.nonFiniteShare);
    put('robustness.out_of_range.worst_drop', rb.outOfRange.worst[0]?.drop);
    put('robustness.out_of_range.mean_drop', rb.outOfRange.meanDrop);
    put('robustness.out_of_range.non_finite_share', rb.outOfRange.nonFiniteShare);
    put('robustness.out_of_range.changed_share', rb.outOfRange.changedShare);
    put('robustness.worst_case.flip_rate', rb.worstCase.flipRate);
    put('robustness.worst_case.mean_shift', rb.worstCase.meanShift);
  }

  put('stability.repeat_max_abs_diff', m.stability.repeatMaxAbsDiff);
  put('stability.batch_max_abs_diff', m.stability.batchMaxAbsDiff);
  put('stability.identical', m.stability.identicalPredictions ? 1 : 0);
  put('edge_cases.total', m.edgeCases.length);
  put('edge_cases.failed', m.edgeCases.filter((e) => !e.passed).length);
  return out;
}
