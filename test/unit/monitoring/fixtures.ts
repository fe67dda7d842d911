/** Records, tensors and ids shared by the monitoring tests. */
import { float32ToFloat16Bits, type Tensor } from '../../../src/core/index.js';
import { summarizeOutputs, type PredictionRecord } from '../../../src/monitoring/index.js';

export const T0 = Date.UTC(2026, 2, 3, 12, 0, 0);
export const MINUTE = 60_000;

/** A unique-looking request id (16+ characters), as the server would keep it. */
export function rid(n: number | string): string {
  return `req-${String(n).padStart(12, '0')}`;
}

/** Class probabilities for `rows` rows; row r favours class `classes[r]`. */
export function probabilities(classes: readonly number[], width = 3, name = 'probabilities'): Tensor {
  const data = new Float32Array(classes.length * width);
  classes.forEach((c, r) => {
    for (let k = 0; k < width; k++) data[r * width + k] = k === c ? 0.8 : 0.2 / (width - 1);
  });
  return { name, datatype: 'FP32', shape: [classes.length, width], data };
}

/** An INT64 label output, one per row. */
export function labels(values: readonly number[], name = 'label'): Tensor {
  return { name, datatype: 'INT64', shape: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

/** A prediction record for `endpoint`, predicting class `predicted` (one row) unless outputs are given. */
export function record(n: number | string, overrides: Partial<PredictionRecord> & { predicted?: number; outputs?: PredictionRecord['outputs'] } = {}): PredictionRecord {
  const { predicted, ...rest } = overrides;
  return {
    requestId: rid(n),
    at: T0,
    endpoint: 'fraud',
    model: 'fraud-model',
    version: 1,
    variant: 'stable',
    latencyMs: 3.5,
    status: 200,
    outputs: summarizeOutputs([probabilities([predicted ?? 0])]),
    ...rest,
  };
}

/** A seeded generator of odd output tensors (every datatype, ranks 0–3, NaN, long and quoted strings): the same cases every run. */
export function outputsGenerator(initialSeed: number): { random: () => number; pick: <T>(xs: readonly T[]) => T; tensor: (i: number) => Tensor } {
  let seed = initialSeed;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const floats = [0, -0, 0.5, -1.25, 1e-9, 3.4e38, NaN, Infinity, -Infinity, 0.1 + 0.2];
  const texts = ['cat', 'with "quotes"', 'line\nbreak', 'ünï', 'x'.repeat(300), ''];
  const tensor = (i: number): Tensor => {
    const datatype = pick(['FP32', 'FP64', 'INT64', 'INT32', 'BYTES', 'BOOL', 'FP16'] as const);
    const rank = pick([0, 1, 2, 2, 3]);
    const rows = pick([1, 1, 2, 20]);
    const width = pick([1, 2, 3]);
    const shape = rank === 0 ? [] : rank === 1 ? [rows] : rank === 2 ? [rows, width] : [rows, width, 2];
    const size = shape.reduce((a, b) => a * b, 1);
    const name = pick(['label', 'probabilities', 'out "q"', `o${i}`]);
    if (datatype === 'BYTES') return { name, datatype, shape, data: Array.from({ length: size }, () => pick(texts)) };
    if (datatype === 'INT64') return { name, datatype, shape, data: BigInt64Array.from({ length: size }, () => pick([0n, 1n, -7n, 2n ** 60n])) };
    if (datatype === 'INT32') return { name, datatype, shape, data: Int32Array.from({ length: size }, () => pick([0, 3, -2])) };
    if (datatype === 'BOOL') return { name, datatype, shape, data: Uint8Array.from({ length: size }, () => pick([0, 1])) };
    if (datatype === 'FP16') return { name, datatype, shape, data: Uint16Array.from({ length: size }, () => float32ToFloat16Bits(pick(floats))) };
    const values = Array.from({ length: size }, () => pick(floats));
    return { name, datatype, shape, data: datatype === 'FP32' ? Float32Array.from(values) : Float64Array.from(values) };
  };
  return { random, pick, tensor };
}
