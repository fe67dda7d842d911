/**
 * What the quantisation and pruning rewrites share: a private copy of the model to edit, an index
 * of the main graph (initializers, who consumes each value, graph outputs), fresh names, reading
 * and writing float weights, node attributes, and the provenance written into metadata_props.
 */
import { OnnxErrors, decodeModel, hasExternalData, longToNumber, normalizeDomain, onnx, readTensorData, tensorByteSize, tensorProto, writeModel, type OnnxElemType } from '../onnx/index.js';
import { PlatformError } from '../core/index.js';
import { OptimizeErrors } from './errors.js';

/** metadata_props key holding a JSON array of the optimisation steps applied, oldest first. */
export const OPTIMIZE_METADATA_KEY = 'slipway.optimize';
/** metadata_props key naming the quantisation applied: `dynamic` or `weight-int8`. */
export const QUANTIZATION_METADATA_KEY = 'slipway.quantization';
/** metadata_props key naming the pruning applied: `unstructured` or `structured`. */
export const PRUNING_METADATA_KEY = 'slipway.pruning';

/** The operators whose weights the rewrites change; the weight is always their input 1. */
export const WEIGHT_OPS: ReadonlySet<string> = new Set(['Gemm', 'MatMul', 'Conv']);

/** A layer the rewrite left alone, and why. */
export interface SkippedNode {
  /** The node's name, or `<opType> #<index>` when it has none. */
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

/** One consumer of a value: the node and the input slot the value fills. */
export interface ValueUse {
  readonly node: onnx.INodeProto;
  readonly input: number;
}

/**
 * Copies a model deeply, keeping the fields the schema does not know (the copy is encoded and
 * decoded again), so that a rewrite can edit the copy in place and never touches the caller's
 * model. Throws OPTIMIZE_UNSUPPORTED when the model has no graph or keeps tensors in external files.
 */
export function copyModel(model: onnx.IModelProto): onnx.ModelProto {
  if (typeof model !== 'object' || model === null || !model.graph) {
    throw OptimizeErrors.OPTIMIZE_UNSUPPORTED('the model has no graph to rewrite', { details: { field: 'graph' } });
  }
  const external = (model.graph.initializer ?? []).filter(hasExternalData).map((t) => t.name ?? '');
  if (external.length > 0) {
    throw OptimizeErrors.OPTIMIZE_UNSUPPORTED(`the model keeps the data of ${external.length} initializer(s) in external files (${external.slice(0, 5).join(', ')}); register a self-contained .onnx`, {
      details: { tensors: external },
    });
  }
  try {
    return decodeModel(writeModel(model));
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw OnnxErrors.ONNX_INVALID_MODEL(`cannot copy the model: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The main graph of a model copied by {@link copyModel} (which guarantees one). */
export function mainGraph(model: onnx.ModelProto): onnx.IGraphProto {
  if (!model.graph) throw OptimizeErrors.OPTIMIZE_UNSUPPORTED('the model has no graph to rewrite', { details: { field: 'graph' } });
  return model.graph;
}

/** True for a node of the default ONNX domain (`''` or `ai.onnx`). */
export function isDefaultDomain(node: onnx.INodeProto): boolean {
  return normalizeDomain(node.domain ?? '') === '';
}

/** A label for a node in reports and messages. */
export function nodeLabel(node: onnx.INodeProto, index: number): string {
  return node.name ? node.name : `${node.opType ?? '?'} #${index}`;
}

/** An index of the main graph, built once before a rewrite starts. */
export interface GraphIndex {
  readonly initializers: ReadonlyMap<string, onnx.ITensorProto>;
  /** Main-graph nodes consuming each value (a node listing a value twice appears twice). */
  readonly uses: ReadonlyMap<string, readonly ValueUse[]>;
  /** Values read inside subgraphs (If/Loop/Scan bodies) from the enclosing scope, or defined there. */
  readonly subgraphNames: ReadonlySet<string>;
  readonly graphOutputs: ReadonlySet<string>;
  readonly graphInputs: ReadonlySet<string>;
}

/** Every name a subgraph mentions (node inputs and outputs, initializers, its inputs and outputs). */
function collectSubgraphNames(graph: onnx.IGraphProto, into: Set<string>): void {
  for (const node of graph.node ?? []) {
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) if (name) into.add(name);
    for (const a of node.attribute ?? []) {
      if (a.g) collectSubgraphNames(a.g, into);
      for (const g of a.graphs ?? []) collectSubgraphNames(g, into);
    }
  }
  for (const t of graph.initializer ?? []) if (t.name) into.add(t.name);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) if (v.name) into.add(v.name);
}

/** Indexes the main graph. */
export function indexGraph(graph: onnx.IGraphProto): GraphIndex {
  const initializers = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.set(t.name, t);
  const uses = new Map<string, ValueUse[]>();
  const subgraphNames = new Set<string>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, input) => {
      if (!name) return;
      const list = uses.get(name) ?? [];
      list.push({ node, input });
      uses.set(name, list);
    });
    for (const a of node.attribute ?? []) {
      if (a.g) collectSubgraphNames(a.g, subgraphNames);
      for (const g of a.graphs ?? []) collectSubgraphNames(g, subgraphNames);
    }
  }
  return {
    initializers,
    uses,
    subgraphNames,
    graphOutputs: new Set((graph.output ?? []).map((v) => v.name ?? '')),
    graphInputs: new Set((graph.input ?? []).map((v) => v.name ?? '')),
  };
}

/** Hands out names not yet used anywhere in the model's main graph or its subgraphs. */
export class NameAllocator {
  private readonly taken = new Set<string>();

  constructor(graph: onnx.IGraphProto) {
    collectSubgraphNames(graph, this.taken);
    for (const node of graph.node ?? []) if (node.name) this.taken.add(node.name);
    for (const v of graph.valueInfo ?? []) if (v.name) this.taken.add(v.name);
  }

  /** `base` when free, else `base_1`, `base_2`, … */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}

/** True for a dense float32 initializer whose values can be read. */
export function isFloatTensor(t: onnx.ITensorProto | undefined): t is onnx.ITensorProto {
  return t !== undefined && t.dataType === onnx.TensorProto.DataType.FLOAT && !hasExternalData(t);
}

/** A float32 initializer's values (a fresh array). */
export function readFloats(t: onnx.ITensorProto): Float32Array {
  const values = readTensorData(t);
  if (!(values instanceof Float32Array)) throw OptimizeErrors.OPTIMIZE_UNSUPPORTED(`initializer '${t.name ?? ''}' is not float32`);
  return values;
}

/**
 * Replaces a float32 initializer's values and dims in place (raw_data, little-endian), so the
 * tensor keeps its name, its place and the fields the schema does not know.
 */
export function writeFloats(t: onnx.ITensorProto, dims: readonly number[], values: Float32Array): void {
  const encoded = tensorProto({ name: t.name ?? '', elemType: 'FLOAT', dims, values });
  t.dims = [...dims];
  t.rawData = encoded.rawData ?? new Uint8Array(0);
  t.floatData = [];
}

/** A new initializer. */
export function newTensor(name: string, elemType: OnnxElemType, dims: readonly number[], values: ArrayLike<number>): onnx.ITensorProto {
  return tensorProto({ name, elemType, dims, values });
}

/** An INT attribute of a node, or `fallback` when absent. */
export function intAttr(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a === undefined ? fallback : longToNumber(a.i, `attribute ${name} of node '${node.name ?? ''}'`);
}

/** A FLOAT attribute of a node, or `fallback` when absent. */
export function floatAttr(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a === undefined ? fallback : (a.f ?? 0);
}

/** A STRING attribute of a node, or `fallback` when absent. */
export function stringAttr(node: onnx.INodeProto, name: string, fallback: string): string {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

/** Builds a node of the default domain. */
export function makeNode(
  opType: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, name, domain: '', input: [...inputs], output: [...outputs], attribute: [...attributes] };
}

/** An INT attribute. */
export function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/**
 * Removes the initializers of `names` that nothing reads now (no main-graph node, no
 * subgraph, no graph output), with their entries in graph.input (IR < 4 models list every
 * initializer there) and in value_info. Returns the names removed.
 */
export function dropUnusedInitializers(graph: onnx.IGraphProto, names: Iterable<string>): string[] {
  const read = new Set<string>();
  for (const node of graph.node ?? []) for (const n of node.input ?? []) read.add(n);
  const inner = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.g) collectSubgraphNames(a.g, inner);
      for (const g of a.graphs ?? []) collectSubgraphNames(g, inner);
    }
  }
  for (const v of graph.output ?? []) read.add(v.name ?? '');
  const gone = new Set([...names].filter((n) => !read.has(n) && !inner.has(n)));
  if (gone.size === 0) return [];
  graph.initializer = (graph.initializer ?? []).filter((t) => !gone.has(t.name ?? ''));
  graph.input = (graph.input ?? []).filter((v) => !gone.has(v.name ?? ''));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !gone.has(v.name ?? ''));
  return [...gone];
}

/** One optimisation step as recorded in `slipway.optimize`. */
export type OptimizeStep = Readonly<Record<string, unknown>> & { readonly step: 'quantize' | 'prune' };

/**
 * Records a step in the model's metadata_props: appends it to the JSON array under
 * {@link OPTIMIZE_METADATA_KEY} (a step recorded earlier, say pruning before quantisation, is
 * kept) and sets each of `keys`.
 */
export function recordStep(model: onnx.ModelProto, step: OptimizeStep, keys: Readonly<Record<string, string>>): void {
  const props = model.metadataProps;
  const previous = props.find((p) => p.key === OPTIMIZE_METADATA_KEY)?.value;
  let steps: unknown[] = [];
  if (previous) {
    try {
      const parsed: unknown = JSON.parse(previous);
      steps = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      steps = [{ unparsed: previous }];
    }
  }
  const values: Record<string, string> = { ...keys, [OPTIMIZE_METADATA_KEY]: JSON.stringify([...steps, step]) };
  const kept = props.filter((p) => !Object.prototype.hasOwnProperty.call(values, p.key ?? ''));
  model.metadataProps = [...kept, ...Object.entries(values).map(([key, value]) => ({ key, value }))];
}

/** Total data bytes of the main graph's initializers. */
export function initializerBytes(graph: onnx.IGraphProto): number {
  let bytes = 0;
  for (const t of graph.initializer ?? []) bytes += tensorByteSize(t);
  return bytes;
}
