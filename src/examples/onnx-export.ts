/**
 * Turns a trained example (standardiser + dense network) into ONNX bytes with the project's
 * builder. The graph takes RAW features, float32 `[batch, n_features]`; standardisation is done in
 * the graph by Sub and Div, so a client never needs the training statistics.
 */
import { SLIPWAY_VERSION } from '../core/version.js';
import { buildModel, type InitializerSpec, type NodeSpec, type ValueSpec } from '../onnx/builder.js';
import type { FeatureEncoding } from './encoding.js';
import type { DenseNetwork } from './network.js';

/** The opset and IR version every example model uses. */
export const EXAMPLE_OPSET = 17;
export const EXAMPLE_IR_VERSION = 8;

/** The name of the one input tensor of every example model. */
export const EXAMPLE_INPUT_NAME = 'input';

/** What the graph does after the network: class outputs, or a regression value, optionally expm1'd. */
export type ExportHead =
  | { readonly kind: 'classifier' }
  | { readonly kind: 'regressor'; readonly targetTransform: 'none' | 'log1p' };

/** Everything the exporter needs. */
export interface ExportSpec {
  readonly graphName: string;
  readonly docString: string;
  readonly featureCount: number;
  readonly encoding: FeatureEncoding;
  readonly network: DenseNetwork;
  readonly head: ExportHead;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Builds the model bytes. Classifiers output `label` (INT64 [batch], ArgMax of the probabilities)
 * and `probabilities` (FLOAT [batch, classes], Softmax); regressors output `prediction`
 * (FLOAT [batch, 1]), passed through Exp then minus one when the network predicts log1p(target).
 */
export function exportExampleModel(spec: ExportSpec): Uint8Array {
  const n = spec.featureCount;
  const initializers: InitializerSpec[] = [
    { name: 'feature_mean', elemType: 'FLOAT', dims: [n], values: spec.encoding.standardizer.mean },
    { name: 'feature_scale', elemType: 'FLOAT', dims: [n], values: spec.encoding.standardizer.scale },
  ];
  const nodes: NodeSpec[] = [
    { name: 'center', opType: 'Sub', inputs: [EXAMPLE_INPUT_NAME, 'feature_mean'], outputs: ['centered'] },
    { name: 'scale', opType: 'Div', inputs: ['centered', 'feature_scale'], outputs: ['standardized'] },
  ];
  let current = 'standardized';
  if (spec.encoding.oneHot.length > 0) {
    const blocks = [current];
    for (const o of spec.encoding.oneHot) {
      const id = `onehot.${o.feature}`;
      initializers.push({ name: `${id}.column`, elemType: 'INT64', dims: [1], values: [o.column] });
      initializers.push({ name: `${id}.categories`, elemType: 'FLOAT', dims: [o.categories.length], values: o.categories });
      // [batch, 1] == [k] broadcasts to [batch, k]: one indicator per category.
      nodes.push({ name: `${id}.gather`, opType: 'Gather', inputs: [EXAMPLE_INPUT_NAME, `${id}.column`], outputs: [`${id}.value`], attributes: { axis: { i: 1 } } });
      nodes.push({ name: `${id}.equal`, opType: 'Equal', inputs: [`${id}.value`, `${id}.categories`], outputs: [`${id}.match`] });
      nodes.push({ name: `${id}.cast`, opType: 'Cast', inputs: [`${id}.match`], outputs: [id], attributes: { to: { i: 1 } } });
      blocks.push(id);
    }
    nodes.push({ name: 'encode', opType: 'Concat', inputs: blocks, outputs: ['encoded'], attributes: { axis: { i: 1 } } });
    current = 'encoded';
  }
  spec.network.layers.forEach((layer, i) => {
    const w = `layer${i}.weight`;
    const b = `layer${i}.bias`;
    initializers.push({ name: w, elemType: 'FLOAT', dims: [layer.inputs, layer.outputs], values: layer.weights });
    initializers.push({ name: b, elemType: 'FLOAT', dims: [layer.outputs], values: layer.bias });
    const linear = `layer${i}.linear`;
    nodes.push({ name: `layer${i}.gemm`, opType: 'Gemm', inputs: [current, w, b], outputs: [linear] });
    current = linear;
    if (layer.activation === 'relu') {
      nodes.push({ name: `layer${i}.relu`, opType: 'Relu', inputs: [current], outputs: [`layer${i}.activation`] });
      current = `layer${i}.activation`;
    }
  });
  const last = spec.network.layers[spec.network.layers.length - 1];
  const width = last?.outputs ?? n;

  const outputs: ValueSpec[] = [];
  if (spec.head.kind === 'classifier') {
    nodes.push({ name: 'softmax', opType: 'Softmax', inputs: [current], outputs: ['probabilities'], attributes: { axis: { i: 1 } } });
    // ArgMax over the probabilities (not the logits) so `label` always agrees with `probabilities`.
    nodes.push({ name: 'argmax', opType: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } });
    outputs.push({ name: 'label', elemType: 'INT64', shape: ['batch'] });
    outputs.push({ name: 'probabilities', elemType: 'FLOAT', shape: ['batch', width] });
  } else {
    if (spec.head.targetTransform === 'log1p') {
      initializers.push({ name: 'one', elemType: 'FLOAT', dims: [], values: [1] });
      nodes.push({ name: 'exp', opType: 'Exp', inputs: [current], outputs: ['exp'] });
      nodes.push({ name: 'expm1', opType: 'Sub', inputs: ['exp', 'one'], outputs: ['prediction'] });
    } else {
      nodes.push({ name: 'output', opType: 'Identity', inputs: [current], outputs: ['prediction'] });
    }
    outputs.push({ name: 'prediction', elemType: 'FLOAT', shape: ['batch', width] });
  }

  return buildModel({
    irVersion: EXAMPLE_IR_VERSION,
    opsets: [{ domain: '', version: EXAMPLE_OPSET }],
    producerName: 'slipway-examples',
    producerVersion: SLIPWAY_VERSION,
    docString: spec.docString,
    metadata: spec.metadata,
    graph: {
      name: spec.graphName,
      inputs: [{ name: EXAMPLE_INPUT_NAME, elemType: 'FLOAT', shape: ['batch', n] }],
      outputs,
      nodes,
      initializers,
    },
  });
}
