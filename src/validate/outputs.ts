/**
 * Reading a model's outputs as predictions for validation: per row a class label (a label output,
 * else the argmax of a scores output) or a value (a float output of one column), and class
 * probabilities when a scores output holds them (rows of values in [0, 1] that sum to 1).
 */
import { float16BitsToNumber, type Tensor } from '../core/index.js';
// the metrics' own rule for what counts as probabilities, so what is read here is what they accept
import { PROBABILITY_RANGE_TOLERANCE, PROBABILITY_SUM_TOLERANCE } from './metrics.js';


/** Elements per row of a tensor (1 for rank 1). */
export function rowWidth(t: Tensor): number {
  let w = 1;
  for (let i = 1; i < t.shape.length; i++) w *= t.shape[i] as number;
  return w;
}

const isFloat = (t: Tensor): boolean => t.datatype === 'FP32' || t.datatype === 'FP64' || t.datatype === 'FP16';

/** Element `i` of a numeric tensor as a number (FP16 decoded, 64-bit integers converted). */
export function numberAt(t: Tensor, i: number): number {
  const raw = t.data[i];
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw === 'number') return t.datatype === 'FP16' ? float16BitsToNumber(raw) : raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  return NaN;
}

/** The text a label is compared as: numbers in their shortest form (`1.0` → `1`), text trimmed. */
export function canonicalLabel(value: string | number | boolean): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  const t = value.trim();
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return String(Number(t));
  return t;
}

/** Predictions of a set of rows. */
export interface Predictions {
  readonly rows: number;
  /** What a row's prediction is: a class label, a value, or nothing readable. */
  readonly kind: 'label' | 'value' | 'none';
  /** Classification: each row's label (canonical text), null when not readable (NaN scores). */
  readonly labels: readonly (string | null)[];
  /** Regression: each row's value (NaN when not finite). */
  readonly values: Float64Array;
  /** Per row, the probabilities of `classes`, when the model outputs them. */
  readonly probabilities: { readonly classes: readonly string[]; readonly rows: readonly Float64Array[] } | null;
  /** Every float output element, concatenated per row in output order: what stability compares. */
  readonly floats: Float64Array;
}

/** Accumulates the outputs of successive batches into {@link Predictions}. */
export interface PredictionCollector {
  add(outputs: readonly Tensor[], rows: number): void;
  finish(): Predictions;
}

export function createPredictionCollector(): PredictionCollector {
  let rows = 0;
  const labelsRaw: (string | null)[] = [];
  const argmax: number[] = [];
  const values: number[] = [];
  const probRows: Float64Array[] = [];
  let probabilities = true;
  let scoresWidth = 0;
  const floats: number[] = [];
  let kind: Predictions['kind'] | undefined;

  return {
    add(outputs, n) {
      const label = outputs.find((t) => !isFloat(t) && rowWidth(t) === 1 && t.shape.length <= 2);
      const scores = outputs.find((t) => isFloat(t) && t.shape.length === 2 && rowWidth(t) >= 2);
      const value = outputs.find((t) => isFloat(t) && rowWidth(t) === 1);
      kind ??= label !== undefined || scores !== undefined ? 'label' : value !== undefined ? 'value' : 'none';
      for (let r = 0; r < n; r++) {
        // a label read beside scores that are not numbers (NaN in, NaN out) is not a prediction
        let scoresFinite = true;
        if (scores !== undefined) {
          const w = rowWidth(scores);
          for (let j = 0; j < w; j++) if (!Number.isFinite(numberAt(scores, r * w + j))) scoresFinite = false;
        }
        if (label !== undefined) {
          const raw = label.data[r];
          labelsRaw.push(raw === undefined || !scoresFinite ? null : canonicalLabel(typeof raw === 'bigint' ? Number(raw) : (raw)));
        }
        if (scores !== undefined) {
          const w = rowWidth(scores);
          scoresWidth = w;
          const row = new Float64Array(w);
          let best = -1;
          let sum = 0;
          for (let j = 0; j < w; j++) {
            const x = numberAt(scores, r * w + j);
            row[j] = x;
            sum += x;
            if (!Number.isFinite(x) || x < -PROBABILITY_RANGE_TOLERANCE || x > 1 + PROBABILITY_RANGE_TOLERANCE) probabilities = false;
            if (Number.isFinite(x) && (best < 0 || x > (row[best] as number))) best = j;
          }
          if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) probabilities = false;
          argmax.push(best);
          probRows.push(row);
          if (label === undefined) labelsRaw.push(best < 0 ? null : String(best));
        }
        if (value !== undefined) values.push(numberAt(value, r * rowWidth(value)));
        for (const t of outputs) {
          if (!isFloat(t)) continue;
          const w = rowWidth(t);
          for (let j = 0; j < w; j++) floats.push(numberAt(t, r * w + j));
        }
      }
      rows += n;
    },
    finish() {
      let probs: Predictions['probabilities'] = null;
      if (probabilities && probRows.length === rows && rows > 0) {
        // the class each probability column stands for: the label the model gives when that column wins
        const classes: (string | null)[] = new Array<string | null>(scoresWidth).fill(null);
        if (labelsRaw.length === rows) {
          argmax.forEach((k, r) => {
            if (k >= 0 && classes[k] === null) classes[k] = labelsRaw[r] ?? null;
          });
        }
        probs = { classes: classes.map((c, k) => c ?? String(k)), rows: probRows };
      }
      return {
        rows,
        kind: kind ?? 'none',
        labels: labelsRaw.length === rows ? labelsRaw : new Array<string | null>(rows).fill(null),
        values: Float64Array.from(values.length === rows ? values : new Array<number>(rows).fill(NaN)),
        probabilities: probs,
        floats: Float64Array.from(floats),
      };
    },
  };
}
