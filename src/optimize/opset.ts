/**
 * Raising a model's default-domain opset so that the operators a rewrite inserts exist, and only
 * when that cannot change what the existing operators compute. A node is interpreted by the
 * opset the model imports; raising the import re-reads every node under the newer definitions, so
 * a bump is safe only when no operator the graph uses changed meaning in between. The table below
 * lists, per operator, the opset versions at which an existing model's meaning could change
 * (attributes moved to inputs, new broadcasting, different defaults); an operator missing from it
 * is treated as unsafe to re-read. Type-only additions are not listed: they never change an
 * existing model.
 */
import { longToNumber, normalizeDomain, type onnx } from '../onnx/index.js';
import { OptimizeErrors } from './errors.js';

const UNARY_BEFORE_6 = [6];
const BROADCAST_BEFORE_7 = [7];

/** Opset versions at which each operator's meaning for an existing model changed. */
const MEANING_CHANGED_AT: Readonly<Record<string, readonly number[]>> = {
  Abs: UNARY_BEFORE_6,
  Add: BROADCAST_BEFORE_7,
  And: BROADCAST_BEFORE_7,
  ArgMax: [],
  ArgMin: [],
  AveragePool: [7],
  BatchNormalization: [6, 7, 9, 14],
  Cast: [6],
  Ceil: UNARY_BEFORE_6,
  Clip: [6, 11],
  Concat: [4],
  Constant: [],
  ConstantOfShape: [],
  Conv: [],
  ConvInteger: [],
  Cos: [],
  DequantizeLinear: [],
  Div: BROADCAST_BEFORE_7,
  Dropout: [6, 7, 10, 12],
  DynamicQuantizeLinear: [],
  Elu: UNARY_BEFORE_6,
  Equal: BROADCAST_BEFORE_7,
  Erf: [],
  Exp: UNARY_BEFORE_6,
  Expand: [],
  Flatten: [],
  Floor: UNARY_BEFORE_6,
  Gather: [],
  Gemm: [6, 7],
  GlobalAveragePool: [],
  GlobalMaxPool: [],
  Greater: BROADCAST_BEFORE_7,
  HardSigmoid: UNARY_BEFORE_6,
  Identity: [],
  InstanceNormalization: [6],
  LeakyRelu: UNARY_BEFORE_6,
  Less: BROADCAST_BEFORE_7,
  Log: UNARY_BEFORE_6,
  LogSoftmax: [13],
  MatMul: [],
  MatMulInteger: [],
  Max: [6, 8],
  MaxPool: [],
  Mean: [6, 8],
  Min: [6, 8],
  Mul: BROADCAST_BEFORE_7,
  Neg: UNARY_BEFORE_6,
  Not: [],
  Or: BROADCAST_BEFORE_7,
  Pow: BROADCAST_BEFORE_7,
  PRelu: [6, 7],
  QuantizeLinear: [],
  Reciprocal: UNARY_BEFORE_6,
  Relu: UNARY_BEFORE_6,
  Reshape: [5],
  Selu: UNARY_BEFORE_6,
  Shape: [],
  Sigmoid: UNARY_BEFORE_6,
  Sign: [],
  Sin: [],
  Softmax: [13],
  Softplus: [],
  Softsign: [],
  Sqrt: UNARY_BEFORE_6,
  Sub: BROADCAST_BEFORE_7,
  Sum: [6, 8],
  Tanh: UNARY_BEFORE_6,
  Transpose: [],
  Where: [],
  Xor: BROADCAST_BEFORE_7,
};

/** The lowest IR version that may declare each default-domain opset (onnx/helper.py VERSION_TABLE). */
function minimumIrVersion(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/** What {@link ensureOpset} did: the default-domain opset before and after. */
export interface OpsetChange {
  readonly from: number;
  readonly to: number;
}

/** The default-domain (`''` or `ai.onnx`) opset a model imports, or undefined when it imports none. */
export function defaultOpset(model: onnx.IModelProto): number | undefined {
  const entry = (model.opsetImport ?? []).find((o) => normalizeDomain(o.domain ?? '') === '');
  return entry === undefined ? undefined : longToNumber(entry.version, 'the default-domain opset version');
}

/**
 * The operators (of the default domain, in the main graph and its subgraphs) whose meaning could
 * change if the model's opset rose from `from` to `to`; empty when the bump is safe.
 */
export function bumpBlockers(model: onnx.IModelProto, from: number, to: number): string[] {
  const blockers = new Set<string>();
  const visit = (nodes: readonly onnx.INodeProto[]): void => {
    for (const node of nodes) {
      const op = node.opType ?? '';
      if (normalizeDomain(node.domain ?? '') === '') {
        const changes = MEANING_CHANGED_AT[op];
        if (changes === undefined || changes.some((v) => v > from && v <= to)) blockers.add(op);
      }
      for (const a of node.attribute ?? []) {
        if (a.g) visit(a.g.node ?? []);
        for (const g of a.graphs ?? []) visit(g.node ?? []);
      }
    }
  };
  visit(model.graph?.node ?? []);
  if ((model.functions ?? []).length > 0) blockers.add('(model-local functions)');
  return [...blockers].sort();
}

/** Whether raising the default-domain opset to `minimum` is needed and safe (always true when none is needed). */
export function canReachOpset(model: onnx.IModelProto, minimum: number): boolean {
  const from = defaultOpset(model);
  return from !== undefined && (from >= minimum || bumpBlockers(model, from, minimum).length === 0);
}

/**
 * Makes the model's default-domain opset at least `minimum`, editing `model` in place: nothing
 * when it already is; otherwise the import is raised (and the IR version to the lowest that
 * allows it) when {@link bumpBlockers} finds nothing. Throws OPTIMIZE_UNSUPPORTED naming the
 * blocking operators, or when the model imports no default-domain opset. `why` says what needs it.
 */
export function ensureOpset(model: onnx.ModelProto, minimum: number, why: string): OpsetChange {
  const from = defaultOpset(model);
  if (from === undefined) {
    throw OptimizeErrors.OPTIMIZE_UNSUPPORTED(`the model imports no default-domain ('' / ai.onnx) opset, which ${why} needs`, {
      details: { requiredOpset: minimum },
    });
  }
  if (from >= minimum) return { from, to: from };
  const blockers = bumpBlockers(model, from, minimum);
  if (blockers.length > 0) {
    throw OptimizeErrors.OPTIMIZE_UNSUPPORTED(
      `${why} needs opset ${minimum}, the model declares opset ${from}, and raising it could change what ${blockers.join(', ')} compute${blockers.length === 1 ? 's' : ''}; re-export the model at opset ${minimum} or later`,
      { details: { opset: from, requiredOpset: minimum, blockingOperators: blockers } },
    );
  }
  // edited in place: a decoded message keeps fields the schema does not know, a copy would not
  for (const o of model.opsetImport) if (normalizeDomain(o.domain ?? '') === '') o.version = minimum;
  const ir = longToNumber(model.irVersion, 'ir_version');
  if (ir < minimumIrVersion(minimum)) model.irVersion = minimumIrVersion(minimum);
  return { from, to: minimum };
}
