/**
 * Output hardening's top-k: a classifier's probability or score rows, cut to their k largest
 * entries so a client learns the ranking it needs and little else of the model's surface (the
 * rest is what extraction attacks learn from). Rounding is done by the protocol encoder.
 */
import type { Datatype, Tensor, TensorData } from '../../core/index.js';
import { float16BitsToNumber } from '../../core/index.js';

const FLOATS: ReadonlySet<Datatype> = new Set(['FP16', 'FP32', 'FP64']);

/** The suffix of the output that carries the kept entries' class indices. */
export const TOP_K_INDICES_SUFFIX = '_indices';

/**
 * The outputs with every floating-point output of shape [batch, classes], classes > k, replaced by
 * two: `<name>` of shape [batch, k] holding each row's k largest values in descending order (ties:
 * the lower class first; NaN ranks below every number), and `<name>_indices` (INT64, [batch, k])
 * holding their class indices — `<name>_topk_indices` when the model already has an output of
 * that name. Other outputs pass unchanged; the input array is never modified.
 */
export function topKOutputs(outputs: readonly Tensor[], k: number): readonly Tensor[] {
  if (!(k >= 1)) return outputs;
  let cut = false;
  for (const t of outputs) if (cuttable(t, k)) cut = true;
  if (!cut) return outputs;
  const names = new Set(outputs.map((t) => t.name));
  const out: Tensor[] = [];
  for (const t of outputs) {
    if (!cuttable(t, k)) {
      out.push(t);
      continue;
    }
    const [values, indices] = topKOf(t, k);
    const plain = `${t.name}${TOP_K_INDICES_SUFFIX}`;
    out.push(values, { ...indices, name: names.has(plain) ? `${t.name}_topk${TOP_K_INDICES_SUFFIX}` : plain });
  }
  return out;
}

function cuttable(t: Tensor, k: number): boolean {
  return FLOATS.has(t.datatype) && t.shape.length === 2 && (t.shape[1] as number) > k && t.data.length >= (t.shape[0] as number) * (t.shape[1] as number);
}

function allocateLike(datatype: Datatype, length: number): TensorData {
  return datatype === 'FP16' ? new Uint16Array(length) : datatype === 'FP32' ? new Float32Array(length) : new Float64Array(length);
}

/** The k largest entries of every row, and their columns; O(rows · classes · k), k-sized scratch. */
function topKOf(t: Tensor, k: number): [Tensor, Omit<Tensor, 'name'>] {
  const rows = t.shape[0] as number;
  const width = t.shape[1] as number;
  const source = t.data as Float32Array | Float64Array | Uint16Array;
  const half = t.datatype === 'FP16';
  const values = allocateLike(t.datatype, rows * k) as Float32Array | Float64Array | Uint16Array;
  const indices = new BigInt64Array(rows * k);
  const keys = new Float64Array(k);
  const columns = new Int32Array(k);
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    const base = r * width;
    for (let c = 0; c < width; c++) {
      const raw = source[base + c] as number;
      const x = half ? float16BitsToNumber(raw) : raw;
      const key = Number.isNaN(x) ? -Infinity : x;
      // strictly greater: among equal values the lower column stays ahead; a full list takes a NaN never
      if (filled === k && !(key > (keys[k - 1] as number))) continue;
      let p = filled < k ? filled++ : k - 1;
      while (p > 0 && key > (keys[p - 1] as number)) {
        keys[p] = keys[p - 1] as number;
        columns[p] = columns[p - 1] as number;
        p--;
      }
      keys[p] = key;
      columns[p] = c;
    }
    for (let i = 0; i < k; i++) {
      const c = columns[i] as number;
      values[r * k + i] = source[base + c] as number;
      indices[r * k + i] = BigInt(c);
    }
  }
  return [
    { name: t.name, datatype: t.datatype, shape: [rows, k], data: values },
    { datatype: 'INT64', shape: [rows, k], data: indices },
  ];
}
