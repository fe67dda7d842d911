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
  | { readonly strings: readonly string[] };

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
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
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
}

const T = onnx.TensorProto.DataType;
const textEncoder = new TextEncoder();

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: T[v.elemType],
        shape: {
          dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
        },
      },
    },
  };
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
  return { name, type: A.STRINGS, strings: a.strings.map((s) => textEncoder.encode(s)) };
}

/** Builds a ModelProto message (not yet encoded). */
export function buildModelProto(spec: ModelSpec): onnx.ModelProto {
  const g = spec.graph;
  return onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producerName ?? 'slipway',
    producerVersion: spec.producerVersion ?? '0.1.0',
    ...(spec.docString === undefined ? {} : { docString: spec.docString }),
    opsetImport: (spec.opsets ?? [{ domain: '', version: 17 }]).map((o) => ({ domain: o.domain, version: o.version })),
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name ?? 'main',
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: (g.initializers ?? []).map(tensorProto),
      node: g.nodes.map((n, i) => ({
        name: n.name ?? `${n.opType.toLowerCase()}_${i}`,
        opType: n.opType,
        domain: n.domain ?? '',
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
}

/** Builds and encodes a model: the bytes of an `.onnx` file. */
export function buildModel(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModelProto(spec)).finish();
}
