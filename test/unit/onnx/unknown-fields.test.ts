import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import {
  assertNoUnknownFields,
  buildModel,
  buildModelProto,
  findUnknownFields,
  inspectModel,
  onnx,
  readModel,
  writeModel,
} from '../../../src/onnx/index.js';
import { PlatformError } from '../../../src/core/index.js';

const spec = {
  graph: {
    inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2] }],
    outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 2] }],
    nodes: [{ opType: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }],
    initializers: [{ name: 'k', elemType: 'FLOAT', dims: [2], values: [2, 3] }],
  },
} as const;

/**
 * A model with three fields our schema does not know: number 99 (varint) on the model, number 50
 * (length-delimited) on the initializer tensor, and number 3 (reserved, once GraphProto.input as
 * strings) on the graph. Written by hand, as a newer ONNX writer would.
 */
function modelWithExtraFields(): Uint8Array {
  const proto = buildModelProto(spec);
  const graph = proto.graph!;
  const tensorBytes = onnx.TensorProto.encode(graph.initializer![0]!).finish();
  const tensor = Buffer.concat([tensorBytes, new protobuf.Writer().uint32((50 << 3) | 2).string('future tensor field').finish()]);
  const graphWithoutInit = onnx.GraphProto.encode({ ...graph, initializer: [] }).finish();
  const graphBytes = Buffer.concat([
    graphWithoutInit,
    new protobuf.Writer().uint32((5 << 3) | 2).bytes(tensor).finish(),
    new protobuf.Writer().uint32((3 << 3) | 2).string('legacy input name').finish(),
  ]);
  const modelWithoutGraph = onnx.ModelProto.encode({ ...proto, graph: null }).finish();
  return Buffer.concat([
    modelWithoutGraph,
    new protobuf.Writer().uint32((7 << 3) | 2).bytes(graphBytes).finish(),
    new protobuf.Writer().uint32((99 << 3) | 0).uint64(123456789).finish(),
  ]);
}

void describe('unknown fields', () => {
  void test('finds nothing in a model written with our schema', () => {
    assert.deepEqual(findUnknownFields(buildModel(spec)), []);
  });

  void test('reports each field the schema does not know, with the message that holds it', () => {
    const found = findUnknownFields(modelWithExtraFields());
    const summary = found.map((u) => ({ path: u.path, messageType: u.messageType, fieldNumber: u.fieldNumber, wireType: u.wireType }));
    assert.deepEqual(
      summary.sort((a, b) => a.fieldNumber - b.fieldNumber),
      [
        { path: 'graph', messageType: 'onnx.GraphProto', fieldNumber: 3, wireType: 2 },
        { path: 'graph.initializer[0]', messageType: 'onnx.TensorProto', fieldNumber: 50, wireType: 2 },
        { path: '', messageType: 'onnx.ModelProto', fieldNumber: 99, wireType: 0 },
      ],
    );
    for (const u of found) assert.ok(u.byteLength > 1);
  });

  void test('keeps unknown fields through read → write → read', () => {
    const bytes = modelWithExtraFields();
    const model = readModel(bytes);
    assert.equal(model.graph?.initializer?.[0]?.name, 'k', 'the known fields around them decode normally');
    const rewritten = writeModel(model);
    const again = findUnknownFields(rewritten).map((u) => `${u.path}#${u.fieldNumber}`).sort();
    assert.deepEqual(again, ['#99', 'graph#3', 'graph.initializer[0]#50']);
    // the same bytes come back for each unknown field
    const before = findUnknownFields(bytes).map((u) => u.byteLength).sort();
    const after = findUnknownFields(rewritten).map((u) => u.byteLength).sort();
    assert.deepEqual(after, before);
    assert.equal(rewritten.length, bytes.length);
  });

  void test('reports an enum value the schema does not list and a known field with the wrong wire type', () => {
    const base = onnx.TensorProto.encode({ name: 't', dataType: 1, dims: [1], floatData: [1] }).finish();
    const odd = Buffer.concat([
      base,
      new protobuf.Writer().uint32((14 << 3) | 0).int32(7).finish(), // data_location 7 is not DEFAULT or EXTERNAL
      new protobuf.Writer().uint32((8 << 3) | 0).int32(5).finish(), // name must be length-delimited
    ]);
    const proto = buildModelProto(spec);
    const bytes = Buffer.concat([
      onnx.ModelProto.encode({ ...proto, graph: { ...proto.graph!, initializer: [] } }).finish(),
      // a second graph field merges into the first: append the odd initializer
      new protobuf.Writer().uint32((7 << 3) | 2).bytes(new protobuf.Writer().uint32((5 << 3) | 2).bytes(odd).finish()).finish(),
    ]);
    const found = findUnknownFields(bytes).map((u) => [u.path, u.fieldNumber, u.wireType]);
    assert.deepEqual(found, [
      ['graph.initializer[0]', 14, 0],
      ['graph.initializer[0]', 8, 0],
    ]);
  });

  void test('assertNoUnknownFields refuses with ONNX_UNKNOWN_FIELDS naming the fields', () => {
    assert.doesNotThrow(() => assertNoUnknownFields(buildModel(spec)));
    assert.throws(
      () => assertNoUnknownFields(readModel(modelWithExtraFields()), 'quantization'),
      (e: unknown) =>
        e instanceof PlatformError &&
        e.code === 'ONNX_UNKNOWN_FIELDS' &&
        e.kind === 'invalid' &&
        /3 protobuf field/.test(e.message) &&
        /field 50 of onnx\.TensorProto at graph\.initializer\[0\]/.test(e.message) &&
        /quantization refuses/.test(e.message),
    );
  });

  void test('inspection lists unknown fields and warns about them', () => {
    const inspection = inspectModel(modelWithExtraFields());
    assert.equal(inspection.unknownFields.length, 3);
    assert.ok(inspection.warnings.some((w) => /3 protobuf field/.test(w)));
  });
});
