/**
 * Shared by the optimisation tests: the example models trained in memory (the same trainers
 * `npm run examples` uses, without writing files: ~5 s for the three), onnxruntime runs, and the
 * comparisons the error bounds are stated in.
 */
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { trainExample, type ExampleName, type TrainedExample } from '../../../src/examples/index.js';
import type { onnx} from '../../../src/onnx/index.js';
import { readTensorData, tensorDims } from '../../../src/onnx/index.js';
import { createSeededRandom } from '../../../src/stats/index.js';

const dataDir = fileURLToPath(new URL('../../../examples/data/', import.meta.url));

const trained = new Map<ExampleName, Promise<TrainedExample>>();

/** Trains an example once per test process. */
export function example(name: ExampleName): Promise<TrainedExample> {
  let p = trained.get(name);
  if (p === undefined) {
    p = trainExample(name, dataDir);
    trained.set(name, p);
  }
  return p;
}

/** The held-out rows of an example as the model's `input` tensor. */
export function heldOutInput(e: TrainedExample): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.from(e.xTest.data), [e.xTest.rows, e.xTest.cols]);
}

/** Runs a model in onnxruntime and returns every output as float32 values with its dims (int64 outputs converted). */
export async function runModel(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  sessionConfig?: Record<string, string>,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes, {
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
    ...(sessionConfig === undefined ? {} : { extra: { session: sessionConfig } }),
  });
  try {
    const results = await session.run(feeds);
    const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const [name, t] of Object.entries(results)) {
      const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
      out[name] = { data, dims: t.dims };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return worst;
}

/** The mean |a − b|. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** ‖a − b‖ / ‖b‖: the relative RMSE of `a` against the reference `b`. */
export function relativeRmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    se += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
    ss += (b[i] ?? 0) ** 2;
  }
  return Math.sqrt(se / ss);
}

/** The index of the largest value of each row of a row-major [rows, cols] matrix. */
export function argmaxRows(values: ArrayLike<number>, cols: number): number[] {
  const rows = values.length / cols;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if ((values[r * cols + c] ?? 0) > (values[r * cols + best] ?? 0)) best = c;
    out.push(best);
  }
  return out;
}

/** The share of rows whose argmax agrees. */
export function argmaxAgreement(a: ArrayLike<number>, b: ArrayLike<number>, cols: number): number {
  const x = argmaxRows(a, cols);
  const y = argmaxRows(b, cols);
  return x.filter((v, i) => v === y[i]).length / x.length;
}

/** A main-graph initializer by name (throws when missing). */
export function initializer(model: onnx.IModelProto, name: string): onnx.ITensorProto {
  const t = (model.graph?.initializer ?? []).find((x) => x.name === name);
  if (t === undefined) throw new Error(`no initializer '${name}'`);
  return t;
}

/** An initializer's dims. */
export function dimsOf(model: onnx.IModelProto, name: string): number[] {
  return tensorDims(initializer(model, name));
}

/** An initializer's values as float32 (ints converted). */
export function valuesOf(model: onnx.IModelProto, name: string): Float32Array {
  const v = readTensorData(initializer(model, name));
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** A metadata_props value. */
export function metadata(model: onnx.IModelProto, key: string): string | undefined {
  return (model.metadataProps ?? []).find((p) => p.key === key)?.value ?? undefined;
}

/** The op types of the main graph, in order. */
export function opTypes(model: onnx.IModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => n.opType ?? '');
}

/** A deterministic pseudo-random generator for test inputs and weights: the product's mulberry32. */
export function seeded(seed: number): () => number {
  const random = createSeededRandom(seed);
  return () => random.next();
}
