/**
 * Summarises a response's output tensors into what a prediction record keeps: per output its
 * datatype and shape, and for the first rows the label, value or argmax — enough to join feedback
 * labels to, small enough to keep for every request, and cheap enough to compute on the request path
 * (at most `maxRows` × `maxRowWidth` elements are read per output).
 */
import { float16BitsToNumber, type Datatype, type Tensor, type TensorData } from '../../core/index.js';
import type { OutputKind, OutputsSummary, OutputSummary, PredictedValue } from '../types.js';

export interface OutputSummaryOptions {
  /** Rows whose values are kept per output. Default 16. */
  readonly maxRows?: number;
  /** Outputs summarised; the rest are only counted. Default 16. */
  readonly maxOutputs?: number;
  /** Longest string label kept, in characters; longer ones are cut. Default 256. */
  readonly maxStringLength?: number;
  /** Widest row an argmax is taken over; wider outputs are summarised as `tensor`. Default 4096. */
  readonly maxRowWidth?: number;
}

export const OUTPUT_SUMMARY_DEFAULTS = Object.freeze({ maxRows: 16, maxOutputs: 16, maxStringLength: 256, maxRowWidth: 4096 });

/** The summary of a response with no outputs (an error, or nothing requested). */
export const EMPTY_OUTPUTS_SUMMARY: OutputsSummary = Object.freeze({ rows: null, predicted: null, tensors: Object.freeze([]), omitted: 0 });

const FLOATS: ReadonlySet<Datatype> = new Set(['FP16', 'FP32', 'FP64']);

/**
 * The text a label or prediction is compared as: a number in JavaScript's shortest form (`1`,
 * `0.25`), a string as it is. So the label `1` equals the prediction `1` and the label `"1"`.
 */
export function labelText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The value of element `i` as a JS number or string; 64-bit integers beyond 2^53 become strings. */
export function elementAt(datatype: Datatype, data: TensorData, i: number): number | string {
  const raw = data[i];
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'bigint') return raw >= MIN_SAFE && raw <= MAX_SAFE ? Number(raw) : raw.toString();
  if (raw === undefined) return NaN;
  return datatype === 'FP16' ? float16BitsToNumber(raw) : raw;
}

/** Floats as JSON can hold them: single and half precision rounded to what they carry (7 digits), non-finite as null. */
export function floatValue(datatype: Datatype, x: number): number | null {
  if (!Number.isFinite(x)) return null;
  return datatype === 'FP64' ? x : Number(x.toPrecision(7));
}

/** Whether a datatype's values are floats (summarised rounded, as `value` when one per row). */
export function isFloatDatatype(datatype: Datatype): boolean {
  return FLOATS.has(datatype);
}

/**
 * How an output is summarised: by the width of its rows (`rowWidth`: 1 for scalars and vectors, the
 * second dimension of a matrix, -1 for rank ≥ 3), and `tensor` — datatype and shape only — when its
 * `length` elements cannot hold its `rows` rows (a malformed tensor is never read past its data).
 */
export function outputKind(datatype: Datatype, rows: number, rowWidth: number, length: number, maxRowWidth: number): OutputKind {
  let kind: OutputKind;
  if (rowWidth === 1) kind = FLOATS.has(datatype) ? 'value' : 'label';
  else if (rowWidth >= 2 && rowWidth <= maxRowWidth && datatype !== 'BYTES') kind = 'scores';
  else return 'tensor';
  return length < rows * rowWidth ? 'tensor' : kind;
}

/** The width of an output's rows by its shape: 1 for scalars and vectors, the second dimension of a matrix, -1 for rank ≥ 3. */
export function rowWidthOf(rank: number, second: number | undefined): number {
  return rank <= 1 ? 1 : rank === 2 ? (second ?? 0) : -1;
}

/** The column of the highest of `rowWidth` scores at `data[start …]`; -1 when none is a number. NaN never wins; the first of equal maxima does. */
export function argmaxAt(datatype: Datatype, data: TensorData, start: number, rowWidth: number): number {
  let best = -1;
  let top = -Infinity;
  for (let c = 0; c < rowWidth; c++) {
    const x = Number(elementAt(datatype, data, start + c));
    if (x > top) {
      top = x;
      best = c;
    }
  }
  return best;
}

type MutableSummary = { -readonly [K in keyof OutputSummary]: OutputSummary[K] };

/** Rows of an output: its first dimension, 1 for a scalar. */
function rowsOf(t: Tensor): number {
  return t.shape.length === 0 ? 1 : (t.shape[0] ?? 0);
}

/** `length`: how many elements the output had, when `t.data` holds only the rows a summary reads (a captured copy). */
function summarizeTensor(t: Tensor, o: ResolvedSummaryOptions, length: number = t.data.length): OutputSummary {
  const shape = [...t.shape];
  const rows = rowsOf(t);
  const rowWidth = rowWidthOf(shape.length, shape[1]);
  const kind = outputKind(t.datatype, rows, rowWidth, length, o.maxRowWidth);
  // Built by assignment, not object spread: spreads of varying shapes cost microseconds per
  // request on the hot path (measured), plain stores cost nanoseconds.
  const summary: MutableSummary = { name: t.name, datatype: t.datatype, shape, kind };
  if (kind === 'tensor') return summary;

  const kept = Math.min(rows, o.maxRows);
  let truncated = rows > kept;
  const values: (string | number | null)[] = [];
  if (kind === 'scores') {
    const scores: (number | null)[] = [];
    const isFloat = FLOATS.has(t.datatype);
    for (let r = 0; r < kept; r++) {
      const best = argmaxAt(t.datatype, t.data, r * rowWidth, rowWidth);
      const top = best < 0 ? -Infinity : Number(elementAt(t.datatype, t.data, r * rowWidth + best));
      values.push(best < 0 ? null : best);
      scores.push(best < 0 ? null : isFloat ? floatValue(t.datatype, top) : top);
    }
    summary.values = values;
    summary.scores = scores;
  } else {
    for (let r = 0; r < kept; r++) {
      const x = elementAt(t.datatype, t.data, r * rowWidth);
      if (kind === 'value') {
        values.push(floatValue(t.datatype, typeof x === 'number' ? x : Number(x)));
      } else if (typeof x === 'string' && x.length > o.maxStringLength) {
        values.push(x.slice(0, o.maxStringLength));
        truncated = true;
      } else {
        values.push(typeof x === 'number' && !Number.isFinite(x) ? null : x);
      }
    }
    summary.values = values;
  }
  if (truncated) summary.truncated = true;
  return summary;
}

/** Summary options with every default applied. */
export type ResolvedSummaryOptions = Readonly<Required<OutputSummaryOptions>>;

export function resolveSummaryOptions(options: OutputSummaryOptions): ResolvedSummaryOptions {
  return Object.freeze({
    maxRows: options.maxRows ?? OUTPUT_SUMMARY_DEFAULTS.maxRows,
    maxOutputs: options.maxOutputs ?? OUTPUT_SUMMARY_DEFAULTS.maxOutputs,
    maxStringLength: options.maxStringLength ?? OUTPUT_SUMMARY_DEFAULTS.maxStringLength,
    maxRowWidth: options.maxRowWidth ?? OUTPUT_SUMMARY_DEFAULTS.maxRowWidth,
  });
}

/** The prediction of a one-row response: first label output, else first scores argmax, else first value. */
export const PREDICTION_ORDER = ['label', 'scores', 'value'] as const;

function predictedOf(tensors: readonly OutputSummary[]): PredictedValue | null {
  return predictedAt(tensors, 0);
}

/**
 * The prediction of row `row` of summarised outputs, by the record's rule: the first `label`
 * output, else the first `scores` output's argmax, else the first `value` output (the first with a
 * value at that row). Reference profiles read each row's prediction with it; `row` must be among
 * the summarised rows (`maxRows`).
 */
export function predictedAt(tensors: readonly OutputSummary[], row: number): PredictedValue | null {
  for (const kind of PREDICTION_ORDER) {
    for (const t of tensors) {
      if (t.kind !== kind || t.values === undefined) continue;
      const value = t.values[row];
      if (value !== undefined && value !== null) return { output: t.name, kind, value };
    }
  }
  return null;
}

/**
 * Summarises output tensors (see docs/feedback.md for the rules). Never throws on odd tensors: an
 * output it cannot read per row is kept as `tensor` (datatype and shape only).
 */
export function summarizeOutputs(outputs: readonly Tensor[] | undefined, options: OutputSummaryOptions = {}): OutputsSummary {
  return summarize(outputs, resolveSummaryOptions(options));
}

/**
 * {@link summarizeOutputs} with its options resolved once: what the recorder calls per request, so
 * a request pays for its summary and nothing else.
 */
export function createOutputSummarizer(options: OutputSummaryOptions = {}): (outputs: readonly Tensor[] | undefined) => OutputsSummary {
  const o = resolveSummaryOptions(options);
  return (outputs) => summarize(outputs, o);
}

/**
 * The summary of outputs captured away from their request (the prediction tape): the first
 * `maxOutputs` outputs with their full shapes but only the elements a summary reads, `lengths[i]`
 * the element count output i had, `total` the outputs the response had. The same summary as
 * {@link summarizeOutputs} of the whole outputs.
 */
export function summarizeCaptured(outputs: readonly Tensor[], lengths: readonly number[], total: number, o: ResolvedSummaryOptions): OutputsSummary {
  return summarize(outputs, o, lengths, total);
}

function summarize(outputs: readonly Tensor[] | undefined, o: ResolvedSummaryOptions, lengths?: readonly number[], total?: number): OutputsSummary {
  if (outputs === undefined || (total ?? outputs.length) === 0) return EMPTY_OUTPUTS_SUMMARY;
  const tensors: OutputSummary[] = [];
  let rows: number | null | undefined;
  const n = Math.min(outputs.length, o.maxOutputs);
  for (let i = 0; i < n; i++) {
    const t = outputs[i] as Tensor;
    tensors.push(summarizeTensor(t, o, lengths?.[i] ?? t.data.length));
    const r = rowsOf(t);
    rows = rows === undefined || rows === r ? r : null;
  }
  const shared = rows ?? null;
  return { rows: shared, predicted: shared === 1 ? predictedOf(tensors) : null, tensors, omitted: Math.max(0, (total ?? outputs.length) - o.maxOutputs) };
}

/**
 * A summary as a prediction record stores it: `[rows, omitted, …tensors]`, each tensor
 * `[name, datatype, shape, kind]`, then its `values` (all kinds but `tensor`), its `scores`
 * (`scores`), and `truncated` when the summary has it. The prediction is left out: it follows from
 * the rows and tensors ({@link predictedAt}), and is put back when the text is read. About a third
 * of the object's JSON (89 bytes against 267 for a breast-cancer answer): the store's writer thread's
 * work grows with the bytes it writes for every prediction.
 */
export type StoredSummary = readonly [rows: number | null, omitted: number, ...tensors: StoredTensor[]];
type StoredTensor = readonly [name: string, datatype: string, shape: readonly number[], kind: OutputKind, ...rest: unknown[]];

/** The stored form of `summary` as a value; it shares the summary's arrays. */
export function storedSummary(summary: OutputsSummary): StoredSummary {
  const tensors = summary.tensors.map((t): StoredTensor => {
    const rest: unknown[] = [];
    if (t.values !== undefined) rest.push(t.values);
    if (t.scores !== undefined) rest.push(t.scores);
    if (t.truncated !== undefined) rest.push(t.truncated);
    return [t.name, t.datatype, t.shape, t.kind, ...rest];
  });
  return [summary.rows, summary.omitted, ...tensors];
}

/**
 * The stored form as text. The store's writer thread writes numeric answers straight from
 * their captured elements in this same text (tape.ts); this is for the rest (text outputs, records
 * summarised on the request thread) and for stores that take records.
 */
export function storedSummaryJson(summary: OutputsSummary): string {
  return JSON.stringify(storedSummary(summary));
}

const isKind = (x: unknown): x is OutputKind => x === 'label' || x === 'value' || x === 'scores' || x === 'tensor';

/**
 * The summary a stored text holds: the stored form ({@link storedSummaryJson}), or the summary's
 * own JSON, which records written before the stored form keep. Throws a TypeError naming what is
 * wrong when the text is neither (a store's rows are checked JSON, so only a changed file can).
 */
export function parseStoredSummary(text: string): OutputsSummary {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return value as OutputsSummary;
  const [rows, omitted, ...stored] = value as unknown[];
  if ((rows !== null && typeof rows !== 'number') || typeof omitted !== 'number') throw new TypeError(`a stored outputs summary starts with its rows and omitted outputs as numbers, got ${text.slice(0, 80)}`);
  const tensors = stored.map((t, i): OutputSummary => {
    if (!Array.isArray(t) || typeof t[0] !== 'string' || typeof t[1] !== 'string' || !Array.isArray(t[2]) || !isKind(t[3])) {
      throw new TypeError(`stored outputs summary tensor ${i}: expected [name, datatype, shape, kind, …], got ${JSON.stringify(t).slice(0, 80)}`);
    }
    const summary: MutableSummary = { name: t[0], datatype: t[1], shape: t[2] as number[], kind: t[3] };
    let k = 4;
    if (summary.kind !== 'tensor' && Array.isArray(t[k])) summary.values = t[k++] as (string | number | null)[];
    if (summary.kind === 'scores' && Array.isArray(t[k])) summary.scores = t[k++] as (number | null)[];
    if (typeof t[k] === 'boolean') summary.truncated = t[k] as boolean;
    return summary;
  });
  if (tensors.length === 0 && rows === null && omitted === 0) return EMPTY_OUTPUTS_SUMMARY;
  return { rows, predicted: rows === 1 ? predictedOf(tensors) : null, tensors, omitted };
}

/** The value output `t` gives row `row` under the kind its summary would have, or null; reads only that row. */
function rowValue(t: Tensor, row: number, o: ResolvedSummaryOptions, want: OutputKind): string | number | null {
  const rows = rowsOf(t);
  const rowWidth = rowWidthOf(t.shape.length, t.shape[1]);
  const kind = outputKind(t.datatype, rows, rowWidth, t.data.length, o.maxRowWidth);
  if (kind !== want || row >= Math.min(rows, o.maxRows)) return null;
  if (kind === 'scores') {
    const best = argmaxAt(t.datatype, t.data, row * rowWidth, rowWidth);
    return best < 0 ? null : best;
  }
  const x = elementAt(t.datatype, t.data, row * rowWidth);
  if (kind === 'value') return floatValue(t.datatype, typeof x === 'number' ? x : Number(x));
  if (typeof x === 'string') return x.length > o.maxStringLength ? x.slice(0, o.maxStringLength) : x;
  return Number.isFinite(x) ? x : null;
}

/**
 * `predictedAt(summarize(outputs).tensors, row)` without building the summary: the drift windows
 * read every answered row's prediction, and this reads only the elements the answer comes from.
 * The same answer for every response (the tests compare the two).
 */
export function predictedRow(outputs: readonly Tensor[], row: number, options: ResolvedSummaryOptions): PredictedValue | null {
  const n = Math.min(outputs.length, options.maxOutputs);
  for (const kind of PREDICTION_ORDER) {
    for (let i = 0; i < n; i++) {
      const t = outputs[i] as Tensor;
      const value = rowValue(t, row, options, kind);
      if (value !== null) return { output: t.name, kind, value };
    }
  }
  return null;
}
