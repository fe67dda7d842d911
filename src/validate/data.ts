/**
 * Reading a validation dataset: a CSV whose header names the features (matched to the model's
 * inputs the way reference profiles match them, src/monitoring/profiles/reference-data.ts), an
 * optional target column (the label or value to score against), and an optional slice column.
 * Validation data is held in memory, up to `maxRows` rows: every check reads it several times.
 */
import { PlatformError, type ModelSignature, type Tensor } from '../core/index.js';
import type { FeatureValue } from '../monitoring/profiles/compute.js';
import { inputTensors, planReferenceLayout, readReferenceRow, type ReferenceLayout } from '../monitoring/profiles/reference-data.js';
import { createCsvReader } from '../serving/tabular.js';
import { ValidateErrors } from './errors.js';

/** Most rows a validation reads by default. */
export const DEFAULT_VALIDATION_MAX_ROWS = 200_000;
/** Longest CSV field accepted, in characters. */
const MAX_FIELD_CHARS = 1024 * 1024;

export interface ValidationData {
  readonly layout: ReferenceLayout;
  readonly featureNames: readonly string[];
  /** Per feature: true when it is a float input (noise, zeroing and ranges apply to these). */
  readonly numeric: readonly boolean[];
  readonly rows: number;
  /** Per row, the feature values (null where missing). */
  readonly values: readonly (readonly FeatureValue[])[];
  /** Per row: no value missing. */
  readonly complete: readonly boolean[];
  /** Per row, the target cell (trimmed), null where empty; all null without a target column. */
  readonly targets: readonly (string | null)[];
  readonly target: string | null;
  /** Per row, the slice column's cell, when one was named. */
  readonly slices: readonly (string | null)[] | null;
  readonly sliceBy: string | null;
  /** Columns neither features nor the target (ids, other labels, a slice column the model does not take). */
  readonly ignoredColumns: readonly string[];
}

export interface ReadDataOptions {
  readonly target?: string;
  readonly sliceBy?: string;
  readonly featureNames?: readonly string[];
  readonly maxRows?: number;
}

/** Profile errors about the data are the validation's: same message, VALIDATE_* code. */
function asValidateError(error: unknown): unknown {
  if (!(error instanceof PlatformError)) return error;
  if (error.code === 'MONITORING_PROFILE_UNSUPPORTED_MODEL') {
    return ValidateErrors.VALIDATE_UNSUPPORTED_MODEL(`${error.message}; validate such a model without --data (performance, stability and edge cases only)`, {
      ...(error.details === undefined ? {} : { details: error.details }),
    });
  }
  if (error.code.startsWith('MONITORING_PROFILE_')) {
    return ValidateErrors.VALIDATE_INVALID_DATA(error.message, { ...(error.details === undefined ? {} : { details: error.details }) });
  }
  return error;
}

/** Parses CSV text into rows of cells. */
function csvRows(text: string): string[][] {
  const reader = createCsvReader({ fail: (message) => ValidateErrors.VALIDATE_INVALID_DATA(message), maxFieldChars: MAX_FIELD_CHARS });
  return [...reader.push(text), ...reader.end()];
}

/**
 * Reads the dataset for a model with `signature`. Throws VALIDATE_INVALID_DATA naming the row and
 * column for a malformed file, a target or slice column that is not in the header, or a target
 * with no value in every row; VALIDATE_UNSUPPORTED_MODEL for inputs that are not one row per example.
 */
export function readValidationData(text: string, signature: ModelSignature, options: ReadDataOptions = {}): ValidationData {
  const maxRows = options.maxRows ?? DEFAULT_VALIDATION_MAX_ROWS;
  try {
    const rows = csvRows(text);
    const header = rows[0];
    if (header === undefined) throw ValidateErrors.VALIDATE_INVALID_DATA('the data is empty: expected a header row naming the columns, then one example per row');
    if (rows.length === 1) throw ValidateErrors.VALIDATE_INVALID_DATA('the data has a header but no rows: expected one example per row after it');
    if (rows.length - 1 > maxRows) {
      throw ValidateErrors.VALIDATE_TOO_MANY_ROWS(`the data has ${rows.length - 1} rows, more than the ${maxRows} a validation reads; validate on a uniform sample of them`, {
        details: { rows: rows.length - 1, maxRows },
      });
    }
    const trimmed = header.map((h) => h.trim());
    let sliceColumn: number | null = null;
    if (options.sliceBy !== undefined) {
      sliceColumn = trimmed.indexOf(options.sliceBy);
      if (sliceColumn < 0) {
        throw ValidateErrors.VALIDATE_INVALID_DATA(`slice column ${JSON.stringify(options.sliceBy)} is not a column of the data (columns: ${trimmed.map((h) => JSON.stringify(h)).join(', ')})`, {
          details: { sliceBy: options.sliceBy, columns: trimmed },
        });
      }
    }
    const layoutOptions = {
      ...(options.target === undefined ? {} : { target: options.target }),
      ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
    };
    // Columns kept for the model: with declared feature names, those and the target (others — ids,
    // other labels, the slice column when the model does not take it — are ignored and reported);
    // without them every column but the target is a feature, except a slice column the model cannot take.
    const names = options.featureNames;
    let keep: number[] = trimmed.map((_, i) => i);
    if (names !== undefined && signature.inputs.length === 1) {
      const wanted = new Set(names);
      keep = keep.filter((i) => wanted.has(trimmed[i] as string) || trimmed[i] === options.target);
    }
    let layout: ReferenceLayout;
    try {
      layout = planReferenceLayout(signature, keep.map((i) => header[i] as string), layoutOptions);
    } catch (error) {
      if (sliceColumn === null || options.sliceBy === options.target || !keep.includes(sliceColumn)) throw error;
      keep = keep.filter((i) => i !== sliceColumn);
      layout = planReferenceLayout(signature, keep.map((i) => header[i] as string), layoutOptions);
    }
    const ignoredColumns = trimmed.filter((_, i) => !keep.includes(i));
    const values: FeatureValue[][] = [];
    const complete: boolean[] = [];
    const targets: (string | null)[] = [];
    const slices: (string | null)[] | null = sliceColumn === null ? null : [];
    for (let r = 1; r < rows.length; r++) {
      const cells = rows[r] as string[];
      if (cells.length !== header.length) {
        throw ValidateErrors.VALIDATE_INVALID_DATA(`row ${r} has ${cells.length} cell${cells.length === 1 ? '' : 's'}; the header has ${header.length}`, {
          details: { row: r, cells: cells.length, expected: header.length },
        });
      }
      const row = readReferenceRow(layout, keep.map((i) => cells[i] as string), r);
      values.push(row.values);
      complete.push(row.complete);
      targets.push(row.target);
      if (slices !== null) {
        const cell = (cells[sliceColumn as number] ?? '').trim();
        slices.push(cell === '' ? null : cell);
      }
    }
    if (options.target !== undefined && targets.every((t) => t === null)) {
      throw ValidateErrors.VALIDATE_INVALID_DATA(`target column ${JSON.stringify(options.target)} is empty in every row: expected the true label or value of each example`);
    }
    return {
      layout,
      featureNames: layout.features.map((f) => f.name),
      numeric: layout.features.map((f) => f.datatype === 'FP32' || f.datatype === 'FP64' || f.datatype === 'FP16'),
      rows: values.length,
      values,
      complete,
      targets,
      target: options.target ?? null,
      slices,
      sliceBy: options.sliceBy ?? null,
      ignoredColumns,
    };
  } catch (error) {
    throw asValidateError(error);
  }
}

/** The model's input tensors for these rows of values. */
export function tensorsOf(data: Pick<ValidationData, 'layout'>, rows: readonly (readonly FeatureValue[])[]): Tensor[] {
  return inputTensors(data.layout, rows);
}
