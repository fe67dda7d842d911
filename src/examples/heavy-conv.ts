/**
 * `heavy-conv`: a compute-heavy convolutional classifier with synthetic seeded weights, the
 * benchmark's stand-in for a model whose compute matters (the other examples run in microseconds).
 * It is not trained and predicts nothing meaningful; it is deterministic (same seed, same bytes,
 * same outputs) and its single-row inference costs about a millisecond or more on one core.
 *
 * Graph, on float32 `input` [batch, 1, 32, 32]:
 * Conv 1→32 → Relu → Conv 32→64 → Relu → Conv 64→64 → Relu → MaxPool 2 → Conv 64→128 → Relu →
 * MaxPool 2 → Conv 128→128 → Relu → GlobalAveragePool → Flatten → Gemm 128→10 → Softmax
 * (`probabilities` [batch, 10]) and ArgMax (`label` INT64 [batch]). Every convolution is 3×3 padded
 * by one, so 32×32 becomes 8×8 after the two pools; about 85 million multiply-adds per row.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SLIPWAY_VERSION } from '../core/version.js';
import { buildModel, type InitializerSpec, type NodeSpec } from '../onnx/builder.js';
import { deriveSeed, EXAMPLE_INPUT_NAME } from './example.js';
import { EXAMPLE_IR_VERSION, EXAMPLE_OPSET } from './onnx-export.js';
import { createRandom, type Random } from './random.js';

/** The synthetic (untrained) example models, which are also their endpoint names. */
export const SYNTHETIC_EXAMPLE_NAMES = ['heavy-conv'] as const;
export type SyntheticExampleName = (typeof SYNTHETIC_EXAMPLE_NAMES)[number];

/** The files of a synthetic example folder. */
export const SYNTHETIC_EXAMPLE_FILES = ['model.onnx', 'metrics.json', 'request.json'] as const;

/** The seed of heavy-conv's weights and of its sample request. */
export const HEAVY_CONV_SEED = 20261129;

/** heavy-conv's input shape after the batch dimension: one channel of 32×32. */
export const HEAVY_CONV_INPUT_SHAPE = [1, 32, 32] as const;

/** heavy-conv's number of classes (outputs per row). */
export const HEAVY_CONV_CLASSES = 10;

/** The convolution layers: input channels, output channels, and whether a 2×2 max-pool follows. */
const CONV_LAYERS = [
  { in: 1, out: 32, pool: false },
  { in: 32, out: 64, pool: false },
  { in: 64, out: 64, pool: true },
  { in: 64, out: 128, pool: true },
  { in: 128, out: 128, pool: false },
] as const;

/** A built synthetic example: its bytes and what metrics.json and request.json hold. */
export interface SyntheticExample {
  readonly name: SyntheticExampleName;
  readonly title: string;
  readonly description: string;
  readonly seed: number;
  readonly modelBytes: Uint8Array;
  readonly parameters: number;
  readonly architecture: string;
  /** A deterministic OIP request of `rows` rows. */
  request(rows?: number): { inputs: { name: string; shape: number[]; datatype: 'FP32'; data: number[] }[] };
}

/** What writing a synthetic example produced. */
export interface SyntheticExampleResult {
  readonly name: SyntheticExampleName;
  readonly dir: string;
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly modelBytes: number;
}

/** He-normal weights (std √(2 / fan-in)) rounded to float32, so they keep activations in range through the Relus. */
function heNormal(random: Random, count: number, fanIn: number): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = random.normal() * std;
  return out;
}

/** Builds heavy-conv in memory from `seed` (default {@link HEAVY_CONV_SEED}); the same seed gives the same bytes. */
export function buildHeavyConv(seed = HEAVY_CONV_SEED): SyntheticExample {
  const random = createRandom(deriveSeed(seed, 'weights'));
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  let parameters = 0;
  let current = EXAMPLE_INPUT_NAME;
  CONV_LAYERS.forEach((layer, i) => {
    const w = heNormal(random, layer.out * layer.in * 9, layer.in * 9);
    const b = new Float32Array(layer.out).map(() => random.normal() * 0.01);
    parameters += w.length + b.length;
    initializers.push({ name: `conv${i}.weight`, elemType: 'FLOAT', dims: [layer.out, layer.in, 3, 3], values: w });
    initializers.push({ name: `conv${i}.bias`, elemType: 'FLOAT', dims: [layer.out], values: b });
    nodes.push({
      name: `conv${i}`,
      opType: 'Conv',
      inputs: [current, `conv${i}.weight`, `conv${i}.bias`],
      outputs: [`conv${i}.out`],
      attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
    });
    nodes.push({ name: `relu${i}`, opType: 'Relu', inputs: [`conv${i}.out`], outputs: [`relu${i}.out`] });
    current = `relu${i}.out`;
    if (layer.pool) {
      nodes.push({ name: `pool${i}`, opType: 'MaxPool', inputs: [current], outputs: [`pool${i}.out`], attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } });
      current = `pool${i}.out`;
    }
  });
  const last = CONV_LAYERS[CONV_LAYERS.length - 1]?.out ?? 0;
  const fcW = heNormal(random, HEAVY_CONV_CLASSES * last, last);
  const fcB = new Float32Array(HEAVY_CONV_CLASSES).map(() => random.normal() * 0.01);
  parameters += fcW.length + fcB.length;
  initializers.push({ name: 'fc.weight', elemType: 'FLOAT', dims: [HEAVY_CONV_CLASSES, last], values: fcW });
  initializers.push({ name: 'fc.bias', elemType: 'FLOAT', dims: [HEAVY_CONV_CLASSES], values: fcB });
  nodes.push({ name: 'gap', opType: 'GlobalAveragePool', inputs: [current], outputs: ['gap.out'] });
  nodes.push({ name: 'flatten', opType: 'Flatten', inputs: ['gap.out'], outputs: ['features'], attributes: { axis: { i: 1 } } });
  nodes.push({ name: 'fc', opType: 'Gemm', inputs: ['features', 'fc.weight', 'fc.bias'], outputs: ['logits'], attributes: { transB: { i: 1 } } });
  nodes.push({ name: 'softmax', opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { i: 1 } } });
  nodes.push({ name: 'argmax', opType: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } });

  const architecture = 'conv3x3(1→32) relu, conv3x3(32→64) relu, conv3x3(64→64) relu maxpool2, conv3x3(64→128) relu maxpool2, conv3x3(128→128) relu, global average pool, dense(128→10) softmax';
  const description = 'A compute-heavy convolutional classifier with synthetic seeded weights (untrained), used to benchmark serving when compute matters.';
  const modelBytes = buildModel({
    graph: {
      name: 'heavy-conv',
      inputs: [{ name: EXAMPLE_INPUT_NAME, elemType: 'FLOAT', shape: ['batch', ...HEAVY_CONV_INPUT_SHAPE] }],
      outputs: [
        { name: 'label', elemType: 'INT64', shape: ['batch'] },
        { name: 'probabilities', elemType: 'FLOAT', shape: ['batch', HEAVY_CONV_CLASSES] },
      ],
      nodes,
      initializers,
    },
    opsets: [{ domain: '', version: EXAMPLE_OPSET }],
    irVersion: EXAMPLE_IR_VERSION,
    producerName: 'slipway',
    producerVersion: SLIPWAY_VERSION,
    docString: `${description} Input: float32 [batch, 1, 32, 32]. Outputs: label (class index) and probabilities (softmax over 10 classes).`,
    metadata: { 'slipway.example': 'heavy-conv', task: 'classification', synthetic: 'true', seed: String(seed), architecture },
  });
  const request = (rows = 2): ReturnType<SyntheticExample['request']> => {
    const pixels = HEAVY_CONV_INPUT_SHAPE.reduce<number>((a, b) => a * b, 1);
    const r = createRandom(deriveSeed(seed, 'request'));
    // Two decimals keep the JSON short; values in [0, 1) like normalised pixel intensities.
    const data = Array.from({ length: rows * pixels }, () => Math.round(r.next() * 100) / 100);
    return { inputs: [{ name: EXAMPLE_INPUT_NAME, shape: [rows, ...HEAVY_CONV_INPUT_SHAPE], datatype: 'FP32', data }] };
  };
  return { name: 'heavy-conv', title: 'Heavy convolutional net (synthetic)', description, seed, modelBytes, parameters, architecture, request };
}

/** The metrics.json content of a synthetic example: what it is, no held-out figures (it is not trained). */
export function syntheticMetrics(example: SyntheticExample): Record<string, unknown> {
  return {
    name: example.name,
    title: example.title,
    task: 'classification',
    synthetic: true,
    description: example.description,
    seed: example.seed,
    model: {
      file: 'model.onnx',
      sha256: sha256(example.modelBytes),
      bytes: example.modelBytes.length,
      parameters: example.parameters,
      opset: EXAMPLE_OPSET,
      irVersion: EXAMPLE_IR_VERSION,
      architecture: example.architecture,
      input: { name: EXAMPLE_INPUT_NAME, datatype: 'FP32', shape: ['batch', ...HEAVY_CONV_INPUT_SHAPE] },
      outputs: [
        { name: 'label', datatype: 'INT64', shape: ['batch'] },
        { name: 'probabilities', datatype: 'FP32', shape: ['batch', HEAVY_CONV_CLASSES] },
      ],
    },
  };
}

/**
 * Writes `<outDir>/<name>/` (model.onnx, metrics.json, request.json) through a temporary sibling
 * folder renamed into place, so a crash never leaves a half-written folder. Same seed, same bytes.
 */
export async function writeSyntheticExample(example: SyntheticExample, outDir: string): Promise<SyntheticExampleResult> {
  await mkdir(outDir, { recursive: true });
  const dir = join(outDir, example.name);
  const tmp = join(outDir, `.${example.name}.tmp-${process.pid}`);
  const old = join(outDir, `.${example.name}.old-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const files: [string, Uint8Array][] = [
    ['model.onnx', example.modelBytes],
    ['metrics.json', Buffer.from(`${JSON.stringify(syntheticMetrics(example), null, 2)}\n`)],
    ['request.json', Buffer.from(`${JSON.stringify(example.request(2))}\n`)],
  ];
  for (const [name, bytes] of files) {
    const handle = await open(join(tmp, name), 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await rm(old, { recursive: true, force: true });
  // rename() cannot replace a non-empty folder: move any previous one aside first, then drop it.
  await rename(dir, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
  return { name: example.name, dir, modelPath: join(dir, 'model.onnx'), modelSha256: sha256(example.modelBytes), modelBytes: example.modelBytes.length };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
