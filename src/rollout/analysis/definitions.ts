/**
 * Check definitions: validation (every problem with its path, so a rollout spec validator can merge
 * them into its own list) and compilation (defaults resolved, frozen).
 */
import { deepFreeze, describe, join, type ConfigProblem } from '../../core/index.js';
import { DEFAULT_CS_TUNING } from '../../stats/index.js';
import { AnalysisErrors } from './errors.js';
import { CHECK_KINDS, type CheckKind, type CheckScale, type CompiledCheck, type Direction, type SequentialMethod } from './types.js';

/** Defaults, with the reasons in docs/analysis.md. */
export const CHECK_DEFAULTS = Object.freeze({
  minimumSample: 100,
  alpha: 0.05,
  /** Rate, continuous, latency: an established regression of either kind fails. */
  tolerance: 0,
  /** Jensen–Shannon distance at which outputs count as different (Evidently's drift threshold). */
  distributionTolerance: 0.1,
  /** Share of mirrored requests on which the shadow may disagree. */
  disagreementTolerance: 0.05,
  /** mde on relative scales (relative lift, latency ratio) when none is given: 10 %. */
  relativeMinimumDetectableEffect: 0.1,
  /** GrowthBook's proper prior: N(0, 0.3²) on relative lift. */
  priorStddev: 0.3,
  sequentialTuning: DEFAULT_CS_TUNING,
});

/** Every CompiledCheck this module produced, so evaluators can skip compiling them again. */
const compiledChecks = new WeakSet<object>();

/** Whether a value is a check compiled by {@link compileChecks} or {@link compileCheck}. */
export function isCompiledCheck(value: unknown): value is CompiledCheck {
  return typeof value === 'object' && value !== null && compiledChecks.has(value);
}

const KNOWN_KEYS = [
  'name',
  'metric',
  'kind',
  'direction',
  'minimumSample',
  'alpha',
  'tolerance',
  'minimumDetectableEffect',
  'nonInferiorityMargin',
  'relative',
  'method',
  'sequentialTuning',
  'prior',
] as const;

class Problems {
  readonly list: ConfigProblem[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  number(value: unknown, path: string, check: (n: number) => string | undefined): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.add(path, `must be a finite number, got ${describe(value)}`);
      return undefined;
    }
    const why = check(value);
    if (why !== undefined) {
      this.add(path, why);
      return undefined;
    }
    return value;
  }
}

function compileOne(raw: unknown, path: string, problems: Problems): CompiledCheck | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(path, `must be a mapping, got ${describe(raw)}`);
    return undefined;
  }
  const def = raw as Record<string, unknown>;
  for (const key of Object.keys(def)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) problems.add(join(path, key), `unknown key (known: ${KNOWN_KEYS.join(', ')})`);
  }
  const before = problems.list.length;

  const metric = def.metric;
  if (typeof metric !== 'string' || metric.trim() === '') problems.add(join(path, 'metric'), `must be a non-empty string, got ${describe(metric)}`);
  const name = def.name === undefined ? metric : def.name;
  if (def.name !== undefined && (typeof def.name !== 'string' || def.name.trim() === '')) problems.add(join(path, 'name'), `must be a non-empty string, got ${describe(def.name)}`);

  const kind = def.kind as CheckKind;
  if (typeof def.kind !== 'string' || !(CHECK_KINDS as readonly string[]).includes(def.kind)) {
    problems.add(join(path, 'kind'), `must be one of ${CHECK_KINDS.join(', ')}, got ${describe(def.kind)}`);
    return undefined;
  }
  const comparesArms = kind === 'rate' || kind === 'continuous' || kind === 'latency';

  let direction: Direction = 'lower-is-better';
  if (def.direction === undefined) {
    if (kind === 'rate' || kind === 'continuous') problems.add(join(path, 'direction'), 'is required for rate and continuous checks: lower-is-better or higher-is-better');
  } else if (def.direction !== 'lower-is-better' && def.direction !== 'higher-is-better') {
    problems.add(join(path, 'direction'), `must be lower-is-better or higher-is-better, got ${describe(def.direction)}`);
  } else if (def.direction === 'higher-is-better' && !(kind === 'rate' || kind === 'continuous')) {
    problems.add(join(path, 'direction'), `a ${kind} check is always lower-is-better`);
  } else {
    direction = def.direction;
  }

  const minSampleFloor = kind === 'continuous' || kind === 'latency' ? 2 : 1;
  let minimumSample: number = CHECK_DEFAULTS.minimumSample;
  if (def.minimumSample !== undefined) {
    if (typeof def.minimumSample !== 'number' || !Number.isInteger(def.minimumSample) || def.minimumSample < minSampleFloor) {
      problems.add(join(path, 'minimumSample'), `must be a whole number ≥ ${minSampleFloor}, got ${describe(def.minimumSample)}`);
    } else {
      minimumSample = def.minimumSample;
    }
  }

  const alpha = problems.number(def.alpha, join(path, 'alpha'), (a) => (a > 0 && a <= 0.5 ? undefined : `must be in (0, 0.5], got ${a}`)) ?? CHECK_DEFAULTS.alpha;

  const defaultTolerance = kind === 'distribution' ? CHECK_DEFAULTS.distributionTolerance : kind === 'disagreement' ? CHECK_DEFAULTS.disagreementTolerance : CHECK_DEFAULTS.tolerance;
  const tolerance =
    problems.number(def.tolerance, join(path, 'tolerance'), (t) => {
      if (kind === 'distribution') return t > 0 && t <= 1 ? undefined : `must be a Jensen–Shannon distance in (0, 1], got ${t}`;
      if (kind === 'disagreement') return t > 0 && t < 1 ? undefined : `must be a share in (0, 1), got ${t}`;
      return t >= 0 ? undefined : `must be ≥ 0, got ${t}`;
    }) ?? defaultTolerance;

  let relative = false;
  if (def.relative !== undefined) {
    if (typeof def.relative !== 'boolean') problems.add(join(path, 'relative'), `must be true or false, got ${describe(def.relative)}`);
    else if (def.relative && !(kind === 'rate' || kind === 'continuous')) problems.add(join(path, 'relative'), `applies to rate and continuous checks only (latency is always compared as a ratio)`);
    else relative = def.relative;
  }

  let method: SequentialMethod = 'msprt';
  if (def.method !== undefined) {
    if (!comparesArms) problems.add(join(path, 'method'), `applies to rate, continuous and latency checks only`);
    else if (def.method !== 'msprt' && def.method !== 'confidence-sequence') problems.add(join(path, 'method'), `must be msprt or confidence-sequence, got ${describe(def.method)}`);
    else method = def.method;
  }
  let sequentialTuning: number = CHECK_DEFAULTS.sequentialTuning;
  if (def.sequentialTuning !== undefined) {
    if (method !== 'confidence-sequence' || !comparesArms) problems.add(join(path, 'sequentialTuning'), 'applies only with method: confidence-sequence');
    else sequentialTuning = problems.number(def.sequentialTuning, join(path, 'sequentialTuning'), (v) => (v > 0 ? undefined : `must be > 0, got ${v}`)) ?? sequentialTuning;
  }

  const scale: CheckScale = kind === 'latency' ? 'ratio' : kind === 'distribution' ? 'distance' : kind === 'disagreement' ? 'rate' : relative ? 'relative' : 'absolute';
  const relativeScale = scale === 'relative' || scale === 'ratio';

  let mde: number | null = null;
  if (def.minimumDetectableEffect !== undefined) {
    if (!comparesArms) problems.add(join(path, 'minimumDetectableEffect'), 'applies to rate, continuous and latency checks only');
    else mde = problems.number(def.minimumDetectableEffect, join(path, 'minimumDetectableEffect'), (v) => (v > 0 ? undefined : `must be > 0, got ${v}`)) ?? null;
  } else if (comparesArms) {
    if (tolerance > 0) mde = tolerance;
    else if (relativeScale) mde = CHECK_DEFAULTS.relativeMinimumDetectableEffect;
    else if (method === 'msprt' || def.nonInferiorityMargin === undefined) {
      // The mSPRT needs it for τ; either method needs it (or an explicit margin) to ever Pass.
      problems.add(
        join(path, 'minimumDetectableEffect'),
        'is required for an absolute check with tolerance 0: the smallest difference worth catching (e.g. 0.01 for one percentage point); it also sets the default non-inferiority margin',
      );
    }
  }

  const defaultMargin = comparesArms ? Math.max(tolerance, mde ?? 0) : tolerance;
  const nonInferiorityMargin =
    problems.number(def.nonInferiorityMargin, join(path, 'nonInferiorityMargin'), (v) => (v >= 0 ? undefined : `must be ≥ 0, got ${v}`)) ?? defaultMargin;
  if (kind === 'distribution' && def.nonInferiorityMargin !== undefined) problems.add(join(path, 'nonInferiorityMargin'), 'does not apply to distribution checks (Pass is distance < tolerance)');

  let prior: CompiledCheck['prior'] = relativeScale ? { mean: 0, stddev: CHECK_DEFAULTS.priorStddev } : null;
  if (def.prior !== undefined) {
    if (def.prior === 'flat') prior = null;
    else if (typeof def.prior !== 'object' || def.prior === null || Array.isArray(def.prior)) problems.add(join(path, 'prior'), `must be "flat" or {mean, stddev}, got ${describe(def.prior)}`);
    else {
      const p = def.prior as Record<string, unknown>;
      const mean = problems.number(p.mean, join(join(path, 'prior'), 'mean'), () => undefined) ?? 0;
      const stddev = problems.number(p.stddev, join(join(path, 'prior'), 'stddev'), (v) => (v > 0 ? undefined : `must be > 0, got ${v}`));
      if (p.stddev === undefined) problems.add(join(join(path, 'prior'), 'stddev'), 'is required');
      for (const key of Object.keys(p)) if (key !== 'mean' && key !== 'stddev') problems.add(join(join(path, 'prior'), key), 'unknown key (known: mean, stddev)');
      if (stddev !== undefined) prior = { mean, stddev };
    }
  }

  if (kind === 'rate' && !relative) {
    // An absolute difference of two rates lies in (−1, 1).
    if (tolerance >= 1) problems.add(join(path, 'tolerance'), `must be < 1 for an absolute rate check, got ${tolerance}`);
    if (nonInferiorityMargin >= 1) problems.add(join(path, 'nonInferiorityMargin'), `must be < 1 for an absolute rate check, got ${nonInferiorityMargin}`);
    if (mde !== null && mde >= 1) problems.add(join(path, 'minimumDetectableEffect'), `must be < 1 for an absolute rate check, got ${mde}`);
  }
  if (problems.list.length > before) return undefined;
  // The mixing variance lives on the analysis scale; latency is analysed as a difference of log means.
  const tauBase = mde === null ? null : scale === 'ratio' ? Math.log1p(mde) : mde;
  return {
    name: name as string,
    metric: metric as string,
    kind,
    direction,
    minimumSample,
    alpha,
    tolerance,
    minimumDetectableEffect: mde,
    nonInferiorityMargin,
    scale,
    method: comparesArms ? method : kind === 'disagreement' ? 'beta-binomial' : 'distance',
    sequentialTuning,
    tau: comparesArms && method === 'msprt' && tauBase !== null ? tauBase * tauBase : null,
    prior,
  };
}

/**
 * Validates a list of check definitions and returns every problem with its path (empty when valid).
 * `path` prefixes the paths, e.g. `spec.analysis.checks`.
 */
export function validateCheckDefinitions(defs: unknown, path = 'checks'): ConfigProblem[] {
  const problems = new Problems();
  compileAll(defs, path, problems);
  return problems.list;
}

function compileAll(defs: unknown, path: string, problems: Problems): CompiledCheck[] {
  if (!Array.isArray(defs)) {
    problems.add(path, `must be a list of checks, got ${describe(defs)}`);
    return [];
  }
  const compiled: CompiledCheck[] = [];
  const seen = new Map<string, number>();
  defs.forEach((def: unknown, i) => {
    const c = compileOne(def, join(path, i), problems);
    if (c === undefined) return;
    const first = seen.get(c.name);
    if (first !== undefined) problems.add(join(join(path, i), 'name'), `"${c.name}" is already the name of ${join(path, first)}; give each check its own name`);
    else seen.set(c.name, i);
    compiled.push(c);
  });
  return compiled;
}

/** Validates and compiles check definitions, throwing ROLLOUT_ANALYSIS_INVALID_CHECK with every problem. */
export function compileChecks(defs: unknown, path = 'checks'): readonly CompiledCheck[] {
  const problems = new Problems();
  const compiled = compileAll(defs, path, problems);
  if (problems.list.length > 0) {
    const lines = problems.list.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK(`invalid analysis checks (${problems.list.length} problem${problems.list.length === 1 ? '' : 's'}):\n${lines}`, {
      details: { problems: problems.list.map((p) => ({ path: p.path, message: p.message })) },
    });
  }
  for (const c of compiled) compiledChecks.add(c);
  return deepFreeze(compiled);
}

/** Compiles one definition (see {@link compileChecks}). */
export function compileCheck(def: unknown, path = 'check'): CompiledCheck {
  const problems = new Problems();
  const compiled = compileOne(def, path, problems);
  if (compiled === undefined || problems.list.length > 0) {
    const lines = problems.list.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_CHECK(`invalid analysis check (${problems.list.length} problem${problems.list.length === 1 ? '' : 's'}):\n${lines}`, {
      details: { problems: problems.list.map((p) => ({ path: p.path, message: p.message })) },
    });
  }
  compiledChecks.add(compiled);
  return deepFreeze(compiled);
}
