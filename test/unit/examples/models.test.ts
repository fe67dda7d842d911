import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import {
  BREAST_CANCER_CANDIDATE_TRAINING,
  BREAST_CANCER_TRAINING,
  CANDIDATE_FILES,
  DRIFT_FILE,
  EXAMPLE_FILES,
  EXAMPLE_NAMES,
  accuracy,
  hasCandidate,
  parseCsv,
  rmse,
  trainExample,
  writeExample,
  type ExampleMetricsFile,
  type ExampleName,
  type ExampleResult,
  type TrainedExample,
} from '../../../src/examples/index.js';
import { onnx } from '../../../src/onnx/index.js';

const dataDir = fileURLToPath(new URL('../../../examples/data/', import.meta.url));

/** The files an example's folder must hold: the documented ones, and the candidate's where it has one. */
function expectedFiles(name: ExampleName): string[] {
  // bike-sharing is trained on 2011 only: its 2012 rows are written as drift.csv
  return [...EXAMPLE_FILES, ...(hasCandidate(name) ? CANDIDATE_FILES : []), ...(name === 'bike-sharing' ? [DRIFT_FILE] : [])].sort();
}

/** |a − b| relative to |b| (absolute when b is 0). */
function relativeError(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

interface Built {
  readonly trained: TrainedExample;
  readonly result: ExampleResult;
  readonly session: ort.InferenceSession;
  readonly onnxOutputs: ort.InferenceSession.ReturnType;
}

let outDir = '';
const built = new Map<ExampleName, Built>();

before(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'slipway-examples-'));
  for (const name of EXAMPLE_NAMES) {
    const trained = await trainExample(name, dataDir);
    const result = await writeExample(trained, outDir);
    const session = await ort.InferenceSession.create(await readFile(result.modelPath));
    const x = trained.xTest;
    const onnxOutputs = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [x.rows, x.cols]) });
    built.set(name, { trained, result, session, onnxOutputs });
  }
});

after(async () => {
  for (const b of built.values()) await b.session.release();
  await rm(outDir, { recursive: true, force: true });
});

function get(name: ExampleName): Built {
  const b = built.get(name);
  assert.ok(b, `${name} was built`);
  return b;
}

for (const name of ['breast-cancer', 'digits'] as const) {
  void describe(`${name} classifier`, () => {
    void test('reaches held-out accuracy of at least 0.95 in TypeScript', () => {
      const { trained } = get(name);
      const p = trained.predict(trained.xTest);
      assert.equal(p.task, 'classification');
      const acc = accuracy(trained.yTest, p.labels);
      assert.ok(acc >= 0.95, `held-out accuracy ${acc}`);
      assert.equal(acc, trained.heldOut.accuracy);
      assert.ok(trained.passed);
    });

    void test('the exported ONNX model gives the same labels and probabilities within 1e-4 relative', () => {
      const { trained, onnxOutputs } = get(name);
      const p = trained.predict(trained.xTest);
      assert.equal(p.task, 'classification');
      const label = onnxOutputs.label;
      const probabilities = onnxOutputs.probabilities;
      assert.ok(label && probabilities);
      assert.equal(label.type, 'int64');
      assert.deepEqual(label.dims, [trained.xTest.rows]);
      assert.equal(probabilities.type, 'float32');
      assert.deepEqual(probabilities.dims, [trained.xTest.rows, trained.classLabels?.length]);
      const labels = Array.from(label.data as BigInt64Array, Number);
      assert.deepEqual(labels, Array.from(p.labels));
      const probs = probabilities.data as Float32Array;
      let worst = 0;
      // Purely relative, even for probabilities near 1e-12: the weights are float32 on both sides.
      for (let i = 0; i < probs.length; i++) worst = Math.max(worst, relativeError(probs[i]!, p.probabilities.data[i]!));
      assert.ok(worst <= 1e-4, `largest relative difference ${worst}`);
    });

    void test('accuracy computed from the ONNX labels meets the threshold', () => {
      const { trained, onnxOutputs } = get(name);
      const labels = Array.from(onnxOutputs.label!.data as BigInt64Array, Number);
      const acc = accuracy(trained.yTest, labels);
      assert.ok(acc >= 0.95, `ONNX held-out accuracy ${acc}`);
    });
  });
}

void describe('bike-sharing regressor', () => {
  void test('drift.csv holds every 2012 hour (yr = 1), none of 2011, in the test.csv layout', async () => {
    const { trained, result } = get('bike-sharing');
    const table = parseCsv(await readFile(join(result.dir, DRIFT_FILE), 'utf8'), DRIFT_FILE);
    assert.deepEqual(table.header, [...trained.featureNames, trained.target]);
    const source = trained.dataset.table;
    const yr = source.header.indexOf('yr');
    const of2012 = source.rows.filter((r) => r[yr] === '1');
    assert.equal(table.rows.length, of2012.length);
    assert.equal(table.rows.length, 8734);
    const cnt = source.header.indexOf('cnt');
    assert.deepEqual(table.rows.map((r) => r.at(-1)), of2012.map((r) => r[cnt]));
  });

  void test('has a held-out RMSE at most 0.8 × (in fact under 0.5 ×) that of predicting the training mean', () => {
    const { trained } = get('bike-sharing');
    const p = trained.predict(trained.xTest);
    assert.equal(p.task, 'regression');
    // The baseline is recomputed here from the training rows of the CSV, independently of the pipeline.
    const table = trained.dataset.table;
    const cnt = table.header.indexOf('cnt');
    const trainMean = trained.split.train.reduce((s, r) => s + Number(table.rows[r]![cnt]), 0) / trained.split.train.length;
    const baseline = rmse(trained.yTest, new Float64Array(trained.yTest.length).fill(trainMean));
    const model = rmse(trained.yTest, p.values);
    assert.ok(model <= 0.8 * baseline, `RMSE ${model} vs baseline ${baseline}`);
    assert.ok(model <= 0.5 * baseline, `RMSE ${model} vs baseline ${baseline}`);
    assert.ok(Math.abs(model - trained.heldOut.rmse!) < 1e-9);
    assert.ok(Math.abs(baseline - trained.baseline.rmse!) < 1e-9);
  });

  void test('the exported ONNX model predicts within 1e-4 relative of TypeScript and meets the threshold', () => {
    const { trained, onnxOutputs } = get('bike-sharing');
    const p = trained.predict(trained.xTest);
    assert.equal(p.task, 'regression');
    const prediction = onnxOutputs.prediction;
    assert.ok(prediction);
    assert.equal(prediction.type, 'float32');
    assert.deepEqual(prediction.dims, [trained.xTest.rows, 1]);
    const values = Array.from(prediction.data as Float32Array);
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, relativeError(values[i]!, p.values[i]!));
    assert.ok(worst <= 1e-4, `largest relative difference ${worst}`);
    assert.ok(rmse(trained.yTest, values) <= 0.8 * trained.baseline.rmse!);
  });

  void test('trains and tests on 2011 only, on disjoint days, without the casual and registered columns', () => {
    const { trained } = get('bike-sharing');
    const table = trained.dataset.table;
    const yr = table.header.indexOf('yr');
    const day = table.header.indexOf('dteday');
    for (const r of [...trained.split.train, ...trained.split.test]) assert.equal(table.rows[r]![yr], '0');
    const trainDays = new Set(trained.split.train.map((r) => table.rows[r]![day]));
    const testDays = new Set(trained.split.test.map((r) => table.rows[r]![day]));
    assert.equal([...testDays].filter((d) => trainDays.has(d)).length, 0);
    assert.equal(trainDays.size + testDays.size, 365);
    for (const leaked of ['casual', 'registered', 'cnt', 'yr', 'instant', 'dteday']) assert.ok(!trained.featureNames.includes(leaked), leaked);
  });

  void test('one-hot encodes the hour inside the graph, so a raw hour outside 0..23 only loses its indicator', async () => {
    const { trained, session } = get('bike-sharing');
    const row = Array.from(trained.xTest.data.subarray(0, trained.xTest.cols));
    const hr = trained.featureNames.indexOf('hr');
    const rows = [row, row.map((v, i) => (i === hr ? 8 : v)), row.map((v, i) => (i === hr ? 17 : v))];
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [3, row.length]) });
    const values = Array.from(out.prediction!.data as Float32Array);
    const ts = trained.predict({ rows: 3, cols: row.length, data: Float64Array.from(rows.flat()) });
    assert.equal(ts.task, 'regression');
    values.forEach((v, i) => assert.ok(relativeError(v, ts.values[i]!) <= 1e-4));
    // Rush hours on the same day and weather differ from the first row's hour.
    assert.notEqual(values[1], values[0]);
    assert.notEqual(values[2], values[1]);
  });
});

void describe('exported model files', () => {
  for (const name of EXAMPLE_NAMES) {
    void test(`${name}: model.onnx declares opset 17, IR 8, a [batch, n] FP32 input and metadata`, () => {
      const { trained, result } = get(name);
      const model = onnx.ModelProto.decode(trained.modelBytes);
      assert.equal(Number(model.irVersion), 8);
      assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
      const input = model.graph!.input![0]!;
      assert.equal(input.name, 'input');
      assert.equal(input.type!.tensorType!.elemType, onnx.TensorProto.DataType.FLOAT);
      const dims = input.type!.tensorType!.shape!.dim!;
      assert.equal(dims[0]!.dimParam, 'batch');
      assert.equal(Number(dims[1]!.dimValue), trained.featureNames.length);
      const meta = new Map(model.metadataProps.map((p): [string, string] => [p.key ?? '', p.value ?? '']));
      assert.deepEqual(JSON.parse(meta.get('feature_names') ?? 'null'), trained.featureNames);
      assert.equal(meta.get('seed'), String(trained.seed));
      assert.equal(meta.get('dataset_sha256'), trained.dataset.sha256);
      assert.ok(meta.get('dataset')?.includes(trained.dataset.info.doi));
      assert.deepEqual((JSON.parse(meta.get('metrics') ?? '{}') as { heldOut: unknown }).heldOut, trained.heldOut);
      assert.equal(result.modelBytes, trained.modelBytes.length);
      const outputs = model.graph!.output!.map((o) => o.name);
      assert.deepEqual(outputs, trained.task === 'classification' ? ['label', 'probabilities'] : ['prediction']);
    });

    void test(`${name}: the folder holds exactly the documented files`, async () => {
      const { result } = get(name);
      assert.deepEqual((await readdir(result.dir)).sort(), expectedFiles(name));
    });

    void test(`${name}: test.csv is the held-out split with raw features and the target`, async () => {
      const { trained, result } = get(name);
      const table = parseCsv(await readFile(join(result.dir, 'test.csv'), 'utf8'), 'test.csv');
      assert.deepEqual(table.header, [...trained.featureNames, trained.target]);
      assert.equal(table.rows.length, trained.split.test.length);
      table.rows.forEach((cells, r) => {
        cells.slice(0, -1).forEach((c, k) => assert.equal(Number(c), trained.xTest.data[r * trained.xTest.cols + k]));
        assert.equal(Number(cells.at(-1)), trained.yTest[r]);
      });
    });

    void test(`${name}: reference.csv is a sample of at most 500 training rows`, async () => {
      const { trained, result } = get(name);
      const table = parseCsv(await readFile(join(result.dir, 'reference.csv'), 'utf8'), 'reference.csv');
      assert.deepEqual(table.header, [...trained.featureNames, trained.target]);
      assert.equal(table.rows.length, Math.min(500, trained.split.train.length));
      const train = new Set(trained.split.train);
      for (const r of trained.split.reference) assert.ok(train.has(r));
      const source = trained.dataset.table;
      const columns = table.header.map((h) => source.header.indexOf(h));
      table.rows.forEach((cells, i) => assert.deepEqual(cells, columns.map((c) => source.rows[trained.split.reference[i]!]![c])));
    });

    void test(`${name}: request.json is a valid two-row inference request the model answers`, async () => {
      const { trained, result, session } = get(name);
      const body = JSON.parse(await readFile(join(result.dir, 'request.json'), 'utf8')) as {
        inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
      };
      assert.equal(body.inputs.length, 1);
      const input = body.inputs[0]!;
      assert.equal(input.name, session.inputNames[0]);
      assert.equal(input.datatype, 'FP32');
      assert.deepEqual(input.shape, [2, trained.featureNames.length]);
      assert.equal(input.data.length, 2 * trained.featureNames.length);
      assert.deepEqual(input.data, Array.from(trained.xTest.data.subarray(0, input.data.length)));
      const out = await session.run({ [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) });
      assert.equal(out[session.outputNames[0]!]!.dims[0], 2);
    });

    void test(`${name}: metrics.json and feature-names.json agree with the trained model`, async () => {
      const { trained, result } = get(name);
      const metrics = JSON.parse(await readFile(join(result.dir, 'metrics.json'), 'utf8')) as ExampleMetricsFile;
      assert.deepEqual(metrics.heldOut, trained.heldOut);
      assert.equal(metrics.passed, true);
      assert.equal(metrics.seed, trained.seed);
      assert.equal(metrics.split.testRows, trained.split.test.length);
      assert.equal(metrics.model.bytes, trained.modelBytes.length);
      assert.equal(metrics.model.sha256, result.modelSha256);
      assert.ok(!JSON.stringify(metrics).toLowerCase().includes('seconds'), 'no training time');
      assert.deepEqual(JSON.parse(await readFile(join(result.dir, 'feature-names.json'), 'utf8')), trained.featureNames);
    });
  }

  void test('rewriting an example replaces its folder and removes folders left by a crashed run', async () => {
    const { trained } = get('breast-cancer');
    const dir = await mkdtemp(join(tmpdir(), 'slipway-examples-rewrite-'));
    try {
      // A crashed writer (a process id that cannot be running) left a half-written folder.
      const stale = join(dir, '.breast-cancer.tmp-4194305');
      await mkdir(stale);
      await writeFile(join(stale, 'model.onnx'), 'partial');
      await mkdir(join(dir, 'breast-cancer'));
      await writeFile(join(dir, 'breast-cancer', 'leftover.txt'), 'old');
      await writeExample(trained, dir);
      assert.deepEqual((await readdir(dir)).sort(), ['breast-cancer']);
      assert.deepEqual((await readdir(join(dir, 'breast-cancer'))).sort(), expectedFiles('breast-cancer'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('breast-cancer candidate (candidate.onnx)', () => {
  function candidateOf(): { main: TrainedExample; candidate: TrainedExample; result: ExampleResult } {
    const { trained, result } = get('breast-cancer');
    assert.ok(trained.candidate, 'breast-cancer was trained with a candidate');
    return { main: trained, candidate: trained.candidate, result };
  }

  void test('only breast-cancer has a candidate', () => {
    assert.deepEqual(EXAMPLE_NAMES.filter(hasCandidate), ['breast-cancer']);
    assert.equal(get('digits').trained.candidate, undefined);
    assert.equal(get('bike-sharing').result.candidate, undefined);
  });

  void test('reaches held-out accuracy of at least 0.95, in TypeScript and from the ONNX labels', async () => {
    const { candidate, result } = candidateOf();
    const p = candidate.predict(candidate.xTest);
    assert.equal(p.task, 'classification');
    const acc = accuracy(candidate.yTest, p.labels);
    assert.ok(acc >= 0.95, `candidate held-out accuracy ${acc}`);
    assert.equal(acc, candidate.heldOut.accuracy);
    assert.ok(candidate.passed);
    assert.equal(result.candidate?.passed, true);

    const session = await ort.InferenceSession.create(await readFile(join(result.dir, 'candidate.onnx')));
    try {
      const x = candidate.xTest;
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [x.rows, x.cols]) });
      const labels = Array.from(out.label!.data as BigInt64Array, Number);
      assert.deepEqual(labels, Array.from(p.labels));
      assert.ok(accuracy(candidate.yTest, labels) >= 0.95);
      const probs = out.probabilities!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < probs.length; i++) worst = Math.max(worst, relativeError(probs[i]!, p.probabilities.data[i]!));
      assert.ok(worst <= 1e-4, `largest relative difference ${worst}`);
    } finally {
      await session.release();
    }
  });

  void test('is scored on the same held-out rows as model.onnx, and differs from it only in the L2 penalty', () => {
    const { main, candidate } = candidateOf();
    assert.deepEqual(candidate.split.test, main.split.test);
    assert.deepEqual(candidate.split.train, main.split.train);
    assert.equal(candidate.seed, main.seed);
    assert.notEqual(BREAST_CANCER_CANDIDATE_TRAINING.l2, BREAST_CANCER_TRAINING.l2);
    assert.deepEqual({ ...BREAST_CANCER_CANDIDATE_TRAINING, l2: 0 }, { ...BREAST_CANCER_TRAINING, l2: 0 });
    assert.equal(candidate.training.l2, BREAST_CANCER_CANDIDATE_TRAINING.l2);
    assert.equal(main.training.l2, BREAST_CANCER_TRAINING.l2);
  });

  void test('differs in bytes from model.onnx, so the registry stores it as a new version, and answers differently', () => {
    const { main, candidate, result } = candidateOf();
    assert.ok(!Buffer.from(candidate.modelBytes).equals(Buffer.from(main.modelBytes)));
    assert.notEqual(result.candidate?.modelSha256, result.modelSha256);
    // the same request gets other probabilities, so a response shows which version served it
    const a = main.predict(main.xTest);
    const b = candidate.predict(candidate.xTest);
    assert.ok(a.task === 'classification' && b.task === 'classification');
    assert.notEqual(a.probabilities.data[1], b.probabilities.data[1]);
  });

  void test('training it again with the same seed gives the same bytes', async () => {
    const { candidate } = candidateOf();
    const again = await trainExample('breast-cancer', dataDir);
    assert.ok(again.candidate);
    assert.ok(Buffer.from(again.candidate.modelBytes).equals(Buffer.from(candidate.modelBytes)));
  });

  void test('candidate-metrics.json has the shape of metrics.json, names candidate.onnx and points at model.onnx', async () => {
    const { candidate, result } = candidateOf();
    const metrics = JSON.parse(await readFile(join(result.dir, 'candidate-metrics.json'), 'utf8')) as ExampleMetricsFile;
    const main = JSON.parse(await readFile(join(result.dir, 'metrics.json'), 'utf8')) as ExampleMetricsFile;
    assert.deepEqual(Object.keys(metrics).filter((k) => k !== 'candidateOf'), Object.keys(main));
    assert.equal(main.candidateOf, undefined, 'metrics.json describes model.onnx alone');
    assert.deepEqual(metrics.candidateOf, { file: 'model.onnx', sha256: result.modelSha256 });
    assert.equal(metrics.model.file, 'candidate.onnx');
    assert.equal(metrics.model.sha256, result.candidate?.modelSha256);
    assert.equal(metrics.model.bytes, (await readFile(join(result.dir, 'candidate.onnx'))).length);
    assert.deepEqual(metrics.heldOut, candidate.heldOut);
    assert.equal(metrics.passed, true);
    assert.deepEqual(metrics.split, main.split);
    assert.equal(metrics.training.l2, BREAST_CANCER_CANDIDATE_TRAINING.l2);
    const model = onnx.ModelProto.decode(candidate.modelBytes);
    const meta = new Map(model.metadataProps.map((p): [string, string] => [p.key ?? '', p.value ?? '']));
    assert.equal(meta.get('slipway.example'), 'breast-cancer');
    assert.equal((JSON.parse(meta.get('training') ?? '{}') as { l2?: number }).l2, BREAST_CANCER_CANDIDATE_TRAINING.l2);
  });
});
