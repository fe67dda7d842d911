/**
 * One look of a whole analysis: every check, the sample-ratio mismatch test, the α split across
 * checks, and the combined verdict by the written worst-wins order. Pure and deterministic: the
 * same definitions, data and state give the same result.
 */
import { chiSquareGoodnessOfFit } from '../../stats/index.js';
import { compileChecks, isCompiledCheck } from './definitions.js';
import { AnalysisErrors } from './errors.js';
import { evaluateCheck } from './evaluate-check.js';
import {
  ANALYSIS_VERDICT_ORDER,
  type AnalysisInput,
  type AnalysisOptions,
  type AnalysisResult,
  type AnalysisState,
  type AnalysisVerdict,
  type CheckDefinition,
  type CheckResult,
  type CheckState,
  type CompiledCheck,
  type SampleRatioEvidence,
  type TrafficSplit,
} from './types.js';

/** Default p-value below which a sample-ratio mismatch is flagged (GrowthBook, Eppo). */
export const SRM_THRESHOLD = 0.001;

/** An analysis state with no history. */
export const EMPTY_ANALYSIS_STATE: AnalysisState = Object.freeze({ version: 1, checks: Object.freeze({}) });

/**
 * Pearson's chi-square test of the observed split against the configured weights (df = k − 1).
 * Flags at p < threshold; strict because it is re-checked at every look.
 */
export function checkSampleRatio(traffic: TrafficSplit, threshold = SRM_THRESHOLD): SampleRatioEvidence {
  if (!(threshold > 0 && threshold < 1)) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`srmThreshold must be in (0, 1), got ${threshold}`);
  if (traffic.counts.length !== traffic.weights.length || traffic.counts.length < 2) {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`traffic needs one weight per arm and at least two arms, got ${traffic.counts.length} counts and ${traffic.weights.length} weights`);
  }
  if (!traffic.counts.every((c) => Number.isInteger(c) && c >= 0)) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA('traffic counts must be whole numbers ≥ 0');
  if (!traffic.weights.every((w) => Number.isFinite(w) && w >= 0) || !traffic.weights.some((w) => w > 0)) {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA('traffic weights must be finite, ≥ 0 and not all 0');
  }
  const arms = traffic.arms ?? traffic.counts.map((_, i) => `arm ${i}`);
  if (arms.length !== traffic.counts.length) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`traffic has ${traffic.counts.length} counts but ${arms.length} arm names`);
  const gof = chiSquareGoodnessOfFit(traffic.counts, traffic.weights);
  return {
    arms: [...arms],
    observed: [...traffic.counts],
    expected: gof.expected,
    statistic: Number.isFinite(gof.statistic) ? gof.statistic : null,
    degreesOfFreedom: gof.degreesOfFreedom,
    pValue: gof.pValue,
    threshold,
    flagged: gof.pValue < threshold,
  };
}

/** The worst of some verdicts by {@link ANALYSIS_VERDICT_ORDER}; Pass for none. */
export function worstVerdict(verdicts: Iterable<AnalysisVerdict>): AnalysisVerdict {
  let worst = ANALYSIS_VERDICT_ORDER.length - 1;
  for (const v of verdicts) worst = Math.min(worst, ANALYSIS_VERDICT_ORDER.indexOf(v));
  return ANALYSIS_VERDICT_ORDER[worst] as AnalysisVerdict;
}

function names(checks: readonly CheckResult[], verdict: AnalysisVerdict): string {
  return checks
    .filter((c) => c.verdict === verdict)
    .map((c) => c.name)
    .join(', ');
}

function summarise(verdict: AnalysisVerdict, checks: readonly CheckResult[], srm: SampleRatioEvidence | null): string {
  switch (verdict) {
    case 'Fail': {
      const first = checks.find((c) => c.verdict === 'Fail');
      return `failed: ${names(checks, 'Fail')}${first === undefined ? '' : ` — ${first.evidence.reason}`}`;
    }
    case 'SampleRatioMismatch':
      return srm === null
        ? 'sample-ratio mismatch'
        : `sample-ratio mismatch: observed ${srm.observed.join('/')} requests where the weights expect ${srm.expected.map((e) => Math.round(e)).join('/')} (p = ${srm.pValue.toPrecision(3)} < ${srm.threshold}); the comparison is not trustworthy until the routing is fixed.`;
    case 'InsufficientData':
      return `waiting for data: ${checks
        .filter((c) => c.verdict === 'InsufficientData')
        .map((c) => `${c.name} (${c.evidence.reason.replace(/\.$/, '')})`)
        .join('; ')}`;
    case 'Inconclusive':
      return `not yet decided: ${names(checks, 'Inconclusive')} inconclusive${checks.some((c) => c.verdict === 'Pass') ? `; passed: ${names(checks, 'Pass')}` : ''}.`;
    case 'Pass':
      return checks.length === 0 ? 'no checks configured.' : `every check passed: ${names(checks, 'Pass')}.`;
  }
}

/**
 * Runs one look of an analysis. `definitions` are check definitions (or compiled checks), `input`
 * holds cumulative arm summaries per metric and optionally the traffic split, `state` is the
 * previous look's `result.state` (omit on the first look). α is split across the checks by
 * Bonferroni unless `options.multipleTesting` is 'none'.
 */
export function analyse(
  definitions: readonly (CheckDefinition | CompiledCheck)[],
  input: AnalysisInput,
  state: AnalysisState | null = null,
  options: AnalysisOptions = {},
): AnalysisResult {
  const checks: readonly CompiledCheck[] = definitions.every(isCompiledCheck) ? definitions : compileChecks(definitions);
  const uniqueNames = new Set(checks.map((c) => c.name));
  if (uniqueNames.size !== checks.length) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK('analysis check names must be unique');
  if (state !== null && state.version !== 1) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`analysis state version ${String(state.version)} is not supported`);
  const method = options.multipleTesting ?? 'bonferroni';
  if (method !== 'bonferroni' && method !== 'none') throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK(`multipleTesting must be bonferroni or none, got ${String(method)}`);
  const familySize = options.familySize ?? Math.max(1, checks.length);
  if (!Number.isInteger(familySize) || familySize < checks.length || familySize < 1) {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK(`familySize must be a whole number ≥ the number of checks (${checks.length}), got ${familySize}`);
  }
  const split = method === 'bonferroni' ? familySize : 1;

  const results: CheckResult[] = [];
  const nextStates: Record<string, CheckState> = {};
  for (const check of checks) {
    const data = input.metrics[check.metric];
    const evaluation = evaluateCheck(check, data?.baseline, data?.candidate, state?.checks[check.name], { alpha: check.alpha / split });
    const { state: checkState, ...checkResult } = evaluation;
    results.push(checkResult);
    nextStates[check.name] = checkState;
  }
  const sampleRatio = input.traffic === undefined || input.traffic === null ? null : checkSampleRatio(input.traffic, options.srmThreshold ?? SRM_THRESHOLD);
  const verdicts: AnalysisVerdict[] = results.map((r) => r.verdict);
  if (sampleRatio?.flagged === true) verdicts.push('SampleRatioMismatch');
  const verdict = worstVerdict(verdicts);
  return {
    verdict,
    reason: summarise(verdict, results, sampleRatio),
    checks: results,
    sampleRatio,
    multipleTesting: { method, familySize },
    state: { version: 1, checks: nextStates },
  };
}
