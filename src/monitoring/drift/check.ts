/**
 * The drift check: a live window's snapshot against the reference profile it was built for, feature
 * by feature, then the dataset and the predictions. Pure and deterministic — the same profile,
 * snapshot and options always give the same report, plain JSON-exact data.
 *
 * Per feature (docs/drift.md has the rules and their sources):
 * 1. the method follows Evidently's default rule by kind, reference size and distinct values
 *    (KS / chi-square / z on ≤ 1,000 reference values; normalised Wasserstein / Jensen–Shannon above);
 * 2. a significance test gives a p-value (the method itself when it is a test; KS or chi-square
 *    beside a distance), adjusted across the check's features (Benjamini–Hochberg by default);
 * 3. an effect size (KS D, Cramér's V, or the distance itself) must reach its threshold too.
 * A feature drifts only when its adjusted p-value is below alpha AND its effect reaches the
 * threshold, so a huge window cannot flag a negligible shift (evidently#50) and a small one cannot
 * flag noise.
 */
import {
  balancedCramersV,
  benjaminiHochberg,
  bonferroni,
  chiSquareHomogeneity,
  holm,
  jensenShannonDistance,
  ksTwoSample,
  normalizedWasserstein1Sorted,
  populationStabilityIndex,
  quantileSorted,
  twoProportionZTest,
} from '../../stats/index.js';
import { OTHER_CATEGORY, PROFILE_QUANTILES, type CategoricalFeatureProfile, type FeatureProfile, type NumericFeatureProfile, type ReferenceProfile } from '../profiles/types.js';
import { DriftErrors } from './errors.js';
import { CATEGORICAL_METHODS, compileDriftCheckOptions, NUMERIC_METHODS, type CompiledDriftCheckOptions, type DriftCheckOptions } from './options.js';
import { evaluatePerformance } from './performance.js';
import type {
  CategoricalFeatureWindow,
  CategoricalSummary,
  CategoryCount,
  DatasetDrift,
  DriftMethod,
  DriftReport,
  DriftTest,
  DriftWindowSnapshot,
  EffectMeasure,
  FeatureDrift,
  FeatureWindow,
  MultipleTestingMethod,
  NumericFeatureWindow,
  NumericSummary,
} from './types.js';

/** Categories shown per side in a categorical summary. */
const TOP_CATEGORIES = 20;
/** New categories named per feature. */
const NEW_CATEGORIES_SHOWN = 10;

const EFFECT_OF: Readonly<Record<DriftMethod, EffectMeasure>> = {
  ks: 'ks_statistic',
  chisquare: 'cramers_v',
  z: 'cramers_v',
  wasserstein: 'wasserstein_normed',
  jensenshannon: 'jensenshannon',
  psi: 'psi',
};

function fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** A feature's comparison before multiple-testing adjustment: the report's fields that come before it, and whether it had data enough. */
interface Evaluation
  extends Pick<FeatureDrift, 'name' | 'kind' | 'method' | 'methodSource' | 'discrete' | 'statistic' | 'test' | 'pValue' | 'effectSize' | 'sizes' | 'reference' | 'live' | 'newCategories'> {
  readonly sufficient: boolean;
}

/** Two aligned count vectors over the same bins (categories, distinct values or histogram bins). */
interface Bins {
  readonly reference: number[];
  readonly live: number[];
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Summaries

function numericReferenceSummary(f: NumericFeatureProfile): NumericSummary {
  const has = f.count > 0;
  return {
    kind: 'numeric',
    count: f.count,
    missing: f.missing,
    mean: has ? fin(f.mean) : null,
    std: has ? fin(f.std) : null,
    min: has ? fin(f.min) : null,
    max: has ? fin(f.max) : null,
    quantiles: has && f.quantiles.length > 0 ? [...f.quantiles] : null,
    histogram: { edges: [...f.histogram.edges], counts: [...f.histogram.counts] },
  };
}

function numericLiveSummary(f: NumericFeatureProfile, w: NumericFeatureWindow, sortedSample: Float64Array): NumericSummary {
  const n = w.moments.n;
  return {
    kind: 'numeric',
    count: w.count,
    missing: w.missing,
    mean: n > 0 ? fin(w.moments.mean) : null,
    std: n >= 2 ? fin(Math.sqrt(Math.max(0, w.moments.m2) / (n - 1))) : n === 1 ? 0 : null,
    min: w.min,
    max: w.max,
    quantiles: sortedSample.length > 0 ? PROFILE_QUANTILES.map((q) => quantileSorted(sortedSample, q)) : null,
    histogram: { edges: [...f.histogram.edges], counts: [...w.histogram] },
  };
}

function categoricalSummaries(
  labels: readonly string[],
  bins: Bins,
  reference: { count: number; missing: number },
  live: { count: number; missing: number },
): [CategoricalSummary, CategoricalSummary] {
  const refTotal = sum(bins.reference);
  const liveTotal = sum(bins.live);
  const share = (c: number, total: number): number => (total > 0 ? c / total : 0);
  const order = labels
    .map((_, i) => i)
    .sort((a, b) => {
      const sa = Math.max(share(bins.reference[a] as number, refTotal), share(bins.live[a] as number, liveTotal));
      const sb = Math.max(share(bins.reference[b] as number, refTotal), share(bins.live[b] as number, liveTotal));
      return sb - sa || ((labels[a] as string) < (labels[b] as string) ? -1 : 1);
    })
    .slice(0, TOP_CATEGORIES);
  const side = (counts: readonly number[], total: number, meta: { count: number; missing: number }): CategoricalSummary => {
    const top: CategoryCount[] = order.map((i) => ({ category: labels[i] as string, count: counts[i] as number, share: share(counts[i] as number, total) }));
    return {
      kind: 'categorical',
      count: meta.count,
      missing: meta.missing,
      categories: counts.filter((c) => c > 0).length,
      top,
      rest: total - sum(top.map((t) => t.count)),
    };
  };
  return [side(bins.reference, refTotal, reference), side(bins.live, liveTotal, live)];
}

// ---------------------------------------------------------------------------------------------
// Bins

/**
 * The profile's categories against the window's. A live category the profile does not name is
 * counted under the profile's OTHER_CATEGORY when the profile has one (it may be one of the
 * reference's rarer categories); otherwise it is new, with a reference count of 0.
 */
function alignCategories(reference: Readonly<Record<string, number>>, live: Readonly<Record<string, number>>): { labels: string[]; bins: Bins; newCategories: string[] } {
  const index = new Map<string, number>();
  const labels: string[] = [];
  const ref: number[] = [];
  const liv: number[] = [];
  const slot = (k: string): number => {
    let i = index.get(k);
    if (i === undefined) {
      i = labels.length;
      index.set(k, i);
      labels.push(k);
      ref.push(0);
      liv.push(0);
    }
    return i;
  };
  for (const [k, n] of Object.entries(reference)) ref[slot(k)] = n;
  const referenceHasOther = Object.hasOwn(reference, OTHER_CATEGORY);
  const fresh: Array<[string, number]> = [];
  for (const [k, n] of Object.entries(live)) {
    if (n === 0) continue;
    let key = k;
    if (!Object.hasOwn(reference, k)) {
      if (referenceHasOther) key = OTHER_CATEGORY;
      else if (k !== OTHER_CATEGORY) fresh.push([k, n]);
    }
    const i = slot(key);
    liv[i] = (liv[i] as number) + n;
  }
  // Bins empty on both sides carry no information (and would only add degrees of freedom).
  const keep = labels.map((_, i) => (ref[i] as number) + (liv[i] as number) > 0);
  const newCategories = fresh
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, NEW_CATEGORIES_SHOWN)
    .map(([k]) => k);
  return {
    labels: labels.filter((_, i) => keep[i]),
    bins: { reference: ref.filter((_, i) => keep[i]), live: liv.filter((_, i) => keep[i]) },
    newCategories,
  };
}

/** Counts of each distinct value of two samples, or null as soon as there are more than `max` distinct values. */
function distinctCounts(reference: readonly number[], live: readonly number[], max: number): { values: number[]; bins: Bins } | null {
  const index = new Map<number, number>();
  const ref: number[] = [];
  const liv: number[] = [];
  const add = (xs: readonly number[], side: number[], other: number[]): boolean => {
    for (const x of xs) {
      let i = index.get(x);
      if (i === undefined) {
        if (index.size >= max) return false;
        i = index.size;
        index.set(x, i);
        side.push(0);
        other.push(0);
      }
      side[i] = (side[i] as number) + 1;
    }
    return true;
  };
  if (!add(reference, ref, liv) || !add(live, liv, ref)) return null;
  const values = [...index.keys()];
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  return { values: order.map((i) => values[i] as number), bins: { reference: order.map((i) => ref[i] as number), live: order.map((i) => liv[i] as number) } };
}

// ---------------------------------------------------------------------------------------------
// Methods

interface Measured {
  statistic: number | null;
  test: DriftTest | null;
  pValue: number | null;
  effectSize: number | null;
}

/** The chi-square test of two count vectors and its size-free effect, Cramér's V of the two distributions weighted equally. */
function chiSquare(bins: Bins): Measured {
  const r = chiSquareHomogeneity(bins.reference, bins.live);
  return { statistic: r.statistic, test: 'chisquare', pValue: r.pValue, effectSize: balancedCramersV(bins.reference, bins.live) };
}

/** The two-proportion z test of a two-category comparison (Evidently's rule for binary columns). */
function zTest(bins: Bins): Measured {
  if (bins.reference.length < 2) return { statistic: 0, test: 'z', pValue: 1, effectSize: 0 };
  // The first category is "failure", every other one "success", as Evidently does.
  const refTotal = sum(bins.reference);
  const liveTotal = sum(bins.live);
  const r = twoProportionZTest({ n: refTotal, successes: refTotal - (bins.reference[0] as number) }, { n: liveTotal, successes: liveTotal - (bins.live[0] as number) });
  return { statistic: r.statistic, test: 'z', pValue: r.pValue, effectSize: balancedCramersV(bins.reference, bins.live) };
}

/** A distance over bins, beside the chi-square test of the same bins (when significance is required). */
function binnedDistance(method: 'jensenshannon' | 'psi', bins: Bins, requireSignificance: boolean): Measured {
  const distance = method === 'psi' ? populationStabilityIndex(bins.reference, bins.live) : jensenShannonDistance(bins.reference, bins.live);
  if (!requireSignificance) return { statistic: distance, test: null, pValue: null, effectSize: distance };
  const r = chiSquareHomogeneity(bins.reference, bins.live);
  return { statistic: distance, test: 'chisquare', pValue: r.pValue, effectSize: distance };
}

function measureBins(method: DriftMethod, bins: Bins, o: CompiledDriftCheckOptions): Measured {
  switch (method) {
    case 'z':
      return zTest(bins);
    case 'chisquare':
      return chiSquare(bins);
    case 'jensenshannon':
    case 'psi':
      return binnedDistance(method, bins, o.requireSignificance);
    default:
      throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`method ${method} does not compare counts`);
  }
}

function measureSamples(
  method: 'ks' | 'wasserstein',
  reference: readonly number[],
  live: readonly number[],
  sortedLive: Float64Array,
  o: CompiledDriftCheckOptions,
): Measured {
  const needKs = method === 'ks' || o.requireSignificance;
  const ks = needKs ? ksTwoSample(reference, live, { exactMaxProduct: o.ksExactMaxProduct }) : null;
  if (method === 'ks') return { statistic: ks?.statistic ?? null, test: 'ks', pValue: ks?.pValue ?? null, effectSize: ks?.statistic ?? null };
  const w = normalizedWasserstein1Sorted(Float64Array.from(reference).sort(), sortedLive);
  return { statistic: w, test: ks === null ? null : 'ks', pValue: ks?.pValue ?? null, effectSize: w };
}

/** Evidently's default: tests on small references, distances on large ones; categories when there are few values. */
function autoMethod(asCategories: boolean, uniques: number, referenceRows: number, o: CompiledDriftCheckOptions): DriftMethod {
  const small = referenceRows <= o.smallSampleRows;
  if (asCategories) return small ? (uniques <= 2 ? 'z' : 'chisquare') : 'jensenshannon';
  return small ? 'ks' : 'wasserstein';
}

const NOT_MEASURED: Measured = { statistic: null, test: null, pValue: null, effectSize: null };

function evaluateNumeric(f: NumericFeatureProfile, w: NumericFeatureWindow, o: CompiledDriftCheckOptions): Evaluation {
  const sortedLive = Float64Array.from(w.sample).sort();
  const reference = numericReferenceSummary(f);
  const live = numericLiveSummary(f, w, sortedLive);
  const chosen = o.featureMethods[f.name] ?? (o.methods.numeric === 'auto' ? undefined : o.methods.numeric);
  const source = o.featureMethods[f.name] !== undefined ? 'feature' : chosen !== undefined ? 'option' : 'auto';
  const distinct = distinctCounts(f.sample, w.sample, o.discreteMaxUnique);
  const discrete = chosen === undefined && distinct !== null;
  const method = chosen ?? autoMethod(discrete, distinct?.values.length ?? Infinity, f.count, o);
  const usesSamples = method === 'ks' || method === 'wasserstein' || discrete;
  const hasBins = f.histogram.counts.length > 0 && sum(f.histogram.counts) > 0;
  const sufficient = f.count > 0 && w.count >= o.minRows && (usesSamples ? f.sample.length > 0 && w.sample.length > 0 : hasBins);
  let measured = NOT_MEASURED;
  let sizes = { reference: 0, live: 0 };
  if (sufficient) {
    if (method === 'ks' || method === 'wasserstein') {
      measured = measureSamples(method, f.sample, w.sample, sortedLive, o);
      sizes = { reference: f.sample.length, live: w.sample.length };
    } else if (discrete && distinct !== null) {
      measured = measureBins(method, distinct.bins, o);
      sizes = { reference: f.sample.length, live: w.sample.length };
    } else {
      measured = measureBins(method, { reference: [...f.histogram.counts], live: [...w.histogram] }, o);
      sizes = { reference: sum(f.histogram.counts), live: sum(w.histogram) };
    }
  }
  return { name: f.name, kind: 'numeric', method, methodSource: source, discrete, ...measured, sizes, reference, live, newCategories: [], sufficient };
}

function evaluateCategorical(f: CategoricalFeatureProfile, w: CategoricalFeatureWindow, o: CompiledDriftCheckOptions): Evaluation {
  const { labels, bins, newCategories } = alignCategories(f.frequencies, w.frequencies);
  const [reference, live] = categoricalSummaries(labels, bins, f, w);
  const chosen = o.featureMethods[f.name] ?? (o.methods.categorical === 'auto' ? undefined : o.methods.categorical);
  const source = o.featureMethods[f.name] !== undefined ? 'feature' : chosen !== undefined ? 'option' : 'auto';
  const method = chosen ?? autoMethod(true, labels.length, f.count, o);
  const refTotal = sum(bins.reference);
  const liveTotal = sum(bins.live);
  const sufficient = refTotal > 0 && liveTotal > 0 && w.count >= o.minRows;
  const measured = sufficient ? measureBins(method, bins, o) : NOT_MEASURED;
  return {
    name: f.name,
    kind: 'categorical',
    method,
    methodSource: source,
    discrete: false,
    ...measured,
    sizes: sufficient ? { reference: refTotal, live: liveTotal } : { reference: 0, live: 0 },
    reference,
    live,
    newCategories,
    sufficient,
  };
}

function evaluate(f: FeatureProfile, w: FeatureWindow, o: CompiledDriftCheckOptions): Evaluation {
  if (f.kind === 'numeric' && w.kind === 'numeric') return evaluateNumeric(f, w, o);
  if (f.kind === 'categorical' && w.kind === 'categorical') return evaluateCategorical(f, w, o);
  throw DriftErrors.MONITORING_DRIFT_PROFILE_MISMATCH(`feature ${f.name} is ${f.kind} in the profile but ${w.kind} in the window`);
}

function adjust(ps: readonly number[], method: MultipleTestingMethod): number[] {
  switch (method) {
    case 'benjamini-hochberg':
      return benjaminiHochberg(ps);
    case 'holm':
      return holm(ps);
    case 'bonferroni':
      return bonferroni(ps);
    case 'none':
      return [...ps];
  }
}

function finish(e: Evaluation, adjustedPValue: number | null, o: CompiledDriftCheckOptions): FeatureDrift {
  const threshold = o.thresholds[e.method];
  const effect = e.effectSize === null ? null : fin(e.effectSize);
  const significant = e.test === null ? true : adjustedPValue !== null && adjustedPValue < o.alpha;
  const drifted = e.sufficient && effect !== null && significant && effect >= threshold;
  return {
    name: e.name,
    kind: e.kind,
    method: e.method,
    methodSource: e.methodSource,
    discrete: e.discrete,
    statistic: e.statistic === null ? null : fin(e.statistic),
    test: e.test,
    pValue: e.pValue === null ? null : fin(e.pValue),
    adjustedPValue: adjustedPValue === null ? null : fin(adjustedPValue),
    effectMeasure: EFFECT_OF[e.method],
    effectSize: effect,
    effectThreshold: threshold,
    drifted,
    status: !e.sufficient ? 'insufficient_data' : drifted ? 'drift' : 'no_drift',
    sizes: e.sizes,
    reference: e.reference,
    live: e.live,
    newCategories: e.newCategories,
  };
}

/** Throws MONITORING_DRIFT_PROFILE_MISMATCH unless the snapshot was built for this profile. */
function checkMatches(profile: ReferenceProfile, snapshot: DriftWindowSnapshot): void {
  const problems: string[] = [];
  if (snapshot.format !== 1) problems.push(`snapshot format must be 1, got ${String(snapshot.format)}`);
  if (snapshot.model !== profile.model || snapshot.version !== profile.version) {
    problems.push(`the window is for ${snapshot.model} v${snapshot.version}, the profile for ${profile.model} v${profile.version}`);
  }
  const same = (f: FeatureProfile, w: FeatureWindow | undefined, path: string): void => {
    if (w === undefined) return void problems.push(`${path}: missing from the window`);
    if (w.name !== f.name || w.kind !== f.kind) return void problems.push(`${path}: the profile has ${f.kind} ${f.name}, the window ${w.kind} ${w.name}`);
    if (f.kind === 'numeric' && w.kind === 'numeric' && w.histogram.length !== f.histogram.counts.length) {
      problems.push(`${path}: the profile has ${f.histogram.counts.length} histogram bins, the window ${w.histogram.length}`);
    }
  };
  if (snapshot.features.length !== profile.features.length) problems.push(`the profile has ${profile.features.length} features, the window ${snapshot.features.length}`);
  else profile.features.forEach((f, i) => same(f, snapshot.features[i], `features[${i}]`));
  if ((profile.predictions === null) !== (snapshot.predictions === null)) problems.push(`predictions: ${profile.predictions === null ? 'absent from the profile but present in the window' : 'in the profile but absent from the window'}`);
  else if (profile.predictions !== null && snapshot.predictions !== null) same(profile.predictions, snapshot.predictions, 'predictions');
  if (problems.length > 0) throw DriftErrors.MONITORING_DRIFT_PROFILE_MISMATCH(`window ${snapshot.sequence} does not match its profile:\n  ${problems.join('\n  ')}`, { details: { problems } });
}

/** featureMethods must name profiled features and suit their kind. */
function checkFeatureMethods(profile: ReferenceProfile, o: CompiledDriftCheckOptions): void {
  const problems: string[] = [];
  const byName = new Map(profile.features.map((f) => [f.name, f.kind]));
  for (const [name, method] of Object.entries(o.featureMethods)) {
    const kind = byName.get(name);
    if (kind === undefined) problems.push(`featureMethods.${name}: no such feature in the profile of ${profile.model} v${profile.version}`);
    else if (kind === 'numeric' && !(NUMERIC_METHODS as readonly string[]).includes(method)) problems.push(`featureMethods.${name}: ${method} does not apply to a numeric feature (use ${NUMERIC_METHODS.join(', ')})`);
    else if (kind === 'categorical' && !(CATEGORICAL_METHODS as readonly string[]).includes(method)) problems.push(`featureMethods.${name}: ${method} does not apply to a categorical feature (use ${CATEGORICAL_METHODS.join(', ')})`);
  }
  if (problems.length > 0) throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`invalid drift check options:\n  ${problems.join('\n  ')}`, { details: { problems } });
}

/**
 * Compares a live window with the reference profile it was built for. Throws
 * MONITORING_DRIFT_INVALID_OPTIONS for bad options and MONITORING_DRIFT_PROFILE_MISMATCH when the
 * snapshot comes from another profile.
 */
export function checkDrift(profile: ReferenceProfile, snapshot: DriftWindowSnapshot, options: DriftCheckOptions = {}): DriftReport {
  const o = compileDriftCheckOptions(options);
  checkMatches(profile, snapshot);
  checkFeatureMethods(profile, o);

  const evaluations = profile.features.map((f, i) => evaluate(f, snapshot.features[i] as FeatureWindow, o));
  const tested = evaluations.flatMap((e, i) => (e.sufficient && e.pValue !== null ? [i] : []));
  const adjusted = adjust(
    tested.map((i) => evaluations[i]?.pValue ?? 1),
    o.multipleTesting,
  );
  const adjustedOf = new Map(tested.map((index, k) => [index, adjusted[k] as number]));
  const features = evaluations.map((e, i) => finish(e, adjustedOf.get(i) ?? null, o));

  const evaluated = features.filter((f) => f.status !== 'insufficient_data');
  const driftedFeatures = features.filter((f) => f.drifted).map((f) => f.name);
  const driftedShare = evaluated.length === 0 ? 0 : driftedFeatures.length / evaluated.length;
  const datasetDrifted = evaluated.length > 0 && driftedShare >= o.driftShare;
  const dataset: DatasetDrift = {
    features: features.length,
    evaluated: evaluated.length,
    driftedFeatures,
    driftedShare,
    threshold: o.driftShare,
    drifted: datasetDrifted,
    status: evaluated.length === 0 ? 'insufficient_data' : datasetDrifted ? 'drift' : 'no_drift',
  };

  // The predictions are their own family of one: reported beside the features, not adjusted with them.
  let predictions: FeatureDrift | null = null;
  if (profile.predictions !== null && snapshot.predictions !== null) {
    const e = evaluate(profile.predictions, snapshot.predictions, o);
    predictions = finish(e, e.sufficient ? e.pValue : null, o);
  }

  const performance =
    snapshot.performance === null
      ? null
      : evaluatePerformance(snapshot.performance, {
          metric: o.performanceMetric,
          reference: o.referencePerformance,
          tolerance: o.performanceTolerance,
          relativeTolerance: o.performanceRelativeTolerance,
          baseline: profile.performance ?? null,
          alpha: o.alpha,
          minLabels: o.minRows,
        });

  // Worst wins: drift (inputs, predictions or performance) > insufficient_data > no_drift.
  const status = dataset.drifted || predictions?.drifted === true || performance?.degraded === true ? 'drift' : dataset.status === 'insufficient_data' ? 'insufficient_data' : 'no_drift';

  return {
    format: 1,
    model: profile.model,
    version: profile.version,
    status,
    window: {
      sequence: snapshot.sequence,
      state: snapshot.state,
      closeReason: snapshot.closeReason,
      rows: snapshot.rows,
      since: snapshot.since,
      until: snapshot.until,
      closedAt: snapshot.closedAt,
    },
    settings: {
      alpha: o.alpha,
      multipleTesting: o.multipleTesting,
      driftShare: o.driftShare,
      smallSampleRows: o.smallSampleRows,
      minRows: o.minRows,
      requireSignificance: o.requireSignificance,
    },
    features,
    dataset,
    predictions,
    performance,
  };
}
