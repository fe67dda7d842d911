/**
 * Reading reference data as a model's inputs. A CSV file's header names the features; its columns
 * fill the model's inputs the way `slipway predict --data FILE.csv` fills them — in order, one
 * example per row, each cell converted for its input's datatype (src/serving/tabular.ts, shared with
 * the CLI), a `target` column left out. Beyond what predict does:
 *
 * - a model that declares `feature_names` in its ONNX metadata has its columns matched by name (in
 *   any order), so a column the model does not take or a missing feature is named;
 * - several inputs are filled one after another, in signature order (a rank-1 input takes one
 *   column, a rank-2 input [batch, k] takes k);
 * - a missing cell (empty, `NA`, `N/A`, `NaN`, `null`, `None`) or a non-finite number (`inf`,
 *   `Infinity`) is counted as missing rather than refused; an empty cell of a BYTES input is missing.
 */
import { allocateTensorData, float32ToFloat16Bits, type Datatype, type ModelSignature, type Tensor, type TensorSpec } from '../../core/index.js';
import { tensorCell, type TabularFail } from '../../serving/tabular.js';
import type { FeatureSpec, FeatureValue } from './compute.js';
import { ProfileErrors } from './errors.js';

/** Rows one inference carries when the model's batch dimension is dynamic. */
export const PROFILE_BATCH_ROWS = 256;

/** One model input and the features that fill it. */
export interface InputSlot {
  readonly spec: TensorSpec;
  /** Index of its first feature in the layout's features. */
  readonly first: number;
  /** Features it takes per row (1 for a rank-1 input). */
  readonly width: number;
}

/** How the columns of a reference file map onto a model's inputs. */
export interface ReferenceLayout {
  /** Every profiled feature, in input order, columns in order. */
  readonly features: readonly FeatureSpec[];
  /** For each feature, the index of the file column it is read from. */
  readonly sourceColumns: readonly number[];
  /** Cells every row must have (the header's width, target included). */
  readonly rowWidth: number;
  /** The file column of the target (the label), when one was named. */
  readonly targetColumn: number | null;
  readonly inputs: readonly InputSlot[];
  /** Most rows per inference: {@link PROFILE_BATCH_ROWS}, or 1 for a model with a batch of 1. */
  readonly batchRows: number;
  /** True when columns were matched by the model's `feature_names`. */
  readonly byName: boolean;
}

export interface LayoutOptions {
  /** A column to leave out (the label), as `--target` does for predict. */
  readonly target?: string;
  /** The model's declared feature names (ONNX metadata `feature_names`), if any. */
  readonly featureNames?: readonly string[];
  /** Default {@link PROFILE_BATCH_ROWS}. */
  readonly batchRows?: number;
}

const quoteList = (names: readonly string[], max = 12): string => {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
};

const shapeText = (spec: TensorSpec): string => `[${spec.shape.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]`;

/** Checks that every input holds one row per example; returns each input's width (-1: dynamic) and the batch size. */
function inputWidths(signature: ModelSignature): { widths: number[]; batch: number } {
  const { inputs } = signature;
  if (inputs.length === 0) throw ProfileErrors.MONITORING_PROFILE_UNSUPPORTED_MODEL('the model declares no inputs; there is nothing to profile');
  let batch = -1;
  const widths = inputs.map((spec) => {
    const rank = spec.shape.length;
    if (rank !== 1 && rank !== 2) {
      throw ProfileErrors.MONITORING_PROFILE_UNSUPPORTED_MODEL(
        `input "${spec.name}" has shape ${shapeText(spec)} (rank ${rank}): profiles cover inputs of rank 1 [batch] or 2 [batch, features], one row per example`,
        { details: { input: spec.name, shape: [...spec.shape] } },
      );
    }
    const first = spec.shape[0] as number;
    if (first > 1) {
      throw ProfileErrors.MONITORING_PROFILE_UNSUPPORTED_MODEL(
        `input "${spec.name}" has a fixed batch of ${first} rows (shape ${shapeText(spec)}): profiles need a dynamic batch dimension or a batch of 1`,
        { details: { input: spec.name, shape: [...spec.shape] } },
      );
    }
    if (first === 1) batch = 1;
    return rank === 1 ? 1 : (spec.shape[1] as number);
  });
  const dynamic = inputs.filter((_, i) => (widths[i] as number) < 0);
  if (dynamic.length > 1) {
    throw ProfileErrors.MONITORING_PROFILE_UNSUPPORTED_MODEL(
      `inputs ${quoteList(dynamic.map((s) => s.name))} all have a dynamic number of features: the columns cannot be shared out among them`,
    );
  }
  if (widths.some((w) => w === 0)) throw ProfileErrors.MONITORING_PROFILE_UNSUPPORTED_MODEL('an input takes 0 features per row; there is nothing to profile');
  return { widths, batch };
}

/**
 * Maps a file's header onto the model's inputs. Throws MONITORING_PROFILE_UNSUPPORTED_MODEL for
 * inputs that are not one row per example, MONITORING_PROFILE_COLUMNS_MISMATCH when the columns do
 * not fit them (naming the columns and what the model expects).
 */
export function planReferenceLayout(signature: ModelSignature, rawHeader: readonly string[], options: LayoutOptions = {}): ReferenceLayout {
  const { widths, batch } = inputWidths(signature);
  const header = rawHeader.map((h) => h.trim());
  let columns = header.map((_, i) => i);
  let targetColumn: number | null = null;
  if (options.target !== undefined) {
    const at = header.indexOf(options.target);
    if (at < 0) {
      throw ProfileErrors.MONITORING_PROFILE_COLUMNS_MISMATCH(`target ${JSON.stringify(options.target)} is not a column of the data (columns: ${quoteList(header)})`, {
        details: { target: options.target, columns: header },
      });
    }
    columns = columns.filter((i) => i !== at);
    targetColumn = at;
  }
  const seen = new Map<string, number>();
  for (const i of columns) {
    const name = header[i] as string;
    if (name === '') continue;
    const before = seen.get(name);
    if (before !== undefined) {
      throw ProfileErrors.MONITORING_PROFILE_COLUMNS_MISMATCH(`column ${JSON.stringify(name)} appears twice in the header (columns ${before + 1} and ${i + 1}); features need distinct names`, {
        details: { column: name },
      });
    }
    seen.set(name, i);
  }

  const fixed = widths.reduce((sum, w) => sum + (w > 0 ? w : 0), 0);
  const names = options.featureNames;
  // the declared names describe the columns of the one input when their number fits it
  const byName = names !== undefined && signature.inputs.length === 1 && ((widths[0] as number) < 0 || names.length === widths[0]);
  let source: number[];
  if (byName) {
    const wanted = new Set(names);
    const unknown = columns.filter((i) => !wanted.has(header[i] as string)).map((i) => header[i] as string);
    const missing = names.filter((n) => !seen.has(n));
    if (unknown.length > 0 || missing.length > 0) {
      const parts: string[] = [];
      if (unknown.length > 0) {
        const label = options.target === undefined ? ' (if one of them is the label, name it as the target)' : '';
        parts.push(`the data has ${unknown.length === 1 ? 'a column' : 'columns'} the model does not take: ${quoteList(unknown)}${label}`);
      }
      if (missing.length > 0) parts.push(`the data lacks ${missing.length === 1 ? 'the feature' : 'features'} ${quoteList(missing)}`);
      throw ProfileErrors.MONITORING_PROFILE_COLUMNS_MISMATCH(`${parts.join('; ')}. The model's feature_names are ${quoteList(names, 40)}`, {
        details: { unknownColumns: unknown, missingFeatures: missing, featureNames: [...names] },
      });
    }
    source = names.map((n) => seen.get(n) as number);
  } else {
    const dynamicAt = widths.findIndex((w) => w < 0);
    const fits = dynamicAt >= 0 ? columns.length > fixed : columns.length === fixed;
    if (!fits) {
      const takes = signature.inputs.map((s, i) => `${s.name} ${shapeText(s)}: ${(widths[i] as number) < 0 ? 'a variable number' : String(widths[i])}`).join(', ');
      const expected = dynamicAt >= 0 ? `more than ${fixed}` : String(fixed);
      const hint = columns.length === fixed + 1 && dynamicAt < 0 && options.target === undefined ? ' — is one of them the label? name it as the target (--target COLUMN) to leave it out' : '';
      throw ProfileErrors.MONITORING_PROFILE_COLUMNS_MISMATCH(
        `the model's inputs take ${expected} value${expected === '1' ? '' : 's'} per row (${takes}); the data has ${columns.length} column${columns.length === 1 ? '' : 's'}${hint}`,
        { details: { expected: dynamicAt >= 0 ? null : fixed, columns: columns.map((i) => header[i]) } },
      );
    }
    if (dynamicAt >= 0) widths[dynamicAt] = columns.length - fixed;
    source = columns;
  }

  const features: FeatureSpec[] = [];
  const inputs: InputSlot[] = [];
  let next = 0;
  signature.inputs.forEach((spec, k) => {
    const width = widths[k] as number;
    inputs.push({ spec, first: next, width });
    for (let j = 0; j < width; j++) {
      const name = header[source[next] as number] ?? '';
      features.push({
        name: name === '' ? `${spec.name}[${j}]` : name,
        input: spec.name,
        column: spec.shape.length === 1 ? null : j,
        datatype: spec.datatype,
      });
      next++;
    }
  });
  return {
    features,
    sourceColumns: source,
    rowWidth: header.length,
    targetColumn,
    inputs,
    batchRows: batch === 1 ? 1 : (options.batchRows ?? PROFILE_BATCH_ROWS),
    byName: byName === true,
  };
}

/** Cells read as missing in every input but BYTES (case does not matter). */
const MISSING_CELLS: ReadonlySet<string> = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
/** Cells of non-finite numbers, counted as missing like NaN. */
const NON_FINITE_CELLS: ReadonlySet<string> = new Set(['inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity']);

/** True when `cell` counts as missing for an input of `datatype`. */
export function isMissingCell(cell: string, datatype: Datatype): boolean {
  if (datatype === 'BYTES') return cell === '';
  // the common case first: a cell that starts with a digit is a number or a mistake, never missing
  const first = cell.charCodeAt(0);
  if (first >= 48 && first <= 57) return false;
  const t = cell.trim().toLowerCase();
  return MISSING_CELLS.has(t) || NON_FINITE_CELLS.has(t);
}

const invalid: TabularFail = (message) => ProfileErrors.MONITORING_PROFILE_INVALID_DATA(message);

/** A data row read for the layout's features. */
export interface ReferenceRow {
  readonly values: FeatureValue[];
  /** True when no value is missing (the row can be sent to the model). */
  readonly complete: boolean;
  /** The target cell, trimmed; null without a target column or when the cell is empty. */
  readonly target: string | null;
}

/**
 * Reads data row `rowNumber` (1-based, the header not counted). Throws
 * MONITORING_PROFILE_INVALID_DATA naming the row and column for a wrong number of cells or a cell
 * that is not a value of its input's datatype.
 */
export function readReferenceRow(layout: ReferenceLayout, cells: readonly string[], rowNumber: number): ReferenceRow {
  if (cells.length !== layout.rowWidth) {
    throw ProfileErrors.MONITORING_PROFILE_INVALID_DATA(`row ${rowNumber} has ${cells.length} cell${cells.length === 1 ? '' : 's'}; the header has ${layout.rowWidth}`, {
      details: { row: rowNumber, cells: cells.length, expected: layout.rowWidth },
    });
  }
  const values: FeatureValue[] = new Array<FeatureValue>(layout.features.length);
  let complete = true;
  for (let f = 0; f < layout.features.length; f++) {
    const spec = layout.features[f] as FeatureSpec;
    const cell = cells[layout.sourceColumns[f] as number] as string;
    if (isMissingCell(cell, spec.datatype)) {
      values[f] = null;
      complete = false;
      continue;
    }
    values[f] = tensorCell(cell, spec.datatype, () => `row ${rowNumber}, column ${JSON.stringify(spec.name)}`, invalid);
  }
  const targetCell = layout.targetColumn === null ? '' : (cells[layout.targetColumn] ?? '').trim();
  return { values, complete, target: targetCell === '' ? null : targetCell };
}

/** Writes one value into a tensor's data at `i`, in the representation its datatype uses. */
function put(data: Tensor['data'], datatype: Datatype, i: number, value: FeatureValue): void {
  if (Array.isArray(data)) {
    data[i] = typeof value === 'string' ? value : String(value);
    return;
  }
  const n = typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'number' ? value : 0;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.trunc(n));
  else if (datatype === 'FP16') data[i] = float32ToFloat16Bits(n);
  else data[i] = n;
}

/** The model's input tensors for complete rows (in order), one batch. */
export function inputTensors(layout: ReferenceLayout, rows: readonly (readonly FeatureValue[])[]): Tensor[] {
  return layout.inputs.map((slot) => {
    const { spec, first, width } = slot;
    const data = allocateTensorData(spec.datatype, rows.length * width);
    rows.forEach((row, r) => {
      for (let j = 0; j < width; j++) put(data, spec.datatype, r * width + j, row[first + j] ?? null);
    });
    return { name: spec.name, datatype: spec.datatype, shape: spec.shape.length === 1 ? [rows.length] : [rows.length, width], data };
  });
}
