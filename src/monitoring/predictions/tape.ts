/**
 * The prediction tape: how the request thread hands prediction records to the thread that writes
 * them, at the least cost to itself. A record is appended as primitives — numbers into typed
 * arrays, names as indices into the tape's list of distinct texts — and its outputs as the raw
 * elements an outputs summary reads (the first `maxRows` rows), copied into one byte arena. No
 * object is made per record. The summary is computed where the tape is read ({@link readTape}),
 * with the same code and the same result as {@link summarizeOutputs} on the request thread
 * (summarizeCaptured; the tests compare the two on thousands of generated responses), or written
 * straight as the JSON a store keeps ({@link createEncodedReader}, the store writer thread's path).
 *
 * A sealed tape's typed arrays are transferred to the store's writer thread, not copied.
 */
import { allocateTensorData, jsonName, jsonNumber, jsonScalar, type Datatype, type Tensor, type TensorData } from '../../core/index.js';
import type { OutputKind, OutputsSummary, PredictionRecord } from '../types.js';
import {
  argmaxAt,
  elementAt,
  EMPTY_OUTPUTS_SUMMARY,
  floatValue,
  isFloatDatatype,
  labelText,
  outputKind,
  parseStoredSummary,
  storedSummaryJson,
  PREDICTION_ORDER,
  resolveSummaryOptions,
  rowWidthOf,
  summarizeCaptured,
  summarizeOutputs,
  type OutputSummaryOptions,
  type ResolvedSummaryOptions,
} from './summary.js';
import type { PredictionInput } from './recorder.js';

/** Per record in `ints`: endpoint, model (-1: none), variant, outputs captured (-1: summary made on the request thread, in `summaries`), outputs in the response. */
const RECORD_INTS = 5;
/** Per record in `nums`: at, version (NaN: none), latencyMs, status. */
const RECORD_NUMS = 4;
/**
 * Most bytes of raw output elements a record carries (one-row answers of classifiers and
 * regressors take tens). A record whose outputs would take more — wide score rows of a batch — is
 * summarised where it is recorded instead, so a tape's memory stays bounded by its record count.
 */
export const MAX_RAW_BYTES = 4096;

/** Per captured output in `outs`: name, datatype, rank, elements captured, elements it had, where they are (arena byte offset, or index into `strings`). */
const OUTPUT_NUMS = 6;

export interface PredictionTape {
  readonly options: ResolvedSummaryOptions;
  readonly n: number;
  readonly requestIds: readonly string[];
  /** The tape's distinct names (endpoint, model, variant, output name, datatype), which the columns point into. */
  readonly texts: readonly string[];
  readonly ints: Int32Array;
  readonly nums: Float64Array;
  readonly outs: Float64Array;
  /** The dimensions of every captured output, in order. */
  readonly dims: Float64Array;
  readonly arena: Uint8Array;
  /** Elements of BYTES outputs (cut to one more character than a summary keeps). */
  readonly strings: readonly string[];
  /** Summaries made on the request thread, in their stored form (storedSummaryJson), for outputs the tape cannot carry raw (wide rows, long texts, data of an unexpected kind). */
  readonly summaries: readonly (string | null)[];
}

/** What the request thread keeps: appends, then seals when the batch is full or due. */
export interface TapeWriter {
  /** Records on the tape. */
  readonly size: number;
  /** Appends one record; `now` stands in for a missing or unusable `at`. Throws only on a bug. */
  add(input: PredictionInput, now: number): void;
  /** The tape so far; the writer starts a new one. */
  seal(): PredictionTape;
}

/** Normalised fields of a record, shared by the tape and the recorder's object path. */
export function recordAt(at: number | undefined, now: number): number {
  return Math.round(at !== undefined && Number.isFinite(at) ? at : now);
}
export function recordVersion(version: number | null | undefined): number | null {
  // a malformed version would make the store refuse the whole batch; keep the record without it
  return typeof version === 'number' && Number.isSafeInteger(version) ? version : null;
}
export function recordLatency(ms: number): number {
  return Math.max(0, Number.isFinite(ms) ? ms : 0);
}
export function recordStatus(status: number): number {
  return Math.trunc(Number.isFinite(status) ? status : 0);
}

/** A growable typed array. */
class Column<T extends Float64Array | Int32Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  reserve(extra: number): T {
    const need = this.length + extra;
    if (need > this.data.length) {
      const bigger = this.make(Math.max(need, this.data.length * 2));
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    return this.data;
  }
}

const f64 = (n: number): Float64Array => new Float64Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);
const u8 = (n: number): Uint8Array => new Uint8Array(n);

/** The typed array class each datatype's elements come in (core/tensor.ts). */
const ARRAY_OF: ReadonlyMap<Datatype, unknown> = new Map(
  (['BOOL', 'UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'UINT64', 'INT64', 'FP16', 'FP32', 'FP64'] as const).map((d) => [d, (allocateTensorData(d, 0) as { constructor: unknown }).constructor]),
);

type NumericData = Exclude<TensorData, string[]>;

/** Copies the first `count` elements of `from` into `to` at element `at`; both of one type. */
function copyInto(to: NumericData, at: number, from: NumericData, count: number): void {
  if (count === from.length) (to as Float64Array).set(from as Float64Array, at);
  else for (let k = 0; k < count; k++) (to as Float64Array)[at + k] = (from as Float64Array)[k] as number;
}

/** Starts a tape writer. */
export function createTapeWriter(options: OutputSummaryOptions = {}): TapeWriter {
  const o = resolveSummaryOptions(options);
  let requestIds: string[] = [];
  let texts: string[] = [];
  let index = new Map<string, number>();
  let ints = new Column(i32(1024 * RECORD_INTS), i32);
  let nums = new Column(f64(1024 * RECORD_NUMS), f64);
  let outs = new Column(f64(1024 * OUTPUT_NUMS), f64);
  let dims = new Column(f64(2048), f64);
  let arena = new Column(u8(16 * 1024), u8);
  let strings: string[] = [];
  let summaries: (string | null)[] = [];
  let n = 0;

  const ref = (text: string): number => {
    let i = index.get(text);
    if (i === undefined) {
      i = texts.length;
      texts.push(text);
      index.set(text, i);
    }
    return i;
  };

  /**
   * A view of the arena of `data`'s own type, kept until the arena grows. Elements are copied
   * through it rather than through a byte view of `data.buffer`: reading `buffer` of a small typed
   * array (V8 keeps those inside the heap object) moves its elements out to a new backing store,
   * and the model's answer makes fresh arrays for every request (about three quarters of what a
   * record cost the request thread, measured alone).
   */
  let views = new Map<unknown, NumericData>();
  let viewsOf = arena.data;
  const arenaView = (data: NumericData): NumericData => {
    if (viewsOf !== arena.data) {
      views = new Map();
      viewsOf = arena.data;
    }
    let view = views.get(data.constructor);
    if (view === undefined) {
      const Ctor = data.constructor as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericData;
      // whole elements only: the arena's size need not be a multiple of 8 (a tape's arena starts as large as the last one ended)
      view = new Ctor(arena.data.buffer, 0, Math.floor(arena.data.buffer.byteLength / data.BYTES_PER_ELEMENT));
      views.set(data.constructor, view);
    }
    return view;
  };

  /** The elements of `t` a summary reads: the kept rows of a per-row output, nothing of a rank-3 or too-wide one. */
  const wantedOf = (t: Tensor): number => {
    const rank = t.shape.length;
    const rows = rank === 0 ? 1 : (t.shape[0] ?? 0);
    const rowWidth = rank <= 1 ? 1 : rank === 2 ? (t.shape[1] ?? 0) : -1;
    return rowWidth > 0 && rowWidth <= o.maxRowWidth ? Math.min(t.data.length, Math.min(rows, o.maxRows) * rowWidth) : 0;
  };

  /**
   * Appends the elements the summary reads of each output; false when the outputs cannot be
   * carried raw (data not of its datatype's kind) or would take more than {@link MAX_RAW_BYTES}.
   */
  const captureOutputs = (outputs: readonly Tensor[], count: number): boolean => {
    let bytes = 0;
    for (let j = 0; j < count; j++) {
      const t = outputs[j] as Tensor;
      if (t.datatype === 'BYTES') {
        if (!Array.isArray(t.data)) return false;
        const n = wantedOf(t);
        for (let k = 0; k < n && bytes <= MAX_RAW_BYTES; k++) bytes += 2 * Math.min(String(t.data[k]).length, o.maxStringLength + 1);
      } else {
        if (!ArrayBuffer.isView(t.data) || t.data.constructor !== ARRAY_OF.get(t.datatype)) return false;
        bytes += wantedOf(t) * t.data.BYTES_PER_ELEMENT;
      }
      if (bytes > MAX_RAW_BYTES) return false;
    }
    for (let j = 0; j < count; j++) {
      const t = outputs[j] as Tensor;
      const rank = t.shape.length;
      const wanted = wantedOf(t);
      const od = outs.reserve(OUTPUT_NUMS);
      const at = outs.length;
      od[at] = ref(t.name);
      od[at + 1] = ref(t.datatype);
      od[at + 2] = rank;
      od[at + 3] = wanted;
      od[at + 4] = t.data.length;
      if (t.datatype === 'BYTES') {
        od[at + 5] = strings.length;
        const data = t.data as string[];
        for (let k = 0; k < wanted; k++) {
          const s = data[k] ?? '';
          strings.push(s.length > o.maxStringLength ? s.slice(0, o.maxStringLength + 1) : s);
        }
      } else {
        const data = t.data as NumericData;
        const bytes = wanted * data.BYTES_PER_ELEMENT;
        // aligned to 8, so a typed array of every element size can be laid over it where it is read
        const offset = Math.ceil(arena.length / 8) * 8;
        arena.length = offset;
        arena.reserve(bytes);
        copyInto(arenaView(data), offset / data.BYTES_PER_ELEMENT, data, wanted);
        arena.length = offset + bytes;
        od[at + 5] = offset;
      }
      outs.length = at + OUTPUT_NUMS;
      const dd = dims.reserve(rank);
      for (let k = 0; k < rank; k++) dd[dims.length + k] = t.shape[k] as number;
      dims.length += rank;
    }
    return true;
  };

  return {
    get size() {
      return n;
    },
    add(input, now) {
      const outputs = input.outputs ?? [];
      const count = Math.min(outputs.length, o.maxOutputs);
      // roll back whatever a refused capture appended
      const outsMark = outs.length;
      const dimsMark = dims.length;
      const arenaMark = arena.length;
      const stringsMark = strings.length;
      let captured: boolean;
      try {
        captured = captureOutputs(outputs, count);
      } catch {
        // outputs the capture cannot read (it never should): summarised here, like data of an unexpected kind
        captured = false;
      }
      if (!captured) {
        outs.length = outsMark;
        dims.length = dimsMark;
        arena.length = arenaMark;
        strings.length = stringsMark;
      }
      requestIds.push(input.requestId);
      summaries.push(captured ? null : storedSummaryJson(summarizeOutputs(outputs, o)));
      const id = ints.reserve(RECORD_INTS);
      const i = ints.length;
      id[i] = ref(input.endpoint);
      id[i + 1] = input.model === undefined || input.model === null ? -1 : ref(input.model);
      id[i + 2] = ref(input.variant ?? 'stable');
      id[i + 3] = captured ? count : -1;
      id[i + 4] = outputs.length;
      ints.length += RECORD_INTS;
      const nd = nums.reserve(RECORD_NUMS);
      const k = nums.length;
      nd[k] = recordAt(input.at, now);
      nd[k + 1] = recordVersion(input.version) ?? NaN;
      nd[k + 2] = recordLatency(input.latencyMs);
      nd[k + 3] = recordStatus(input.status);
      nums.length += RECORD_NUMS;
      n++;
    },
    seal() {
      const tape: PredictionTape = {
        options: o,
        n,
        requestIds,
        texts,
        ints: ints.data.subarray(0, ints.length),
        nums: nums.data.subarray(0, nums.length),
        outs: outs.data.subarray(0, outs.length),
        dims: dims.data.subarray(0, dims.length),
        arena: arena.data.subarray(0, arena.length),
        strings,
        summaries,
      };
      requestIds = [];
      texts = [];
      index = new Map();
      ints = new Column(i32(Math.max(64, n) * RECORD_INTS), i32);
      nums = new Column(f64(Math.max(64, n) * RECORD_NUMS), f64);
      outs = new Column(f64(Math.max(64, outs.length)), f64);
      dims = new Column(f64(Math.max(64, dims.length)), f64);
      arena = new Column(u8(Math.max(1024, arena.length)), u8);
      strings = [];
      summaries = [];
      n = 0;
      return tape;
    },
  };
}

/** The buffers of a sealed tape, to transfer with it. */
export function tapeTransferList(tape: PredictionTape): ArrayBuffer[] {
  return [tape.ints.buffer, tape.nums.buffer, tape.outs.buffer, tape.dims.buffer, tape.arena.buffer] as ArrayBuffer[];
}

/** A tape whose typed arrays are copies (the strings are shared: they are immutable): what stays when the original's buffers are transferred. */
export function copyTape(t: PredictionTape): PredictionTape {
  return { ...t, ints: t.ints.slice(), nums: t.nums.slice(), outs: t.outs.slice(), dims: t.dims.slice(), arena: t.arena.slice() };
}

/** The captured outputs of the record whose first output is at `out` (in `outs`) and first dimension at `dim` (in `dims`), as tensors of only the elements captured. */
function capturedTensors(tape: PredictionTape, out: number, dim: number, captured: number): { tensors: Tensor[]; lengths: number[] } {
  const tensors: Tensor[] = [];
  const lengths: number[] = [];
  for (let j = 0; j < captured; j++, out += OUTPUT_NUMS) {
    const datatype = tape.texts[tape.outs[out + 1] as number] as Datatype;
    const rank = tape.outs[out + 2] as number;
    const count = tape.outs[out + 3] as number;
    const at = tape.outs[out + 5] as number;
    const shape = Array.from(tape.dims.subarray(dim, dim + rank));
    dim += rank;
    let data: TensorData;
    if (datatype === 'BYTES') data = tape.strings.slice(at, at + count);
    else {
      const Ctor = ARRAY_OF.get(datatype) as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData;
      data = new Ctor(tape.arena.buffer, tape.arena.byteOffset + at, count);
    }
    tensors.push({ name: tape.texts[tape.outs[out] as number] as string, datatype, shape, data });
    lengths.push(tape.outs[out + 4] as number);
  }
  return { tensors, lengths };
}

/**
 * Reads a tape's records one at a time, in order (0, 1, 2, …): `read(r, out, dim)` gets where
 * record r's captured outputs start (its first output in `outs`, first dimension in `dims`), which
 * only the records before it tell. A record asked for out of order is a RangeError.
 */
function inOrder<T>(tape: PredictionTape, read: (r: number, out: number, dim: number) => T): (r: number) => T {
  let next = 0;
  let out = 0;
  let dim = 0;
  return (r) => {
    if (r !== next) throw new RangeError(`tape records are read in order: asked for ${r}, next is ${next}`);
    const result = read(r, out, dim);
    const captured = tape.ints[r * RECORD_INTS + 3] as number;
    for (let j = 0; j < captured; j++, out += OUTPUT_NUMS) dim += tape.outs[out + 2] as number;
    next++;
    return result;
  };
}

/** Record `r` as a store writes it, with its prediction's text and summary's JSON given: one literal of a fixed shape (a spread of the fields would cost more than the rest of the record). */
function encodedAt(tape: PredictionTape, r: number, predicted: string | null, outputsJson: string): EncodedPrediction {
  const ii = r * RECORD_INTS;
  const ni = r * RECORD_NUMS;
  const model = tape.ints[ii + 1] as number;
  const version = tape.nums[ni + 1] as number;
  return {
    requestId: tape.requestIds[r] as string,
    at: tape.nums[ni] as number,
    endpoint: tape.texts[tape.ints[ii] as number] as string,
    model: model < 0 ? null : (tape.texts[model] as string),
    version: Number.isNaN(version) ? null : version,
    variant: tape.texts[tape.ints[ii + 2] as number] as string,
    latencyMs: tape.nums[ni + 2] as number,
    status: tape.nums[ni + 3] as number,
    predicted,
    outputsJson,
  };
}

/** The fields of record `r` other than its outputs. */
function recordFields(tape: PredictionTape, r: number): Omit<PredictionRecord, 'outputs'> {
  const { predicted: _predicted, outputsJson: _outputsJson, ...fields } = encodedAt(tape, r, null, '');
  return fields;
}

/** The outputs summary of record `r`. */
function summaryOf(tape: PredictionTape, r: number, out: number, dim: number): OutputsSummary {
  const captured = tape.ints[r * RECORD_INTS + 3] as number;
  const total = tape.ints[r * RECORD_INTS + 4] as number;
  if (captured < 0) return parseStoredSummary(tape.summaries[r] as string);
  if (total === 0) return EMPTY_OUTPUTS_SUMMARY;
  const { tensors, lengths } = capturedTensors(tape, out, dim, captured);
  return summarizeCaptured(tensors, lengths, total, tape.options);
}

/** The records on a tape, each with its outputs summary. */
export function readTape(tape: PredictionTape): PredictionRecord[] {
  const read = inOrder(tape, (r, out, dim): PredictionRecord => ({ ...recordFields(tape, r), outputs: summaryOf(tape, r, out, dim) }));
  return Array.from({ length: tape.n }, (_, r) => read(r));
}

/**
 * A prediction record as a store writes it: its outputs summary in the stored form ({@link storedSummaryJson})
 * and its prediction as the text labels compare with ({@link labelText}), null when it has none.
 */
export interface EncodedPrediction extends Omit<PredictionRecord, 'outputs'> {
  readonly predicted: string | null;
  readonly outputsJson: string;
}

/** A summary as a store keeps it: its prediction as label text (null when it has none) and its JSON. */
function encodeSummary(summary: OutputsSummary): { readonly predicted: string | null; readonly json: string } {
  const p = summary.predicted;
  return { predicted: p === null ? null : labelText(p.value), json: storedSummaryJson(summary) };
}

/** A record, encoded. */
export function encodeRecord(record: PredictionRecord): EncodedPrediction {
  const { predicted, json } = encodeSummary(record.outputs);
  return {
    requestId: record.requestId,
    at: record.at,
    endpoint: record.endpoint,
    model: record.model,
    version: record.version,
    variant: record.variant,
    latencyMs: record.latencyMs,
    status: record.status,
    predicted,
    outputsJson: json,
  };
}

const EMPTY_ENCODED = Object.freeze(encodeSummary(EMPTY_OUTPUTS_SUMMARY));

/**
 * Reads a tape's records as a store writes them — `readTape(tape).map(encodeRecord)`, the same
 * text — one at a time and in order (0, 1, 2, …). A record whose outputs are all numeric is
 * encoded straight from the captured elements, with no tensor, summary or typed-array view made per
 * record (the store's writer thread spent most of its time and garbage on those; encoded directly,
 * a breast-cancer answer takes about a quarter of the time, measured alone). The writer binds each
 * record's columns and drops it: no array holds a tape's records while the insert runs, so they die
 * young instead of being copied by each of the writer thread's scavenges in between.
 */
export function createEncodedReader(tape: PredictionTape): (r: number) => EncodedPrediction {
  const direct = createDirectEncoder(tape);
  return inOrder(tape, (r, out, dim) => {
    const encoded = direct?.(r, out, dim) ?? encodeSummary(summaryOf(tape, r, out, dim));
    return encodedAt(tape, r, encoded.predicted, encoded.json);
  });
}

/**
 * The direct encoder of a tape's all-numeric records: the rules of summarizeCaptured and the text of
 * storedSummaryJson, reading the arena through one view per datatype. Undefined for a record it
 * does not take (a BYTES output, or a summary made on the request thread); undefined
 * altogether when the arena is not 8-aligned (it always is: a tape's arena starts its buffer).
 */
function createDirectEncoder(tape: PredictionTape): ((r: number, out: number, dim: number) => { json: string; predicted: string | null } | undefined) | undefined {
  const { arena } = tape;
  if (arena.byteOffset % 8 !== 0) return undefined;
  const o = tape.options;
  const views = new Map<Datatype, TensorData>();
  const viewOf = (datatype: Datatype): TensorData => {
    let view = views.get(datatype);
    if (view === undefined) {
      const Ctor = ARRAY_OF.get(datatype) as (new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData) & { BYTES_PER_ELEMENT: number };
      view = new Ctor(arena.buffer, arena.byteOffset, Math.floor(arena.byteLength / Ctor.BYTES_PER_ELEMENT));
      views.set(datatype, view);
    }
    return view;
  };
  // per output of the record: its kind and the value of its first row (what the prediction is chosen from)
  const kinds: OutputKind[] = [];
  const firsts: (string | number | null)[] = [];
  return (r, out, dim) => {
    const captured = tape.ints[r * RECORD_INTS + 3] as number;
    const total = tape.ints[r * RECORD_INTS + 4] as number;
    if (captured < 0) return undefined;
    if (total === 0) return EMPTY_ENCODED;
    for (let j = 0, q = out; j < captured; j++, q += OUTPUT_NUMS) if (tape.texts[tape.outs[q + 1] as number] === 'BYTES') return undefined;
    let tensors = '';
    let rows: number | null | undefined;
    for (let j = 0, q = out; j < captured; j++, q += OUTPUT_NUMS) {
      const name = tape.texts[tape.outs[q] as number] as string;
      const datatype = tape.texts[tape.outs[q + 1] as number] as Datatype;
      const rank = tape.outs[q + 2] as number;
      const length = tape.outs[q + 4] as number;
      const data = viewOf(datatype);
      const base = (tape.outs[q + 5] as number) / (data as Exclude<TensorData, string[]>).BYTES_PER_ELEMENT;
      const n = rank === 0 ? 1 : (tape.dims[dim] as number);
      const rowWidth = rowWidthOf(rank, tape.dims[dim + 1]);
      let shape = '';
      for (let k = 0; k < rank; k++) shape += (k === 0 ? '' : ',') + String(tape.dims[dim + k]);
      dim += rank;
      const kind = outputKind(datatype, n, rowWidth, length, o.maxRowWidth);
      kinds[j] = kind;
      firsts[j] = null;
      tensors += `,[${jsonName(name)},${jsonName(datatype)},[${shape}],${jsonName(kind)}`;
      if (kind !== 'tensor') {
        const kept = Math.min(n, o.maxRows);
        let truncated = n > kept;
        let values = '[';
        if (kind === 'scores') {
          let scores = '[';
          const isFloat = isFloatDatatype(datatype);
          for (let k = 0; k < kept; k++) {
            const start = base + k * rowWidth;
            const best = argmaxAt(datatype, data, start, rowWidth);
            const sep = k === 0 ? '' : ',';
            if (best < 0) {
              values += `${sep}null`;
              scores += `${sep}null`;
            } else {
              const top = Number(elementAt(datatype, data, start + best));
              values += sep + jsonNumber(best);
              scores += sep + jsonNumber(isFloat ? floatValue(datatype, top) : top);
              if (k === 0) firsts[j] = best;
            }
          }
          tensors += `,${values}],${scores}]`;
        } else {
          for (let k = 0; k < kept; k++) {
            const x = elementAt(datatype, data, base + k * rowWidth);
            let v: string | number | null;
            if (kind === 'value') v = floatValue(datatype, typeof x === 'number' ? x : Number(x));
            else if (typeof x === 'string' && x.length > o.maxStringLength) {
              v = x.slice(0, o.maxStringLength);
              truncated = true;
            } else v = typeof x === 'number' && !Number.isFinite(x) ? null : x;
            values += (k === 0 ? '' : ',') + jsonScalar(v);
            if (k === 0) firsts[j] = v;
          }
          tensors += `,${values}]`;
        }
        if (truncated) tensors += ',true';
      }
      tensors += ']';
      rows = rows === undefined || rows === n ? n : null;
    }
    let text: string | null = null;
    if (rows === 1) {
      choose: for (const kind of PREDICTION_ORDER) {
        for (let j = 0; j < captured; j++) {
          const value = firsts[j] as string | number | null;
          if (kinds[j] !== kind || value === null) continue;
          text = labelText(value);
          break choose;
        }
      }
    }
    return { json: `[${jsonNumber(rows ?? null)},${jsonNumber(Math.max(0, total - o.maxOutputs))}${tensors}]`, predicted: text };
  };
}
