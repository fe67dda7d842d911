/**
 * Turns what `slipway predict --data` was given into an Open Inference Protocol request, and the
 * response into a table. A full request body (JSON with `inputs`) is sent as it is; rows (a CSV
 * file with a header, a JSON list of lists or of objects) become one input tensor named after the
 * endpoint's first input, `[rows, columns]`, in that input's datatype.
 */
import type { InferenceRequestBody } from '../control/index.js';
import type { OipInferenceResponse, OipTensorMetadata } from '../serving/index.js';
import { tensorCell, type TabularCell } from '../serving/tabular.js';
import { parseCsv } from './csv.js';
import { CliErrors } from './errors.js';

type Cell = TabularCell;

/** Rows of values, with column names when the data had them. */
export interface Rows {
  readonly columns: readonly string[] | undefined;
  readonly rows: readonly (readonly unknown[])[];
  /** Values of the --target column, dropped from `rows`. */
  readonly target: readonly unknown[] | undefined;
}

/** The --data value, read: a full request, or rows. */
export type PredictData = { readonly kind: 'request'; readonly request: InferenceRequestBody } | { readonly kind: 'rows'; readonly data: Rows };

function dropTarget(columns: readonly string[], rows: readonly (readonly unknown[])[], target: string | undefined): Rows {
  if (target === undefined) return { columns, rows, target: undefined };
  const at = columns.indexOf(target);
  if (at < 0) throw CliErrors.CLI_USAGE(`--target ${JSON.stringify(target)} is not a column of the data (columns: ${columns.join(', ')})`);
  return {
    columns: columns.filter((_, i) => i !== at),
    rows: rows.map((r) => r.filter((_, i) => i !== at)),
    target: rows.map((r) => r[at]),
  };
}

/** Reads CSV text: a header row, then one row per example. */
export function rowsFromCsv(text: string, target: string | undefined): Rows {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined || rows.length === 0) throw CliErrors.CLI_INVALID_DATA('CSV: expected a header row and at least one data row');
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw CliErrors.CLI_INVALID_DATA(`CSV row ${i + 1} has ${r.length} cells; the header has ${header.length}`);
  });
  return dropTarget(header.map((h) => h.trim()), rows, target);
}

/** Reads parsed JSON: a request body (an object with `inputs`), or rows. */
export function dataFromJson(value: unknown, target: string | undefined): PredictData {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const inputs = (value as { inputs?: unknown }).inputs;
    if (!Array.isArray(inputs)) {
      throw CliErrors.CLI_INVALID_DATA('a JSON object for --data must be an Open Inference Protocol request with "inputs" (or give a list of rows)');
    }
    if (target !== undefined) throw CliErrors.CLI_USAGE('--target applies to rows (CSV, or a JSON list), not to a full request body');
    return { kind: 'request', request: value as InferenceRequestBody };
  }
  if (!Array.isArray(value) || value.length === 0) throw CliErrors.CLI_INVALID_DATA('--data JSON must be a request object or a non-empty list of rows');
  const list: unknown[] = value;
  if (list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    const records = list as Record<string, unknown>[];
    const columns = Object.keys(records[0] ?? {});
    const rows = records.map((r, i) => {
      const missing = columns.filter((c) => !(c in r));
      if (missing.length > 0) throw CliErrors.CLI_INVALID_DATA(`row ${i + 1} lacks ${missing.map((c) => `"${c}"`).join(', ')}`);
      return columns.map((c) => r[c]);
    });
    return { kind: 'rows', data: dropTarget(columns, rows, target) };
  }
  if (target !== undefined) throw CliErrors.CLI_USAGE('--target needs named columns: a CSV file or a JSON list of objects');
  const rows = list.every((r) => Array.isArray(r)) ? (list as unknown[][]) : [list];
  rows.forEach((r, i) => {
    if (r.length !== rows[0]?.length) throw CliErrors.CLI_INVALID_DATA(`row ${i + 1} has ${r.length} values; row 1 has ${rows[0]?.length ?? 0}`);
  });
  return { kind: 'rows', data: { columns: undefined, rows, target: undefined } };
}

function convert(raw: unknown, datatype: string, where: () => string): Cell {
  return tensorCell(raw, datatype, where, (message) => CliErrors.CLI_INVALID_DATA(message));
}

/** Builds the request for rows: one input, named and typed after the endpoint's first input. */
export function requestFromRows(endpoint: string, data: Rows, inputs: readonly OipTensorMetadata[]): InferenceRequestBody {
  const input = inputs[0];
  if (input === undefined) throw CliErrors.CLI_INVALID_DATA(`endpoint ${endpoint} declares no inputs`);
  if (inputs.length > 1) {
    throw CliErrors.CLI_INVALID_DATA(
      `endpoint ${endpoint} takes ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); rows fill only one — send a full request body instead (--data @request.json)`,
    );
  }
  const rank = input.shape.length;
  const columns = data.rows[0]?.length ?? 0;
  const fixedWidth = rank === 2 ? (input.shape[1] ?? -1) : rank === 1 ? 1 : -1;
  if (rank !== 1 && rank !== 2) {
    throw CliErrors.CLI_INVALID_DATA(
      `input ${input.name} has shape [${input.shape.join(', ')}]: rows fit only inputs of rank 1 or 2 — send a full request body instead (--data @request.json)`,
    );
  }
  if (fixedWidth >= 0 && columns !== fixedWidth) {
    const hint = columns === fixedWidth + 1 && data.columns !== undefined ? ' — is one of them the label? drop it with --target COLUMN' : '';
    throw CliErrors.CLI_INVALID_DATA(`input ${input.name} takes ${fixedWidth} value${fixedWidth === 1 ? '' : 's'} per row; the data has ${columns} column${columns === 1 ? '' : 's'}${hint}`);
  }
  const values: Cell[] = [];
  data.rows.forEach((row, r) =>
    row.forEach((cell, c) => values.push(convert(cell, input.datatype, () => `row ${r + 1}, column ${data.columns?.[c] ?? c + 1}`))),
  );
  return {
    inputs: [{ name: input.name, datatype: input.datatype, shape: rank === 1 ? [data.rows.length] : [data.rows.length, columns], data: values }],
  };
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export interface PredictionTable {
  readonly headers: string[];
  readonly rows: string[][];
  /** Outputs that are not one value set per row, printed as `name [shape]: values`. */
  readonly others: string[];
}

/** Lays the response out one row per example: each output's values per row become columns. */
export function predictionTable(response: OipInferenceResponse, target: readonly unknown[] | undefined): PredictionTable {
  const batch = target?.length ?? response.outputs[0]?.shape[0] ?? 0;
  const headers = ['ROW'];
  const columns: ((row: number) => string)[] = [];
  const others: string[] = [];
  for (const out of response.outputs) {
    const rowSize = out.shape.slice(1).reduce((a, b) => a * b, 1);
    if (out.shape.length === 0 || out.shape[0] !== batch || out.data.length !== batch * rowSize) {
      const shown = out.data.slice(0, 20).map(formatValue).join(', ');
      others.push(`${out.name} [${out.shape.join(', ')}]: ${shown}${out.data.length > 20 ? ', …' : ''}`);
      continue;
    }
    if (rowSize === 1) {
      headers.push(out.name);
      columns.push((r) => formatValue(out.data[r]));
    } else if (out.shape.length === 2 && rowSize <= 16) {
      for (let j = 0; j < rowSize; j++) {
        headers.push(`${out.name}[${j}]`);
        columns.push((r) => formatValue(out.data[r * rowSize + j]));
      }
    } else {
      headers.push(out.name);
      columns.push((r) => {
        const text = out.data.slice(r * rowSize, (r + 1) * rowSize).map(formatValue).join(' ');
        return text.length > 60 ? `${text.slice(0, 59)}…` : text;
      });
    }
  }
  if (target !== undefined) headers.push('TARGET');
  const rows: string[][] = [];
  for (let r = 0; r < batch; r++) rows.push([String(r + 1), ...columns.map((f) => f(r)), ...(target === undefined ? [] : [formatValue(target[r])])]);
  return { headers, rows, others };
}
