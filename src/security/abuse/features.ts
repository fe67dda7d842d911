/**
 * One query as the extraction detector sees it: a short vector of numbers per request row, read
 * from the decoded input tensors. With a reference profile of the serving version whose numeric
 * features fit in `maxFeatures`, the vector is those features (read by input and column, as drift
 * monitoring reads them) and their scale is the profile's standard deviation. Otherwise it is every
 * number of the numeric inputs (taken in name order), averaged in contiguous blocks when there are
 * more than `maxFeatures` of them (an image is downscaled), and the detector scales it by running
 * statistics. Text inputs are left out.
 */
import { elementCount, float16BitsToNumber, type Tensor, type TensorData } from '../../core/index.js';

/** What the detector needs of a reference profile (src/monitoring/profiles): each feature's place and, for numeric ones, its spread. */
export interface ProfileScale {
  readonly features: readonly {
    readonly kind: string;
    readonly input: string;
    readonly column: number | null;
    readonly mean?: number;
    readonly std?: number;
  }[];
}

/** How one request's rows become query vectors. */
export interface QueryLayout {
  /** What the numbers mean: a caller whose layout changes (another model signature, a new profile) starts afresh. */
  readonly key: string;
  /** Numbers per query. */
  readonly dims: number;
  /** Rows in the request: one query each. */
  readonly rows: number;
  /** Where the scale comes from. */
  readonly source: 'profile' | 'running';
  /** With a profile: 1/σ² per number (1 where σ is 0), so that distances are those of standardised features. */
  readonly weights: Float64Array | undefined;
  /** Fills `out` (length `dims`) with row `row`'s numbers; false when one of them is not a finite number. */
  read(row: number, out: Float64Array): boolean;
}

/** Element `i` of a numeric tensor as a number (NaN for text). */
function numberAt(data: TensorData, i: number, fp16: boolean): number {
  const v = data[i];
  if (typeof v === 'number') return fp16 ? float16BitsToNumber(v) : v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

interface ProfilePlan {
  readonly key: string;
  readonly features: readonly { readonly input: string; readonly column: number | null }[];
  readonly weights: Float64Array;
}

/** Plans by profile object: a profile is read once, however many requests use it. */
const plans = new WeakMap<ProfileScale, { readonly maxFeatures: number; readonly plan: ProfilePlan | null }>();

function planOf(profile: ProfileScale, maxFeatures: number): ProfilePlan | null {
  const cached = plans.get(profile);
  if (cached !== undefined && cached.maxFeatures === maxFeatures) return cached.plan;
  const numeric = profile.features.filter((f) => f.kind === 'numeric' && typeof f.std === 'number' && Number.isFinite(f.std));
  let plan: ProfilePlan | null = null;
  if (numeric.length > 0 && numeric.length <= maxFeatures) {
    const weights = new Float64Array(numeric.length);
    numeric.forEach((f, j) => {
      const std = f.std as number;
      weights[j] = std > 0 ? 1 / (std * std) : 1;
    });
    plan = {
      key: `profile:${numeric.map((f) => `${f.input}[${f.column ?? ''}]`).join(',')}`,
      features: numeric.map((f) => ({ input: f.input, column: f.column })),
      weights,
    };
  }
  plans.set(profile, { maxFeatures, plan });
  return plan;
}

function rowsOf(t: Tensor): number {
  return t.shape.length === 0 ? 1 : (t.shape[0] ?? 0);
}

function profileLayout(inputs: readonly Tensor[], plan: ProfilePlan): QueryLayout | undefined {
  const sources: { readonly data: TensorData; readonly width: number; readonly column: number; readonly fp16: boolean }[] = [];
  let rows = -1;
  for (const f of plan.features) {
    const t = inputs.find((x) => x.name === f.input);
    if (t === undefined || t.datatype === 'BYTES') return undefined;
    const r = rowsOf(t);
    if (rows === -1) rows = r;
    else if (r !== rows) return undefined;
    const width = f.column === null ? 1 : (t.shape[1] ?? 1);
    const column = f.column ?? 0;
    if (column >= width || t.data.length < r * width) return undefined;
    sources.push({ data: t.data, width, column, fp16: t.datatype === 'FP16' });
  }
  if (rows <= 0) return undefined;
  return {
    key: plan.key,
    dims: sources.length,
    rows,
    source: 'profile',
    weights: plan.weights,
    read(row, out) {
      for (let j = 0; j < sources.length; j++) {
        const s = sources[j] as (typeof sources)[number];
        const v = numberAt(s.data, row * s.width + s.column, s.fp16);
        if (!Number.isFinite(v)) return false;
        out[j] = v;
      }
      return true;
    },
  };
}

function flatLayout(inputs: readonly Tensor[], maxFeatures: number): QueryLayout | undefined {
  const numeric = inputs.filter((t) => t.datatype !== 'BYTES').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (numeric.length === 0) return undefined;
  const rows = rowsOf(numeric[0] as Tensor);
  if (rows <= 0) return undefined;
  const parts: { readonly data: TensorData; readonly width: number; readonly fp16: boolean }[] = [];
  let total = 0;
  for (const t of numeric) {
    if (rowsOf(t) !== rows) return undefined;
    const count = elementCount(t.shape);
    const width = count / rows;
    if (!Number.isInteger(width) || width < 1 || t.data.length < count) return undefined;
    parts.push({ data: t.data, width, fp16: t.datatype === 'FP16' });
    total += width;
  }
  const dims = Math.min(total, maxFeatures);
  // element g of a row (counted across the inputs) is averaged into block ⌊g·dims/total⌋
  const perBlock = new Float64Array(dims);
  for (let g = 0; g < total; g++) (perBlock[Math.floor((g * dims) / total)] as number)++;
  for (let b = 0; b < dims; b++) perBlock[b] = 1 / (perBlock[b] as number);
  return {
    key: `flat:${numeric.map((t, i) => `${t.name}:${(parts[i] as (typeof parts)[number]).width}`).join(',')}`,
    dims,
    rows,
    source: 'running',
    weights: undefined,
    read(row, out) {
      out.fill(0);
      let g = 0;
      for (const p of parts) {
        const start = row * p.width;
        for (let k = 0; k < p.width; k++, g++) {
          const v = numberAt(p.data, start + k, p.fp16);
          if (!Number.isFinite(v)) return false;
          const b = dims === total ? g : Math.floor((g * dims) / total);
          out[b] = (out[b] as number) + v;
        }
      }
      if (dims !== total) for (let b = 0; b < dims; b++) out[b] = (out[b] as number) * (perBlock[b] as number);
      return true;
    },
  };
}

/**
 * How a request's inputs become queries: by the profile when there is one that fits (its numeric
 * features, at most `maxFeatures`), else every number of its numeric inputs reduced to at most
 * `maxFeatures`. undefined when the inputs do not hold rows it can read (no numeric input, batch
 * sizes that disagree, a profiled input missing).
 */
export function queryLayout(inputs: readonly Tensor[], profile: ProfileScale | undefined, maxFeatures: number): QueryLayout | undefined {
  const plan = profile === undefined ? null : planOf(profile, maxFeatures);
  if (plan !== null) {
    const layout = profileLayout(inputs, plan);
    if (layout !== undefined) return layout;
  }
  return flatLayout(inputs, maxFeatures);
}
