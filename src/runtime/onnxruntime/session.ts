/**
 * One onnxruntime session: creating it with Slipway's settings, running it on core tensors, and
 * timing it. Shared by the replica worker (a session in a worker thread) and the main-thread
 * replica (a session on the event loop, for models cheaper to run than a thread hop).
 */
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../core/index.js';
import { readOnnxMetadata, readOnnxMetadataFromBytes } from '../../onnx/metadata-props.js';
import { sessionConfigFor } from '../../optimize/quantize.js';
import { RuntimeErrors } from '../errors.js';
import type { RuntimeSessionOptions } from '../types.js';
import type { OrtModelInfo, OrtValueInfo } from './metadata.js';
import { fromOrtTensor, toOrtTensor, zeroInputs } from './tensors.js';

/** The model's metadata_props; empty when the file cannot be read (the engine then names the problem). */
async function metadataOf(artifactPath: string, model: Uint8Array | undefined): Promise<Record<string, string>> {
  try {
    return model === undefined ? await readOnnxMetadata(artifactPath) : await readOnnxMetadataFromBytes(model);
  } catch {
    return {};
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function valueInfo(meta: ort.InferenceSession.ValueMetadata): OrtValueInfo {
  return meta.isTensor ? { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] } : { name: meta.name, isTensor: false };
}

/**
 * Creates a session, from the model file at `artifactPath` or, when `model` is given, from those
 * bytes in memory (an artifact stored encrypted, decrypted by the caller: its plaintext never
 * touches the disk). The bytes are zeroed once onnxruntime has its own copy.
 *
 * Spinning is off unless asked for: onnxruntime's idle intra-op threads otherwise busy-wait for
 * the next run, and on a server they take the cores the HTTP thread and the other replicas need
 * (measured: a 2-thread session at batch 1 kept 2.0 cores busy spinning against 1.8 without, for
 * the same throughput).
 */
export async function createSession(
  artifactPath: string,
  intraOpThreads: number,
  o: RuntimeSessionOptions,
  model?: Uint8Array,
): Promise<{ session: ort.InferenceSession; info: OrtModelInfo }> {
  const spinning = o.allowSpinning === true ? '1' : '0';
  let session: ort.InferenceSession;
  try {
    const settings: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: o.interOpThreads ?? 1,
      executionMode: o.executionMode ?? 'sequential',
      graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
      ...(o.enableCpuMemArena === undefined ? {} : { enableCpuMemArena: o.enableCpuMemArena }),
      ...(o.enableMemPattern === undefined ? {} : { enableMemPattern: o.enableMemPattern }),
      ...(o.freeDimensionOverrides === undefined ? {} : { freeDimensionOverrides: o.freeDimensionOverrides }),
      // a model quantised weight-only by slipway optimize runs with disable_quant_qdq (docs/optimize.md)
      extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning }, ...sessionConfigFor(await metadataOf(artifactPath, model)) } },
      logSeverityLevel: 3,
    };
    session = model === undefined ? await ort.InferenceSession.create(artifactPath, settings) : await ort.InferenceSession.create(model, settings);
  } catch (error) {
    throw RuntimeErrors.RUNTIME_LOAD_FAILED(`onnxruntime could not create a session: ${describeError(error)}`, { details: { artifactPath } });
  } finally {
    model?.fill(0);
  }
  return { session, info: { inputs: session.inputMetadata.map(valueInfo), outputs: session.outputMetadata.map(valueInfo) } };
}

/** Runs a session on core tensors and returns the wanted outputs (all, in the model's order, when undefined). */
export async function runSession(session: ort.InferenceSession, inputs: readonly Tensor[], outputs: readonly string[] | undefined): Promise<Tensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) feeds[t.name] = toOrtTensor(t);
  const names = outputs ?? session.outputNames;
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(feeds, [...names]);
  } catch (error) {
    throw RuntimeErrors.RUNTIME_INFERENCE_FAILED(`onnxruntime refused the request: ${describeError(error)}`);
  }
  return names.map((name) => {
    const value = results[name];
    if (!(value instanceof ort.Tensor)) {
      throw RuntimeErrors.RUNTIME_UNSUPPORTED_MODEL(`output "${name}" is not a tensor`);
    }
    return fromOrtTensor(name, value);
  });
}

/** How long a model takes to run, measured at warm-up on zero-filled inputs (milliseconds). */
export interface RunTiming {
  /**
   * Fastest of 15 runs at batch 1: the model's own cost. The fastest rather than the median because
   * the measurement runs while other models may be loading on the same cores.
   */
  readonly singleMs: number;
  /** Median of 3 runs at `batchSize` (equal to singleMs when the model has no dynamic batch dimension). */
  readonly batchMs: number;
  readonly batchSize: number;
}

/**
 * Runs the model on zero-filled inputs: once to warm it up and, when `measureBatch` is given, a few
 * more times at batch 1 and at that batch size to time it. Stops timing early once runs exceed
 * `stopAboveMs` on repeated runs (the answer is then already "too slow for the main thread"). Rejects with the
 * warm-up's failure.
 */
export async function warmSession(
  session: ort.InferenceSession,
  info: OrtModelInfo,
  measureBatch: number | undefined,
  stopAboveMs = Infinity,
): Promise<RunTiming | undefined> {
  const single = zeroInputs(info.inputs);
  await runSession(session, single, undefined);
  if (measureBatch === undefined) return undefined;
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await runSession(session, single, undefined);
    times.push(performance.now() - t0);
    // one slow run can be a hiccup; three slow runs say the model itself is slow
    if (times.length >= 3 && Math.min(...times) > stopAboveMs) return { singleMs: Math.min(...times), batchMs: Math.min(...times), batchSize: 1 };
  }
  const singleMs = Math.min(...times);
  const batched = zeroInputs(info.inputs, measureBatch);
  if (measureBatch <= 1 || batched.every((t, i) => t.shape[0] === single[i]?.shape[0])) return { singleMs, batchMs: singleMs, batchSize: 1 };
  const batchTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    try {
      await runSession(session, batched, undefined);
    } catch {
      // a model that refuses a merged batch will not be sent one (the batcher checks): time batch 1 only
      return { singleMs, batchMs: singleMs, batchSize: 1 };
    }
    batchTimes.push(performance.now() - t0);
    if (batchTimes.length >= 2 && Math.min(...batchTimes) > stopAboveMs) return { singleMs, batchMs: Math.min(...batchTimes), batchSize: measureBatch };
  }
  batchTimes.sort((a, b) => a - b);
  return { singleMs, batchMs: batchTimes[1] ?? 0, batchSize: measureBatch };
}
