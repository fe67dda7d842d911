/**
 * Evaluates one check at one look: candidate against baseline, with always-valid statistics, into a
 * verdict with its evidence and the state to carry to the next look. Pure and deterministic.
 *
 * Semantics (docs/analysis.md has the why):
 * - InsufficientData while either arm is below `minimumSample` (no data is never a failure).
 * - Fail when the always-valid interval shows the candidate worse than baseline by more than
 *   `tolerance` — a regression is established.
 * - Pass when the interval excludes a regression of `nonInferiorityMargin` or more — non-inferiority
 *   is established.
 * - Inconclusive otherwise: keep looking; the interval narrows as data arrives.
 */
import {
  asymptoticCsHalfWidth,
  asymptoticCsLogEValue,
  betaBinomialConfidenceSequence,
  betaBinomialLogMixture,
  chiSquareHomogeneity,
  jensenShannonDistance,
  msprtHalfWidth,
  msprtLogLambda,
  normalCdf,
  normalIsf,
  pValueFromLogEvidence,
  adjustedProportionVariance,
  sketchQuantile,
  studentTQuantile,
  studentTTwoSidedPValue,
  normalTwoSidedPValue,
} from '../../stats/index.js';
import { armSize, checkArm } from './arms.js';
import { compileCheck, isCompiledCheck } from './definitions.js';
import { AnalysisErrors } from './errors.js';
import type {
  ArmSummary,
  CheckDefinition,
  CheckEvaluation,
  CheckEvidence,
  CheckState,
  CompiledCheck,
  EvidenceInterval,
  FixedHorizonEvidence,
  HistogramArm,
  LatencyArm,
  RateArm,
  Verdict,
} from './types.js';

/** Options of one evaluation. */
export interface EvaluateCheckOptions {
  /** The α to use at this look instead of the check's own (the analysis passes its Bonferroni share). */
  readonly alpha?: number;
}

/** A finite number, or null (JSON has no Infinity or NaN). */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function interval(lower: number, upper: number): EvidenceInterval {
  return { lower: finite(lower), upper: finite(upper) };
}

/** Four significant digits, for reasons a person reads. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

function stateKey(check: CompiledCheck, alpha: number): string {
  switch (check.method) {
    case 'msprt':
      return `msprt;${check.scale};tau=${check.tau}`;
    case 'confidence-sequence':
      // ρ depends on α, so the e-values are only comparable at one α.
      return `cs;${check.scale};tuning=${check.sequentialTuning};alpha=${alpha}`;
    case 'beta-binomial':
      return `beta-binomial;tolerance=${check.tolerance}`;
    case 'distance':
      return 'distance';
  }
}

interface Carried {
  readonly state: CheckState;
  readonly note: string;
}

/** The state to build on: the previous one if it was made under the same parameters and the data only grew. */
function carry(check: CompiledCheck, alpha: number, previous: CheckState | undefined, nBaseline: number, nCandidate: number): Carried {
  const key = stateKey(check, alpha);
  const fresh: CheckState = { key, looks: 0, maxLogEvidence: null, nBaseline: 0, nCandidate: 0 };
  if (previous === undefined || previous.looks === 0) return { state: fresh, note: '' };
  if (previous.key !== key) return { state: fresh, note: ' Earlier evidence was discarded because the check’s parameters changed.' };
  if (nBaseline < previous.nBaseline || nCandidate < previous.nCandidate) {
    return { state: fresh, note: ' Earlier evidence was discarded because the arms hold fewer observations than at the last look.' };
  }
  return { state: previous, note: '' };
}

function emptyEvidence(check: CompiledCheck, alpha: number, nBaseline: number, nCandidate: number, looks: number, reason: string): CheckEvidence {
  return {
    nBaseline,
    nCandidate,
    minimumSample: check.minimumSample,
    scale: check.scale,
    estimates: { baseline: null, candidate: null },
    difference: null,
    interval: null,
    statistic: null,
    statisticName: null,
    pValue: null,
    pValueNullHypothesis: null,
    threshold: check.tolerance,
    passMargin: check.kind === 'distribution' ? null : check.nonInferiorityMargin,
    alpha,
    method: check.method,
    looks,
    reason,
    fixedHorizon: null,
    lift: null,
    chanceToWin: null,
    quantiles: null,
  };
}

function result(check: CompiledCheck, verdict: Verdict, evidence: CheckEvidence, state: CheckState): CheckEvaluation {
  return { name: check.name, metric: check.metric, kind: check.kind, verdict, evidence, state };
}

/** Per-arm mean and per-observation variance on the analysis scale, plus what to show a person. */
interface ArmEstimate {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
  readonly display: number;
}

function estimateArm(arm: ArmSummary): ArmEstimate {
  switch (arm.kind) {
    case 'rate': {
      const rate = arm.n === 0 ? NaN : arm.successes / arm.n;
      // Agresti–Caffo: an arm with no events yet must not claim zero variance.
      return { n: arm.n, mean: rate, variance: adjustedProportionVariance(arm), display: rate };
    }
    case 'continuous':
      return { n: arm.n, mean: arm.mean, variance: arm.n < 2 ? NaN : Math.max(0, arm.m2) / (arm.n - 1), display: arm.mean };
    case 'latency':
      return { n: arm.n, mean: arm.logMean, variance: arm.n < 2 ? NaN : Math.max(0, arm.logM2) / (arm.n - 1), display: Math.exp(arm.logMean) };
    case 'histogram':
      throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA('a histogram arm has no mean');
  }
}

function expectedArmKind(check: CompiledCheck): ArmSummary['kind'] {
  switch (check.kind) {
    case 'rate':
    case 'disagreement':
      return 'rate';
    case 'continuous':
      return 'continuous';
    case 'latency':
      return 'latency';
    case 'distribution':
      return 'histogram';
  }
}

/** Converts a tolerance or margin written in the check's units to the analysis scale. */
function toAnalysisScale(check: CompiledCheck, x: number): number {
  return check.scale === 'ratio' ? Math.log1p(x) : x;
}

/** Converts a difference on the analysis scale to the check's units. */
function toDisplay(check: CompiledCheck, x: number): number {
  return check.scale === 'ratio' ? Math.expm1(x) : x;
}

function latencyQuantiles(arm: LatencyArm): { p50: number | null; p99: number | null } {
  if (arm.sketch === undefined || arm.sketch === null || arm.sketch.count === 0) return { p50: null, p99: null };
  return { p50: finite(sketchQuantile(arm.sketch, 0.5)), p99: finite(sketchQuantile(arm.sketch, 0.99)) };
}

/** Delta-method variance of Δ/μ_B (GrowthBook, Eppo): σ²_B μ²_C/(μ⁴_B n_B) + σ²_C/(μ²_B n_C). */
function relativeVariance(meanB: number, varB: number, nB: number, meanC: number, varC: number, nC: number): number {
  return (varB * meanC * meanC) / (meanB ** 4 * nB) + varC / (meanB * meanB * nC);
}

/**
 * The variance of a rate difference evaluated at the boundary θ being tested (score-type, as in
 * Farrington–Manning tests of non-inferiority for proportions): the rates are re-estimated from
 * both arms under "candidate = baseline + θ" (or "× (1 + θ)" on the relative scale), with one
 * success and one failure added so that no events yet does not mean no variance. Unlike the plug-in
 * variance it does not shrink when an arm happens to have seen few events, which is what keeps the
 * always-valid bounds calibrated when errors are rare.
 */
function restrictedRateVariance(baseline: RateArm, candidate: RateArm, theta: number, relative: boolean): number {
  const x = baseline.successes + candidate.successes + 1;
  const shift = relative ? candidate.n * (1 + theta) : candidate.n;
  let pB = relative ? x / (baseline.n + shift + 2) : (x - candidate.n * theta) / (baseline.n + candidate.n + 2);
  const eps = 1 / (baseline.n + candidate.n + 2);
  const maxB = relative ? (1 - eps) / (1 + Math.max(0, theta)) : 1 - eps - Math.max(0, theta);
  const minB = relative ? eps : eps + Math.max(0, -theta);
  pB = Math.min(maxB, Math.max(minB, pB));
  const pC = Math.min(1 - eps, Math.max(eps, relative ? pB * (1 + theta) : pB + theta));
  const varB = pB * (1 - pB);
  const varC = pC * (1 - pC);
  return relative ? relativeVariance(pB, varB, baseline.n, pC, varC, candidate.n) : varB / baseline.n + varC / candidate.n;
}

function evaluateComparison(check: CompiledCheck, alpha: number, baseline: ArmSummary, candidate: ArmSummary, previous: CheckState | undefined): CheckEvaluation {
  const b = estimateArm(baseline);
  const c = estimateArm(candidate);
  const { state: prior, note } = carry(check, alpha, previous, b.n, c.n);
  const base = emptyEvidence(check, alpha, b.n, c.n, prior.looks, '');
  const estimates = { baseline: b.n > 0 ? finite(b.display) : null, candidate: c.n > 0 ? finite(c.display) : null };
  const quantiles = baseline.kind === 'latency' && candidate.kind === 'latency' ? { baseline: latencyQuantiles(baseline), candidate: latencyQuantiles(candidate) } : null;
  const waiting = { ...prior, nBaseline: b.n, nCandidate: c.n };

  if (b.n < check.minimumSample || c.n < check.minimumSample) {
    const missing = [b.n < check.minimumSample ? `baseline has ${b.n}` : null, c.n < check.minimumSample ? `candidate has ${c.n}` : null].filter((s) => s !== null);
    const reason = `${missing.join(' and ')} of the ${check.minimumSample} observations per arm needed before ${check.name} is judged.${note}`;
    return result(check, 'InsufficientData', { ...base, estimates, quantiles, reason }, waiting);
  }

  // The difference and its plug-in variance on the analysis scale.
  let difference = c.mean - b.mean;
  let variance = b.variance / b.n + c.variance / c.n;
  if (check.scale === 'relative') {
    if (!(b.mean > 0)) {
      const reason = `the baseline mean is ${fmt(b.mean)}, not positive, so a relative difference is undefined; use an absolute check for ${check.metric}.${note}`;
      return result(check, 'Inconclusive', { ...base, estimates, quantiles, reason }, waiting);
    }
    variance = relativeVariance(b.mean, b.variance, b.n, c.mean, c.variance, c.n);
    difference = difference / b.mean;
  }
  if (!(variance > 0) || !Number.isFinite(variance) || !Number.isFinite(difference)) {
    const reason = `both arms have zero variance, so no interval can be formed for ${check.metric}.${note}`;
    return result(check, 'Inconclusive', { ...base, estimates, quantiles, reason }, waiting);
  }
  // The variance each decision is tested with: for rates, the variance the arms would have at the
  // boundary being tested (score-type); otherwise the plug-in variance.
  const varianceAt = (theta: number): number =>
    baseline.kind === 'rate' && candidate.kind === 'rate' ? restrictedRateVariance(baseline, candidate, theta, check.scale === 'relative') : variance;

  const total = b.n + c.n;
  const halfWidth = (v: number): number =>
    check.method === 'msprt' ? msprtHalfWidth(v, check.tau as number, alpha) : asymptoticCsHalfWidth(v, total, alpha, check.sequentialTuning);
  // Always-valid evidence against "no difference", and its running maximum.
  const nullVariance = varianceAt(0);
  const logEvidence =
    check.method === 'msprt'
      ? msprtLogLambda(difference, nullVariance, check.tau as number)
      : asymptoticCsLogEValue(difference, nullVariance, total, alpha, check.sequentialTuning);
  const statisticName = check.method === 'msprt' ? 'mSPRT ln Λ' : 'confidence sequence ln e';
  const maxLogEvidence = prior.maxLogEvidence === null ? logEvidence : Math.max(prior.maxLogEvidence, logEvidence);
  const next: CheckState = { key: prior.key, looks: prior.looks + 1, maxLogEvidence, nBaseline: b.n, nCandidate: c.n };

  // Orient as "regression": positive means the candidate is worse. Each bound is tested at its own
  // boundary: the worse-side bound against the tolerance, the better-side bound against the margin.
  const sign = check.direction === 'lower-is-better' ? 1 : -1;
  const failAbove = toAnalysisScale(check, check.tolerance);
  const passBelow = toAnalysisScale(check, check.nonInferiorityMargin);
  const regressionLower = sign * difference - halfWidth(varianceAt(sign * failAbove));
  const regressionUpper = sign * difference + halfWidth(varianceAt(sign * passBelow));
  const lower = sign === 1 ? regressionLower : -regressionUpper;
  const upper = sign === 1 ? regressionUpper : -regressionLower;
  const shown = `[${fmt(toDisplay(check, lower))}, ${fmt(toDisplay(check, upper))}]`;
  const unit = check.scale === 'relative' ? ' (relative)' : check.scale === 'ratio' ? ' (ratio − 1 of geometric means)' : '';
  let verdict: Verdict;
  let reason: string;
  if (regressionLower > failAbove) {
    verdict = 'Fail';
    reason = `regression established: the always-valid interval for candidate − baseline${unit} is ${shown}, worse than baseline by more than the tolerance ${fmt(check.tolerance)}.`;
  } else if (regressionUpper < passBelow) {
    verdict = 'Pass';
    reason = `non-inferiority established: the always-valid interval${unit} ${shown} excludes a regression of ${fmt(check.nonInferiorityMargin)} or more.`;
  } else {
    verdict = 'Inconclusive';
    reason = `the always-valid interval${unit} ${shown} neither shows a regression beyond ${fmt(check.tolerance)} nor excludes one of ${fmt(check.nonInferiorityMargin)}; more data will narrow it.`;
  }

  // Reporting only: fixed-horizon test, delta-method lift, chance to win.
  const zCrit = normalIsf(alpha / 2);
  let fixedHorizon: FixedHorizonEvidence;
  if (check.kind === 'rate' || check.scale === 'relative') {
    // The two-proportion z test uses the pooled variance under "no difference".
    const z = difference / Math.sqrt(nullVariance);
    const h = zCrit * Math.sqrt(variance);
    fixedHorizon = { test: 'z', statistic: finite(z), degreesOfFreedom: null, pValue: finite(normalTwoSidedPValue(z)), interval: interval(toDisplay(check, difference - h), toDisplay(check, difference + h)) };
  } else {
    const vb = b.variance / b.n;
    const vc = c.variance / c.n;
    const df = (variance * variance) / ((vb * vb) / (b.n - 1) + (vc * vc) / (c.n - 1));
    const t = difference / Math.sqrt(variance);
    const h = studentTQuantile(1 - alpha / 2, df) * Math.sqrt(variance);
    fixedHorizon = {
      test: 'welch-t',
      statistic: finite(t),
      degreesOfFreedom: finite(df),
      pValue: finite(studentTTwoSidedPValue(t, df)),
      interval: interval(toDisplay(check, difference - h), toDisplay(check, difference + h)),
    };
  }
  let lift: CheckEvidence['lift'] = null;
  if (check.scale === 'ratio') {
    const se = Math.exp(difference) * Math.sqrt(variance);
    lift = { estimate: Math.expm1(difference), standardError: se, interval: interval(Math.expm1(difference - zCrit * Math.sqrt(variance)), Math.expm1(difference + zCrit * Math.sqrt(variance))) };
  } else if (b.mean !== 0) {
    const rel = (c.mean - b.mean) / b.mean;
    const relVar = check.scale === 'relative' ? variance : relativeVariance(b.mean, b.variance, b.n, c.mean, c.variance, c.n);
    const se = Math.sqrt(relVar);
    lift = { estimate: rel, standardError: se, interval: interval(rel - zCrit * se, rel + zCrit * se) };
  }
  let postMean = difference;
  let postVar = variance;
  if (check.prior !== null) {
    const p = 1 / (check.prior.stddev * check.prior.stddev);
    postVar = 1 / (p + 1 / variance);
    postMean = (check.prior.mean * p + difference / variance) * postVar;
  }
  // "Win" is a move in the better direction: P(sign · δ < 0) under the posterior.
  const chanceToWin = normalCdf((-sign * postMean) / Math.sqrt(postVar));

  const evidence: CheckEvidence = {
    ...base,
    looks: next.looks,
    estimates,
    difference: finite(toDisplay(check, difference)),
    interval: interval(toDisplay(check, lower), toDisplay(check, upper)),
    statistic: finite(logEvidence),
    statisticName,
    pValue: finite(pValueFromLogEvidence(maxLogEvidence)),
    pValueNullHypothesis: 'candidate and baseline do not differ',
    reason: reason + note,
    fixedHorizon,
    lift,
    chanceToWin: finite(chanceToWin),
    quantiles,
  };
  return result(check, verdict, evidence, next);
}

function evaluateDisagreement(check: CompiledCheck, alpha: number, compared: RateArm | null, previous: CheckState | undefined): CheckEvaluation {
  const n = compared?.n ?? 0;
  const x = compared?.successes ?? 0;
  const { state: prior, note } = carry(check, alpha, previous, 0, n);
  const base = emptyEvidence(check, alpha, 0, n, prior.looks, '');
  const estimates = { baseline: null, candidate: n > 0 ? x / n : null };
  if (n < check.minimumSample) {
    const reason = `${n} of the ${check.minimumSample} mirrored requests needed before ${check.name} is judged have been compared.${note}`;
    return result(check, 'InsufficientData', { ...base, estimates, reason }, { ...prior, nCandidate: n });
  }
  const { lower, upper } = betaBinomialConfidenceSequence(x, n, alpha);
  const logEvidence = betaBinomialLogMixture(x, n, check.tolerance);
  const maxLogEvidence = prior.maxLogEvidence === null ? logEvidence : Math.max(prior.maxLogEvidence, logEvidence);
  const next: CheckState = { key: prior.key, looks: prior.looks + 1, maxLogEvidence, nBaseline: 0, nCandidate: n };
  const shown = `[${fmt(lower)}, ${fmt(upper)}]`;
  let verdict: Verdict;
  let reason: string;
  if (lower > check.tolerance) {
    verdict = 'Fail';
    reason = `the shadow disagrees with the primary too often: the always-valid interval for the disagreement rate is ${shown}, above the tolerance ${fmt(check.tolerance)}.`;
  } else if (upper < check.nonInferiorityMargin) {
    verdict = 'Pass';
    reason = `the always-valid interval for the disagreement rate ${shown} is below ${fmt(check.nonInferiorityMargin)}.`;
  } else {
    verdict = 'Inconclusive';
    reason = `the always-valid interval for the disagreement rate ${shown} still straddles the tolerance ${fmt(check.tolerance)}; more mirrored requests will narrow it.`;
  }
  const evidence: CheckEvidence = {
    ...base,
    looks: next.looks,
    estimates,
    interval: interval(lower, upper),
    statistic: finite(logEvidence),
    statisticName: 'beta-binomial ln M(tolerance)',
    pValue: finite(pValueFromLogEvidence(maxLogEvidence)),
    pValueNullHypothesis: 'the disagreement rate equals the tolerance',
    reason: reason + note,
  };
  return result(check, verdict, evidence, next);
}

function evaluateDistribution(check: CompiledCheck, alpha: number, baseline: HistogramArm | null, candidate: HistogramArm | null, previous: CheckState | undefined): CheckEvaluation {
  const nB = baseline === null ? 0 : armSize(baseline);
  const nC = candidate === null ? 0 : armSize(candidate);
  const { state: prior, note } = carry(check, alpha, previous, nB, nC);
  const base = emptyEvidence(check, alpha, nB, nC, prior.looks, '');
  if (baseline === null || candidate === null || nB < check.minimumSample || nC < check.minimumSample) {
    const reason = `baseline has ${nB} and candidate ${nC} of the ${check.minimumSample} outputs per arm needed before ${check.name} is judged.${note}`;
    return result(check, 'InsufficientData', { ...base, reason }, { ...prior, nBaseline: nB, nCandidate: nC });
  }
  if (baseline.counts.length !== candidate.counts.length) {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`${check.name}: baseline and candidate histograms must have the same bins, got ${baseline.counts.length} and ${candidate.counts.length}`);
  }
  const distance = jensenShannonDistance(baseline.counts, candidate.counts);
  const chi = chiSquareHomogeneity(baseline.counts, candidate.counts);
  const next: CheckState = { key: prior.key, looks: prior.looks + 1, maxLogEvidence: null, nBaseline: nB, nCandidate: nC };
  let verdict: Verdict;
  let reason: string;
  if (distance >= check.tolerance && chi.pValue < alpha) {
    verdict = 'Fail';
    reason = `the output distributions differ: Jensen–Shannon distance ${fmt(distance)} ≥ ${fmt(check.tolerance)}, and the chi-square test rules out noise (p = ${fmt(chi.pValue)}).`;
  } else if (distance < check.tolerance) {
    verdict = 'Pass';
    reason = `Jensen–Shannon distance ${fmt(distance)} is below ${fmt(check.tolerance)}.`;
  } else {
    verdict = 'Inconclusive';
    reason = `Jensen–Shannon distance ${fmt(distance)} ≥ ${fmt(check.tolerance)}, but at this sample size it could be noise (chi-square p = ${fmt(chi.pValue)}).`;
  }
  const evidence: CheckEvidence = {
    ...base,
    looks: next.looks,
    difference: distance,
    statistic: distance,
    statisticName: 'Jensen–Shannon distance (base 2)',
    reason: reason + note,
    fixedHorizon: { test: 'chi-square-homogeneity', statistic: finite(chi.statistic), degreesOfFreedom: chi.degreesOfFreedom, pValue: finite(chi.pValue), interval: null },
  };
  return result(check, verdict, evidence, next);
}

function arm(check: CompiledCheck, value: ArmSummary | null | undefined, which: string): ArmSummary | null {
  if (value === undefined || value === null) return null;
  checkArm(value, expectedArmKind(check), `${check.name}.${which}`);
  return value;
}

/**
 * Evaluates one check at one look. `baseline` and `candidate` are cumulative arm summaries (null or
 * undefined when there is no data yet); `state` is what the previous look returned. For a
 * disagreement check only `candidate` is read: n = mirrored requests compared, successes =
 * disagreements. Throws ROLLOUT_ANALYSIS_INVALID_CHECK for a bad definition and
 * ROLLOUT_ANALYSIS_INVALID_DATA for a malformed summary.
 */
export function evaluateCheck(
  definition: CheckDefinition | CompiledCheck,
  baseline: ArmSummary | null | undefined,
  candidate: ArmSummary | null | undefined,
  state?: CheckState | null,
  options: EvaluateCheckOptions = {},
): CheckEvaluation {
  const check = isCompiledCheck(definition) ? definition : compileCheck(definition);
  const alpha = options.alpha ?? check.alpha;
  if (!(alpha > 0 && alpha < 1)) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK(`${check.name}: alpha must be in (0, 1), got ${alpha}`);
  const previous = state ?? undefined;
  // A disagreement check reads only the candidate's comparisons; whatever the baseline holds is ignored.
  const b = check.kind === 'disagreement' ? null : arm(check, baseline, 'baseline');
  const c = arm(check, candidate, 'candidate');
  switch (check.kind) {
    case 'disagreement':
      return evaluateDisagreement(check, alpha, c as RateArm | null, previous);
    case 'distribution':
      return evaluateDistribution(check, alpha, b as HistogramArm | null, c as HistogramArm | null, previous);
    default: {
      const empty: ArmSummary =
        check.kind === 'rate'
          ? { kind: 'rate', n: 0, successes: 0 }
          : check.kind === 'latency'
            ? { kind: 'latency', n: 0, logMean: 0, logM2: 0, sketch: null }
            : { kind: 'continuous', n: 0, mean: 0, m2: 0 };
      return evaluateComparison(check, alpha, b ?? empty, c ?? empty, previous);
    }
  }
}
