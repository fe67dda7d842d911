/**
 * One walk over everything a model contains that can hold nodes or tensors: the main graph, the
 * subgraphs in node attributes (If/Loop/Scan bodies, at any depth), model-local functions, and
 * training graphs. Inspection, the external-data check and graph rewrites share it.
 */
import type { onnx } from './generated/onnx.js';

/** Where a visited item sits: a property path (`graph.node[2].attribute[0].g`) and its scope. */
export interface WalkContext {
  readonly path: string;
  /** `main`: the inference graph and its subgraphs; `function`: a model-local function body; `training`: training_info graphs. */
  readonly scope: 'main' | 'function' | 'training';
  /** How many subgraph attributes lie between the item and its top-level graph or function. */
  readonly depth: number;
}

/** Callbacks for {@link walkModel}; each is optional. */
export interface ModelVisitor {
  graph?(graph: onnx.IGraphProto, ctx: WalkContext): void;
  node?(node: onnx.INodeProto, ctx: WalkContext): void;
  /** Every dense tensor: initializers, the values and indices of sparse ones, and tensor attributes. */
  tensor?(tensor: onnx.ITensorProto, ctx: WalkContext): void;
  /** Every sparse tensor: sparse initializers and sparse-tensor attributes. */
  sparseTensor?(tensor: onnx.ISparseTensorProto, ctx: WalkContext): void;
}

/** Visits every graph, node and tensor of a model, depth-first in file order. */
export function walkModel(model: onnx.IModelProto, visitor: ModelVisitor): void {
  if (model.graph) visitGraph(model.graph, { path: 'graph', scope: 'main', depth: 0 }, visitor);
  (model.functions ?? []).forEach((f, k) => {
    const base = `functions[${k}]`;
    const ctx = (path: string): WalkContext => ({ path, scope: 'function', depth: 0 });
    (f.node ?? []).forEach((n, i) => visitNode(n, ctx(`${base}.node[${i}]`), visitor));
    (f.attributeProto ?? []).forEach((a, i) => visitAttribute(a, ctx(`${base}.attributeProto[${i}]`), visitor));
  });
  (model.trainingInfo ?? []).forEach((ti, k) => {
    if (ti.initialization) visitGraph(ti.initialization, { path: `trainingInfo[${k}].initialization`, scope: 'training', depth: 0 }, visitor);
    if (ti.algorithm) visitGraph(ti.algorithm, { path: `trainingInfo[${k}].algorithm`, scope: 'training', depth: 0 }, visitor);
  });
}

function at(ctx: WalkContext, suffix: string, depthDelta = 0): WalkContext {
  return { path: ctx.path + suffix, scope: ctx.scope, depth: ctx.depth + depthDelta };
}

function visitGraph(g: onnx.IGraphProto, ctx: WalkContext, v: ModelVisitor): void {
  v.graph?.(g, ctx);
  (g.initializer ?? []).forEach((t, i) => v.tensor?.(t, at(ctx, `.initializer[${i}]`)));
  (g.sparseInitializer ?? []).forEach((s, i) => visitSparse(s, at(ctx, `.sparseInitializer[${i}]`), v));
  (g.node ?? []).forEach((n, i) => visitNode(n, at(ctx, `.node[${i}]`), v));
}

function visitSparse(s: onnx.ISparseTensorProto, ctx: WalkContext, v: ModelVisitor): void {
  v.sparseTensor?.(s, ctx);
  if (s.values) v.tensor?.(s.values, at(ctx, '.values'));
  if (s.indices) v.tensor?.(s.indices, at(ctx, '.indices'));
}

function visitNode(n: onnx.INodeProto, ctx: WalkContext, v: ModelVisitor): void {
  v.node?.(n, ctx);
  (n.attribute ?? []).forEach((a, i) => visitAttribute(a, at(ctx, `.attribute[${i}]`), v));
}

function visitAttribute(a: onnx.IAttributeProto, ctx: WalkContext, v: ModelVisitor): void {
  if (a.t) v.tensor?.(a.t, at(ctx, '.t'));
  (a.tensors ?? []).forEach((t, i) => v.tensor?.(t, at(ctx, `.tensors[${i}]`)));
  if (a.sparseTensor) visitSparse(a.sparseTensor, at(ctx, '.sparseTensor'), v);
  (a.sparseTensors ?? []).forEach((s, i) => visitSparse(s, at(ctx, `.sparseTensors[${i}]`), v));
  if (a.g) visitGraph(a.g, at(ctx, '.g', 1), v);
  (a.graphs ?? []).forEach((g, i) => visitGraph(g, at(ctx, `.graphs[${i}]`, 1), v));
}
