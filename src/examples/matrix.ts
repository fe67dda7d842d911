/**
 * A dense row-major matrix of float64 values: the one data shape the training library uses.
 * Plain Float64Array maths keeps training deterministic and free of native dependencies.
 */
import { ExamplesErrors } from './errors.js';

/** A dense row-major matrix: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Creates a matrix, zero-filled or over the given data (which must hold rows × cols values). */
export function createMatrix(rows: number, cols: number, data?: Float64Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`matrix: rows and cols must be non-negative integers, got ${rows} × ${cols}`);
  }
  const values = data ?? new Float64Array(rows * cols);
  if (values.length !== rows * cols) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`matrix: ${values.length} values do not fill ${rows} × ${cols}`);
  }
  return { rows, cols, data: values };
}

/** Builds a matrix from an array of equal-length rows. */
export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const m = createMatrix(rows.length, cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`matrix: row ${i} has ${r.length} values, expected ${cols}`);
    m.data.set(r, i * cols);
  });
  return m;
}

/** A view of one row (shares memory with the matrix). */
export function matrixRow(m: Matrix, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** Copies the listed rows, in the listed order, into a new matrix. */
export function takeRows(m: Matrix, indices: readonly number[]): Matrix {
  const out = createMatrix(indices.length, m.cols);
  indices.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`matrix: row index ${r} is outside 0..${m.rows - 1}`);
    out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  });
  return out;
}

/** Copies the listed elements of a vector, in the listed order. */
export function takeValues(v: ArrayLike<number>, indices: readonly number[]): Float64Array {
  const out = new Float64Array(indices.length);
  indices.forEach((i, k) => {
    const value = v[i];
    if (value === undefined) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`vector: index ${i} is outside 0..${v.length - 1}`);
    out[k] = value;
  });
  return out;
}
