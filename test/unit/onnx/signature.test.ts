import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import {
  buildModel,
  buildModelProto,
  elemTypeInfos,
  inspectModel,
  onnx,
  toSignature,
  type ModelSpec,
  type OnnxElemType,
  type SignatureProblem,
} from '../../../src/onnx/index.js';

function signatureOf(spec: ModelSpec) {
  return toSignature(inspectModel(buildModel(spec)));
}

function identityModel(elemTypes: readonly OnnxElemType[]): ModelSpec {
  return {
    graph: {
      inputs: elemTypes.map((t, i) => ({ name: `in_${t.toLowerCase()}_${i}`, elemType: t, shape: ['batch', 2] })),
      outputs: elemTypes.map((t, i) => ({ name: `out_${t.toLowerCase()}_${i}`, elemType: t, shape: ['batch', 2] })),
      nodes: elemTypes.map((t, i) => ({ opType: 'Identity', inputs: [`in_${t.toLowerCase()}_${i}`], outputs: [`out_${t.toLowerCase()}_${i}`] })),
    },
  };
}

function problemsOf(fn: () => unknown): { error: PlatformError; problems: SignatureProblem[] } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PlatformError);
    assert.equal(e.code, 'ONNX_UNSUPPORTED_SIGNATURE');
    assert.equal(e.kind, 'invalid');
    return { error: e, problems: (e.details as { problems: SignatureProblem[] }).problems };
  }
  assert.fail('expected ONNX_UNSUPPORTED_SIGNATURE');
}

const SERVABLE: Record<string, string> = {
  FLOAT: 'FP32',
  DOUBLE: 'FP64',
  FLOAT16: 'FP16',
  STRING: 'BYTES',
  BOOL: 'BOOL',
  INT8: 'INT8',
  INT16: 'INT16',
  INT32: 'INT32',
  INT64: 'INT64',
  UINT8: 'UINT8',
  UINT16: 'UINT16',
  UINT32: 'UINT32',
  UINT64: 'UINT64',
};
const UNSERVABLE = elemTypeInfos()
  .map((i) => i.name)
  .filter((n) => !(n in SERVABLE)) as OnnxElemType[];

void describe('toSignature', () => {
  void test('maps each ONNX element type with a protocol form to its OIP datatype', () => {
    const types = Object.keys(SERVABLE) as OnnxElemType[];
    const sig = signatureOf(identityModel(types));
    assert.deepEqual(
      sig.inputs.map((s) => s.datatype),
      types.map((t) => SERVABLE[t]),
    );
    assert.deepEqual(
      sig.outputs.map((s) => s.datatype),
      types.map((t) => SERVABLE[t]),
    );
  });

  void test('the mapping table agrees with the element-type facts', () => {
    for (const info of elemTypeInfos()) assert.equal(info.datatype, SERVABLE[info.name] ?? null, info.name);
    assert.deepEqual(UNSERVABLE.sort(), [
      'BFLOAT16',
      'COMPLEX128',
      'COMPLEX64',
      'FLOAT4E2M1',
      'FLOAT8E4M3FN',
      'FLOAT8E4M3FNUZ',
      'FLOAT8E5M2',
      'FLOAT8E5M2FNUZ',
      'FLOAT8E8M0',
      'INT2',
      'INT4',
      'UINT2',
      'UINT4',
    ]);
  });

  void test('turns symbolic and unknown dimensions into -1 and keeps the symbolic names', () => {
    const sig = signatureOf({
      graph: {
        inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 3, null] }],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: [1, 3, 224] }],
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      },
    });
    assert.deepEqual(sig.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1], dimNames: ['batch', null, null] }]);
    assert.deepEqual(sig.outputs, [{ name: 'y', datatype: 'FP32', shape: [1, 3, 224] }], 'no dimNames when every dimension is fixed');
  });

  void test('keeps a scalar as an empty shape', () => {
    const sig = signatureOf({
      graph: {
        inputs: [{ name: 'x', elemType: 'INT64', shape: [] }],
        outputs: [{ name: 'y', elemType: 'INT64', shape: [] }],
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      },
    });
    assert.deepEqual(sig.inputs[0]?.shape, []);
  });

  void test('refuses a ZipMap output and says how to re-export without it', () => {
    const { error, problems } = problemsOf(() =>
      signatureOf({
        opsets: [
          { domain: '', version: 17 },
          { domain: 'ai.onnx.ml', version: 3 },
        ],
        graph: {
          inputs: [{ name: 'float_input', elemType: 'FLOAT', shape: [null, 4] }],
          outputs: [
            { name: 'output_label', elemType: 'INT64', shape: [null] },
            { name: 'output_probability', type: { sequence: { map: { key: 'INT64', value: { tensor: 'FLOAT' } } } } },
          ],
          nodes: [
            { opType: 'LinearClassifier', domain: 'ai.onnx.ml', inputs: ['float_input'], outputs: ['output_label', 'p'] },
            { opType: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['p'], outputs: ['output_probability'], attributes: { classlabels_int64s: { ints: [0, 1] } } },
          ],
        },
      }),
    );
    assert.equal(
      error.message,
      "output 'output_probability' is seq(map(int64,tensor(float))) (a ZipMap): Slipway serves tensors only — re-export without ZipMap (skl2onnx: options={'zipmap': False})",
    );
    assert.deepEqual(problems, [{ role: 'output', name: 'output_probability', type: 'seq(map(int64,tensor(float)))', message: error.message }]);
  });

  void test('collects every unservable input and output into one error', () => {
    const { error, problems } = problemsOf(() => signatureOf(identityModel(UNSERVABLE)));
    assert.equal(problems.length, UNSERVABLE.length * 2);
    assert.match(error.message, new RegExp(`^${UNSERVABLE.length * 2} inputs/outputs cannot be served: \\(1\\) `));
    for (const [i, t] of UNSERVABLE.entries()) {
      const text = t.toLowerCase();
      const p = problems.find((x) => x.name === `in_${text}_${i}`);
      assert.ok(p, `a problem for input ${t}`);
      assert.equal(p.role, 'input');
      assert.equal(p.type, `tensor(${text})`);
      assert.ok(p.message.startsWith(`input 'in_${text}_${i}' is tensor(${text}): `), p.message);
      assert.ok(problems.some((x) => x.role === 'output' && x.name === `out_${text}_${i}`), `a problem for output ${t}`);
    }
    assert.match(problems.find((p) => p.type === 'tensor(bfloat16)')!.message, /Cast to FLOAT or FLOAT16/);
    assert.match(problems.find((p) => p.type === 'tensor(complex64)')!.message, /real and imaginary parts/);
    assert.match(problems.find((p) => p.type === 'tensor(int4)')!.message, /Cast to INT8 or UINT8/);
  });

  void test('refuses maps, sequences, optionals and sparse tensors, saying what each is', () => {
    const { problems } = problemsOf(() =>
      signatureOf({
        graph: {
          inputs: [
            { name: 'm', type: { map: { key: 'STRING', value: { tensor: 'FLOAT' } } } },
            { name: 'o', type: { optional: { tensor: 'FLOAT', shape: [1] } } },
          ],
          outputs: [
            { name: 's', type: { sequence: { tensor: 'FLOAT' } } },
            { name: 'sp', type: { sparseTensor: 'FLOAT', shape: [4, 4] } },
          ],
          nodes: [],
        },
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.message.split(':')[0]),
      ["input 'm' is map(string,tensor(float))", "input 'o' is optional(tensor(float))", "output 's' is seq(tensor(float))", "output 'sp' is sparse_tensor(float)"],
    );
    assert.match(problems[0]!.message, /keys and values as two tensors/);
    assert.match(problems[2]!.message, /ConcatFromSequence/);
    assert.match(problems[3]!.message, /dense tensors only/);
  });

  void test('refuses a tensor whose rank is unknown, and one with no type', () => {
    const proto = buildModelProto({
      graph: {
        inputs: [{ name: 'x', type: { tensor: 'FLOAT' } }],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: [1] }],
        nodes: [],
      },
    });
    proto.graph!.output!.push(onnx.ValueInfoProto.create({ name: 'untyped' }));
    const { problems } = problemsOf(() => toSignature(inspectModel(proto)));
    assert.equal(problems.length, 2);
    assert.match(problems[0]!.message, /^input 'x' is tensor\(float\) without a shape \(rank unknown\)/);
    assert.match(problems[1]!.message, /^output 'untyped' is undefined: it declares no type/);
  });
});
