/**
 * Feature encoding applied in front of the network, in TypeScript and (identically) in the
 * exported graph: every raw column standardised, followed by optional one-hot indicators of
 * chosen categorical columns. One-hot columns are not standardised, so each row has exactly one
 * non-zero per category column and the network sees plain 0/1 indicators.
 */
import { ExamplesErrors } from './errors.js';
import { createMatrix, type Matrix } from './matrix.js';
import { applyStandardizer, type Standardizer } from './standardize.js';

/** Indicators for one raw column: output k is 1 when the value equals `categories[k]`, else 0. */
export interface OneHotSpec {
  /** The raw feature's name (for docs and metadata). */
  readonly feature: string;
  /** The raw feature's position in the input. */
  readonly column: number;
  readonly categories: readonly number[];
}

/** How raw features become the network's input. */
export interface FeatureEncoding {
  readonly standardizer: Standardizer;
  readonly oneHot: readonly OneHotSpec[];
}

/** The width of the encoded input: the raw columns plus one per category. */
export function encodedWidth(encoding: FeatureEncoding): number {
  return encoding.standardizer.mean.length + encoding.oneHot.reduce((n, o) => n + o.categories.length, 0);
}

/** Encodes raw feature rows: standardised columns first, then each one-hot block in order. */
export function encodeFeatures(encoding: FeatureEncoding, raw: Matrix): Matrix {
  const standardized = applyStandardizer(encoding.standardizer, raw);
  if (encoding.oneHot.length === 0) return standardized;
  const width = encodedWidth(encoding);
  const out = createMatrix(raw.rows, width);
  for (let r = 0; r < raw.rows; r++) {
    out.data.set(standardized.data.subarray(r * raw.cols, (r + 1) * raw.cols), r * width);
    let offset = r * width + raw.cols;
    for (const o of encoding.oneHot) {
      if (o.column < 0 || o.column >= raw.cols) {
        throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`encoding: one-hot column ${o.column} (${o.feature}) is outside 0..${raw.cols - 1}`);
      }
      // Compare as float32, as the graph does on its float32 input.
      const value = Math.fround(raw.data[r * raw.cols + o.column] as number);
      o.categories.forEach((c, k) => {
        if (Math.fround(c) === value) out.data[offset + k] = 1;
      });
      offset += o.categories.length;
    }
  }
  return out;
}
