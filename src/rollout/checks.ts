/**
 * From a spec's analysis template to the analysis engine's check definitions: the one mapping the
 * rollout controller and the rollout simulator (bench/rollout) both use, so the benchmark measures
 * what the product runs.
 *
 * - `error-rate` → a rate check (failures per request), lower is better.
 * - `latency-mean-log` → a latency check on the mean of log latency (tolerance 0.1 ≈ 10 % slower).
 * - `latency-p99` → the same latency check with tolerance ln(1 + t) for a relative t (an absolute
 *   t is read as a share too): a p99 has no always-valid test, and when latency shifts by a factor
 *   every quantile, p99 included, shifts by that factor, which the mean of log latency measures.
 * - `prediction-js` → a distribution check (Jensen–Shannon distance of output histograms).
 * - `shadow-disagreement` → a disagreement check (share of mirrored requests whose labels differ).
 * - `feedback:<name>` → rate (kind rate and accuracy) or continuous (kind mean), in the metric's direction.
 *
 * Every check takes the template's α (the engine splits it across checks) and its minimum sample.
 */
import type { CheckDefinition } from './analysis/index.js';
import type { AnalysisCheck, AnalysisTemplate } from './spec/index.js';

/** The engine's definition of one spec check, under a template's α and minimum sample. */
export function engineCheckOf(check: AnalysisCheck, template: Pick<AnalysisTemplate, 'alpha' | 'minimumSamplePerArm'>): CheckDefinition {
  const common = {
    name: check.metric,
    metric: check.metric,
    alpha: template.alpha,
    minimumSample: template.minimumSamplePerArm,
    ...(check.minimumDetectableEffect === undefined ? {} : { minimumDetectableEffect: check.minimumDetectableEffect }),
  };
  switch (check.metric) {
    case 'error-rate':
      return { ...common, kind: 'rate', direction: 'lower-is-better', tolerance: check.tolerance, ...(check.relative ? { relative: true } : {}) };
    case 'latency-mean-log':
      return { ...common, kind: 'latency', tolerance: check.tolerance };
    case 'latency-p99':
      return { ...common, kind: 'latency', tolerance: Math.log1p(check.tolerance) };
    case 'prediction-js':
      return { ...common, kind: 'distribution', tolerance: check.tolerance };
    case 'shadow-disagreement':
      return { ...common, kind: 'disagreement', tolerance: check.tolerance };
    default: {
      const kind = check.feedback?.kind === 'mean' ? 'continuous' : 'rate';
      return { ...common, kind, direction: check.direction, tolerance: check.tolerance, ...(check.relative ? { relative: true } : {}) };
    }
  }
}

/** The engine's definitions of every check of a template. */
export function engineChecksOf(template: AnalysisTemplate): CheckDefinition[] {
  return template.checks.map((c) => engineCheckOf(c, template));
}
