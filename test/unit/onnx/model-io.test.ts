import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { buildModel, buildModelProto, decodeModel, onnx, readModel, writeModel, type ModelSpec } from '../../../src/onnx/index.js';

const simple: ModelSpec = {
  graph: {
    inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 3] }],
    outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 3] }],
    nodes: [{ opType: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
    initializers: [{ name: 'b', elemType: 'FLOAT', dims: [3], values: [0.5, -1, 2] }],
  },
};

/** Models covering what the builder can express: every attribute kind, subgraphs, functions, sparse initializers, non-tensor types. */
const builderModels: Record<string, ModelSpec> = {
  simple,
  attributesAndTypes: {
    irVersion: 9,
    producerName: 'test',
    producerVersion: '1.2.3',
    docString: 'doc',
    domain: 'com.example',
    modelVersion: 7,
    metadata: { author: 'someone', license: 'Apache-2.0' },
    opsets: [
      { domain: '', version: 21 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    graph: {
      name: 'g',
      inputs: [
        { name: 'i8', elemType: 'INT8', shape: [2] },
        { name: 'u64', elemType: 'UINT64', shape: [null] },
        { name: 'str', elemType: 'STRING', shape: ['n'] },
      ],
      outputs: [
        { name: 'probs', type: { sequence: { map: { key: 'INT64', value: { tensor: 'FLOAT' } } } } },
        { name: 'opt', type: { optional: { tensor: 'DOUBLE', shape: [1] } } },
        { name: 'sp', type: { sparseTensor: 'FLOAT', shape: [10, 10] } },
        { name: 'norank', type: { tensor: 'FLOAT' } },
      ],
      nodes: [
        {
          opType: 'Custom',
          domain: 'ai.onnx.ml',
          inputs: ['i8'],
          outputs: ['probs'],
          attributes: {
            f: { f: 0.1 },
            i: { i: -5 },
            s: { s: 'text' },
            t: { t: { name: 't', elemType: 'INT64', dims: [2], values: [-1n, 2n ** 40n] } },
            floats: { floats: [1.5, -2.25] },
            ints: { ints: [-1, 0, 2 ** 40] },
            strings: { strings: ['a', 'é'] },
          },
        },
      ],
      initializers: [
        { name: 'd', elemType: 'DOUBLE', dims: [2], values: [Math.PI, -0] },
        { name: 'u16', elemType: 'UINT16', dims: [1], values: [65535] },
        { name: 'b', elemType: 'BOOL', dims: [2], values: [1, 0] },
        { name: 's', elemType: 'STRING', dims: [2], values: ['x', 'yz'] },
      ],
      sparseInitializers: [{ name: 'sp_w', elemType: 'FLOAT', dims: [4, 4], indices: [0, 5, 15], values: [1, 2, 3] }],
    },
  },
  subgraphsAndFunctions: {
    opsets: [
      { domain: '', version: 17 },
      { domain: 'com.example', version: 1 },
    ],
    functions: [
      {
        domain: 'com.example',
        name: 'Double',
        inputs: ['a'],
        outputs: ['b'],
        nodes: [{ opType: 'Add', inputs: ['a', 'a'], outputs: ['b'] }],
      },
    ],
    graph: {
      inputs: [
        { name: 'cond', elemType: 'BOOL', shape: [] },
        { name: 'x', elemType: 'FLOAT', shape: [2] },
      ],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: [2] }],
      nodes: [
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: {
            then_branch: { g: { name: 'then', inputs: [], outputs: [{ name: 't', elemType: 'FLOAT', shape: [2] }], nodes: [{ opType: 'Double', domain: 'com.example', inputs: ['x'], outputs: ['t'] }] } },
            else_branch: { g: { name: 'else', inputs: [], outputs: [{ name: 'e', elemType: 'FLOAT', shape: [2] }], nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['e'] }] } },
          },
        },
      ],
    },
  },
};

function refusal(bytes: Uint8Array): PlatformError {
  try {
    readModel(bytes);
  } catch (e) {
    assert.ok(e instanceof PlatformError, `expected a PlatformError, got ${String(e)}`);
    return e;
  }
  assert.fail(`readModel accepted ${bytes.length} bytes that are not a model`);
}

function assertInvalid(bytes: Uint8Array, pattern?: RegExp): void {
  const e = refusal(bytes);
  assert.equal(e.code, 'ONNX_INVALID_MODEL');
  assert.equal(e.kind, 'invalid');
  assert.match(e.message, /^not an ONNX model: /);
  if (pattern) assert.match(e.message, pattern);
}

/** Deterministic pseudo-random bytes (a 32-bit LCG), so failures reproduce. */
function randomBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

void describe('readModel', () => {
  void test('reads a model the builder wrote', () => {
    const model = readModel(buildModel(simple));
    assert.equal(model.graph?.node?.[0]?.opType, 'Add');
    assert.equal(String(model.opsetImport[0]?.version), '17');
  });

  void test('refuses an empty file', () => {
    assertInvalid(new Uint8Array(0), /the file is empty/);
  });

  void test('refuses a text file and says it looks like text', () => {
    for (const text of ['hello world\n', 'sepal_length,sepal_width,species\n5.1,3.5,setosa\n', '{"irVersion": 8, "graph": {}}', 'ir_version: 8\ngraph { name: "g" }\n']) {
      assertInvalid(Buffer.from(text), /looks like text/);
    }
  });

  void test('refuses random bytes', () => {
    for (let seed = 1; seed <= 50; seed++) assertInvalid(randomBytes(seed, 64 + seed * 37));
  });

  void test('refuses every truncation of a model', () => {
    const bytes = buildModel(simple);
    for (let n = 1; n < bytes.length; n++) assertInvalid(bytes.subarray(0, n));
  });

  void test('says a file cut inside a field looks truncated', () => {
    const bytes = buildModel(simple);
    assertInvalid(bytes.subarray(0, Math.floor(bytes.length / 2)), /truncated/);
  });

  void test('refuses protobuf that is not a model, listing what is missing', () => {
    const tensor = onnx.TensorProto.encode({ name: 'w', dataType: 1, dims: [2], floatData: [1, 2] }).finish();
    assertInvalid(tensor);
    const noGraph = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish();
    assertInvalid(noGraph, /no graph/);
    const { irVersion: _ir, ...rest } = buildModelProto(simple).toJSON();
    void _ir;
    const noIr = onnx.ModelProto.encode(onnx.ModelProto.fromObject(rest)).finish();
    assertInvalid(noIr, /ir_version is missing or 0/);
    const zeroIr = onnx.ModelProto.encode({ ...buildModelProto(simple), irVersion: 0 }).finish();
    assertInvalid(zeroIr, /ir_version is missing or 0/);
    const hugeIr = onnx.ModelProto.encode({ ...buildModelProto(simple), irVersion: 123456 }).finish();
    assertInvalid(hugeIr, /ir_version 123456 is not an ONNX IR version/);
    const noOpset = onnx.ModelProto.encode({ ...buildModelProto(simple), opsetImport: [] }).finish();
    assertInvalid(noOpset, /no opset_import/);
    const nothing = onnx.ModelProto.encode({ producerName: 'x' }).finish();
    const e = refusal(nothing);
    assert.match(e.message, /ir_version is missing or 0; it has no graph; it has no opset_import/);
    assert.deepEqual((e.details as { problems: string[] }).problems.length, 3);
  });

  void test('refuses tensors with external data, naming them, also inside subgraphs', () => {
    const external = (name: string): onnx.ITensorProto => ({
      name,
      dataType: 1,
      dims: [1000],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: 'weights.bin' },
        { key: 'offset', value: '0' },
        { key: 'length', value: '4000' },
      ],
    });
    const proto = buildModelProto(builderModels.subgraphsAndFunctions!);
    proto.graph!.initializer!.push(onnx.TensorProto.create(external('w_top')));
    const ifNode = proto.graph!.node![0]!;
    ifNode.attribute![0]!.g!.initializer = [external('w_nested')];
    const e = refusal(onnx.ModelProto.encode(proto).finish());
    assert.equal(e.code, 'ONNX_EXTERNAL_DATA_UNSUPPORTED');
    assert.equal(e.kind, 'invalid');
    assert.match(e.message, /2 tensor\(s\) in external files \(e\.g\. in 'weights\.bin'\): 'w_top', 'w_nested'/);
    assert.match(e.message, /save_as_external_data=False/);
    const tensors = (e.details as { tensors: { tensor: string; path: string }[] }).tensors;
    assert.deepEqual(
      tensors.map((t) => t.path),
      ['graph.initializer[0]', 'graph.node[0].attribute[0].g.initializer[0]'],
    );
  });
});

void describe('writeModel', () => {
  for (const [name, spec] of Object.entries(builderModels)) {
    void test(`round-trips the builder's ${name} model byte for byte`, () => {
      const bytes = buildModel(spec);
      const rewritten = writeModel(readModel(bytes));
      assert.equal(Buffer.compare(Buffer.from(rewritten), Buffer.from(bytes)), 0);
      assert.deepStrictEqual(readModel(rewritten), readModel(bytes));
    });
  }

  void test('writes a model built from plain objects', () => {
    const bytes = writeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'plain',
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }] } } } }],
        node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
      },
    });
    assert.equal(readModel(bytes).graph?.name, 'plain');
  });

  void test('refuses a message with a field of the wrong type instead of writing garbage', () => {
    const bad = { irVersion: 8, graph: { node: [{ opType: 42 }] } } as unknown as onnx.IModelProto;
    assert.throws(
      () => writeModel(bad),
      (e: unknown) => e instanceof PlatformError && e.code === 'ONNX_INVALID_MODEL' && /cannot write the model: .*opType: string expected/.test(e.message),
    );
  });

  void test('decodeModel reads protobuf without judging it', () => {
    const nothing = onnx.ModelProto.encode({ producerName: 'x' }).finish();
    assert.equal(decodeModel(nothing).producerName, 'x');
  });
});
