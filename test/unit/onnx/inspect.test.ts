import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildModel, buildModelProto, formatDims, inspectModel, onnx, summarizeType, type ModelSpec } from '../../../src/onnx/index.js';

/** The shape skl2onnx gives a classifier pipeline: ai.onnx.ml operators ending in a ZipMap. */
const sklearnClassifier: ModelSpec = {
  irVersion: 8,
  producerName: 'skl2onnx',
  producerVersion: '1.17.0',
  domain: 'ai.onnx',
  modelVersion: 0,
  docString: '',
  opsets: [
    { domain: 'ai.onnx', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ],
  graph: {
    inputs: [{ name: 'float_input', elemType: 'FLOAT', shape: [null, 4] }],
    outputs: [
      { name: 'output_label', elemType: 'INT64', shape: [null] },
      { name: 'output_probability', type: { sequence: { map: { key: 'INT64', value: { tensor: 'FLOAT' } } } } },
    ],
    nodes: [
      { opType: 'Scaler', domain: 'ai.onnx.ml', inputs: ['float_input'], outputs: ['scaled'], attributes: { offset: { floats: [0, 0, 0, 0] }, scale: { floats: [1, 1, 1, 1] } } },
      {
        opType: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        inputs: ['scaled'],
        outputs: ['output_label', 'probability_tensor'],
        attributes: { classlabels_ints: { ints: [0, 1, 2] }, coefficients: { floats: Array.from({ length: 12 }, (_, i) => i / 10) }, intercepts: { floats: [0, 0, 0] } },
      },
      { opType: 'Normalizer', domain: 'ai.onnx.ml', inputs: ['probability_tensor'], outputs: ['probabilities'], attributes: { norm: { s: 'L1' } } },
      { opType: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['probabilities'], outputs: ['output_probability'], attributes: { classlabels_int64s: { ints: [0, 1, 2] } } },
    ],
  },
};

/** The shape a torch export of a recurrent model takes: Loop and Scan bodies, an If inside the loop, model-local functions. */
const torchLike: ModelSpec = {
  irVersion: 10,
  producerName: 'pytorch',
  producerVersion: '2.5.0',
  metadata: { task: 'sequence-classification', 'training.dataset': 'sst2' },
  opsets: [
    { domain: '', version: 18 },
    { domain: 'pkg.torch', version: 1 },
  ],
  functions: [
    {
      domain: 'pkg.torch',
      name: 'Gelu',
      inputs: ['x'],
      outputs: ['y'],
      opsets: [
        { domain: '', version: 18 },
        { domain: 'com.microsoft', version: 1 },
      ],
      nodes: [{ opType: 'FastGelu', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }],
    },
  ],
  graph: {
    name: 'main_graph',
    inputs: [
      { name: 'tokens', elemType: 'INT64', shape: ['batch', 'sequence'] },
      { name: 'trip_count', elemType: 'INT64', shape: [] },
    ],
    outputs: [{ name: 'logits', elemType: 'FLOAT', shape: ['batch', 2] }],
    initializers: [
      { name: 'embedding', elemType: 'FLOAT', dims: [100, 8], values: new Float32Array(800) },
      { name: 'keep_going', elemType: 'BOOL', dims: [], values: [1] },
    ],
    sparseInitializers: [{ name: 'mask', elemType: 'FLOAT', dims: [8, 8], indices: [0, 9, 18], values: [1, 1, 1] }],
    nodes: [
      { opType: 'Gather', inputs: ['embedding', 'tokens'], outputs: ['emb'] },
      { opType: 'Gelu', domain: 'pkg.torch', inputs: ['emb'], outputs: ['act'] },
      {
        opType: 'Loop',
        inputs: ['trip_count', 'keep_going', 'act'],
        outputs: ['state'],
        attributes: {
          body: {
            g: {
              name: 'loop_body',
              inputs: [
                { name: 'i', elemType: 'INT64', shape: [] },
                { name: 'c', elemType: 'BOOL', shape: [] },
                { name: 's', elemType: 'FLOAT', shape: ['batch', 'sequence', 8] },
              ],
              outputs: [
                { name: 'c_out', elemType: 'BOOL', shape: [] },
                { name: 's_out', elemType: 'FLOAT', shape: ['batch', 'sequence', 8] },
              ],
              initializers: [{ name: 'step', elemType: 'FLOAT', dims: [2], values: [0.5, 0.25] }],
              nodes: [
                { opType: 'Identity', inputs: ['c'], outputs: ['c_out'] },
                {
                  opType: 'If',
                  inputs: ['c'],
                  outputs: ['s_out'],
                  attributes: {
                    then_branch: { g: { name: 'then', inputs: [], outputs: [{ name: 'a', type: { tensor: 'FLOAT' } }], nodes: [{ opType: 'Relu', inputs: ['s'], outputs: ['a'] }] } },
                    else_branch: { g: { name: 'else', inputs: [], outputs: [{ name: 'b', elemType: 'FLOAT', shape: [] }], nodes: [{ opType: 'Identity', inputs: ['s'], outputs: ['b'] }] } },
                  },
                },
              ],
            },
          },
        },
      },
      {
        opType: 'Scan',
        inputs: ['state'],
        outputs: ['scanned'],
        attributes: {
          num_scan_inputs: { i: 1 },
          body: {
            g: {
              name: 'scan_body',
              inputs: [{ name: 'row', elemType: 'FLOAT', shape: ['sequence', 8] }],
              outputs: [{ name: 'row_out', elemType: 'FLOAT', shape: ['sequence', 8] }],
              nodes: [{ opType: 'Relu', inputs: ['row'], outputs: ['row_out'] }],
            },
          },
        },
      },
      { opType: 'ReduceMean', inputs: ['scanned'], outputs: ['logits'] },
    ],
  },
};

function torchLikeProto(): onnx.ModelProto {
  return buildModelProto(torchLike);
}

void describe('inspectModel', () => {
  void test('reports the header, opsets (ai.onnx as ""), metadata and size', () => {
    const bytes = buildModel(sklearnClassifier);
    const i = inspectModel(bytes);
    assert.equal(i.irVersion, 8);
    assert.equal(i.producerName, 'skl2onnx');
    assert.equal(i.producerVersion, '1.17.0');
    assert.equal(i.domain, 'ai.onnx');
    assert.equal(i.modelVersion, 0);
    assert.deepEqual(i.opsets, [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
    assert.equal(i.sizeBytes, bytes.length);
    assert.deepEqual(i.warnings, []);
    assert.deepEqual(i.unknownFields, []);
  });

  void test('describes an sklearn pipeline: ai.onnx.ml operators, the ZipMap output and its producer', () => {
    const i = inspectModel(buildModel(sklearnClassifier));
    assert.deepEqual(i.domainsUsed, ['ai.onnx.ml']);
    assert.equal(i.nodeCount, 4);
    assert.deepEqual(
      i.opTypes.map((o) => `${o.domain}:${o.opType}×${o.count}`),
      ['ai.onnx.ml:LinearClassifier×1', 'ai.onnx.ml:Normalizer×1', 'ai.onnx.ml:Scaler×1', 'ai.onnx.ml:ZipMap×1'],
    );
    assert.deepEqual(i.inputs, [
      { name: 'float_input', docString: '', type: { kind: 'tensor', elemType: 'FLOAT', datatype: 'FP32', dims: [null, 4], text: 'tensor(float)' } },
    ]);
    const [label, probability] = i.outputs;
    assert.deepEqual(label?.type, { kind: 'tensor', elemType: 'INT64', datatype: 'INT64', dims: [null], text: 'tensor(int64)' });
    assert.deepEqual(label?.producer, { domain: 'ai.onnx.ml', opType: 'LinearClassifier' });
    assert.equal(probability?.type.text, 'seq(map(int64,tensor(float)))');
    assert.deepEqual(probability?.type, {
      kind: 'sequence',
      text: 'seq(map(int64,tensor(float)))',
      elem: {
        kind: 'map',
        keyType: 'INT64',
        text: 'map(int64,tensor(float))',
        value: { kind: 'tensor', elemType: 'FLOAT', datatype: 'FP32', dims: null, text: 'tensor(float)' },
      },
    });
    assert.deepEqual(probability?.producer, { domain: 'ai.onnx.ml', opType: 'ZipMap' });
  });

  void test('counts nodes and operators inside Loop, If and Scan bodies at any depth', () => {
    const i = inspectModel(torchLikeProto());
    // main: Gather, Gelu, Loop, Scan, ReduceMean; loop body: Identity, If; then: Relu; else: Identity; scan body: Relu
    assert.equal(i.nodeCount, 10);
    const counts = Object.fromEntries(i.opTypes.map((o) => [`${o.domain}:${o.opType}`, o.count]));
    assert.deepEqual(counts, {
      ':Identity': 2,
      ':Relu': 2,
      ':Gather': 1,
      ':If': 1,
      ':Loop': 1,
      ':ReduceMean': 1,
      ':Scan': 1,
      'pkg.torch:Gelu': 1,
    });
    assert.deepEqual(i.opTypes.slice(0, 2).map((o) => o.opType), ['Identity', 'Relu'], 'most frequent first');
  });

  void test('knows model-local functions and the domains their bodies use', () => {
    const i = inspectModel(torchLikeProto());
    assert.deepEqual(i.functions, [{ domain: 'pkg.torch', name: 'Gelu', overload: '', nodeCount: 1 }]);
    assert.equal(i.opTypes.find((o) => o.opType === 'Gelu')?.isFunction, true);
    assert.equal(i.opTypes.find((o) => o.opType === 'Loop')?.isFunction, false);
    assert.deepEqual(i.domainsUsed, ['', 'com.microsoft', 'pkg.torch']);
    assert.deepEqual(i.warnings, ["nodes use domain 'com.microsoft', which the model does not import (opset_import)"]);
  });

  void test('tallies dense and sparse initializers, subgraphs included', () => {
    const i = inspectModel(torchLikeProto());
    // embedding 800 floats + keep_going 1 bool + loop-body step 2 floats
    assert.deepEqual(i.initializers.dense, { count: 3, bytes: 800 * 4 + 1 + 2 * 4 });
    // 3 float values + 3 int64 indices
    assert.deepEqual(i.initializers.sparse, { count: 1, bytes: 3 * 4 + 3 * 8 });
    assert.equal(i.initializers.count, 4);
    assert.equal(i.initializers.bytes, 3209 + 36);
  });

  void test('keeps symbolic dimension names and metadata', () => {
    const i = inspectModel(torchLikeProto());
    assert.deepEqual(
      i.inputs.map((v) => [v.name, v.type.kind === 'tensor' ? v.type.dims : undefined]),
      [
        ['tokens', ['batch', 'sequence']],
        ['trip_count', []],
      ],
    );
    assert.deepEqual(i.outputs[0]?.type.kind === 'tensor' && i.outputs[0].type.dims, ['batch', 2]);
    assert.deepEqual(i.metadata, { task: 'sequence-classification', 'training.dataset': 'sst2' });
    assert.equal(i.graphName, 'main_graph');
  });

  void test('leaves out inputs that are initializers, as IR 3 exporters list them', () => {
    const proto = buildModelProto({
      irVersion: 3,
      graph: {
        inputs: [
          { name: 'x', elemType: 'FLOAT', shape: [1, 2] },
          { name: 'w', elemType: 'FLOAT', shape: [2] },
          { name: 'sw', elemType: 'FLOAT', shape: [2, 2] },
        ],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: [1, 2] }],
        initializers: [{ name: 'w', elemType: 'FLOAT', dims: [2], values: [1, 2] }],
        sparseInitializers: [{ name: 'sw', elemType: 'FLOAT', dims: [2, 2], indices: [0], values: [1] }],
        nodes: [{ opType: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
      },
    });
    assert.deepEqual(
      inspectModel(proto).inputs.map((v) => v.name),
      ['x'],
    );
  });

  void test('measures a ModelProto given in memory by its encoded size', () => {
    const proto = buildModelProto(sklearnClassifier);
    assert.equal(inspectModel(proto).sizeBytes, buildModel(sklearnClassifier).length);
  });

  void test('describes optional, sparse, opaque, shapeless and untyped values', () => {
    assert.deepEqual(summarizeType({ optionalType: { elemType: { tensorType: { elemType: 11, shape: { dim: [{ dimValue: 1 }] } } } } }), {
      kind: 'optional',
      text: 'optional(tensor(double))',
      elem: { kind: 'tensor', elemType: 'DOUBLE', datatype: 'FP64', dims: [1], text: 'tensor(double)' },
    });
    assert.deepEqual(summarizeType({ sparseTensorType: { elemType: 1, shape: { dim: [{ dimValue: 10 }, { dimParam: 'n' }] } } }), {
      kind: 'sparse_tensor',
      elemType: 'FLOAT',
      datatype: 'FP32',
      dims: [10, 'n'],
      text: 'sparse_tensor(float)',
    });
    assert.deepEqual(summarizeType({ opaqueType: { domain: 'com.example', name: 'Image' } }), {
      kind: 'opaque',
      domain: 'com.example',
      name: 'Image',
      text: 'opaque(com.example,Image)',
    });
    assert.deepEqual(summarizeType({ mapType: { keyType: 8, valueType: { tensorType: { elemType: 7 } } } }).text, 'map(string,tensor(int64))');
    assert.deepEqual(summarizeType({ tensorType: { elemType: 16 } }), { kind: 'tensor', elemType: 'BFLOAT16', datatype: null, dims: null, text: 'tensor(bfloat16)' });
    assert.deepEqual(summarizeType({ tensorType: { elemType: 99 } }).text, 'tensor(unknown(99))');
    assert.deepEqual(summarizeType(undefined), { kind: 'undefined', text: 'undefined' });
    assert.deepEqual(summarizeType({ denotation: 'IMAGE' }), { kind: 'undefined', text: 'undefined' });
  });

  void test('treats a negative dim_value (some exporters write -1) as unknown', () => {
    const t = summarizeType({ tensorType: { elemType: 1, shape: { dim: [{ dimValue: -1 }, { dimValue: 3 }, {}] } } });
    assert.deepEqual(t.kind === 'tensor' && t.dims, [null, 3, null]);
    assert.equal(formatDims(t.kind === 'tensor' ? t.dims : null), '[?, 3, ?]');
    assert.equal(formatDims(null), '[…]');
  });

  void test('warns about inputs and outputs that declare no type', () => {
    const proto = buildModelProto(sklearnClassifier);
    proto.graph!.output!.push(onnx.ValueInfoProto.create({ name: 'mystery' }));
    const i = inspectModel(proto);
    assert.equal(i.outputs[2]?.type.kind, 'undefined');
    assert.deepEqual(i.warnings, ["'mystery' declares no type"]);
  });
});
