/**
 * A reference profile compiled for the input guards, once per profile: the numeric features to
 * read from a request (by input and column, as the drift monitor reads them), their observed
 * ranges, and the outlier model — the mean and the Cholesky factor of the shrunk covariance
 * (or, for a profile without a covariance, the features' own means and standard deviations).
 *
 * {@link inspectRows} then reads every row once: a range check per feature and a squared
 * Mahalanobis distance per row in O(d²/2), into scratch arrays owned by the compiled reference, so
 * a request that raises nothing allocates one small result object.
 */
import { float16BitsToNumber, type Tensor } from '../../core/index.js';
import { PROFILE_COVARIANCE_MIN_ROWS, type ReferenceProfile } from '../../monitoring/profiles/types.js';
import { choleskyPacked, packedIndex, shrinkTowardDiagonal } from '../../stats/index.js';

/** A numeric feature the guards read: where it is in a request and the range the profile observed. */
export interface GuardFeature {
  readonly name: string;
  readonly input: string;
  /** Index into {@link GuardReference.inputs}. */
  readonly slot: number;
  /** Column of a [batch, k] input; null for a [batch] input. */
  readonly column: number | null;
  readonly min: number;
  readonly max: number;
}

/** How the outlier score measures distance. */
export interface OutlierModel {
  /** `full`: the profile's covariance (shrunk); `diagonal`: each feature's own variance only. */
  readonly covariance: 'full' | 'diagonal';
  /** Dimensions (the first degrees of freedom of the distance's law). */
  readonly d: number;
  /** Rows the full covariance was estimated from (n of the F(d, n − d) law); null for the diagonal. */
  readonly referenceRows: number | null;
  /** Index into {@link GuardReference.features} of each dimension. */
  readonly dims: Int32Array;
  readonly mean: Float64Array;
  /** Packed Cholesky factor of the covariance (full), or the standard deviations (diagonal). */
  readonly factor: Float64Array;
  /** The shrinkage intensity used (full only; raised above the profile's when that was not positive definite). */
  readonly shrinkage: number;
}

/** A profile compiled for the guards. */
export interface GuardReference {
  readonly model: string;
  readonly version: number;
  /** Model inputs the features come from, in profile order. */
  readonly inputs: readonly string[];
  readonly features: readonly GuardFeature[];
  /** Undefined when no feature has spread to measure distance by. */
  readonly outlier: OutlierModel | undefined;
  /** Scratch: one row's feature values. */
  readonly row: Float64Array;
  /** Scratch: the forward substitution's solution. */
  readonly solved: Float64Array;
  /** Scratch per feature: rows out of range, the first such row, and its value. */
  readonly outCount: Int32Array;
  readonly outRow: Int32Array;
  readonly outValue: Float64Array;
}

/** Times the shrinkage is raised (toward λ = 1) before a covariance that is not positive definite falls back to the diagonal. */
const SHRINKAGE_RETRIES = 8;

/** Compiles a profile for the guards; pure. */
export function compileGuardReference(profile: ReferenceProfile): GuardReference {
  const inputs: string[] = [];
  const features: GuardFeature[] = [];
  /** profile feature index → guard feature index */
  const byProfileIndex = new Map<number, number>();
  profile.features.forEach((f, i) => {
    if (f.kind !== 'numeric' || f.count === 0 || !Number.isFinite(f.min) || !Number.isFinite(f.max)) return;
    let slot = inputs.indexOf(f.input);
    if (slot < 0) slot = inputs.push(f.input) - 1;
    byProfileIndex.set(i, features.length);
    features.push({ name: f.name, input: f.input, slot, column: f.column, min: f.min, max: f.max });
  });
  const outlier = fullModel(profile, byProfileIndex) ?? diagonalModel(profile, byProfileIndex);
  const n = features.length;
  return {
    model: profile.model,
    version: profile.version,
    inputs,
    features,
    outlier,
    row: new Float64Array(n),
    solved: new Float64Array(outlier?.d ?? 0),
    outCount: new Int32Array(n),
    outRow: new Int32Array(n),
    outValue: new Float64Array(n),
  };
}

/** The profile's covariance, shrunk and factored; undefined when it has none or it cannot be used. */
function fullModel(profile: ReferenceProfile, byProfileIndex: ReadonlyMap<number, number>): OutlierModel | undefined {
  const c = profile.covariance;
  if (c === undefined || c === null) return undefined;
  const d = c.features.length;
  if (d === 0 || c.mean.length !== d || c.matrix.length !== (d * (d + 1)) / 2) return undefined;
  const dims = new Int32Array(d);
  for (let i = 0; i < d; i++) {
    const at = byProfileIndex.get(c.features[i] as number);
    if (at === undefined) return undefined;
    dims[i] = at;
  }
  if (!c.mean.every(Number.isFinite) || !c.matrix.every(Number.isFinite)) return undefined;
  let lambda = Math.min(1, Math.max(0, c.shrinkage));
  for (let attempt = 0; attempt <= SHRINKAGE_RETRIES; attempt++) {
    const factor = choleskyPacked(shrinkTowardDiagonal(c.matrix, d, lambda), d);
    if (factor !== undefined) return { covariance: 'full', d, dims, referenceRows: c.rows, mean: Float64Array.from(c.mean), factor, shrinkage: lambda };
    // not positive definite even shrunk (rounding, a near-constant feature): move toward the diagonal
    lambda = attempt === SHRINKAGE_RETRIES - 1 ? 1 : 1 - (1 - lambda) / 4;
  }
  return undefined;
}

/**
 * Each feature's own mean and standard deviation: what profiles without a covariance offer. A
 * feature with fewer than {@link PROFILE_COVARIANCE_MIN_ROWS} values takes no part.
 */
function diagonalModel(profile: ReferenceProfile, byProfileIndex: ReadonlyMap<number, number>): OutlierModel | undefined {
  const dims: number[] = [];
  const mean: number[] = [];
  const std: number[] = [];
  profile.features.forEach((f, i) => {
    const at = byProfileIndex.get(i);
    // too few values to estimate a spread by: no verdict rather than a made-up one (STATISTICS.md)
    if (f.kind !== 'numeric' || at === undefined || f.count < PROFILE_COVARIANCE_MIN_ROWS || !(f.std > 0) || !Number.isFinite(f.mean)) return;
    dims.push(at);
    mean.push(f.mean);
    std.push(f.std);
  });
  if (dims.length === 0) return undefined;
  return { covariance: 'diagonal', d: dims.length, referenceRows: null, dims: Int32Array.from(dims), mean: Float64Array.from(mean), factor: Float64Array.from(std), shrinkage: 1 };
}

/** What one request's rows showed. */
export interface RowsInspection {
  readonly rows: number;
  /** Features with at least one row out of range (their counts are in the reference's scratch). */
  readonly outOfRange: number;
  /** Rows that got a distance (a row with a non-finite value in a dimension gets none). */
  readonly scored: number;
  /** The largest squared Mahalanobis distance, and its row (-1 when none was scored). */
  readonly maxDistanceSquared: number;
  readonly maxRow: number;
}

/** The value of element `i` of a tensor as a number. */
function numberAt(t: Tensor, i: number): number {
  const v = (t.data as ArrayLike<number | bigint | string>)[i];
  if (typeof v === 'number') return t.datatype === 'FP16' ? float16BitsToNumber(v) : v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

/**
 * Reads every row of a request through the compiled reference: with `margin` ≥ 0 the range
 * check (a value below min − margin·(max − min) or above max + margin·(max − min) is out of
 * range), with `score` the largest squared distance. Undefined when the request's layout is not
 * the profile's (an input missing, a column beyond the tensor's width, inputs of different row
 * counts): the guards then have nothing to say about it. Not reentrant (it uses the reference's
 * scratch), which a synchronous caller on one thread never is.
 */
export function inspectRows(ref: GuardReference, inputs: readonly Tensor[], margin: number | undefined, score: boolean): RowsInspection | undefined {
  const tensors: Tensor[] = [];
  let rows = -1;
  for (const name of ref.inputs) {
    let t: Tensor | undefined;
    for (const candidate of inputs) if (candidate.name === name) t = candidate;
    if (t === undefined || t.shape.length > 2) return undefined;
    const r = t.shape.length === 0 ? 1 : (t.shape[0] as number);
    if (rows >= 0 && r !== rows) return undefined;
    rows = r;
    tensors.push(t);
  }
  const { features, row, outCount, outRow, outValue } = ref;
  for (const f of features) {
    const t = tensors[f.slot] as Tensor;
    const width = t.shape.length === 2 ? (t.shape[1] as number) : 1;
    if (f.column === null ? t.shape.length === 2 && width !== 1 : t.shape.length !== 2 || f.column >= width) return undefined;
  }
  const checkRanges = margin !== undefined && margin >= 0;
  if (checkRanges) outCount.fill(0);
  const model = score ? ref.outlier : undefined;
  let outOfRange = 0;
  let scored = 0;
  let maxDistanceSquared = -1;
  let maxRow = -1;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < features.length; j++) {
      const f = features[j] as GuardFeature;
      const t = tensors[f.slot] as Tensor;
      row[j] = numberAt(t, f.column === null ? r : r * (t.shape[1] as number) + f.column);
    }
    if (checkRanges) {
      for (let j = 0; j < features.length; j++) {
        const f = features[j] as GuardFeature;
        const x = row[j] as number;
        const slack = margin * (f.max - f.min);
        // NaN compares false both ways: a non-finite value is the non-finite guard's to judge
        if (x < f.min - slack || x > f.max + slack) {
          if (outCount[j] === 0) {
            outRow[j] = r;
            outValue[j] = x;
            outOfRange++;
          }
          outCount[j] = (outCount[j] as number) + 1;
        }
      }
    }
    if (model !== undefined) {
      const d2 = distanceSquared(model, row, ref.solved);
      if (Number.isFinite(d2)) {
        scored++;
        if (d2 > maxDistanceSquared) {
          maxDistanceSquared = d2;
          maxRow = r;
        }
      }
    }
  }
  return { rows, outOfRange, scored, maxDistanceSquared: Math.max(0, maxDistanceSquared), maxRow };
}

/** One row's squared distance (NaN when a dimension's value is not finite). */
function distanceSquared(model: OutlierModel, row: Float64Array, solved: Float64Array): number {
  const { d, dims, mean, factor } = model;
  let total = 0;
  if (model.covariance === 'diagonal') {
    for (let i = 0; i < d; i++) {
      const z = ((row[dims[i] as number] as number) - (mean[i] as number)) / (factor[i] as number);
      total += z * z;
    }
    return Number.isFinite(total) ? total : NaN;
  }
  // forward substitution L·y = x − μ through the dimension map (src/stats mahalanobisSquared, inlined for the map)
  for (let i = 0; i < d; i++) {
    const base = packedIndex(i, 0);
    let v = (row[dims[i] as number] as number) - (mean[i] as number);
    for (let k = 0; k < i; k++) v -= (factor[base + k] as number) * (solved[k] as number);
    const y = v / (factor[base + i] as number);
    solved[i] = y;
    total += y * y;
  }
  return Number.isFinite(total) ? total : NaN;
}
