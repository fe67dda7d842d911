/**
 * Magnitude pruning of an ONNX model's weights (docs/optimize.md), in two forms:
 *
 * - unstructured: in each float32 weight of a Gemm, MatMul or Conv, the `sparsity` fraction of
 *   values with the smallest magnitude is set to zero. The shapes stay; the file compresses
 *   better, but dense kernels run no faster.
 * - structured: whole output units (Gemm/MatMul columns, Conv filters) with the smallest L2 norm
 *   are removed from a layer, together with the matching inputs of the one layer that reads them,
 *   so the graph really shrinks. Only a layer whose output reaches exactly one next layer through
 *   operators that keep channels apart (activations, pooling, batch normalisation, a constant
 *   bias or scale) is pruned; every other layer is reported as skipped with the reason.
 */
import { describe } from '../core/index.js';
import { longToNumber, tensorDims, type onnx } from '../onnx/index.js';
import { OptimizeErrors } from './errors.js';
import {
  PRUNING_METADATA_KEY,
  WEIGHT_OPS,
  copyModel,
  indexGraph,
  intAttr,
  isDefaultDomain,
  isFloatTensor,
  mainGraph,
  nodeLabel,
  readFloats,
  recordStep,
  writeFloats,
  type GraphIndex,
  type SkippedNode,
} from './graph-edit.js';

/** How much to prune and how. */
export interface PruneOptions {
  /** The fraction of weights (unstructured) or of output units per layer (structured) to remove, strictly between 0 and 1. */
  readonly sparsity: number;
  /** Remove whole output units instead of single weights. Default false. */
  readonly structured?: boolean;
  /** Weights with fewer values are left as they are. Default 16. */
  readonly minElements?: number;
}

/** One weight pruned without changing its shape. */
export interface PrunedTensor {
  readonly name: string;
  readonly elements: number;
  /** Values that are zero after pruning (including those that already were). */
  readonly zeros: number;
  /** zeros / elements. */
  readonly sparsity: number;
}

/** One layer whose output units were removed, and the layer that read them. */
export interface PrunedLayer {
  readonly node: string;
  readonly opType: string;
  readonly weight: string;
  /** The layer whose matching inputs were removed. */
  readonly next: string;
  readonly nextWeight: string;
  readonly units: { readonly before: number; readonly after: number };
  /** The indices (in the original numbering) of the units removed, ascending. */
  readonly removed: readonly number[];
  /** The operators between the two layers, in order (e.g. `Relu`, `MaxPool`). */
  readonly through: readonly string[];
}

/** What {@link pruneModel} did. */
export interface PruneReport {
  readonly structured: boolean;
  /** The sparsity asked for. */
  readonly sparsity: number;
  /** Unstructured: each pruned weight. */
  readonly tensors: readonly PrunedTensor[];
  /** Structured: each shrunk layer. */
  readonly layers: readonly PrunedLayer[];
  readonly skipped: readonly SkippedNode[];
  /** Non-zero values across every float32 Gemm/MatMul/Conv weight of the graph, before and after. */
  readonly nonzeroWeights: { readonly before: number; readonly after: number };
}

const DEFAULT_MIN_ELEMENTS = 16;
const OPTION_KEYS = ['sparsity', 'structured', 'minElements'] as const;

/** Checks the options once, listing every problem with its field. */
function resolveOptions(options: unknown): Required<PruneOptions> {
  const problems: { field: string; message: string }[] = [];
  if (typeof options !== 'object' || options === null) {
    problems.push({ field: 'options', message: `must be an object, got ${describe(options)}` });
  } else {
    const o = options as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!(OPTION_KEYS as readonly string[]).includes(key)) problems.push({ field: key, message: `is not an option (known: ${OPTION_KEYS.join(', ')})` });
    }
    if (typeof o.sparsity !== 'number' || !(o.sparsity > 0 && o.sparsity < 1)) {
      problems.push({ field: 'sparsity', message: `must be a number strictly between 0 and 1 (0.5 removes half), got ${describe(o.sparsity)}` });
    }
    if (o.structured !== undefined && typeof o.structured !== 'boolean') problems.push({ field: 'structured', message: `must be true or false, got ${describe(o.structured)}` });
    if (o.minElements !== undefined && !(Number.isSafeInteger(o.minElements) && (o.minElements as number) >= 1)) {
      problems.push({ field: 'minElements', message: `must be a whole number ≥ 1, got ${describe(o.minElements)}` });
    }
    if (problems.length === 0) {
      return { sparsity: o.sparsity as number, structured: (o.structured as boolean | undefined) ?? false, minElements: (o.minElements as number | undefined) ?? DEFAULT_MIN_ELEMENTS };
    }
  }
  throw OptimizeErrors.OPTIMIZE_INVALID_OPTIONS(`prune options: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, { details: { problems } });
}

function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The distinct float32 initializers read as the weight (input 1) of a default-domain Gemm, MatMul or Conv. */
function weightNames(graph: onnx.IGraphProto, index: GraphIndex): string[] {
  const names = new Set<string>();
  for (const node of graph.node ?? []) {
    const w = node.input?.[1];
    if (WEIGHT_OPS.has(node.opType ?? '') && isDefaultDomain(node) && w && isFloatTensor(index.initializers.get(w))) names.add(w);
  }
  return [...names];
}

function nonzeroWeights(graph: onnx.IGraphProto, index: GraphIndex): number {
  let n = 0;
  for (const name of weightNames(graph, index)) for (const v of readFloats(index.initializers.get(name) as onnx.ITensorProto)) if (v !== 0) n++;
  return n;
}

/**
 * Prunes a model's weights (see the file comment for the two forms). Returns a new model and a
 * report; the input model is not modified. Throws OPTIMIZE_INVALID_OPTIONS for bad options and
 * OPTIMIZE_NOTHING_TO_DO when no weight or layer can be pruned (details.skipped says why).
 */
export function pruneModel(model: onnx.IModelProto, options: PruneOptions): { model: onnx.ModelProto; report: PruneReport } {
  const resolved = resolveOptions(options);
  const copy = copyModel(model);
  const graph = mainGraph(copy);
  const before = nonzeroWeights(graph, indexGraph(graph));
  const skipped: SkippedNode[] = [];
  const tensors: PrunedTensor[] = [];
  const layers: PrunedLayer[] = [];
  if (resolved.structured) pruneStructured(graph, resolved, layers, skipped);
  else pruneUnstructured(graph, resolved, tensors, skipped);

  if (tensors.length === 0 && layers.length === 0) {
    const why = skipped.length === 0 ? 'it has no Gemm, MatMul or Conv node' : skipped.map((s) => `${s.node} (${s.opType}): ${s.reason}`).join('; ');
    throw OptimizeErrors.OPTIMIZE_NOTHING_TO_DO(`nothing to prune in the model: ${why}`, { details: { skipped } });
  }
  const nonzero = { before, after: nonzeroWeights(graph, indexGraph(graph)) };
  const report: PruneReport = { structured: resolved.structured, sparsity: resolved.sparsity, tensors, layers, skipped, nonzeroWeights: nonzero };
  recordStep(
    copy,
    {
      step: 'prune',
      method: resolved.structured ? 'structured-l2' : 'magnitude',
      sparsity: resolved.sparsity,
      ...(resolved.structured
        ? { layers: layers.map((l) => ({ node: l.node, units: l.units })) }
        : { tensors: tensors.map((t) => ({ name: t.name, sparsity: Number(t.sparsity.toFixed(6)) })) }),
      skipped: skipped.length,
      nonzeroWeights: nonzero,
    },
    { [PRUNING_METADATA_KEY]: resolved.structured ? 'structured' : 'unstructured' },
  );
  return { model: copy, report };
}

// ---------------------------------------------------------------------------------------------
// unstructured

/**
 * Zeroes the `k` values of smallest magnitude: the k-th smallest |w| is the threshold, everything
 * below it is zeroed, then values equal to it until exactly k are (ties taken in index order).
 */
export function zeroSmallest(values: Float32Array, k: number): Float32Array {
  const out = Float32Array.from(values);
  if (k <= 0) return out;
  const magnitudes = Float32Array.from(values, Math.abs).sort();
  const threshold = magnitudes[Math.min(k, values.length) - 1] ?? 0;
  let zeroed = 0;
  for (let i = 0; i < out.length; i++) {
    if (Math.abs(out[i] ?? 0) < threshold) {
      out[i] = 0;
      zeroed++;
    }
  }
  // with ties at the threshold, take them in index order until k are zero
  for (let i = 0; i < out.length && zeroed < k; i++) {
    if (Math.abs(out[i] ?? 0) === threshold) {
      out[i] = 0;
      zeroed++;
    }
  }
  return out;
}

function pruneUnstructured(graph: onnx.IGraphProto, o: Required<PruneOptions>, tensors: PrunedTensor[], skipped: SkippedNode[]): void {
  const index = indexGraph(graph);
  const done = new Set<string>();
  (graph.node ?? []).forEach((node, i) => {
    const op = node.opType ?? '';
    if (!WEIGHT_OPS.has(op) || !isDefaultDomain(node)) return;
    const label = nodeLabel(node, i);
    const w = node.input?.[1];
    const t = w ? index.initializers.get(w) : undefined;
    if (!w || t === undefined) return void skipped.push({ node: label, opType: op, reason: `its weight '${w ?? ''}' is computed in the graph, not an initializer` });
    if (!isFloatTensor(t)) return void skipped.push({ node: label, opType: op, reason: `its weight '${w}' is not float32` });
    if (done.has(w)) return;
    const dims = tensorDims(t);
    const n = count(dims);
    if (n < o.minElements) return void skipped.push({ node: label, opType: op, reason: `its weight '${w}' has ${n} values, fewer than minElements (${o.minElements})` });
    const pruned = zeroSmallest(readFloats(t), Math.round(o.sparsity * n));
    writeFloats(t, dims, pruned);
    done.add(w);
    const zeros = pruned.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
    tensors.push({ name: w, elements: n, zeros, sparsity: zeros / n });
  });
}

// ---------------------------------------------------------------------------------------------
// structured

/** Operators applied to each value on its own: they keep the channel layout as it is. */
const ELEMENTWISE = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Identity', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Gelu', 'Mish', 'Clip', 'Dropout']);
/** Pooling over the spatial axes, channel by channel (tensors laid out [N, C, spatial…]). */
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

/**
 * Where the units of a tensor on the path sit: `last` (Gemm/MatMul outputs: [..., units]) or
 * `second` (Conv outputs: [N, C, spatial…]), its rank when known, and whether its spatial extent
 * is known to be 1 (after a global pool).
 */
interface Layout {
  readonly units: 'last' | 'second';
  readonly rank: number | undefined;
  readonly spatialOne: boolean;
}

/** A constant on the path that holds one value per unit along `axis` and must be sliced with them. */
interface ConstantSlice {
  readonly tensor: onnx.ITensorProto;
  readonly axis: number;
}

/** A value on the path between two layers, with the unit axis its value_info shape must change at. */
interface PathValue {
  readonly name: string;
  readonly axis: number | undefined;
}

/** What a producer layer's output reaches. */
type Path =
  | { readonly ok: true; readonly next: onnx.INodeProto; readonly through: string[]; readonly constants: ConstantSlice[]; readonly values: PathValue[]; readonly layout: Layout }
  | { readonly ok: false; readonly reason: string };

/** The rank of a value as the graph declares it (inputs, value_info), or undefined. */
function declaredRank(graph: onnx.IGraphProto, name: string): number | undefined {
  const v = [...(graph.input ?? []), ...(graph.valueInfo ?? [])].find((x) => x.name === name);
  const dims = v?.type?.tensorType?.shape?.dim;
  return dims === undefined || dims === null ? undefined : dims.length;
}

function unitAxis(layout: Layout): number | undefined {
  if (layout.units === 'second') return 1;
  return layout.rank === undefined ? undefined : layout.rank - 1;
}

/** True when `name` is read by exactly one main-graph node slot and nowhere else. */
function singleUse(index: GraphIndex, name: string): boolean {
  return (index.uses.get(name) ?? []).length === 1 && !index.subgraphNames.has(name) && !index.graphOutputs.has(name) && !index.graphInputs.has(name);
}

/** Only the first output of a node is used (Dropout's mask, MaxPool's indices, BatchNormalization's running statistics are not). */
function onlyFirstOutputUsed(node: onnx.INodeProto, index: GraphIndex): boolean {
  return (node.output ?? []).slice(1).every((o) => !o || ((index.uses.get(o) ?? []).length === 0 && !index.graphOutputs.has(o) && !index.subgraphNames.has(o)));
}

/** Follows a layer's output to the next layer, through operators that keep units apart. */
function followPath(graph: onnx.IGraphProto, index: GraphIndex, start: string, layout0: Layout, units: number): Path {
  let value = start;
  let layout = layout0;
  const through: string[] = [];
  const constants: ConstantSlice[] = [];
  const values: PathValue[] = [];
  for (;;) {
    const where = through.length === 0 ? '' : ` (through ${through.join(' → ')})`;
    if (index.graphOutputs.has(value)) return { ok: false, reason: `its output reaches the graph output '${value}'${where}` };
    if (index.subgraphNames.has(value)) return { ok: false, reason: `its output '${value}' is read inside a subgraph${where}` };
    const uses = index.uses.get(value) ?? [];
    if (uses.length === 0) return { ok: false, reason: `its output '${value}' is not read by a node${where}` };
    if (uses.length > 1) {
      return { ok: false, reason: `its output '${value}' feeds ${uses.length} nodes (${uses.map((u) => u.node.opType ?? '?').join(', ')})${where}; only a single path can be followed` };
    }
    values.push({ name: value, axis: unitAxis(layout) });
    const use = uses[0];
    if (use === undefined) return { ok: false, reason: `its output '${value}' is not read by a node${where}` };
    const { node, input } = use;
    const op = node.opType ?? '';
    const name = node.name ? `'${node.name}'` : '';
    const cannot = (why: string): Path => ({ ok: false, reason: `its output goes to ${op} ${name}${where}, ${why}` });
    if (!isDefaultDomain(node)) return cannot('an operator of another domain, which pruning cannot follow');
    if (WEIGHT_OPS.has(op)) {
      if (input !== 0) return cannot(`as input ${input}, not as its data input`);
      return { ok: true, next: node, through, constants, values, layout };
    }
    if (ELEMENTWISE.has(op)) {
      if (input !== 0) return cannot(`as input ${input}, not as its data input`);
      if (!onlyFirstOutputUsed(node, index)) return cannot('whose second output is used');
    } else if (POOLS.has(op) || GLOBAL_POOLS.has(op)) {
      if (layout.units !== 'second') return cannot('which pools spatial axes the layer does not have');
      if (!onlyFirstOutputUsed(node, index)) return cannot('whose indices output is used');
      if (GLOBAL_POOLS.has(op)) layout = { ...layout, spatialOne: true };
    } else if (op === 'BatchNormalization') {
      if (input !== 0) return cannot(`as input ${input}, not as its data input`);
      if (unitAxis(layout) !== 1) return cannot('which normalises axis 1, not the axis holding the units');
      if (!onlyFirstOutputUsed(node, index)) return cannot('in training mode (its running statistics are used)');
      for (const p of (node.input ?? []).slice(1, 5)) {
        const t = index.initializers.get(p);
        if (!isFloatTensor(t) || !singleUse(index, p) || count(tensorDims(t)) !== units) return cannot(`whose parameter '${p}' is not a float32 initializer of ${units} values read by it alone`);
        constants.push({ tensor: t, axis: 0 });
      }
    } else if (op === 'Flatten') {
      const axis = intAttr(node, 'axis', 1);
      const rank = layout.rank;
      const keepsUnits = axis === 1 && (rank === 2 || (layout.units === 'second' && layout.spatialOne));
      if (!keepsUnits) return cannot('which would mix units with spatial positions (it follows no global pool)');
      layout = { units: 'last', rank: 2, spatialOne: true };
    } else if (BINARY.has(op)) {
      const other = node.input?.[1 - input];
      const t = other ? index.initializers.get(other) : undefined;
      if (!other || t === undefined) return cannot('whose other operand is computed in the graph (another branch)');
      if (!isFloatTensor(t) || !singleUse(index, other)) return cannot(`whose constant '${other}' is not a float32 initializer read by it alone`);
      const dims = tensorDims(t);
      const axis = unitAxis(layout);
      if (axis === undefined || layout.rank === undefined) {
        // rank unknown: a [units] vector or a scalar is safe for a last-axis layout
        if (layout.units !== 'last' || dims.length > 1) return cannot('with a constant whose broadcast against the unknown rank cannot be checked');
        if (dims.length === 1 && dims[0] === units) constants.push({ tensor: t, axis: 0 });
        else if (dims.length === 1 && dims[0] !== 1) return cannot(`whose constant '${other}' does not line up with the ${units} units`);
      } else {
        if (dims.length > layout.rank) return cannot(`whose constant '${other}' has a higher rank than the layer output`);
        const at = axis - (layout.rank - dims.length);
        if (at >= 0) {
          if (dims[at] === units) constants.push({ tensor: t, axis: at });
          else if (dims[at] !== 1) return cannot(`whose constant '${other}' does not line up with the ${units} units`);
        }
      }
    } else {
      return cannot('which pruning cannot follow (it may reorder, mix or concatenate units)');
    }
    through.push(op);
    const out = node.output?.[0];
    if (!out) return cannot('which has no output');
    value = out;
  }
}

/** Keeps the entries of `keep` (ascending) along `axis` of a row-major tensor. */
export function sliceAxis(values: Float32Array, dims: readonly number[], axis: number, keep: readonly number[]): { values: Float32Array; dims: number[] } {
  const outer = count(dims.slice(0, axis));
  const size = dims[axis] ?? 1;
  const inner = count(dims.slice(axis + 1));
  const out = new Float32Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const k of keep) {
      const from = (a * size + k) * inner;
      out.set(values.subarray(from, from + inner), o);
      o += inner;
    }
  }
  const newDims = [...dims];
  newDims[axis] = keep.length;
  return { values: out, dims: newDims };
}

/** L2 norm of each index along `axis`. */
function normsAlong(values: Float32Array, dims: readonly number[], axis: number): Float64Array {
  const size = dims[axis] ?? 1;
  const inner = count(dims.slice(axis + 1));
  const sums = new Float64Array(size);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % size;
    sums[c] = (sums[c] ?? 0) + (values[i] ?? 0) ** 2;
  }
  return sums.map(Math.sqrt);
}

function sliceTensor(t: onnx.ITensorProto, axis: number, keep: readonly number[]): void {
  const sliced = sliceAxis(readFloats(t), tensorDims(t), axis, keep);
  writeFloats(t, sliced.dims, sliced.values);
}

/**
 * Sets the unit dimension of a value's declared shape (value_info) to `after` when it says
 * `before`; leaves an unknown dimension unknown; drops the declaration when it cannot tell (a
 * symbolic dimension, an unknown axis, another size), rather than leave a wrong shape behind.
 */
function updateValueInfo(graph: onnx.IGraphProto, value: PathValue, before: number, after: number): void {
  const infos = graph.valueInfo ?? [];
  const i = infos.findIndex((v) => v.name === value.name);
  if (i < 0) return;
  const tensorType = infos[i]?.type?.tensorType;
  if (!tensorType?.shape) return;
  const dims = tensorType.shape.dim ?? [];
  const dim = value.axis === undefined ? undefined : dims[value.axis];
  if (dim !== undefined) {
    const symbolic = dim.dimParam !== null && dim.dimParam !== undefined && dim.dimParam !== '';
    const known = dim.dimValue !== null && dim.dimValue !== undefined;
    if (!symbolic && !known) return;
    if (!symbolic && longToNumber(dim.dimValue, `a dimension of '${value.name}'`) === before) {
      dim.dimValue = after;
      return;
    }
  }
  graph.valueInfo = infos.filter((_, k) => k !== i);
}

/** How a producer layer's weight is laid out: the axis of its output units, their count, and the layout of its output. */
function producerShape(graph: onnx.IGraphProto, node: onnx.INodeProto, dims: readonly number[]): { axis: number; units: number; layout: Layout } | string {
  switch (node.opType) {
    case 'Gemm': {
      const axis = intAttr(node, 'transB', 0) === 0 ? 1 : 0;
      return { axis, units: dims[axis] ?? 0, layout: { units: 'last', rank: 2, spatialOne: true } };
    }
    case 'MatMul': {
      if (dims.length !== 2) return `its weight has rank ${dims.length}; only 2-D MatMul weights are pruned by unit`;
      const rank = declaredRank(graph, node.input?.[0] ?? '');
      return { axis: 1, units: dims[1] ?? 0, layout: { units: 'last', rank, spatialOne: rank === 2 } };
    }
    default: {
      if (intAttr(node, 'group', 1) !== 1) return 'it is a grouped convolution; removing filters would unbalance its groups';
      return { axis: 0, units: dims[0] ?? 0, layout: { units: 'second', rank: dims.length, spatialOne: false } };
    }
  }
}

/** Which axis of the next layer's weight holds its inputs, or why the path's layout does not fit it. */
function consumerAxis(node: onnx.INodeProto, dims: readonly number[], layout: Layout): number | string {
  switch (node.opType) {
    case 'Gemm':
      if (intAttr(node, 'transA', 0) !== 0) return 'it reads its input transposed (transA = 1)';
      if (layout.units !== 'last' || (layout.rank !== undefined && layout.rank !== 2)) return 'its input is not a [batch, units] matrix here';
      return intAttr(node, 'transB', 0) === 0 ? 0 : 1;
    case 'MatMul':
      if (dims.length !== 2) return `its weight has rank ${dims.length}`;
      if (layout.units !== 'last') return 'its input holds units on axis 1, not on the last axis';
      return 0;
    default:
      if (intAttr(node, 'group', 1) !== 1) return 'it is a grouped convolution';
      if (layout.units !== 'second') return 'its input is not laid out [N, C, spatial…]';
      return 1;
  }
}

function pruneStructured(graph: onnx.IGraphProto, o: Required<PruneOptions>, layers: PrunedLayer[], skipped: SkippedNode[]): void {
  const nodes = graph.node ?? [];
  const labels = new Map(nodes.map((n, i) => [n, nodeLabel(n, i)]));
  nodes.forEach((node, i) => {
    const op = node.opType ?? '';
    if (!WEIGHT_OPS.has(op) || !isDefaultDomain(node)) return;
    const label = nodeLabel(node, i);
    const skip = (reason: string): void => void skipped.push({ node: label, opType: op, reason });
    // the index is rebuilt per layer: earlier layers changed dims, never the wiring
    const index = indexGraph(graph);
    const w = node.input?.[1] ?? '';
    const weight = index.initializers.get(w);
    if (!isFloatTensor(weight)) return skip(`its weight '${w}' is not a float32 initializer`);
    if (!singleUse(index, w)) return skip(`its weight '${w}' is shared with other nodes`);
    const dims = tensorDims(weight);
    const shape = producerShape(graph, node, dims);
    if (typeof shape === 'string') return skip(shape);
    const output = node.output?.[0];
    if (!output) return skip('it has no output');

    // the layer's own bias: Gemm C (broadcast along the last axis) or Conv B (one per filter)
    const constants: ConstantSlice[] = [];
    const bias = op === 'MatMul' ? undefined : node.input?.[2];
    if (bias) {
      const t = index.initializers.get(bias);
      if (!isFloatTensor(t) || !singleUse(index, bias)) return skip(`its bias '${bias}' is not a float32 initializer read by it alone`);
      const bd = tensorDims(t);
      const last = bd.length - 1;
      if (op === 'Conv' || (bd.length > 0 && bd[last] === shape.units)) constants.push({ tensor: t, axis: op === 'Conv' ? 0 : last });
      else if (bd.length > 0 && bd[last] !== 1) return skip(`its bias '${bias}' does not line up with its ${shape.units} outputs`);
    }

    const path = followPath(graph, index, output, shape.layout, shape.units);
    if (!path.ok) return skip(path.reason);
    if (count(dims) < o.minElements) return skip(`its weight '${w}' has ${count(dims)} values, fewer than minElements (${o.minElements})`);
    const next = path.next;
    const nw = next.input?.[1] ?? '';
    const nextWeight = index.initializers.get(nw);
    const nextLabel = labels.get(next) ?? next.name ?? '';
    if (!isFloatTensor(nextWeight)) return skip(`the next layer ${nextLabel} has no float32 initializer weight`);
    if (!singleUse(index, nw)) return skip(`the next layer's weight '${nw}' is shared with other nodes`);
    const nd = tensorDims(nextWeight);
    const inAxis = consumerAxis(next, nd, path.layout);
    if (typeof inAxis === 'string') return skip(`the next layer ${nextLabel} cannot be narrowed: ${inAxis}`);
    if (nd[inAxis] !== shape.units) return skip(`the next layer ${nextLabel} reads ${nd[inAxis] ?? '?'} inputs, not the ${shape.units} this layer makes`);

    const remove = Math.min(Math.round(o.sparsity * shape.units), shape.units - 1);
    if (remove <= 0) return skip(`sparsity ${o.sparsity} removes none of its ${shape.units} outputs`);
    const norms = normsAlong(readFloats(weight), dims, shape.axis);
    const order = [...norms.keys()].sort((a, b) => (norms[a] ?? 0) - (norms[b] ?? 0) || a - b);
    const keep = order.slice(remove).sort((a, b) => a - b);

    sliceTensor(weight, shape.axis, keep);
    for (const c of [...constants, ...path.constants]) sliceTensor(c.tensor, c.axis, keep);
    sliceTensor(nextWeight, inAxis, keep);
    for (const v of path.values) updateValueInfo(graph, v, shape.units, keep.length);
    const removed = order.slice(0, remove).sort((a, b) => a - b);
    layers.push({ node: label, opType: op, weight: w, next: nextLabel, nextWeight: nw, units: { before: shape.units, after: keep.length }, removed, through: path.through });
  });
}

