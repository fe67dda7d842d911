/**
 * Merging requests along the batch dimension and splitting the answers back: the tensor side of
 * dynamic batching, with no queue and no timing in it.
 */
import { allocateTensorData, elementCount, type ModelSignature, type Tensor, type TensorData } from '../../core/index.js';

/**
 * Whether a model's signature allows merging: every input and every output has a dynamic first
 * dimension (-1), so that dimension can be the batch. Outputs whose first dimension is fixed (or
 * that have no dimensions) cannot be split back per caller; such models run one request at a time.
 * The signature can only promise this — {@link splitOutputs} checks it again on every merged run.
 */
export function canMergeSignature(signature: ModelSignature): boolean {
  if (signature.inputs.length === 0 || signature.outputs.length === 0) return false;
  return [...signature.inputs, ...signature.outputs].every((t) => t.shape.length >= 1 && t.shape[0] === -1);
}

/**
 * How one request may join a batch: its row count and a key that is equal for requests that can be
 * concatenated (same input names, datatypes and trailing dimensions, and the same outputs asked
 * for). Undefined when the request cannot be merged with anything (inputs disagree on the row
 * count, a scalar input, or zero rows).
 */
export function batchKeyOf(inputs: readonly Tensor[], outputs: readonly string[] | undefined): { rows: number; key: string } | undefined {
  const first = inputs[0];
  if (first === undefined || first.shape.length === 0) return undefined;
  const rows = first.shape[0] ?? 0;
  if (rows < 1) return undefined;
  const parts: string[] = [];
  for (const t of inputs) {
    if (t.shape.length === 0 || t.shape[0] !== rows) return undefined;
    parts.push(`${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`);
  }
  // inputs may come in any order: the key must not depend on it
  parts.sort();
  return { rows, key: `${outputs === undefined ? '*' : outputs.join(',')}|${parts.join(';')}` };
}

/** A typed array's `set`, shared by every element type (TensorData is a union of array types). */
interface Settable {
  set(source: ArrayLike<unknown>, offset: number): void;
}

/** Concatenates the same-named tensors of several requests along dimension 0. */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  const head = requests[0];
  if (head === undefined) return [];
  return head.map((template) => {
    const parts: Tensor[] = requests.map((inputs) => {
      const t = inputs.find((x) => x.name === template.name);
      // batchKeyOf gave these requests equal keys, so every one has this input
      if (t === undefined) throw new Error(`batch member lacks input ${template.name}`);
      return t;
    });
    let rows = 0;
    for (const p of parts) rows += p.shape[0] ?? 0;
    const shape = [rows, ...template.shape.slice(1)];
    return { name: template.name, datatype: template.datatype, shape, data: concatData(template.datatype, parts.map((p) => p.data), elementCount(shape)) };
  });
}

function concatData(datatype: Tensor['datatype'], parts: readonly TensorData[], total: number): TensorData {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (const p of parts) for (const s of p as string[]) out.push(s);
    return out;
  }
  const out = allocateTensorData(datatype, total);
  let offset = 0;
  for (const p of parts) {
    // same datatype → same array type (the decoder and the runtime check it), so `set` is exact
    (out as unknown as Settable).set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Splits a merged run's outputs back per caller, by each caller's row count, in the order given.
 * Returns undefined when an output's first dimension is not the total row count — the model does
 * not keep rows apart after all, and the batch must be run one request at a time.
 */
export function splitOutputs(outputs: readonly Tensor[], rowsPerCaller: readonly number[]): Tensor[][] | undefined {
  let total = 0;
  for (const r of rowsPerCaller) total += r;
  for (const o of outputs) {
    if (o.shape.length === 0 || o.shape[0] !== total) return undefined;
  }
  const result: Tensor[][] = rowsPerCaller.map(() => []);
  for (const o of outputs) {
    const rowSize = elementCount(o.shape.slice(1));
    let row = 0;
    rowsPerCaller.forEach((rows, i) => {
      // slice, not subarray: each caller owns its outputs and must not share a buffer with another
      const data = o.data.slice(row * rowSize, (row + rows) * rowSize) as TensorData;
      result[i]?.push({ name: o.name, datatype: o.datatype, shape: [rows, ...o.shape.slice(1)], data });
      row += rows;
    });
  }
  return result;
}
