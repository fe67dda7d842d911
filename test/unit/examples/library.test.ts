import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PlatformError } from '../../../src/core/errors.js';
import {
  accuracy,
  applyStandardizer,
  argmaxRows,
  createMatrix,
  createRandom,
  deriveSeed,
  encodeFeatures,
  exportExampleModel,
  fitStandardizer,
  formatCsv,
  forward,
  lossAndGradients,
  mae,
  matrixFromRows,
  numericColumns,
  parseCsv,
  r2,
  readCsvFile,
  rmse,
  sampleIndices,
  stratifiedSplit,
  trainBinaryLogistic,
  trainLogisticRegression,
  trainMlp,
  type Matrix,
} from '../../../src/examples/index.js';
import { binaryLogisticToNetwork } from '../../../src/examples/logistic.js';
import { assertNetwork, type DenseNetwork } from '../../../src/examples/network.js';

function rejectsWith(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PlatformError, String(error));
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

/** Two-dimensional points around `centres`, `perClass` per class, labels in centre order. */
function blobs(centres: readonly (readonly number[])[], perClass: number, spread: number, seed: number): { x: Matrix; y: Float64Array } {
  const random = createRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  centres.forEach((c, k) => {
    for (let i = 0; i < perClass; i++) {
      rows.push(c.map((v) => v + spread * random.normal()));
      labels.push(k);
    }
  });
  return { x: matrixFromRows(rows), y: Float64Array.from(labels) };
}

void describe('CSV reading', () => {
  void test('parses a header and numeric rows, with CRLF line endings and a final newline', () => {
    const table = parseCsv('a,b c,target\r\n1,2.5,0\r\n-3,4e-2,1\r\n', 'mem.csv');
    assert.deepEqual(table.header, ['a', 'b c', 'target']);
    assert.equal(table.rows.length, 2);
    const m = numericColumns(table, ['target', 'a']);
    assert.deepEqual(Array.from(m.data), [0, 1, 1, -3]);
  });

  void test('names the line and the expected count when a row has the wrong number of cells', () => {
    assert.throws(() => parseCsv('a,b\n1,2\n3\n', 'x.csv'), rejectsWith('EXAMPLES_CSV_INVALID', /x\.csv: line 3: 1 cells, expected 2/));
  });

  void test('names the file, line and column of a cell that is not a number', () => {
    const table = parseCsv('a,b\n1,2\n3,oops\n', 'x.csv');
    assert.throws(() => numericColumns(table, ['a', 'b']), rejectsWith('EXAMPLES_CSV_INVALID', /x\.csv: line 3, column "b": expected a number, got "oops"/));
    assert.throws(() => numericColumns(parseCsv('a\n\n1\n', 'y.csv'), ['a']), rejectsWith('EXAMPLES_CSV_INVALID', /line 2, column "a".*got ""/));
  });

  void test('rejects an empty file, duplicate or empty header names, and quoted cells', () => {
    assert.throws(() => parseCsv('', 'e.csv'), rejectsWith('EXAMPLES_CSV_INVALID', /empty; expected a header row/));
    assert.throws(() => parseCsv('a,a\n1,2\n', 'd.csv'), rejectsWith('EXAMPLES_CSV_INVALID', /"a" appears twice/));
    assert.throws(() => parseCsv('a,\n1,2\n', 'd.csv'), rejectsWith('EXAMPLES_CSV_INVALID', /header cell 2 is empty/));
    assert.throws(() => parseCsv('a,b\n"1",2\n', 'q.csv'), rejectsWith('EXAMPLES_CSV_INVALID', /line 2: quoted cells/));
  });

  void test('lists the available columns when a column is missing', () => {
    const table = parseCsv('a,b\n1,2\n', 'x.csv');
    assert.throws(() => numericColumns(table, ['c']), rejectsWith('EXAMPLES_CSV_INVALID', /no column "c"; the columns are "a", "b"/));
  });

  void test('reports a missing file as EXAMPLES_DATA_NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-csv-'));
    try {
      await assert.rejects(readCsvFile(join(dir, 'none.csv')), rejectsWith('EXAMPLES_DATA_NOT_FOUND', /none\.csv does not exist/));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('formats rows back to the same text and refuses cells that would need quoting', () => {
    const text = 'a,b\n1,2\n3,4\n';
    const table = parseCsv(text, 'x.csv');
    assert.equal(formatCsv(table.header, table.rows), text);
    assert.throws(() => formatCsv(['a'], [['1,2']]), rejectsWith('EXAMPLES_CSV_INVALID', /would need quoting/));
  });
});

void describe('seeded randomness', () => {
  void test('the same seed gives the same sequence and another seed a different one', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = Array.from({ length: 20 }, () => a.next());
    assert.deepEqual(sa, Array.from({ length: 20 }, () => b.next()));
    assert.notDeepEqual(sa, Array.from({ length: 20 }, () => c.next()));
    assert.ok(sa.every((v) => v >= 0 && v < 1));
  });

  void test('matches the published mulberry32 output for seed 0', () => {
    // mulberry32(0)'s first three 32-bit outputs, as the original JavaScript gives them (checked with a Python port).
    const r = createRandom(0);
    assert.deepEqual([r.next(), r.next(), r.next()].map((v) => Math.round(v * 4294967296)), [1144304738, 1416247, 958946056]);
  });

  void test('normal deviates have mean near 0 and standard deviation near 1', () => {
    const r = createRandom(7);
    const draws = Array.from({ length: 20000 }, () => r.normal());
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length);
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
  });

  void test('shuffle returns a permutation and int stays in range', () => {
    const r = createRandom(1);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), items);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3);
      assert.ok(v === 0 || v === 1 || v === 2);
    }
    assert.throws(() => r.int(0), rejectsWith('EXAMPLES_TRAINING_INVALID'));
  });

  void test('derived seeds differ by purpose and are stable', () => {
    assert.equal(deriveSeed(5, 'split'), deriveSeed(5, 'split'));
    assert.notEqual(deriveSeed(5, 'split'), deriveSeed(5, 'fit'));
    assert.notEqual(deriveSeed(5, 'split'), deriveSeed(6, 'split'));
  });
});

void describe('splitting', () => {
  void test('a stratified split keeps each class share, covers every row once and repeats for a seed', () => {
    const labels = [...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)] as number[];
    const split = stratifiedSplit(labels, 0.2, createRandom(3));
    assert.equal(split.test.length, 20);
    const count = (rows: readonly number[], k: number): number => rows.filter((r) => labels[r] === k).length;
    assert.deepEqual([0, 1, 2].map((k) => count(split.test, k)), [12, 6, 2]);
    assert.deepEqual([...split.train, ...split.test].sort((a, b) => a - b), labels.map((_, i) => i));
    assert.deepEqual(stratifiedSplit(labels, 0.2, createRandom(3)), split);
    assert.notDeepEqual(stratifiedSplit(labels, 0.2, createRandom(4)).test, split.test);
  });

  void test('holds out at least one row of a small stratum and rejects a fraction outside (0, 1)', () => {
    const split = stratifiedSplit([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], 0.1, createRandom(1));
    assert.equal(split.test.filter((r) => r >= 9).length, 1);
    assert.throws(() => stratifiedSplit([0, 1], 1, createRandom(1)), rejectsWith('EXAMPLES_TRAINING_INVALID', /testFraction/));
  });

  void test('samples distinct sorted indices, or all of them when there are few', () => {
    const s = sampleIndices(1000, 500, createRandom(9));
    assert.equal(s.length, 500);
    assert.equal(new Set(s).size, 500);
    assert.deepEqual(s, [...s].sort((a, b) => a - b));
    assert.deepEqual(sampleIndices(3, 500, createRandom(9)), [0, 1, 2]);
  });
});

void describe('standardisation', () => {
  void test('maps training columns to mean 0 and standard deviation 1, and a constant column to 0', () => {
    const x = matrixFromRows([
      [1, 10, 5],
      [2, 20, 5],
      [3, 60, 5],
    ]);
    const s = fitStandardizer(x);
    const z = applyStandardizer(s, x);
    for (let c = 0; c < 3; c++) {
      const col = [0, 1, 2].map((r) => z.data[r * 3 + c]!);
      const mean = col.reduce((a, b) => a + b, 0) / 3;
      assert.ok(Math.abs(mean) < 1e-12);
      if (c < 2) assert.ok(Math.abs(col.reduce((a, b) => a + b * b, 0) / 3 - 1) < 1e-12);
      else assert.deepEqual(col, [0, 0, 0]);
    }
    assert.equal(s.scale[2], 1);
    assert.throws(() => applyStandardizer(s, createMatrix(1, 2)), rejectsWith('EXAMPLES_TRAINING_INVALID', /2 columns/));
  });

  void test('appends one-hot indicators after the standardised columns', () => {
    const x = matrixFromRows([
      [0, 2],
      [1, 7],
    ]);
    const encoded = encodeFeatures({ standardizer: fitStandardizer(x), oneHot: [{ feature: 'b', column: 1, categories: [2, 5, 7] }] }, x);
    assert.equal(encoded.cols, 5);
    assert.deepEqual(Array.from(encoded.data), [-1, -1, 1, 0, 0, 1, 1, 0, 0, 1]);
  });
});

void describe('metrics', () => {
  void test('compute accuracy, RMSE, MAE and R² on known values', () => {
    assert.equal(accuracy([0, 1, 1, 2], [0, 1, 2, 2]), 0.75);
    assert.equal(rmse([1, 2, 3], [1, 2, 6]), Math.sqrt(3));
    assert.equal(mae([1, 2, 3], [2, 2, 1]), 1);
    assert.equal(r2([1, 2, 3], [1, 2, 3]), 1);
    assert.equal(r2([1, 2, 3], [2, 2, 2]), 0);
  });

  void test('refuse lists of different lengths', () => {
    assert.throws(() => rmse([1, 2], [1]), rejectsWith('EXAMPLES_TRAINING_INVALID', /2 and 1/));
    assert.throws(() => accuracy([], []), rejectsWith('EXAMPLES_TRAINING_INVALID'));
  });
});

void describe('networks and training', () => {
  void test('the forward pass gives softmax rows that sum to 1 and ArgMax takes the first of equal values', () => {
    const net: DenseNetwork = {
      head: 'softmax',
      layers: [{ inputs: 2, outputs: 3, weights: Float64Array.of(1, 0, 0, 0, 1, 0), bias: Float64Array.of(0, 0, 0), activation: 'identity' }],
    };
    const p = forward(net, matrixFromRows([[2, 2], [0, 5]]));
    for (let r = 0; r < 2; r++) assert.ok(Math.abs(p.data[r * 3]! + p.data[r * 3 + 1]! + p.data[r * 3 + 2]! - 1) < 1e-12);
    assert.deepEqual(Array.from(argmaxRows(p)), [0, 1]);
    assert.throws(
      () => assertNetwork({ head: 'identity', layers: [net.layers[0]!, { ...net.layers[0]!, inputs: 2 }] }),
      rejectsWith('EXAMPLES_TRAINING_INVALID', /takes 2 inputs but the layer before gives 3/),
    );
  });

  void test('back-propagated gradients match finite differences for softmax and linear outputs', () => {
    const random = createRandom(11);
    const x = createMatrix(6, 3, Float64Array.from({ length: 18 }, () => random.normal()));
    for (const kind of ['softmax', 'linear'] as const) {
      const y = kind === 'softmax' ? Float64Array.of(0, 1, 2, 1, 0, 2) : Float64Array.from({ length: 6 }, () => random.normal());
      const { network } = trainMlp(x, y, {
        hiddenSizes: [4, 3],
        output: kind === 'softmax' ? { kind, classes: 3 } : { kind },
        epochs: 1,
        batchSize: 6,
        learningRate: 0.01,
        seed: 2,
      });
      const l2 = 0.1;
      const { gradients } = lossAndGradients(network, x, y, kind, l2);
      const params = network.layers.flatMap((l) => [l.weights, l.bias]);
      const penalised = (): number => {
        const weights = network.layers.reduce((s, l) => s + l.weights.reduce((a, w) => a + w * w, 0), 0);
        return lossAndGradients(network, x, y, kind).loss + (l2 / 2) * weights;
      };
      params.forEach((p, k) => {
        for (let i = 0; i < p.length; i++) {
          const keep = p[i]!;
          p[i] = keep + 1e-6;
          const up = penalised();
          p[i] = keep - 1e-6;
          const down = penalised();
          p[i] = keep;
          const numeric = (up - down) / 2e-6;
          assert.ok(Math.abs(numeric - gradients[k]![i]!) < 1e-6, `${kind} parameter ${k}[${i}]: ${numeric} vs ${gradients[k]![i]}`);
        }
      });
    }
  });

  void test('binary logistic regression separates two clusters and its 2-class network equals the sigmoid', () => {
    const { x, y } = blobs([[-2, 0], [2, 1]], 50, 0.7, 5);
    const model = trainBinaryLogistic(x, y, { iterations: 300 });
    const net = binaryLogisticToNetwork(model);
    const p = forward(net, x);
    assert.ok(accuracy(y, argmaxRows(p)) >= 0.98);
    for (let r = 0; r < x.rows; r++) {
      const z = model.bias + model.weights[0]! * x.data[r * 2]! + model.weights[1]! * x.data[r * 2 + 1]!;
      assert.ok(Math.abs(p.data[r * 2 + 1]! - 1 / (1 + Math.exp(-z))) < 1e-12);
    }
    assert.throws(() => trainBinaryLogistic(x, y.map((v) => v * 2)), rejectsWith('EXAMPLES_TRAINING_INVALID', /expected 0 or 1/));
  });

  void test('multinomial logistic regression separates three clusters', () => {
    const { x, y } = blobs([[0, 3], [-3, -2], [3, -2]], 40, 0.8, 6);
    const net = trainLogisticRegression(x, y, { classes: 3, iterations: 300 });
    assert.equal(net.layers.length, 1);
    assert.ok(accuracy(y, argmaxRows(forward(net, x))) >= 0.97);
  });

  void test('an MLP learns XOR, which no linear model can, and the same seed gives the same weights', () => {
    const { x, y: cluster } = blobs([[-1, -1], [1, 1], [-1, 1], [1, -1]], 25, 0.15, 8);
    const y = cluster.map((k) => (k < 2 ? 0 : 1));
    const options = { hiddenSizes: [8], output: { kind: 'softmax', classes: 2 }, epochs: 150, batchSize: 16, learningRate: 0.02, seed: 4 } as const;
    const a = trainMlp(x, y, options);
    assert.equal(accuracy(y, argmaxRows(forward(a.network, x))), 1);
    assert.ok(a.lossHistory.at(-1)! < a.lossHistory[0]!);
    const linear = trainLogisticRegression(x, y, { classes: 2, iterations: 300 });
    assert.ok(accuracy(y, argmaxRows(forward(linear, x))) < 0.8);
    const b = trainMlp(x, y, options);
    assert.deepEqual(b.network.layers.map((l) => Array.from(l.weights)), a.network.layers.map((l) => Array.from(l.weights)));
  });

  void test('an MLP with a linear output fits a non-linear regression', () => {
    const random = createRandom(12);
    const xs = Array.from({ length: 300 }, () => random.next() * 4 - 2);
    const x = createMatrix(300, 1, Float64Array.from(xs));
    const y = Float64Array.from(xs, (v) => v * v);
    const { network } = trainMlp(x, y, { hiddenSizes: [16, 8], output: { kind: 'linear' }, epochs: 200, batchSize: 32, learningRate: 0.01, finalLearningRate: 0.001, seed: 1 });
    const fit = rmse(y, forward(network, x).data);
    const sd = Math.sqrt(y.reduce((s, v) => s + (v - 4 / 3) ** 2, 0) / y.length);
    assert.ok(fit < 0.1 * sd, `RMSE ${fit} vs sd ${sd}`);
  });

  void test('training refuses inconsistent inputs with a message naming the problem', () => {
    const x = createMatrix(2, 1, Float64Array.of(0, 1));
    const base = { hiddenSizes: [2], output: { kind: 'softmax', classes: 2 }, epochs: 1, batchSize: 1, learningRate: 0.1, seed: 1 } as const;
    assert.throws(() => trainMlp(x, [0], base), rejectsWith('EXAMPLES_TRAINING_INVALID', /1 targets for 2 rows/));
    assert.throws(() => trainMlp(x, [0, 2], base), rejectsWith('EXAMPLES_TRAINING_INVALID', /row 1 has label 2/));
    assert.throws(() => trainMlp(x, [0, 1], { ...base, epochs: 0 }), rejectsWith('EXAMPLES_TRAINING_INVALID', /epochs/));
  });
});

void describe('ONNX export', () => {
  const random = createRandom(21);
  const layer = (inputs: number, outputs: number, activation: 'relu' | 'identity') => ({
    inputs,
    outputs,
    weights: Float64Array.from({ length: inputs * outputs }, () => Math.fround(random.normal())),
    bias: Float64Array.from({ length: outputs }, () => Math.fround(random.normal())),
    activation,
  });
  const standardizer = { mean: Float64Array.of(1, 2, 3), scale: Float64Array.of(2, 0.5, 4) };
  const encoding = { standardizer, oneHot: [{ feature: 'c', column: 2, categories: [0, 1, 2] }] };
  const raw = matrixFromRows([
    [1, 2, 0],
    [3, -1, 2],
    [0.5, 7, 5],
  ]);

  async function run(bytes: Uint8Array): Promise<ort.InferenceSession.ReturnType> {
    const session = await ort.InferenceSession.create(bytes);
    try {
      return await session.run({ input: new ort.Tensor('float32', Float32Array.from(raw.data), [raw.rows, raw.cols]) });
    } finally {
      await session.release();
    }
  }

  void test('a classifier graph with one-hot inputs matches the TypeScript forward pass', async () => {
    const network: DenseNetwork = { head: 'softmax', layers: [layer(6, 4, 'relu'), layer(4, 3, 'identity')] };
    const bytes = exportExampleModel({ graphName: 't', docString: 't', featureCount: 3, encoding, network, head: { kind: 'classifier' }, metadata: { k: 'v' } });
    const out = await run(bytes);
    const expected = forward(network, encodeFeatures(encoding, raw));
    assert.deepEqual(Array.from(out.label!.data as BigInt64Array, Number), Array.from(argmaxRows(expected)));
    Array.from(out.probabilities!.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - expected.data[i]!) <= 1e-5 * Math.abs(expected.data[i]!)));
  });

  void test('a regressor graph applies exp(x) − 1 for a log1p target, and nothing otherwise', async () => {
    const network: DenseNetwork = { head: 'identity', layers: [layer(6, 5, 'relu'), layer(5, 1, 'identity')] };
    const z = forward(network, encodeFeatures(encoding, raw)).data;
    for (const targetTransform of ['log1p', 'none'] as const) {
      const bytes = exportExampleModel({ graphName: 't', docString: 't', featureCount: 3, encoding, network, head: { kind: 'regressor', targetTransform }, metadata: {} });
      const out = await run(bytes);
      assert.deepEqual(out.prediction!.dims, [3, 1]);
      const expected = targetTransform === 'log1p' ? z.map(Math.expm1) : z;
      Array.from(out.prediction!.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)), `${targetTransform} ${v} vs ${expected[i]}`));
    }
  });
});
