/**
 * Shadow diff: how a shadow version's answer differs from the primary's for the same request —
 * agreement of predicted labels, mean absolute and relative differences of numeric outputs,
 * outputs whose shape or datatype differ, and the latency difference — plus a running aggregate
 * of many comparisons that serialises to JSON (for status pages and the shadow-disagreement check).
 */
import { float16BitsToNumber, type Tensor } from '../../core/index.js';

/** One side of a comparison: the output tensors and, when known, how long the answer took. */
export interface ComparedResponse {
  readonly outputs: readonly Tensor[];
  readonly latencyMs?: number;
}

/** Agreement of predicted labels, row by row. */
export interface LabelAgreement {
  readonly output: string;
  /** `argmax`: per-row argmax over the last (class) dimension; `label`: the label values themselves. */
  readonly method: 'argmax' | 'label';
  readonly rows: number;
  readonly agreements: number;
  /** agreements / rows; 1 when rows is 0. */
  readonly rate: number;
}

/** Element-wise differences of one output present in both answers with the same shape. */
export interface OutputDiff {
  readonly output: string;
  readonly elements: number;
  /** Elements compared (finite on both sides, or the same non-finite value). */
  readonly compared: number;
  readonly meanAbsDiff: number;
  /** Mean of |p − s| / max(|p|, |s|) (0 when both are 0): in [0, 2], unit-free. */
  readonly meanRelDiff: number;
  readonly maxAbsDiff: number;
  /** Elements where one side is NaN or infinite and the other is not the same. */
  readonly nonFiniteMismatches: number;
  /** BYTES outputs: elements that differ (the differences above are 0 for them). */
  readonly unequal: number;
}

export type OutputMismatchKind = 'missing-in-shadow' | 'missing-in-primary' | 'shape' | 'datatype';

export interface OutputMismatch {
  readonly output: string;
  readonly kind: OutputMismatchKind;
  /** The primary's side: shape as `[2,3]` or the datatype. */
  readonly primary?: string;
  readonly shadow?: string;
}

/** The comparison of one primary answer with its shadow's. */
export interface ResponseComparison {
  /** Undefined when no output looks like a classification (a class dimension or a label). */
  readonly labels: LabelAgreement | undefined;
  /**
   * Differences pooled over the floating-point outputs compared (or over the integer ones when the
   * model has no floating-point output), weighted by element count; undefined when none compared.
   */
  readonly numeric: { readonly elements: number; readonly meanAbsDiff: number; readonly meanRelDiff: number; readonly maxAbsDiff: number } | undefined;
  readonly outputs: readonly OutputDiff[];
  readonly mismatches: readonly OutputMismatch[];
  /** shadow − primary, when both latencies are known. */
  readonly latency: { readonly primaryMs: number; readonly shadowMs: number; readonly diffMs: number } | undefined;
}

const FLOAT = new Set(['FP16', 'FP32', 'FP64']);
const LABEL_LIKE = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'BYTES']);

const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
const countOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** The i-th element as a number (FP16 bits decoded, 64-bit integers converted). NaN for BYTES. */
function numberAt(t: Tensor, i: number): number {
  const d = t.data;
  if (Array.isArray(d)) return NaN;
  if (t.datatype === 'FP16') return float16BitsToNumber((d as Uint16Array)[i] ?? 0);
  const v = d[i];
  return typeof v === 'bigint' ? Number(v) : (v ?? NaN);
}

function labelAt(t: Tensor, i: number): string | number {
  const d = t.data;
  if (Array.isArray(d)) return d[i] ?? '';
  return numberAt(t, i);
}

/** Index of the largest value in row `row` of `classes` columns; NaN counts as smallest, ties go to the first. */
function argmax(t: Tensor, row: number, classes: number): number {
  let best = -1;
  let bestValue = -Infinity;
  const base = row * classes;
  for (let c = 0; c < classes; c++) {
    const v = numberAt(t, base + c);
    if (v > bestValue || (best < 0 && !Number.isNaN(v))) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

function labelAgreement(pairs: readonly (readonly [Tensor, Tensor])[]): LabelAgreement | undefined {
  // the first output with a class dimension: numeric, rank ≥ 2, last dimension ≥ 2
  for (const [p, s] of pairs) {
    const classes = p.shape[p.shape.length - 1] ?? 0;
    if (p.datatype === 'BYTES' || s.datatype === 'BYTES' || p.shape.length < 2 || classes < 2) continue;
    const rows = countOf(p.shape) / classes;
    let agreements = 0;
    for (let r = 0; r < rows; r++) if (argmax(p, r, classes) === argmax(s, r, classes)) agreements++;
    return { output: p.name, method: 'argmax', rows, agreements, rate: rows === 0 ? 1 : agreements / rows };
  }
  // else the first label-like output: integer, bool or string, one value per row
  for (const [p, s] of pairs) {
    const perRow = p.shape.length === 1 || (p.shape.length === 2 && p.shape[1] === 1);
    if (!perRow || !LABEL_LIKE.has(p.datatype) || !LABEL_LIKE.has(s.datatype)) continue;
    const rows = countOf(p.shape);
    let agreements = 0;
    for (let i = 0; i < rows; i++) if (String(labelAt(p, i)) === String(labelAt(s, i))) agreements++;
    return { output: p.name, method: 'label', rows, agreements, rate: rows === 0 ? 1 : agreements / rows };
  }
  return undefined;
}

function diffOutput(p: Tensor, s: Tensor): OutputDiff {
  const elements = countOf(p.shape);
  if (p.datatype === 'BYTES' || s.datatype === 'BYTES') {
    let unequal = 0;
    for (let i = 0; i < elements; i++) if (String(labelAt(p, i)) !== String(labelAt(s, i))) unequal++;
    return { output: p.name, elements, compared: 0, meanAbsDiff: 0, meanRelDiff: 0, maxAbsDiff: 0, nonFiniteMismatches: 0, unequal };
  }
  let compared = 0;
  let sumAbs = 0;
  let sumRel = 0;
  let maxAbs = 0;
  let nonFinite = 0;
  for (let i = 0; i < elements; i++) {
    const a = numberAt(p, i);
    const b = numberAt(s, i);
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      // the same NaN or infinity on both sides is agreement; anything else cannot be measured
      if ((Number.isNaN(a) && Number.isNaN(b)) || a === b) compared++;
      else nonFinite++;
      continue;
    }
    const abs = Math.abs(a - b);
    const scale = Math.max(Math.abs(a), Math.abs(b));
    compared++;
    sumAbs += abs;
    sumRel += scale === 0 ? 0 : abs / scale;
    if (abs > maxAbs) maxAbs = abs;
  }
  return {
    output: p.name,
    elements,
    compared,
    meanAbsDiff: compared === 0 ? 0 : sumAbs / compared,
    meanRelDiff: compared === 0 ? 0 : sumRel / compared,
    maxAbsDiff: maxAbs,
    nonFiniteMismatches: nonFinite,
    unequal: 0,
  };
}

/**
 * Compares a primary answer with the shadow's for the same request. Outputs are matched by name;
 * one missing on either side, or with another shape, is a mismatch and is not compared; another
 * datatype is a mismatch but numeric values are still compared (FP32 against FP64, say).
 */
export function compareResponses(primary: ComparedResponse, shadow: ComparedResponse): ResponseComparison {
  const mismatches: OutputMismatch[] = [];
  const pairs: (readonly [Tensor, Tensor])[] = [];
  for (const p of primary.outputs) {
    const s = shadow.outputs.find((t) => t.name === p.name);
    if (s === undefined) {
      mismatches.push({ output: p.name, kind: 'missing-in-shadow' });
      continue;
    }
    if (p.datatype !== s.datatype) mismatches.push({ output: p.name, kind: 'datatype', primary: p.datatype, shadow: s.datatype });
    if (!sameShape(p.shape, s.shape)) {
      mismatches.push({ output: p.name, kind: 'shape', primary: shapeText(p.shape), shadow: shapeText(s.shape) });
      continue;
    }
    pairs.push([p, s]);
  }
  for (const s of shadow.outputs) {
    if (!primary.outputs.some((t) => t.name === s.name)) mismatches.push({ output: s.name, kind: 'missing-in-primary' });
  }

  const outputs = pairs.map(([p, s]) => diffOutput(p, s));
  const anyFloat = pairs.some(([p]) => FLOAT.has(p.datatype));
  let elements = 0;
  let sumAbs = 0;
  let sumRel = 0;
  let maxAbs = 0;
  pairs.forEach(([p, s], i) => {
    const d = outputs[i] as OutputDiff;
    if (p.datatype === 'BYTES' || s.datatype === 'BYTES' || (anyFloat && !FLOAT.has(p.datatype))) return;
    elements += d.compared;
    sumAbs += d.meanAbsDiff * d.compared;
    sumRel += d.meanRelDiff * d.compared;
    maxAbs = Math.max(maxAbs, d.maxAbsDiff);
  });

  const pl = primary.latencyMs;
  const sl = shadow.latencyMs;
  return {
    labels: labelAgreement(pairs),
    numeric: elements === 0 ? undefined : { elements, meanAbsDiff: sumAbs / elements, meanRelDiff: sumRel / elements, maxAbsDiff: maxAbs },
    outputs,
    mismatches,
    latency: pl === undefined || sl === undefined ? undefined : { primaryMs: pl, shadowMs: sl, diffMs: sl - pl },
  };
}

/** The running totals of many comparisons. Plain JSON: `null` where nothing was measured yet. */
export interface ShadowSummary {
  readonly comparisons: number;
  /** Comparisons with at least one missing output or a shape or datatype difference. */
  readonly mismatchedResponses: number;
  readonly missingOutputs: number;
  readonly shapeMismatches: number;
  readonly datatypeMismatches: number;
  readonly labelRows: number;
  readonly labelAgreements: number;
  /** labelAgreements / labelRows. */
  readonly agreementRate: number | null;
  readonly numericElements: number;
  readonly meanAbsDiff: number | null;
  readonly meanRelDiff: number | null;
  readonly maxAbsDiff: number | null;
  readonly latencySamples: number;
  readonly meanPrimaryLatencyMs: number | null;
  readonly meanShadowLatencyMs: number | null;
  /** Mean of shadow − primary. */
  readonly meanLatencyDiffMs: number | null;
}

/** Accumulates comparisons; `summary()` is JSON, and feeding it back to the factory resumes the totals. */
export interface ShadowAggregate {
  add(comparison: ResponseComparison): void;
  summary(): ShadowSummary;
}

/** Creates a running aggregate of shadow comparisons, optionally resuming from a stored summary. */
export function createShadowAggregate(from?: ShadowSummary): ShadowAggregate {
  let comparisons = from?.comparisons ?? 0;
  let mismatchedResponses = from?.mismatchedResponses ?? 0;
  let missingOutputs = from?.missingOutputs ?? 0;
  let shapeMismatches = from?.shapeMismatches ?? 0;
  let datatypeMismatches = from?.datatypeMismatches ?? 0;
  let labelRows = from?.labelRows ?? 0;
  let labelAgreements = from?.labelAgreements ?? 0;
  let numericElements = from?.numericElements ?? 0;
  let sumAbs = (from?.meanAbsDiff ?? 0) * numericElements;
  let sumRel = (from?.meanRelDiff ?? 0) * numericElements;
  let maxAbs = from?.maxAbsDiff ?? null;
  let latencySamples = from?.latencySamples ?? 0;
  let sumPrimary = (from?.meanPrimaryLatencyMs ?? 0) * latencySamples;
  let sumShadow = (from?.meanShadowLatencyMs ?? 0) * latencySamples;
  const mean = (sum: number, n: number): number | null => (n === 0 ? null : sum / n);
  return {
    add(c) {
      comparisons++;
      if (c.mismatches.length > 0) mismatchedResponses++;
      for (const m of c.mismatches) {
        if (m.kind === 'shape') shapeMismatches++;
        else if (m.kind === 'datatype') datatypeMismatches++;
        else missingOutputs++;
      }
      if (c.labels !== undefined) {
        labelRows += c.labels.rows;
        labelAgreements += c.labels.agreements;
      }
      if (c.numeric !== undefined) {
        numericElements += c.numeric.elements;
        sumAbs += c.numeric.meanAbsDiff * c.numeric.elements;
        sumRel += c.numeric.meanRelDiff * c.numeric.elements;
        maxAbs = Math.max(maxAbs ?? 0, c.numeric.maxAbsDiff);
      }
      if (c.latency !== undefined) {
        latencySamples++;
        sumPrimary += c.latency.primaryMs;
        sumShadow += c.latency.shadowMs;
      }
    },
    summary: () => ({
      comparisons,
      mismatchedResponses,
      missingOutputs,
      shapeMismatches,
      datatypeMismatches,
      labelRows,
      labelAgreements,
      agreementRate: mean(labelAgreements, labelRows),
      numericElements,
      meanAbsDiff: mean(sumAbs, numericElements),
      meanRelDiff: mean(sumRel, numericElements),
      maxAbsDiff: maxAbs,
      latencySamples,
      meanPrimaryLatencyMs: mean(sumPrimary, latencySamples),
      meanShadowLatencyMs: mean(sumShadow, latencySamples),
      meanLatencyDiffMs: mean(sumShadow - sumPrimary, latencySamples),
    }),
  };
}
