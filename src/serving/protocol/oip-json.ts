/**
 * Decodes Open Inference Protocol JSON requests into validated tensors and encodes results back.
 * Validation is strict and names the offending field: `inputs[0].shape`, `inputs[1].data[7]`.
 */
import {
  allocateTensorData,
  DATATYPES,
  elementCount,
  float16BitsToNumber,
  float32ToFloat16Bits,
  isDatatype,
  type Datatype,
  type ModelSignature,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from '../../core/index.js';
import { ServingErrors } from '../errors.js';
import type { DecodeOptions, InferenceRequest } from '../inference.js';
import type { OipParameters, OipResponseOutput } from './oip-types.js';

const E = ServingErrors;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function readParameters(v: unknown, path: string): OipParameters | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) throw E.SERVING_INVALID_REQUEST(`${path}: expected an object of parameters, got ${kindOf(v)}`, { details: { field: path } });
  for (const [k, p] of Object.entries(v)) {
    if (typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'boolean') {
      throw E.SERVING_INVALID_REQUEST(`${path}.${k}: parameter values must be a string, number or boolean, got ${kindOf(p)}`, {
        details: { field: `${path}.${k}` },
      });
    }
  }
  return v as OipParameters;
}

const INT_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  UINT16: [0, 65535],
  INT16: [-32768, 32767],
  UINT32: [0, 4294967295],
  INT32: [-2147483648, 2147483647],
};

/** Elements a request may declare in all its inputs together, unless the server says otherwise (serving.maxTensorElements). */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 16_777_216;

/** How {@link decodeInferenceRequest} reads a request beyond the protocol's rules. */
export interface OipDecodeOptions extends Partial<DecodeOptions> {
  /**
   * Most elements the inputs may declare in total (the products of their shapes), checked before
   * a tensor is allocated. Default {@link DEFAULT_MAX_TENSOR_ELEMENTS}.
   */
  readonly maxTensorElements?: number;
}

/** Non-finite numbers accepted in one request: how many, and where the first was. */
interface NonFiniteTally {
  count: number;
  field: string | undefined;
}

/** The non-finite value a JSON element stands for (null is the protocol's NaN), or undefined. */
function nonFiniteOf(v: unknown): number | undefined {
  if (v === null || v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return undefined;
}

/**
 * Flattens nested `data` into `out`, converting and checking each element for its datatype. With
 * a `nonFinite` tally, null and non-finite number strings in floating-point data are taken (and counted).
 */
function fillData(datatype: Datatype, data: unknown[], out: TensorData, path: string, nonFinite?: NonFiniteTally): number {
  let n = 0;
  const capacity = out.length;
  const badElement = (at: string, v: unknown, want: string): never => {
    const hint = nonFinite === undefined && nonFiniteOf(v) !== undefined ? ' (NaN and ±Infinity are refused: security.inputGuards.nonFinite is reject)' : '';
    throw E.SERVING_INVALID_DATA(`${at}: expected ${want} for ${datatype}, got ${kindOf(v)}${hint}`, { details: { field: at } });
  };
  /** The number an FP element holds: a JSON number, or a non-finite one the tally lets through. */
  const floatOf = (v: unknown, at: string): number => {
    if (typeof v === 'number') return v;
    const x = nonFinite === undefined ? undefined : nonFiniteOf(v);
    if (x === undefined || nonFinite === undefined) return badElement(at, v, 'a number');
    if (nonFinite.count++ === 0) nonFinite.field = at;
    return x;
  };
  const put = (v: unknown, at: string): void => {
    if (n >= capacity) {
      n++; // counted so the length error reports the real size
      return;
    }
    switch (datatype) {
      case 'FP32':
      case 'FP64':
        (out as Float32Array | Float64Array)[n] = typeof v === 'number' ? v : floatOf(v, at);
        break;
      case 'FP16':
        (out as Uint16Array)[n] = float32ToFloat16Bits(typeof v === 'number' ? v : floatOf(v, at));
        break;
      case 'BOOL':
        if (v === true || v === 1) (out as Uint8Array)[n] = 1;
        else if (v === false || v === 0) (out as Uint8Array)[n] = 0;
        else badElement(at, v, 'true or false');
        break;
      case 'BYTES':
        if (typeof v !== 'string') badElement(at, v, 'a string');
        (out as string[])[n] = v as string;
        break;
      case 'INT64':
      case 'UINT64': {
        let b: bigint | undefined;
        if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
        if (b === undefined) return badElement(at, v, 'an integer');
        if (datatype === 'UINT64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) {
          return badElement(at, v, 'an integer in range');
        }
        (out as BigInt64Array | BigUint64Array)[n] = b;
        break;
      }
      default: {
        const range = INT_RANGES[datatype];
        if (typeof v !== 'number' || !Number.isInteger(v)) return badElement(at, v, 'an integer');
        if (range !== undefined && (v < range[0] || v > range[1])) return badElement(at, v, `an integer in [${range[0]}, ${range[1]}]`);
        (out as Int32Array)[n] = v;
      }
    }
    n++;
  };
  const walk = (arr: unknown[], at: string, depth: number): void => {
    // the walk recurses once per level: a deeper body would overflow the stack (a 500) instead of a 400
    if (depth > MAX_DATA_DEPTH) {
      throw E.SERVING_INVALID_REQUEST(`${at}: data is nested more than ${MAX_DATA_DEPTH} lists deep; nest it one list per dimension of the shape, or send it flat`, {
        details: { field: at },
      });
    }
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (Array.isArray(v)) walk(v, `${at}[${i}]`, depth + 1);
      else put(v, `${at}[${i}]`);
    }
  };
  walk(data, path, 1);
  return n;
}

/** The deepest nesting of `data` lists that is read: far beyond the rank of a real tensor. */
export const MAX_DATA_DEPTH = 64;

function readShape(v: unknown, path: string): number[] {
  if (!Array.isArray(v)) throw E.SERVING_INVALID_REQUEST(`${path}: expected a list of dimensions, got ${kindOf(v)}`, { details: { field: path } });
  return v.map((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw E.SERVING_INVALID_REQUEST(`${path}[${i}]: a dimension must be a whole number ≥ 0, got ${kindOf(d)}`, { details: { field: `${path}[${i}]` } });
    }
    return d;
  });
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]`;
}

function checkAgainstSpec(spec: TensorSpec, datatype: Datatype, shape: readonly number[], path: string): void {
  if (datatype !== spec.datatype) {
    throw E.SERVING_DATATYPE_MISMATCH(`${path}.datatype: input '${spec.name}' is ${spec.datatype} in the model, got ${datatype}`, {
      details: { field: `${path}.datatype`, expected: spec.datatype, got: datatype },
    });
  }
  if (shape.length !== spec.shape.length) {
    throw E.SERVING_SHAPE_MISMATCH(
      `${path}.shape: input '${spec.name}' has rank ${spec.shape.length} ${describeShape(spec.shape)} in the model, got rank ${shape.length} ${describeShape(shape)}`,
      { details: { field: `${path}.shape`, expected: spec.shape, got: shape } },
    );
  }
  for (let i = 0; i < shape.length; i++) {
    const want = spec.shape[i] ?? -1;
    if (want >= 0 && shape[i] !== want) {
      const batchNote = i === 0 && want === 1 ? ' (the model fixes its batch dimension at 1: send one row per request)' : '';
      throw E.SERVING_SHAPE_MISMATCH(
        `${path}.shape[${i}]: input '${spec.name}' fixes dimension ${i} at ${want} ${describeShape(spec.shape)}, got ${shape[i]}${batchNote}`,
        { details: { field: `${path}.shape[${i}]`, expected: spec.shape, got: shape } },
      );
    }
  }
}

/**
 * Refuses a request whose inputs declare more elements in total than `limit`, before one of them
 * is allocated: a small body may declare a shape of billions. Malformed inputs are skipped here;
 * the decoder names their problem.
 */
function checkTensorElements(inputs: unknown[], limit: number): void {
  let total = 0;
  for (let i = 0; i < inputs.length; i++) {
    const raw = inputs[i];
    if (!isRecord(raw) || !Array.isArray(raw.shape)) continue;
    let count = 1;
    for (const d of raw.shape as unknown[]) count *= typeof d === 'number' && d >= 0 ? d : NaN;
    if (Number.isNaN(count)) continue;
    total += count;
    if (total > limit) {
      const shape = (raw.shape as number[]).join(', ');
      const name = typeof raw.name === 'string' ? ` '${raw.name}'` : '';
      const others = total > count ? ` (${total.toLocaleString('en-US')} with the inputs before it)` : '';
      throw E.SERVING_TENSOR_TOO_LARGE(
        `inputs[${i}].shape: input${name} declares shape [${shape}], ${count.toLocaleString('en-US')} elements${others}; a request may declare at most ${limit.toLocaleString('en-US')} elements in all (serving.maxTensorElements)`,
        { details: { field: `inputs[${i}].shape`, input: typeof raw.name === 'string' ? raw.name : null, shape: raw.shape, elements: total, limit } },
      );
    }
  }
}

/**
 * Validates an OIP JSON request body against a model signature and converts its data into
 * tensors. Throws SERVING_* errors that name the offending field; SERVING_TENSOR_TOO_LARGE before
 * allocating when the shapes declare more than `options.maxTensorElements` elements.
 */
export function decodeInferenceRequest(body: unknown, signature: ModelSignature, options: OipDecodeOptions = {}): InferenceRequest {
  if (!isRecord(body)) throw E.SERVING_INVALID_REQUEST(`request body: expected a JSON object, got ${kindOf(body)}`, { details: { field: '' } });
  let id: string | undefined;
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw E.SERVING_INVALID_REQUEST(`id: expected a string, got ${kindOf(body.id)}`, { details: { field: 'id' } });
    id = body.id;
  }
  const parameters = readParameters(body.parameters, 'parameters');
  if (parameters?.binary_data_output === true) {
    throw E.SERVING_INVALID_REQUEST('parameters.binary_data_output: the binary tensor extension is not supported yet; ask for JSON outputs', {
      details: { field: 'parameters.binary_data_output' },
    });
  }
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) {
    throw E.SERVING_INVALID_REQUEST(`inputs: expected a non-empty list of input tensors, got ${kindOf(body.inputs)}`, { details: { field: 'inputs' } });
  }
  checkTensorElements(body.inputs, options.maxTensorElements ?? DEFAULT_MAX_TENSOR_ELEMENTS);
  const nonFinite: NonFiniteTally | undefined = options.acceptNonFinite === true ? { count: 0, field: undefined } : undefined;
  const specs = new Map(signature.inputs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  const inputs: Tensor[] = [];
  body.inputs.forEach((raw: unknown, i: number) => {
    const path = `inputs[${i}]`;
    if (!isRecord(raw)) throw E.SERVING_INVALID_REQUEST(`${path}: expected an input tensor object, got ${kindOf(raw)}`, { details: { field: path } });
    if (typeof raw.name !== 'string' || raw.name === '') {
      throw E.SERVING_INVALID_REQUEST(`${path}.name: expected the input's name as a string, got ${kindOf(raw.name)}`, { details: { field: `${path}.name` } });
    }
    const name = raw.name;
    const spec = specs.get(name);
    if (spec === undefined) {
      throw E.SERVING_UNKNOWN_INPUT(`${path}.name: the model has no input '${name}' (inputs: ${[...specs.keys()].join(', ')})`, {
        details: { field: `${path}.name`, expected: [...specs.keys()] },
      });
    }
    if (seen.has(name)) throw E.SERVING_INVALID_REQUEST(`${path}.name: input '${name}' is given twice`, { details: { field: `${path}.name` } });
    seen.add(name);
    if (!isDatatype(raw.datatype)) {
      throw E.SERVING_INVALID_REQUEST(`${path}.datatype: expected one of ${DATATYPES.join(', ')}, got ${kindOf(raw.datatype)}`, {
        details: { field: `${path}.datatype` },
      });
    }
    const datatype = raw.datatype;
    const shape = readShape(raw.shape, `${path}.shape`);
    const inputParameters = readParameters(raw.parameters, `${path}.parameters`);
    if (inputParameters?.binary_data_size !== undefined) {
      throw E.SERVING_INVALID_REQUEST(`${path}.parameters.binary_data_size: the binary tensor extension is not supported yet; send data as JSON`, {
        details: { field: `${path}.parameters.binary_data_size` },
      });
    }
    checkAgainstSpec(spec, datatype, shape, path);
    if (!Array.isArray(raw.data)) {
      throw E.SERVING_INVALID_REQUEST(`${path}.data: expected a list of values (flat or nested), got ${kindOf(raw.data)}`, { details: { field: `${path}.data` } });
    }
    const count = elementCount(shape);
    const data = allocateTensorData(datatype, count);
    const got = fillData(datatype, raw.data, data, `${path}.data`, nonFinite);
    if (got !== count) {
      throw E.SERVING_DATA_LENGTH_MISMATCH(`${path}.data: shape ${describeShape(shape)} needs ${count} elements, got ${got}`, {
        details: { field: `${path}.data`, expected: count, got },
      });
    }
    inputs.push({ name, datatype, shape, data });
  });
  for (const spec of signature.inputs) {
    if (!seen.has(spec.name)) {
      throw E.SERVING_MISSING_INPUT(`inputs: the model needs input '${spec.name}' (${spec.datatype} ${describeShape(spec.shape)}), which the request lacks`, {
        details: { field: 'inputs', missing: spec.name },
      });
    }
  }
  let outputs: string[] | undefined;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw E.SERVING_INVALID_REQUEST(`outputs: expected a list of requested outputs, got ${kindOf(body.outputs)}`, { details: { field: 'outputs' } });
    // an empty list would reach onnxruntime as "no outputs to fetch", which it refuses obscurely
    if (body.outputs.length === 0) {
      throw E.SERVING_INVALID_REQUEST('outputs: expected at least one requested output; leave "outputs" out to get every output', { details: { field: 'outputs' } });
    }
    const known = new Set(signature.outputs.map((o) => o.name));
    outputs = body.outputs.map((o: unknown, i: number) => {
      const path = `outputs[${i}]`;
      if (!isRecord(o) || typeof o.name !== 'string') {
        throw E.SERVING_INVALID_REQUEST(`${path}: expected {"name": "<output>"}, got ${kindOf(o)}`, { details: { field: path } });
      }
      const p = readParameters(o.parameters, `${path}.parameters`);
      if (p?.binary_data === true) {
        throw E.SERVING_INVALID_REQUEST(`${path}.parameters.binary_data: the binary tensor extension is not supported yet`, { details: { field: `${path}.parameters.binary_data` } });
      }
      if (!known.has(o.name)) {
        throw E.SERVING_UNKNOWN_OUTPUT(`${path}.name: the model has no output '${o.name}' (outputs: ${[...known].join(', ')})`, {
          details: { field: `${path}.name`, expected: [...known] },
        });
      }
      return o.name;
    });
  }
  return {
    ...(id === undefined ? {} : { id }),
    ...(parameters === undefined ? {} : { parameters }),
    inputs,
    ...(outputs === undefined ? {} : { outputs }),
    ...(nonFinite === undefined || nonFinite.count === 0 ? {} : { nonFinite: { count: nonFinite.count, field: nonFinite.field ?? 'inputs' } }),
  };
}

/** Most decimal places outputs can be rounded to: beyond, a double has no more digits to drop. */
export const MAX_ROUND_DIGITS = 15;

/**
 * `x` rounded to `scale` = 10^digits decimal places, halves away from zero. The integer divided by
 * the power of ten is the double nearest to the short decimal, so JSON prints it short.
 */
function roundTo(x: number, scale: number): number {
  const a = Math.abs(x) * scale;
  if (!(a < Number.MAX_SAFE_INTEGER)) return x; // NaN, ±Infinity, or already coarser than the digits
  const r = Math.round(a) / scale;
  return x < 0 ? -r : r;
}

/**
 * Converts a tensor's data into JSON values: numbers, booleans (BOOL) or strings (BYTES). With
 * `roundDigits` above 0, floating-point values are rounded to that many decimal places.
 */
export function tensorDataToJson(datatype: Datatype, data: TensorData, roundDigits = 0): (number | string | boolean | null)[] {
  const n = data.length;
  const out = new Array<number | string | boolean | null>(n);
  const scale = roundDigits > 0 && (datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64') ? 10 ** Math.min(MAX_ROUND_DIGITS, roundDigits) : 0;
  if (scale > 0) {
    for (let i = 0; i < n; i++) {
      const raw = datatype === 'FP16' ? float16BitsToNumber((data as Uint16Array)[i] ?? 0) : ((data as Float64Array)[i] ?? 0);
      out[i] = jsonNumber(roundTo(raw, scale));
    }
    return out;
  }
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = (data as Uint8Array)[i] !== 0;
      return out;
    case 'FP16':
      for (let i = 0; i < n; i++) out[i] = jsonNumber(float16BitsToNumber((data as Uint16Array)[i] ?? 0));
      return out;
    case 'BYTES':
      return [...(data as string[])];
    case 'INT64':
    case 'UINT64':
      // JSON numbers are doubles: values beyond ±2^53 lose precision here (documented in docs/api.md)
      for (let i = 0; i < n; i++) out[i] = Number((data as BigInt64Array)[i]);
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = jsonNumber((data as Float64Array)[i] ?? 0);
      return out;
  }
}

/** NaN and ±Infinity have no JSON form; they are sent as null. */
function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The response's outputs; floating-point values rounded to `roundDigits` decimal places when above 0 (output hardening). */
export function encodeOutputs(outputs: readonly Tensor[], roundDigits = 0): OipResponseOutput[] {
  return outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape], data: tensorDataToJson(t.datatype, t.data, roundDigits) }));
}
