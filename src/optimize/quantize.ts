/**
 * Quantisation of an ONNX model's weights to int8 (docs/optimize.md), in two modes:
 *
 * - `dynamic`: each MatMul and Gemm with a constant float32 weight, and each Conv with a constant
 *   float32 kernel, is rewritten to integer arithmetic. The activation is quantised at run time
 *   (DynamicQuantizeLinear, uint8 with a zero point), the weight ahead of time (symmetric int8),
 *   the product is computed by MatMulInteger or ConvInteger, cast back to float and scaled by
 *   activation scale × weight scale, then the bias is added. Smaller and faster on CPUs with int8
 *   dot products.
 * - `weight-int8`: each such weight is stored as int8 with a float scale, and a DequantizeLinear
 *   node rebuilds the float tensor under its original name, so the rest of the graph is untouched.
 *   Smaller; as fast as the original only when onnxruntime is told not to fuse the pattern into
 *   quantised kernels (see {@link needsQdqDisable}).
 *
 * Weights are quantised symmetrically (zero point 0, range ±127), per output channel by default.
 */
import { describe } from '../core/index.js';
import { type onnx, tensorByteSize, tensorDims } from '../onnx/index.js';
import { OptimizeErrors } from './errors.js';
import {
  NameAllocator,
  QUANTIZATION_METADATA_KEY,
  WEIGHT_OPS,
  copyModel,
  dropUnusedInitializers,
  floatAttr,
  indexGraph,
  initializerBytes,
  intAttr,
  intAttribute,
  isDefaultDomain,
  isFloatTensor,
  mainGraph,
  makeNode,
  newTensor,
  nodeLabel,
  readFloats,
  recordStep,
  type GraphIndex,
  type SkippedNode,
} from './graph-edit.js';
import { canReachOpset, ensureOpset, type OpsetChange } from './opset.js';

/** The quantisation modes. */
export const QUANTIZE_MODES = ['dynamic', 'weight-int8'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** What to quantise and how. */
export interface QuantizeOptions {
  readonly mode: QuantizeMode;
  /**
   * One scale per output channel (MatMul/Gemm column, Conv filter) instead of one per tensor.
   * Default true: it costs 4 bytes per channel and, measured on the examples (docs/optimize.md),
   * lowers the output error of weight-int8 models by 1.3–1.4× (relative RMSE) and slightly that of
   * dynamic ones, where the activation's per-tensor rounding dominates. In `weight-int8` mode it
   * needs opset 13; when the model's opset is lower and cannot safely be raised, an unset
   * perChannel falls back to per-tensor scales (noted in the report) and an explicit `true` is
   * refused.
   */
  readonly perChannel?: boolean;
  /** Weights with fewer values are left as they are. Default 16. */
  readonly minElements?: number;
}

/** A weight the rewrite quantised. */
export interface QuantizedWeight {
  readonly name: string;
  readonly dims: readonly number[];
  /** The axis that has one scale per entry, or null for one scale for the whole tensor. */
  readonly axis: number | null;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** A node the rewrite changed. */
export interface QuantizedNode {
  readonly node: string;
  readonly opType: string;
  readonly weight: string;
}

/** What {@link quantizeModel} did. */
export interface QuantizeReport {
  readonly mode: QuantizeMode;
  readonly perChannel: boolean;
  /** Nodes rewritten (dynamic) or whose weight was quantised (weight-int8), by operator. */
  readonly rewritten: Readonly<Record<string, number>>;
  readonly nodes: readonly QuantizedNode[];
  readonly weights: readonly QuantizedWeight[];
  readonly skipped: readonly SkippedNode[];
  /** Data bytes of the quantised weights: the float originals, and the int8 values plus scales that replace them. */
  readonly weightBytes: { readonly before: number; readonly after: number };
  /** Data bytes of every initializer of the main graph, before and after. */
  readonly initializerBytes: { readonly before: number; readonly after: number };
  readonly opset: OpsetChange;
  /** Decisions a reader should know about (a fallback to per-tensor scales). */
  readonly notes: readonly string[];
}

/** The options with defaults applied. */
interface ResolvedQuantizeOptions {
  readonly mode: QuantizeMode;
  readonly perChannel: boolean;
  readonly perChannelExplicit: boolean;
  readonly minElements: number;
}

/** Opsets the inserted operators need: DynamicQuantizeLinear (11), per-axis DequantizeLinear (13), DequantizeLinear (10). */
const DYNAMIC_OPSET = 11;
const PER_AXIS_DEQUANTIZE_OPSET = 13;
const DEQUANTIZE_OPSET = 10;

/** Symmetric int8 range: −127…127 (−128 unused, so that the range is symmetric and negation exact). */
const INT8_MAX = 127;
/** The zero point of kernels stored as uint8: q + 128 lies in 1…255. */
const UINT8_ZERO_POINT = 128;

const DEFAULT_MIN_ELEMENTS = 16;
const OPTION_KEYS = ['mode', 'perChannel', 'minElements'] as const;

function invalidOptions(what: string, problems: { field: string; message: string }[]): never {
  throw OptimizeErrors.OPTIMIZE_INVALID_OPTIONS(`${what}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, {
    details: { problems },
  });
}

/** Checks the options once, listing every problem with its field. */
function resolveOptions(options: unknown): ResolvedQuantizeOptions {
  if (typeof options !== 'object' || options === null) invalidOptions('quantize options', [{ field: 'options', message: `must be an object, got ${describe(options)}` }]);
  const o = options as Record<string, unknown>;
  const problems: { field: string; message: string }[] = [];
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) problems.push({ field: key, message: `is not an option (known: ${OPTION_KEYS.join(', ')})` });
  }
  if (!(QUANTIZE_MODES as readonly unknown[]).includes(o.mode)) problems.push({ field: 'mode', message: `must be 'dynamic' or 'weight-int8', got ${describe(o.mode)}` });
  if (o.perChannel !== undefined && typeof o.perChannel !== 'boolean') problems.push({ field: 'perChannel', message: `must be true or false, got ${describe(o.perChannel)}` });
  if (o.minElements !== undefined && !(Number.isSafeInteger(o.minElements) && (o.minElements as number) >= 1)) {
    problems.push({ field: 'minElements', message: `must be a whole number ≥ 1, got ${describe(o.minElements)}` });
  }
  if (problems.length > 0) invalidOptions('quantize options', problems);
  return {
    mode: o.mode as QuantizeMode,
    perChannel: (o.perChannel as boolean | undefined) ?? true,
    perChannelExplicit: o.perChannel !== undefined,
    minElements: (o.minElements as number | undefined) ?? DEFAULT_MIN_ELEMENTS,
  };
}

/** Symmetric int8 values and their scales: value ≈ q × scale[channel]. */
interface SymmetricInt8 {
  readonly q: Int8Array;
  readonly scales: Float32Array;
}

/**
 * Quantises `values` (row-major, `dims`) symmetrically to int8, with one scale per index of `axis`
 * or one for the whole tensor when axis is null. scale = max|w| / 127, stored as float32; q =
 * round(w / scale), half away from zero. An all-zero channel gets scale 1 (its values are 0).
 */
export function quantizeSymmetric(values: Float32Array, dims: readonly number[], axis: number | null): SymmetricInt8 {
  const channels = axis === null ? 1 : (dims[axis] ?? 1);
  const inner = axis === null ? values.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number): number => (axis === null ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c] ?? 0, Math.abs(values[i] ?? 0));
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = maxAbs[c] ?? 0;
    scales[c] = m > 0 && Number.isFinite(m) ? m / INT8_MAX : 1;
  }
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const r = (values[i] ?? 0) / (scales[channelOf(i)] ?? 1);
    const rounded = Math.sign(r) * Math.round(Math.abs(r));
    q[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, Number.isFinite(rounded) ? rounded : 0));
  }
  return { q, scales };
}

/** Transposes a row-major [rows, cols] matrix. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c] ?? 0;
  return out;
}

/** State shared by the rewrite of one model. */
interface Rewrite {
  readonly graph: onnx.IGraphProto;
  readonly index: GraphIndex;
  readonly names: NameAllocator;
  readonly options: ResolvedQuantizeOptions;
  readonly perChannel: boolean;
  readonly newInitializers: onnx.ITensorProto[];
  readonly skipped: SkippedNode[];
  readonly nodes: QuantizedNode[];
  readonly weights: Map<string, QuantizedWeight>;
  readonly touchedWeights: Set<string>;
}

/** Why a node's weight input cannot be quantised, or undefined when it can. */
function weightProblem(r: Rewrite, name: string | undefined): string | undefined {
  if (!name) return 'it has no weight input';
  const t = r.index.initializers.get(name);
  if (t === undefined) return `its weight '${name}' is computed in the graph, not an initializer`;
  if (!isFloatTensor(t)) return `its weight '${name}' is not float32`;
  const n = tensorDims(t).reduce((a, b) => a * b, 1);
  if (n < r.options.minElements) return `its weight '${name}' has ${n} values, fewer than minElements (${r.options.minElements})`;
  return undefined;
}

/**
 * Quantises a model's weights (see the file comment for the two modes). Returns a new model and
 * a report; the input model is not modified. Throws OPTIMIZE_INVALID_OPTIONS for bad options,
 * OPTIMIZE_NOTHING_TO_DO when no weight qualifies (details.skipped says why for each layer), and
 * OPTIMIZE_UNSUPPORTED when the model's opset is too low and cannot safely be raised.
 */
export function quantizeModel(model: onnx.IModelProto, options: QuantizeOptions): { model: onnx.ModelProto; report: QuantizeReport } {
  const resolved = resolveOptions(options);
  const copy = copyModel(model);
  const graph = mainGraph(copy);
  const before = initializerBytes(graph);

  const notes: string[] = [];
  let perChannel = resolved.perChannel;
  if (resolved.mode === 'weight-int8' && perChannel && !resolved.perChannelExplicit && !canReachOpset(copy, PER_AXIS_DEQUANTIZE_OPSET)) {
    perChannel = false;
    notes.push(`per-channel scales need opset ${PER_AXIS_DEQUANTIZE_OPSET}, which this model cannot safely be raised to; per-tensor scales were used`);
  }

  const r: Rewrite = {
    graph,
    index: indexGraph(graph),
    names: new NameAllocator(graph),
    options: resolved,
    perChannel,
    newInitializers: [],
    skipped: [],
    nodes: [],
    weights: new Map(),
    touchedWeights: new Set(),
  };
  if (resolved.mode === 'dynamic') rewriteDynamic(r);
  else rewriteWeightOnly(r);

  if (r.nodes.length === 0) {
    const why = r.skipped.length === 0 ? 'it has no Gemm, MatMul or Conv node' : r.skipped.map((s) => `${s.node} (${s.opType}): ${s.reason}`).join('; ');
    throw OptimizeErrors.OPTIMIZE_NOTHING_TO_DO(`nothing to quantize in the model: ${why}`, { details: { skipped: r.skipped } });
  }
  const required = resolved.mode === 'dynamic' ? DYNAMIC_OPSET : perChannel ? PER_AXIS_DEQUANTIZE_OPSET : DEQUANTIZE_OPSET;
  const opset = ensureOpset(copy, required, `${resolved.mode} quantization${perChannel && resolved.mode === 'weight-int8' ? ' with per-channel scales' : ''}`);
  graph.initializer = [...(graph.initializer ?? []), ...r.newInitializers];
  dropUnusedInitializers(graph, r.touchedWeights);

  const rewritten: Record<string, number> = {};
  for (const n of r.nodes) rewritten[n.opType] = (rewritten[n.opType] ?? 0) + 1;
  const weights = [...r.weights.values()];
  const weightBytes = { before: weights.reduce((a, w) => a + w.bytesBefore, 0), after: weights.reduce((a, w) => a + w.bytesAfter, 0) };
  const report: QuantizeReport = {
    mode: resolved.mode,
    perChannel,
    rewritten,
    nodes: r.nodes,
    weights,
    skipped: r.skipped,
    weightBytes,
    initializerBytes: { before, after: initializerBytes(graph) },
    opset,
    notes,
  };
  recordStep(
    copy,
    { step: 'quantize', mode: resolved.mode, perChannel, rewritten, weights: weights.length, skipped: r.skipped.length, weightBytes, opset },
    { [QUANTIZATION_METADATA_KEY]: resolved.mode },
  );
  return { model: copy, report };
}

// ---------------------------------------------------------------------------------------------
// dynamic

/** The outputs of one DynamicQuantizeLinear: quantised activation, its scale and zero point. */
interface QuantizedActivation {
  readonly node: onnx.INodeProto;
  readonly q: string;
  readonly scale: string;
  readonly zeroPoint: string;
}

/** Rewrites every qualifying MatMul, Gemm and Conv, keeping the node order (replacements go where the node was). */
function rewriteDynamic(r: Rewrite): void {
  const activations = new Map<string, QuantizedActivation>();
  const out: onnx.INodeProto[] = [];
  (r.graph.node ?? []).forEach((node, i) => {
    const label = nodeLabel(node, i);
    const op = node.opType ?? '';
    if (!isDefaultDomain(node)) {
      out.push(node);
      return;
    }
    let replacement: onnx.INodeProto[] | string | undefined;
    if (op === 'MatMul' || op === 'Gemm') replacement = dynamicMatMul(r, node, label, activations);
    else if (op === 'Conv') replacement = dynamicConv(r, node, label, activations);
    if (replacement === undefined) out.push(node);
    else if (typeof replacement === 'string') {
      r.skipped.push({ node: label, opType: op, reason: replacement });
      out.push(node);
    } else {
      out.push(...replacement);
      r.nodes.push({ node: label, opType: op, weight: node.input?.[1] ?? '' });
    }
  });
  r.graph.node = out;
}

/**
 * The integer product back to float: Cast, then × (activation scale × weight scale). The result is
 * `output` itself, or a fresh name when a bias is still to be added; returns that name.
 */
function rescale(r: Rewrite, label: string, output: string, integer: string, activationScale: string, weightScale: string, biased: boolean, emit: onnx.INodeProto[]): string {
  const asFloat = r.names.fresh(`${output}_float`);
  const scale = r.names.fresh(`${output}_scale`);
  const scaled = biased ? r.names.fresh(`${output}_unbiased`) : output;
  emit.push(
    makeNode('Cast', r.names.fresh(`${label}_cast`), [integer], [asFloat], [intAttribute('to', 1)]),
    makeNode('Mul', r.names.fresh(`${label}_scales`), [activationScale, weightScale], [scale]),
    makeNode('Mul', r.names.fresh(`${label}_rescale`), [asFloat, scale], [scaled]),
  );
  return scaled;
}

/** The activation's DynamicQuantizeLinear, made once per activation (two layers reading one input share it). */
function quantizeActivation(r: Rewrite, input: string, label: string, activations: Map<string, QuantizedActivation>, emit: onnx.INodeProto[]): QuantizedActivation {
  const known = activations.get(input);
  if (known !== undefined) return known;
  const q = r.names.fresh(`${input}_quantized`);
  const scale = r.names.fresh(`${input}_scale`);
  const zeroPoint = r.names.fresh(`${input}_zero_point`);
  const node = makeNode('DynamicQuantizeLinear', r.names.fresh(`${label}_quantize_input`), [input], [q, scale, zeroPoint]);
  emit.push(node);
  const made = { node, q, scale, zeroPoint };
  activations.set(input, made);
  return made;
}

/** Records a quantised weight once (a weight shared by two nodes is counted once). */
function noteWeight(r: Rewrite, original: onnx.ITensorProto, axis: number | null, added: readonly onnx.ITensorProto[]): void {
  const name = original.name ?? '';
  r.touchedWeights.add(name);
  const previous = r.weights.get(name);
  const addedBytes = added.reduce((a, t) => a + tensorByteSize(t), 0);
  if (previous === undefined) {
    r.weights.set(name, { name, dims: tensorDims(original), axis, bytesBefore: tensorByteSize(original), bytesAfter: addedBytes });
  } else {
    r.weights.set(name, { ...previous, bytesAfter: previous.bytesAfter + addedBytes });
  }
}

/**
 * MatMul (A × B) or Gemm (alpha · A × B' + beta · C, transA 0) with a constant 2-D B →
 * DynamicQuantizeLinear(A) → MatMulInteger(A_q, B_q, A_zp) → Cast → Mul(A_scale · B_scale) [→ Add C].
 */
function dynamicMatMul(r: Rewrite, node: onnx.INodeProto, label: string, activations: Map<string, QuantizedActivation>): onnx.INodeProto[] | string {
  const gemm = node.opType === 'Gemm';
  const [a, b, c] = node.input ?? [];
  const output = node.output?.[0];
  if (!a || !output) return 'it lacks an input or output';
  const problem = weightProblem(r, b);
  if (problem !== undefined) return problem;
  if (r.index.initializers.has(a)) return `its input '${a}' is a constant too; only a constant second operand is quantized`;
  const weight = r.index.initializers.get(b ?? '') as onnx.ITensorProto;
  const dims = tensorDims(weight);
  if (dims.length !== 2) return `its weight '${b ?? ''}' has rank ${dims.length}; MatMulInteger needs a 2-D weight`;
  const transA = gemm ? intAttr(node, 'transA', 0) : 0;
  if (transA !== 0) return 'transA = 1 is not rewritten (the activation would have to be transposed first)';
  const transB = gemm ? intAttr(node, 'transB', 0) : 0;
  const alpha = gemm ? floatAttr(node, 'alpha', 1) : 1;
  const beta = gemm ? floatAttr(node, 'beta', 1) : 1;
  const hasBias = gemm && !!c && beta !== 0;
  // beta = 0 drops C: the rewrite leaves it unread, and dropUnusedInitializers removes it
  if (gemm && c && !hasBias) r.touchedWeights.add(c);
  if (hasBias && r.index.initializers.has(c) && !isFloatTensor(r.index.initializers.get(c))) return `its bias '${c}' is not float32`;

  const values = readFloats(weight);
  const [rows = 0, cols = 0] = dims;
  // MatMulInteger computes A[M,K] × B[K,N]: a transposed Gemm weight is stored transposed.
  const kn = transB === 0 ? values : transpose(values, rows, cols);
  const k = transB === 0 ? rows : cols;
  const n = transB === 0 ? cols : rows;
  const { q, scales } = quantizeSymmetric(kn, [k, n], r.perChannel ? 1 : null);
  const base = b ?? 'weight';
  const qTensor = newTensor(r.names.fresh(`${base}_quantized`), 'INT8', [k, n], q);
  // alpha is folded into the weight scale: alpha · (A × B) = (A × B_q) · (A_scale · B_scale · alpha)
  const scaleValues = Float32Array.from(scales, (s) => s * alpha);
  const scaleTensor = newTensor(r.names.fresh(`${base}_scale`), 'FLOAT', r.perChannel ? [n] : [], scaleValues);
  r.newInitializers.push(qTensor, scaleTensor);
  noteWeight(r, weight, r.perChannel ? (transB === 0 ? 1 : 0) : null, [qTensor, scaleTensor]);

  const emit: onnx.INodeProto[] = [];
  const act = quantizeActivation(r, a, label, activations, emit);
  const integer = r.names.fresh(`${output}_integer`);
  emit.push(makeNode('MatMulInteger', r.names.fresh(`${label}_matmul_integer`), [act.q, qTensor.name ?? '', act.zeroPoint], [integer]));
  const scaled = rescale(r, label, output, integer, act.scale, scaleTensor.name ?? '', hasBias, emit);
  if (hasBias && c) {
    let bias = c;
    if (beta !== 1) {
      const cTensor = r.index.initializers.get(c);
      if (cTensor !== undefined) {
        const scaledBias = newTensor(r.names.fresh(`${c}_times_beta`), 'FLOAT', tensorDims(cTensor), Float32Array.from(readFloats(cTensor), (v) => v * beta));
        r.newInitializers.push(scaledBias);
        r.touchedWeights.add(c);
        bias = scaledBias.name ?? '';
      } else {
        const betaTensor = newTensor(r.names.fresh(`${label}_beta`), 'FLOAT', [], [beta]);
        r.newInitializers.push(betaTensor);
        bias = r.names.fresh(`${c}_times_beta`);
        emit.push(makeNode('Mul', r.names.fresh(`${label}_beta_mul`), [c, betaTensor.name ?? ''], [bias]));
      }
    }
    emit.push(makeNode('Add', r.names.fresh(`${label}_bias`), [scaled, bias], [output]));
  }
  return emit;
}

/**
 * Conv with a constant kernel → DynamicQuantizeLinear(X) → ConvInteger(X_q, W_q, X_zp, W_zp) →
 * Cast → Mul(X_scale · W_scale[1,C,1,…]) [→ Add bias[1,C,1,…]]. onnxruntime's ConvInteger takes
 * only a per-tensor kernel zero point; the symmetric kernel has one zero point for every channel,
 * so the per-channel scales are applied after the integer convolution.
 */
function dynamicConv(r: Rewrite, node: onnx.INodeProto, label: string, activations: Map<string, QuantizedActivation>): onnx.INodeProto[] | string {
  const [x, w, bias] = node.input ?? [];
  const output = node.output?.[0];
  if (!x || !output) return 'it lacks an input or output';
  const problem = weightProblem(r, w);
  if (problem !== undefined) return problem;
  if (r.index.initializers.has(x)) return `its input '${x}' is a constant too`;
  const weight = r.index.initializers.get(w ?? '') as onnx.ITensorProto;
  const dims = tensorDims(weight);
  if (dims.length < 3) return `its kernel '${w ?? ''}' has rank ${dims.length}; a Conv kernel has rank 3 or more`;
  const channels = dims[0] ?? 0;
  let biasTensor: onnx.ITensorProto | undefined;
  if (bias) {
    biasTensor = r.index.initializers.get(bias);
    if (!isFloatTensor(biasTensor)) return `its bias '${bias}' is not a float32 initializer`;
    if (tensorDims(biasTensor).reduce((a, b) => a * b, 1) !== channels) return `its bias '${bias}' does not hold one value per output channel`;
  }

  const { q, scales } = quantizeSymmetric(readFloats(weight), dims, r.perChannel ? 0 : null);
  const base = w ?? 'kernel';
  // [1, C, 1, …] broadcasts over the convolution's output [N, C, spatial…]
  const channelDims = [1, channels, ...dims.slice(2).map(() => 1)];
  // Stored as uint8 with zero point 128 (the same symmetric grid shifted): onnxruntime 1.30's
  // ConvInteger runs uint8 kernels about 6× faster than int8 ones (measured, 64→64 3×3 on 32×32).
  const qTensor = newTensor(r.names.fresh(`${base}_quantized`), 'UINT8', dims, Uint8Array.from(q, (v) => v + UINT8_ZERO_POINT));
  const zeroTensor = newTensor(r.names.fresh(`${base}_zero_point`), 'UINT8', [], [UINT8_ZERO_POINT]);
  const scaleTensor = newTensor(r.names.fresh(`${base}_scale`), 'FLOAT', r.perChannel ? channelDims : [], scales);
  r.newInitializers.push(qTensor, zeroTensor, scaleTensor);
  noteWeight(r, weight, r.perChannel ? 0 : null, [qTensor, zeroTensor, scaleTensor]);

  const emit: onnx.INodeProto[] = [];
  const act = quantizeActivation(r, x, label, activations, emit);
  const integer = r.names.fresh(`${output}_integer`);
  // ConvInteger takes the same attributes as Conv (auto_pad, dilations, group, kernel_shape, pads, strides)
  emit.push(makeNode('ConvInteger', r.names.fresh(`${label}_conv_integer`), [act.q, qTensor.name ?? '', act.zeroPoint, zeroTensor.name ?? ''], [integer], node.attribute ?? []));
  const scaled = rescale(r, label, output, integer, act.scale, scaleTensor.name ?? '', biasTensor !== undefined, emit);
  if (biasTensor && bias) {
    const reshaped = newTensor(r.names.fresh(`${bias}_per_channel`), 'FLOAT', channelDims, readFloats(biasTensor));
    r.newInitializers.push(reshaped);
    r.touchedWeights.add(bias);
    emit.push(makeNode('Add', r.names.fresh(`${label}_bias`), [scaled, reshaped.name ?? ''], [output]));
  }
  return emit;
}

// ---------------------------------------------------------------------------------------------
// weight-int8

/** The axis of a weight that indexes output channels, for the node reading it. */
function outputChannelAxis(node: onnx.INodeProto, rank: number): number | null {
  switch (node.opType) {
    case 'Conv':
      return 0;
    case 'Gemm':
      return intAttr(node, 'transB', 0) === 0 ? 1 : 0;
    default:
      // MatMul: B is [..., K, N]; a 1-D B has no output-channel axis
      return rank >= 2 ? rank - 1 : null;
  }
}

/**
 * Replaces each qualifying weight initializer W by W_quantized (int8) and W_scale, plus a
 * DequantizeLinear node that outputs W; the consumers are untouched. Dequantize nodes go first
 * in the node list, so they precede every reader.
 */
function rewriteWeightOnly(r: Rewrite): void {
  const axes = new Map<string, (number | null)[]>();
  (r.graph.node ?? []).forEach((node, i) => {
    const op = node.opType ?? '';
    if (!WEIGHT_OPS.has(op) || !isDefaultDomain(node)) return;
    const label = nodeLabel(node, i);
    const w = node.input?.[1];
    const problem = weightProblem(r, w);
    if (problem !== undefined) {
      r.skipped.push({ node: label, opType: op, reason: problem });
      return;
    }
    const name = w ?? '';
    const rank = tensorDims(r.index.initializers.get(name) as onnx.ITensorProto).length;
    axes.set(name, [...(axes.get(name) ?? []), outputChannelAxis(node, rank)]);
    r.nodes.push({ node: label, opType: op, weight: name });
  });

  const dequantize: onnx.INodeProto[] = [];
  for (const [name, candidates] of axes) {
    const weight = r.index.initializers.get(name) as onnx.ITensorProto;
    const dims = tensorDims(weight);
    // a weight read along different axes by different nodes (tied weights) gets one scale
    const axis = r.perChannel && candidates.every((c) => c === candidates[0]) ? (candidates[0] ?? null) : null;
    const { q, scales } = quantizeSymmetric(readFloats(weight), dims, axis);
    const qTensor = newTensor(r.names.fresh(`${name}_quantized`), 'INT8', dims, q);
    const scaleTensor = newTensor(r.names.fresh(`${name}_scale`), 'FLOAT', axis === null ? [] : [scales.length], scales);
    r.newInitializers.push(qTensor, scaleTensor);
    noteWeight(r, weight, axis, [qTensor, scaleTensor]);
    dequantize.push(
      makeNode('DequantizeLinear', r.names.fresh(`${name}_dequantize`), [qTensor.name ?? '', scaleTensor.name ?? ''], [name], axis === null ? [] : [intAttribute('axis', axis)]),
    );
  }
  // The float weight is now computed: drop the initializer itself (and its graph.input entry,
  // which IR < 4 models carry), or the name would have two sources.
  const replaced = new Set(axes.keys());
  r.graph.initializer = (r.graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? ''));
  r.graph.input = (r.graph.input ?? []).filter((v) => !replaced.has(v.name ?? ''));
  r.graph.node = [...dequantize, ...(r.graph.node ?? [])];
}

/**
 * Whether a model must run with onnxruntime's `disable_quant_qdq` session option: true for models
 * quantised in `weight-int8` mode (their metadata_props say `slipway.quantization: weight-int8`).
 * Without it onnxruntime fuses DequantizeLinear → MatMul/Gemm/Conv into quantised kernels that
 * also quantise the activations, which was measured 23× slower on CPUs without VNNI; with it the
 * weights are dequantised once at load and the model runs at float speed.
 */
export function needsQdqDisable(metadata: Readonly<Record<string, string>> | readonly onnx.IStringStringEntryProto[] | undefined): boolean {
  if (metadata === undefined) return false;
  const value = Array.isArray(metadata)
    ? (metadata as readonly onnx.IStringStringEntryProto[]).find((p) => p.key === QUANTIZATION_METADATA_KEY)?.value
    : (metadata as Readonly<Record<string, string>>)[QUANTIZATION_METADATA_KEY];
  return value === 'weight-int8';
}

/**
 * The onnxruntime session configuration entries (onnxruntime-node's SessionOptions `extra.session`)
 * a model needs, from its metadata_props: `{ disable_quant_qdq: '1' }` for weight-int8 models,
 * `{}` otherwise. Merge them into the session options the runtime builds.
 */
export function sessionConfigFor(metadata: Readonly<Record<string, string>> | readonly onnx.IStringStringEntryProto[] | undefined): Readonly<Record<string, string>> {
  return needsQdqDisable(metadata) ? { disable_quant_qdq: '1' } : {};
}
