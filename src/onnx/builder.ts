/**
 * Builds ONNX models from a plain description. Used by the example trainers, the fixture corpus
 * and (later) graph rewrites; everything it writes is a standard ModelProto.
 */
import { onnx } from './generated/onnx.js';

/** ONNX element types by their TensorProto.DataType names. */
export type OnnxElemType = keyof typeof onnx.TensorProto.DataType;

export interface ValueSpec {
  readonly name: string;
  readonly elemType: OnnxElemType;
  /** A number is a fixed dimension, a string a symbolic one (`batch`), null an unknown one. */
  readonly shape: readonly (number | string | null)[];
}

/**
 * Any ONNX value type, for graph inputs and outputs that are not plain shaped tensors: a tensor
 * without a shape (`shape` omitted: rank unknown), sparse tensors, sequences, maps and optionals.
 */
export type TypeSpec =
  | { readonly tensor: OnnxElemType; readonly shape?: readonly (number | string | null)[] }
  | { readonly sparseTensor: OnnxElemType; readonly shape?: readonly (number | string | null)[] }
  | { readonly sequence: TypeSpec }
  | { readonly map: { readonly key: OnnxElemType; readonly value: TypeSpec } }
  | { readonly optional: TypeSpec };

/** A graph input or output described by a {@link TypeSpec}. */
export interface TypedValueSpec {
  readonly name: string;
  readonly type: TypeSpec;
}

/** A sparse initializer: `values` at the linearized positions `indices` of a tensor of `dims`. */
export interface SparseInitializerSpec {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly dims: readonly number[];
  readonly indices: readonly number[];
  readonly values: ArrayLike<number> | readonly bigint[] | readonly string[];
}

export interface InitializerSpec {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly dims: readonly number[];
  /** Row-major values. Floats and small ints as numbers; INT64/UINT64 as numbers or bigints; STRING as strings. */
  readonly values: ArrayLike<number> | readonly bigint[] | readonly string[];
}

/** An attribute, tagged with its ONNX type so that `1` (int) and `1.0` (float) stay distinct. */
export type AttrValue =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly s: string }
  | { readonly t: InitializerSpec }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly number[] }
  | { readonly strings: readonly string[] }
  /** A subgraph (If branches, Loop and Scan bodies). */
  | { readonly g: GraphSpec }
  | { readonly graphs: readonly GraphSpec[] };

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttrValue>>;
}

export interface GraphSpec {
  readonly name?: string;
  readonly inputs: readonly (ValueSpec | TypedValueSpec)[];
  readonly outputs: readonly (ValueSpec | TypedValueSpec)[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  readonly sparseInitializers?: readonly SparseInitializerSpec[];
}

/** A model-local function: a named operator defined by a body of nodes. */
export interface FunctionSpec {
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Names of the attributes the function accepts. */
  readonly attributes?: readonly string[];
  readonly nodes: readonly NodeSpec[];
  /** Default: the standard domain at opset 17. */
  readonly opsets?: readonly { readonly domain: string; readonly version: number }[];
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** Default: the standard domain at opset 17. */
  readonly opsets?: readonly { readonly domain: string; readonly version: number }[];
  /** Default 8 (accepted by every onnxruntime since 1.10). */
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** The model's own domain (reverse-DNS, e.g. `com.example`). */
  readonly domain?: string;
  readonly modelVersion?: number;
  readonly functions?: readonly FunctionSpec[];
}

const T = onnx.TensorProto.DataType;
const textEncoder = new TextEncoder();

function shapeProto(shape: readonly (number | string | null)[]): onnx.ITensorShapeProto {
  return { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
}

function typeProto(t: TypeSpec): onnx.ITypeProto {
  if ('tensor' in t) return { tensorType: { elemType: T[t.tensor], ...(t.shape ? { shape: shapeProto(t.shape) } : {}) } };
  if ('sparseTensor' in t) return { sparseTensorType: { elemType: T[t.sparseTensor], ...(t.shape ? { shape: shapeProto(t.shape) } : {}) } };
  if ('sequence' in t) return { sequenceType: { elemType: typeProto(t.sequence) } };
  if ('map' in t) return { mapType: { keyType: T[t.map.key], valueType: typeProto(t.map.value) } };
  return { optionalType: { elemType: typeProto(t.optional) } };
}

function valueInfo(v: ValueSpec | TypedValueSpec): onnx.IValueInfoProto {
  if ('type' in v) return { name: v.name, type: typeProto(v.type) };
  return { name: v.name, type: { tensorType: { elemType: T[v.elemType], shape: shapeProto(v.shape) } } };
}

/** Encodes values into a TensorProto using raw_data (little-endian), or string_data for STRING. */
export function tensorProto(spec: InitializerSpec): onnx.ITensorProto {
  const base: onnx.ITensorProto = { name: spec.name, dataType: T[spec.elemType], dims: [...spec.dims] };
  const values = spec.values as ArrayLike<number | bigint | string>;
  const n = values.length;
  const expected = spec.dims.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new Error(`initializer ${spec.name}: ${n} values for dims [${spec.dims.join(', ')}] (expected ${expected})`);
  if (spec.elemType === 'STRING') return { ...base, stringData: Array.from(values, (s) => textEncoder.encode(String(s))) };
  const width = byteWidth(spec.elemType);
  const buf = Buffer.alloc(n * width);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number | bigint;
    const o = i * width;
    switch (spec.elemType) {
      case 'FLOAT': buf.writeFloatLE(Number(v), o); break;
      case 'DOUBLE': buf.writeDoubleLE(Number(v), o); break;
      case 'FLOAT16': case 'BFLOAT16': case 'UINT16': buf.writeUInt16LE(Number(v), o); break;
      case 'INT16': buf.writeInt16LE(Number(v), o); break;
      case 'UINT8': case 'BOOL': buf.writeUInt8(Number(v), o); break;
      case 'INT8': buf.writeInt8(Number(v), o); break;
      case 'INT32': buf.writeInt32LE(Number(v), o); break;
      case 'UINT32': buf.writeUInt32LE(Number(v), o); break;
      case 'INT64': buf.writeBigInt64LE(BigInt(v), o); break;
      case 'UINT64': buf.writeBigUInt64LE(BigInt(v), o); break;
      default: throw new Error(`initializer ${spec.name}: element type ${spec.elemType} is not supported by the builder`);
    }
  }
  return { ...base, rawData: buf };
}

function byteWidth(t: OnnxElemType): number {
  switch (t) {
    case 'DOUBLE': case 'INT64': case 'UINT64': return 8;
    case 'FLOAT': case 'INT32': case 'UINT32': return 4;
    case 'FLOAT16': case 'BFLOAT16': case 'INT16': case 'UINT16': return 2;
    default: return 1;
  }
}

function attribute(name: string, a: AttrValue): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if ('f' in a) return { name, type: A.FLOAT, f: a.f };
  if ('i' in a) return { name, type: A.INT, i: a.i };
  if ('s' in a) return { name, type: A.STRING, s: textEncoder.encode(a.s) };
  if ('t' in a) return { name, type: A.TENSOR, t: tensorProto(a.t) };
  if ('floats' in a) return { name, type: A.FLOATS, floats: [...a.floats] };
  if ('ints' in a) return { name, type: A.INTS, ints: [...a.ints] };
  if ('g' in a) return { name, type: A.GRAPH, g: graphProto(a.g) };
  if ('graphs' in a) return { name, type: A.GRAPHS, graphs: a.graphs.map(graphProto) };
  return { name, type: A.STRINGS, strings: a.strings.map((s) => textEncoder.encode(s)) };
}

function nodeProto(n: NodeSpec, i: number): onnx.INodeProto {
  return {
    name: n.name ?? `${n.opType.toLowerCase()}_${i}`,
    opType: n.opType,
    domain: n.domain ?? '',
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
  };
}

function sparseTensorProto(s: SparseInitializerSpec): onnx.ISparseTensorProto {
  if (s.indices.length !== s.values.length) {
    throw new Error(`sparse initializer ${s.name}: ${s.indices.length} indices for ${s.values.length} values`);
  }
  return {
    values: tensorProto({ name: s.name, elemType: s.elemType, dims: [s.values.length], values: s.values }),
    indices: tensorProto({ name: `${s.name}_indices`, elemType: 'INT64', dims: [s.indices.length], values: s.indices }),
    dims: [...s.dims],
  };
}

function graphProto(g: GraphSpec): onnx.IGraphProto {
  return {
    name: g.name ?? 'main',
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: (g.initializers ?? []).map(tensorProto),
    ...(g.sparseInitializers ? { sparseInitializer: g.sparseInitializers.map(sparseTensorProto) } : {}),
    node: g.nodes.map(nodeProto),
  };
}

function functionProto(f: FunctionSpec): onnx.IFunctionProto {
  return {
    domain: f.domain,
    name: f.name,
    input: [...f.inputs],
    output: [...f.outputs],
    attribute: [...(f.attributes ?? [])],
    node: f.nodes.map(nodeProto),
    opsetImport: (f.opsets ?? [{ domain: '', version: 17 }]).map((o) => ({ domain: o.domain, version: o.version })),
  };
}

/** Builds a ModelProto message (not yet encoded). */
export function buildModelProto(spec: ModelSpec): onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producerName ?? 'slipway',
    producerVersion: spec.producerVersion ?? '0.1.0',
    ...(spec.docString === undefined ? {} : { docString: spec.docString }),
    ...(spec.domain === undefined ? {} : { domain: spec.domain }),
    ...(spec.modelVersion === undefined ? {} : { modelVersion: spec.modelVersion }),
    opsetImport: (spec.opsets ?? [{ domain: '', version: 17 }]).map((o) => ({ domain: o.domain, version: o.version })),
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    ...(spec.functions ? { functions: spec.functions.map(functionProto) } : {}),
    graph: graphProto(spec.graph),
  });
}

/** Builds and encodes a model: the bytes of an `.onnx` file. */
export function buildModel(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModelProto(spec)).finish();
}
