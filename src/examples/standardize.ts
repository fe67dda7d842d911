/**
 * Feature standardisation: subtract each column's training mean and divide by its standard
 * deviation. The exported graphs do the same with Sub and Div so clients send raw features.
 */
import { ExamplesErrors } from './errors.js';
import { createMatrix, type Matrix } from './matrix.js';

/** Per-column mean and scale fitted on the training rows. */
export interface Standardizer {
  readonly mean: Float64Array;
  /** The population standard deviation, or 1 for a constant column so it maps to 0 instead of NaN. */
  readonly scale: Float64Array;
}

/** Fits a standardiser to the columns of `x`. */
export function fitStandardizer(x: Matrix): Standardizer {
  if (x.rows === 0) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID('standardize: cannot fit on zero rows');
  const mean = new Float64Array(x.cols);
  const scale = new Float64Array(x.cols);
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) mean[c] = (mean[c] ?? 0) + (x.data[r * x.cols + c] ?? 0);
  for (let c = 0; c < x.cols; c++) mean[c] = (mean[c] ?? 0) / x.rows;
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) {
      const d = (x.data[r * x.cols + c] ?? 0) - (mean[c] ?? 0);
      scale[c] = (scale[c] ?? 0) + d * d;
    }
  }
  for (let c = 0; c < x.cols; c++) {
    const sd = Math.sqrt((scale[c] ?? 0) / x.rows);
    scale[c] = sd > 1e-12 ? sd : 1;
  }
  return { mean, scale };
}

/** Returns a new matrix with every column standardised. */
export function applyStandardizer(s: Standardizer, x: Matrix): Matrix {
  if (x.cols !== s.mean.length) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`standardize: matrix has ${x.cols} columns, the standardiser was fitted on ${s.mean.length}`);
  }
  const out = createMatrix(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) {
      const i = r * x.cols + c;
      out.data[i] = ((x.data[i] ?? 0) - (s.mean[c] ?? 0)) / (s.scale[c] ?? 1);
    }
  }
  return out;
}
