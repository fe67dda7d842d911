/**
 * A LoadedModel whose runs finish only when the test says so, and whose answers are computed from
 * the inputs row by row, so every caller's rows can be checked against its own input.
 *
 * Signature (unless replaced): inputs x FP32 [-1, 2] and s BYTES [-1]; outputs y = x + 10 (FP32
 * [-1, 2]), tag = s + '!' (BYTES [-1]) and first = trunc(x[:, 0]) (INT64 [-1, 1]). A row whose x
 * holds NaN makes the whole run fail with RUNTIME_INFERENCE_FAILED, as onnxruntime refusing an
 * input would.
 */
import type { ModelSignature, Tensor } from '../../../src/core/index.js';
import { RuntimeErrors } from '../../../src/runtime/errors.js';
import type { LoadedModel, ReplicaStats } from '../../../src/runtime/types.js';

export const SIGNATURE: ModelSignature = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 's', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 2] },
    { name: 'tag', datatype: 'BYTES', shape: [-1] },
    { name: 'first', datatype: 'INT64', shape: [-1, 1] },
  ],
};

export interface Call {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[] | undefined;
  readonly signal: AbortSignal | undefined;
  /** Finishes the run with the computed answer (or the computed failure). */
  release(): void;
  /** Finishes the run with this error. */
  fail(error: Error): void;
}

/** The answer the fake model gives for some inputs (throws RUNTIME_INFERENCE_FAILED on NaN). */
export function compute(inputs: readonly Tensor[], outputs: readonly string[] | undefined): Tensor[] {
  const x = inputs.find((t) => t.name === 'x');
  const s = inputs.find((t) => t.name === 's');
  if (x === undefined || s === undefined) throw RuntimeErrors.RUNTIME_INFERENCE_FAILED('missing input');
  const xs = x.data as Float32Array;
  if (xs.some((v) => Number.isNaN(v))) throw RuntimeErrors.RUNTIME_INFERENCE_FAILED('input x holds NaN');
  const rows = x.shape[0] ?? 0;
  const all: Tensor[] = [
    { name: 'y', datatype: 'FP32', shape: [rows, 2], data: xs.map((v) => v + 10) },
    { name: 'tag', datatype: 'BYTES', shape: [rows], data: (s.data as string[]).map((v) => `${v}!`) },
    { name: 'first', datatype: 'INT64', shape: [rows, 1], data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(Math.trunc(xs[i * 2] ?? 0))) },
  ];
  return outputs === undefined ? all : outputs.map((n) => all.find((t) => t.name === n) as Tensor);
}

/** A request of `rows` rows whose values start at `base` (x = base, base+1, …; s = "r<base+i>"). */
export function request(base: number, rows: number): Tensor[] {
  return [
    { name: 'x', datatype: 'FP32', shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => base + i) },
    { name: 's', datatype: 'BYTES', shape: [rows], data: Array.from({ length: rows }, (_, i) => `r${base + i}`) },
  ];
}

export interface FakeModel extends LoadedModel {
  readonly calls: Call[];
  /** Calls not yet finished. */
  running(): number;
  /** Most calls that were running at once. */
  peak(): number;
  replicas: number;
}

export function fakeModel(options: { signature?: ModelSignature; replicas?: number; answer?: typeof compute } = {}): FakeModel {
  const answer = options.answer ?? compute;
  const calls: Call[] = [];
  let running = 0;
  let peak = 0;
  const model: FakeModel = {
    label: 'fake:1',
    signature: options.signature ?? SIGNATURE,
    calls,
    replicas: options.replicas ?? 1,
    running: () => running,
    peak: () => peak,
    infer(inputs, outputs, signal) {
      running++;
      peak = Math.max(peak, running);
      return new Promise<Tensor[]>((resolve, reject) => {
        let done = false;
        const end = (): boolean => {
          if (done) return false;
          done = true;
          running--;
          return true;
        };
        calls.push({
          inputs,
          outputs,
          signal,
          release() {
            if (!end()) return;
            try {
              resolve(answer(inputs, outputs));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          },
          fail(error) {
            if (end()) reject(error);
          },
        });
      });
    },
    stats: () =>
      Array.from(
        { length: model.replicas },
        (_, i): ReplicaStats => ({ id: `fake/r${i + 1}`, state: 'ready', inFlight: 0, served: 0, failed: 0, busyMs: 0, loadMs: 0, heapBytes: 0 }),
      ),
    unload: async () => undefined,
  };
  return model;
}

/** Lets promise continuations and setImmediate callbacks run. */
export async function tick(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Settles a promise into a value or an error, so a test can look at either without racing. */
export function outcome<T>(p: Promise<T>): { readonly settled: () => boolean; readonly value: () => T | undefined; readonly error: () => unknown } {
  let settled = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => {
      settled = true;
      value = v;
    },
    (e: unknown) => {
      settled = true;
      error = e;
    },
  );
  return { settled: () => settled, value: () => value, error: () => error };
}
