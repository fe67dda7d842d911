/** Records, tensors and ids shared by the monitoring tests. */
import type { Tensor } from '../../../src/core/index.js';
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
