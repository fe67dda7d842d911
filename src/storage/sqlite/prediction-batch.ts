/**
 * A batch of prediction records in the form sent to the writer's thread: columns of primitives
 * rather than an array of nested objects, because copying between threads costs by the object —
 * the records as objects cost the request thread about 6 µs each to send, the columns about 2.
 * The outputs summary travels as the JSON text the row stores.
 */
import { labelText, outputsSummaryJson } from '../../monitoring/predictions/summary.js';
import { SHADOW_VARIANT, type PredictionRecord } from '../../monitoring/types.js';
import type { RowWriter } from './prediction-insert.js';

export interface PredictionBatch {
  readonly n: number;
  readonly requestIds: readonly string[];
  /** The batch's distinct endpoint, model and variant names, which `names` points into. */
  readonly texts: readonly string[];
  /** Per record: endpoint, model (-1: none), variant, as indices into `texts`. */
  readonly names: Int32Array;
  /** Per record: at, version (NaN: none), latencyMs, status. */
  readonly numbers: Float64Array;
  /** Per record: the predicted value's text, or null. */
  readonly predicted: readonly (string | null)[];
  /** Per record: the outputs summary as JSON. */
  readonly outputs: readonly string[];
}

const NAMES = 3;
const NUMBERS = 4;

/** Encodes records as a batch (on the request thread, at flush time). */
export function encodePredictionBatch(records: readonly PredictionRecord[]): PredictionBatch {
  const n = records.length;
  const index = new Map<string, number>();
  const texts: string[] = [];
  const ref = (text: string): number => {
    let i = index.get(text);
    if (i === undefined) {
      i = texts.length;
      texts.push(text);
      index.set(text, i);
    }
    return i;
  };
  const requestIds = new Array<string>(n);
  const predicted = new Array<string | null>(n);
  const outputs = new Array<string>(n);
  const names = new Int32Array(n * NAMES);
  const numbers = new Float64Array(n * NUMBERS);
  for (let i = 0; i < n; i++) {
    const r = records[i] as PredictionRecord;
    requestIds[i] = r.requestId;
    names[i * NAMES] = ref(r.endpoint);
    names[i * NAMES + 1] = r.model === null ? -1 : ref(r.model);
    names[i * NAMES + 2] = ref(r.variant);
    numbers[i * NUMBERS] = r.at;
    numbers[i * NUMBERS + 1] = r.version ?? NaN;
    numbers[i * NUMBERS + 2] = r.latencyMs;
    numbers[i * NUMBERS + 3] = r.status;
    predicted[i] = r.outputs.predicted === null ? null : labelText(r.outputs.predicted.value);
    outputs[i] = outputsSummaryJson(r.outputs);
  }
  return { n, requestIds, texts, names, numbers, predicted, outputs };
}

/** The rows of a batch, for the insert (in the writer's thread). */
export function batchRows(b: PredictionBatch): RowWriter {
  const text = (i: number): string | null => (i < 0 ? null : (b.texts[i] ?? null));
  return (args, i) => {
    const variant = text(b.names[i * NAMES + 2] as number) as string;
    const version = b.numbers[i * NUMBERS + 1] as number;
    args.push(
      b.requestIds[i],
      variant === SHADOW_VARIANT ? 1 : 0,
      b.numbers[i * NUMBERS],
      text(b.names[i * NAMES] as number),
      text(b.names[i * NAMES + 1] as number),
      Number.isNaN(version) ? null : version,
      variant,
      b.numbers[i * NUMBERS + 2],
      b.numbers[i * NUMBERS + 3],
      b.predicted[i],
      b.outputs[i],
    );
  };
}
