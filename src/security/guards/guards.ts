/**
 * The input guards and output hardening behind the data plane's {@link InferenceGuards} port
 * (docs/security.md, Input guards and Output hardening).
 *
 * Per request, for a version with a reference profile: every row's numeric features are checked
 * against the ranges the profile observed, and scored by their Mahalanobis distance to the
 * reference (the profile's shrunk covariance, or its features' own variances when it has none).
 * The request's score is its farthest row's distance; its p-value is that row's tail under the
 * distance's law (F(d, n − d), scaled, for a covariance estimated from n rows; χ²(d) otherwise),
 * adjusted for the number of rows scored (Šidák: 1 − (1 − p)^m), so a threshold means the same
 * for a request of one row and of a thousand. Each check flags (answers, saying so in
 * `parameters.input_guard`) or rejects (400), as configured per endpoint.
 *
 * The profile comes from the drift monitor's cache (`profileOf`), and is compiled once per
 * profile object (ranges, mean, Cholesky factor) into a WeakMap, so a replaced profile is
 * compiled again and a dropped one is collected.
 */
import type { Logger, Tensor } from '../../core/index.js';
import type { ReferenceProfile } from '../../monitoring/profiles/types.js';
import type { EndpointGuards, InferenceGuards, OipParameters } from '../../serving/index.js';
import { chiSquareSf, fSf } from '../../stats/index.js';
import { GuardErrors } from './errors.js';
import type { GuardMetrics } from './metrics.js';
import { endpointInputGuards, endpointOutputs, type InputGuardSettings, type InputGuardsConfig, type OutputHardeningConfig, type OutputSettings } from './options.js';
import { topKOutputs } from './outputs.js';
import { compileGuardReference, inspectRows, type GuardReference, type OutlierModel, type RowsInspection } from './reference.js';

export interface InferenceGuardsOptions {
  /** The compiled `security.inputGuards`. */
  readonly inputs: InputGuardsConfig;
  /** The compiled `security.outputs`. */
  readonly outputs: OutputHardeningConfig;
  /**
   * The reference profile of model:version as `endpoint` serves it, when it is at hand (the drift
   * monitor's cache); undefined otherwise, and then no range or outlier check runs. Synchronous.
   */
  readonly profileOf?: (endpoint: string, model: string, version: number) => ReferenceProfile | undefined;
  readonly metrics?: GuardMetrics;
  readonly logger?: Logger;
}

/** Out-of-range features listed in `parameters.input_guard` and in an error's details; the rest are counted. */
export const MAX_LISTED_FEATURES = 10;
/** Features a rejection's message names. */
const NAMED_IN_MESSAGE = 3;

/** One thing a guard flagged, as `parameters.input_guard` lists it. */
export type GuardFlag =
  | { readonly check: 'range'; readonly feature: string; readonly row: number; readonly value: number; readonly min: number; readonly max: number; readonly rows: number }
  | { readonly check: 'non_finite'; readonly field: string; readonly count: number }
  | { readonly check: 'outlier'; readonly row: number; readonly score: number; readonly p_value: number };

/**
 * The p-value of a request whose farthest of `rows` scored rows has squared distance `d2` over `d`
 * dimensions, adjusted for the rows (Šidák, 1 − (1 − p)^rows, computed without cancellation).
 * With `referenceRows` = n > d (a covariance estimated from n rows) a row's p is the tail of the
 * prediction law n(n − d)/((n² − 1)d) · D² ~ F(d, n − d) (Hotelling): exact for multivariate normal
 * rows, and heavier-tailed than χ²(d) when d is not small against n. Without it, the χ²(d) tail, the
 * limit as n grows. docs/security.md says what it means for other data.
 */
export function outlierPValue(d2: number, d: number, rows: number, referenceRows: number | null = null): number {
  const n = fLawRows(d, referenceRows);
  const p = n !== null ? fSf(((n * (n - d)) / ((n * n - 1) * d)) * d2, d, n - d) : chiSquareSf(d2, d);
  if (!(p < 1) || rows <= 1) return p;
  return -Math.expm1(rows * Math.log1p(-p));
}

/** The law a model's p-values come from, as messages name it: `F(30, 426)` or `χ²(30)`. */
export function outlierLaw(model: Pick<OutlierModel, 'd' | 'referenceRows'>): string {
  const n = fLawRows(model.d, model.referenceRows);
  return n !== null ? `F(${model.d}, ${n - model.d})` : `χ²(${model.d})`;
}

/** n when the distance follows F(d, n − d) (a covariance from n > d rows); null for χ²(d). */
function fLawRows(d: number, referenceRows: number | null): number | null {
  return referenceRows !== null && referenceRows > d ? referenceRows : null;
}

/** Creates the guards; see the module comment. */
export function createInferenceGuards(options: InferenceGuardsOptions): InferenceGuards {
  const { metrics, logger } = options;
  const compiled = new WeakMap<ReferenceProfile, GuardReference>();
  const referenceOf = (profile: ReferenceProfile): GuardReference => {
    let ref = compiled.get(profile);
    if (ref === undefined) {
      ref = compileGuardReference(profile);
      compiled.set(profile, ref);
      const o = ref.outlier;
      logger?.info(
        { model: ref.model, version: ref.version, features: ref.features.length, covariance: o?.covariance ?? 'none', dimensions: o?.d ?? 0, ...(o?.covariance === 'full' ? { shrinkage: o.shrinkage } : {}) },
        'input guards compiled the reference profile',
      );
    }
    return ref;
  };

  const make = (settings: InputGuardSettings, outputs: OutputSettings): EndpointGuards => {
    const { ranges, outlier } = settings;
    const flagNonFinite = settings.nonFinite === 'flag';
    const needsProfile = ranges !== 'off' || outlier.enabled;
    const margin = ranges === 'off' ? undefined : settings.rangeMargin;
    const topK = outputs.topK;
    const guards: EndpointGuards = {
      acceptNonFinite: settings.nonFinite !== 'reject',
      checksInputs: flagNonFinite || needsProfile,
      roundDigits: outputs.roundDigits,
      check(endpoint, model, version, request) {
        let flags: GuardFlag[] | undefined;
        let more = 0;
        let parameters: OipParameters | undefined;
        if (flagNonFinite && request.nonFinite !== undefined) {
          (flags ??= []).push({ check: 'non_finite', field: request.nonFinite.field, count: request.nonFinite.count });
          metrics?.count(endpoint, version, 'non_finite', 'flag');
        }
        const profile = needsProfile ? options.profileOf?.(endpoint, model, version) : undefined;
        const ref = profile === undefined ? undefined : referenceOf(profile);
        const scoring = outlier.enabled && ref?.outlier !== undefined;
        const seen = ref === undefined ? undefined : inspectRows(ref, request.inputs, margin, scoring);
        if (ref !== undefined && seen !== undefined) {
          let outlierFlag: GuardFlag | undefined;
          const scorer = ref.outlier;
          if (scoring && scorer !== undefined && seen.scored > 0) {
            const distance = Math.sqrt(seen.maxDistanceSquared);
            const p = outlierPValue(seen.maxDistanceSquared, scorer.d, seen.scored, scorer.referenceRows);
            metrics?.score(endpoint, version, distance);
            // a range rejection below takes precedence; the score above is kept either way
            if (seen.outOfRange === 0 || ranges !== 'reject') {
              if (outlier.rejectPValue > 0 && p < outlier.rejectPValue) {
                metrics?.count(endpoint, version, 'outlier', 'reject');
                throw outlierError(ref, seen, distance, p, outlier.rejectPValue);
              }
            }
            if (outlier.flagPValue > 0 && p < outlier.flagPValue) outlierFlag = { check: 'outlier', row: seen.maxRow, score: short(distance), p_value: shortP(p) };
            if (outlier.inResponse) parameters = { outlier_score: short(distance), outlier_p_value: shortP(p), outlier_covariance: scorer.covariance };
          }
          if (seen.outOfRange > 0 && margin !== undefined) {
            const listed = outOfRange(ref);
            if (ranges === 'reject') {
              metrics?.count(endpoint, version, 'range', 'reject');
              throw rangeError(ref, seen, listed, margin);
            }
            metrics?.count(endpoint, version, 'range', 'flag');
            (flags ??= []).push(...listed);
            more = seen.outOfRange - listed.length;
          }
          if (outlierFlag !== undefined) {
            metrics?.count(endpoint, version, 'outlier', 'flag');
            (flags ??= []).push(outlierFlag);
          }
        }
        if (flags !== undefined) {
          parameters ??= {};
          parameters.input_guard = JSON.stringify(more > 0 ? { flags, more } : { flags });
        }
        return parameters;
      },
      ...(topK > 0 ? { harden: (outputs: readonly Tensor[]) => topKOutputs(outputs, topK) } : {}),
    };
    return guards;
  };

  const fallback = make(options.inputs, options.outputs);
  const byName = new Map<string, EndpointGuards>();
  for (const name of new Set([...Object.keys(options.inputs.endpoints), ...Object.keys(options.outputs.endpoints)])) {
    byName.set(name, make(endpointInputGuards(options.inputs, name), endpointOutputs(options.outputs, name)));
  }
  return {
    forEndpoint: (endpoint) => (byName.size === 0 ? fallback : (byName.get(endpoint) ?? fallback)),
  };
}

/** The out-of-range features, in profile order, at most {@link MAX_LISTED_FEATURES}. */
function outOfRange(ref: GuardReference): Extract<GuardFlag, { check: 'range' }>[] {
  const listed: Extract<GuardFlag, { check: 'range' }>[] = [];
  for (let j = 0; j < ref.features.length && listed.length < MAX_LISTED_FEATURES; j++) {
    const rows = ref.outCount[j] as number;
    if (rows === 0) continue;
    const f = ref.features[j];
    if (f === undefined) continue;
    listed.push({ check: 'range', feature: f.name, row: ref.outRow[j] as number, value: short(ref.outValue[j] as number), min: f.min, max: f.max, rows });
  }
  // copied out of the reference's scratch, which the next request reuses
  return listed;
}

function rangeError(ref: GuardReference, seen: RowsInspection, listed: readonly Extract<GuardFlag, { check: 'range' }>[], margin: number) {
  const named = listed.slice(0, NAMED_IN_MESSAGE).map((f) => `feature "${f.feature}" is ${f.value} in row ${f.row}, observed ${short(f.min)} to ${short(f.max)}`);
  const rest = seen.outOfRange - named.length;
  return GuardErrors.SECURITY_INPUT_OUT_OF_RANGE(
    `input out of range: ${named.join('; ')}${rest > 0 ? `; and ${rest} more feature${rest === 1 ? '' : 's'}` : ''} — beyond what the reference profile of ${ref.model}:${ref.version} observed, widened by ${short(margin * 100)} % of each range (security.inputGuards.ranges: reject)`,
    { details: { model: ref.model, version: ref.version, margin, outOfRange: seen.outOfRange, features: listed.map(({ check: _check, ...f }) => f) } },
  );
}

function outlierError(ref: GuardReference, seen: RowsInspection, distance: number, p: number, threshold: number) {
  const model = ref.outlier;
  const d = model?.d ?? 0;
  const covariance = model?.covariance ?? 'diagonal';
  return GuardErrors.SECURITY_INPUT_OUTLIER(
    `row ${seen.maxRow} is an outlier: its Mahalanobis distance to the reference profile of ${ref.model}:${ref.version} is ${short(distance)} over ${d} feature${d === 1 ? '' : 's'} (${covariance} covariance), p-value ${shortP(p)} under ${model === undefined ? `χ²(${d})` : outlierLaw(model)} for the farthest of ${seen.scored} row${seen.scored === 1 ? '' : 's'}, below security.inputGuards.outlier.rejectPValue ${threshold}`,
    { details: { model: ref.model, version: ref.version, row: seen.maxRow, score: short(distance), pValue: shortP(p), features: d, covariance, rejectPValue: threshold } },
  );
}

/** Six significant digits: what a person reads, and short in JSON. */
function short(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

/** Four significant digits of a p-value (0 stays 0). */
function shortP(p: number): number {
  return Number.isFinite(p) ? Number(p.toPrecision(4)) : p;
}
