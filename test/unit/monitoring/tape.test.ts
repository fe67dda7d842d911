import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, type Tensor } from '../../../src/core/index.js';
import { createPredictionRecorder, parseStoredSummary, summarizeOutputs, type InsertPredictionsResult, type MonitoringStore, type PredictionInput, type PredictionRecord } from '../../../src/monitoring/index.js';
import { createEncodedReader, createTapeWriter, encodeRecord, MAX_RAW_BYTES, readTape, tapeTransferList, type PredictionTape } from '../../../src/monitoring/predictions/tape.js';
import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { outputsGenerator, probabilities, rid, T0 } from './fixtures.js';

/** Every record of a tape, encoded as the store's writer reads them. */
function encodeTape(tape: PredictionTape) {
  const read = createEncodedReader(tape);
  return Array.from({ length: tape.n }, (_, r) => read(r));
}

describe('prediction tape', () => {
  test('reads back every record with the summary the request thread would have made, for 2,000 generated responses', () => {
    const { pick, tensor } = outputsGenerator(7);
    for (const options of [{}, { maxRows: 4, maxOutputs: 3, maxStringLength: 16, maxRowWidth: 2 }]) {
      const writer = createTapeWriter(options);
      const inputs: PredictionInput[] = [];
      for (let k = 0; k < 1000; k++) {
        const outputs: Tensor[] | undefined = pick([true, true, true, false]) ? Array.from({ length: pick([1, 1, 2, 5]) }, (_, i) => tensor(i)) : undefined;
        const input: PredictionInput = {
          requestId: rid(k),
          endpoint: pick(['fraud', 'churn "x"']),
          model: pick([null, undefined, 'fraud-model']),
          version: pick([null, 3, 1.5, Number.MAX_SAFE_INTEGER + 2]),
          ...(k % 3 === 0 ? {} : { variant: pick(['stable', 'candidate', 'shadow']) }),
          latencyMs: pick([1.25, -3, NaN, Infinity]),
          status: pick([200, 503, 200.7, NaN]),
          ...(k % 4 === 0 ? {} : { at: pick([T0 + k + 0.4, NaN]) }),
          ...(outputs === undefined ? {} : { outputs }),
        };
        inputs.push(input);
        writer.add(input, T0 + 999);
      }
      const tape = writer.seal();
      assert.equal(writer.size, 0, 'sealing starts a new tape');
      const records = readTape(tape);
      assert.equal(records.length, 1000);
      inputs.forEach((input, k) => {
        const at = input.at !== undefined && Number.isFinite(input.at) ? Math.round(input.at) : T0 + 999;
        const expected: PredictionRecord = {
          requestId: input.requestId,
          at,
          endpoint: input.endpoint,
          model: input.model ?? null,
          version: typeof input.version === 'number' && Number.isSafeInteger(input.version) ? input.version : null,
          variant: input.variant ?? 'stable',
          latencyMs: Math.max(0, Number.isFinite(input.latencyMs) ? input.latencyMs : 0),
          status: Math.trunc(Number.isFinite(input.status) ? input.status : 0),
          outputs: summarizeOutputs(input.outputs, options),
        };
        assert.deepEqual(records[k], expected, `record ${k}`);
      });
    }
  });

  test('encodes every record as the store writes it, the same text as its summary encoded, for 4,000 generated responses', () => {
    const { pick, tensor } = outputsGenerator(13);
    let direct = 0;
    for (const options of [{}, { maxRows: 4, maxOutputs: 3, maxStringLength: 3, maxRowWidth: 2 }, { maxRows: 1, maxOutputs: 1 }]) {
      const writer = createTapeWriter(options);
      for (let k = 0; k < (options.maxRows === 1 ? 2000 : 1000); k++) {
        const numeric = pick([true, true, false]);
        const outputs: Tensor[] | undefined = pick([true, true, true, false]) ? Array.from({ length: pick([1, 1, 2, 5]) }, (_, i) => (numeric ? numericTensor(tensor, i) : tensor(i))) : undefined;
        writer.add({ requestId: rid(k), endpoint: 'fraud', model: pick([null, 'm']), version: pick([null, 3]), variant: pick(['stable', 'shadow']), latencyMs: 1.5, status: pick([200, 500]), ...(outputs === undefined ? {} : { outputs }) }, T0 + k);
      }
      const tape = writer.seal();
      const expected = readTape(tape).map(encodeRecord);
      const encoded = encodeTape(tape);
      assert.equal(encoded.length, expected.length);
      encoded.forEach((e, k) => assert.deepEqual(e, expected[k], `record ${k} with options ${JSON.stringify(options)}`));
      direct += expected.filter((e) => e.predicted !== null).length;
      // and across a thread boundary (the writer's case)
      const moved = structuredClone(tape, { transfer: tapeTransferList(tape) });
      assert.deepEqual(encodeTape(moved), expected);
    }
    assert.ok(direct > 1000, `${direct} records had a prediction: the generator exercised the common case`);
  });

  test('reads encoded records one at a time in order, each as a fresh reader of the whole tape does, and refuses another order', () => {
    // outputs that are views into a larger buffer, at an offset, with only their first row kept
    const writer = createTapeWriter({ maxRows: 1 });
    const backing = new Float32Array([9, 9, 0.25, 0.75, 0.6, 0.4]);
    for (let k = 0; k < 3; k++) {
      writer.add({ requestId: rid(k), endpoint: 'e', latencyMs: 1, status: 200, outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 2], data: backing.subarray(2) }, { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([BigInt(k), 7n]) }] }, T0);
    }
    const tape = writer.seal();
    const expected = encodeTape(tape);
    const read = createEncodedReader(tape);
    assert.deepEqual(read(0), expected[0]);
    assert.throws(() => read(2), RangeError, 'a record skipped');
    assert.deepEqual(read(1), expected[1]);
    assert.throws(() => read(0), RangeError, 'a record read again');
    assert.deepEqual(read(2), expected[2]);
    assert.deepEqual(parseStoredSummary(expected[2]?.outputsJson ?? '').tensors[0]?.scores, [0.75]);
    assert.deepEqual(parseStoredSummary(expected[2]?.outputsJson ?? '').tensors[1]?.values, [2]);
    assert.deepEqual(expected.map((e) => parseStoredSummary(e.outputsJson)), [0, 1, 2].map((k) => summarizeOutputs([{ name: 'p', datatype: 'FP32', shape: [2, 2], data: backing.subarray(2) }, { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([BigInt(k), 7n]) }], { maxRows: 1 })));
  });

  test('carries 8-byte elements raw after a tape whose arena ended between 8-byte boundaries', () => {
    const writer = createTapeWriter();
    // 100 answers of three FP32 scores: 12 bytes each at 8-aligned offsets, so the arena ends 4 bytes past a boundary
    for (let k = 0; k < 100; k++) writer.add({ requestId: rid(k), endpoint: 'e', latencyMs: 1, status: 200, outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 3], data: Float32Array.from([0.1, 0.1, 0.8]) }] }, T0);
    assert.equal(writer.seal().arena.byteLength, 99 * 16 + 12);
    // the next tape's arena starts as large as that one: an odd size for an FP64 or INT64 view
    const outputs: Tensor[] = [{ name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.from([2.5]) }, { name: 'label', datatype: 'INT64', shape: [1], data: BigInt64Array.from([3n]) }];
    writer.add({ requestId: rid(200), endpoint: 'e', latencyMs: 1, status: 200, outputs }, T0);
    const tape = writer.seal();
    assert.equal(tape.summaries[0], null, 'captured raw, not summarised on the request thread');
    assert.deepEqual(readTape(tape)[0]?.outputs, summarizeOutputs(outputs));
  });

  test('an encoded record carries its prediction as label text and its summary in the stored form', () => {
    const writer = createTapeWriter();
    const outputs: Tensor[] = [
      { name: 'label', datatype: 'INT64', shape: [1], data: BigInt64Array.from([2n ** 60n]) },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: Float32Array.from([0.1, 0.7, 0.2]) },
    ];
    writer.add({ requestId: rid(1), endpoint: 'e', model: 'm', version: 1, latencyMs: 2, status: 200, outputs }, T0);
    writer.add({ requestId: rid(2), endpoint: 'e', latencyMs: 2, status: 404 }, T0);
    const [a, b] = encodeTape(writer.seal());
    assert.equal(a?.predicted, String(2n ** 60n), 'a 64-bit label beyond 2^53 keeps its digits');
    assert.deepEqual(parseStoredSummary(a?.outputsJson ?? ''), summarizeOutputs(outputs));
    assert.equal(parseStoredSummary(a?.outputsJson ?? '').tensors[1]?.scores?.[0], 0.7, 'single precision rounded to 7 digits');
    assert.equal(b?.predicted, null);
    assert.equal(b?.outputsJson, '[null,0]');
    assert.deepEqual(parseStoredSummary(b?.outputsJson ?? ''), summarizeOutputs(undefined));
  });

  test('outputs whose data is not the typed array of their datatype are summarised where recorded, and read back the same', () => {
    const writer = createTapeWriter();
    const odd = { name: 'p', datatype: 'FP32', shape: [1, 2], data: [0.2, 0.8] } as unknown as Tensor;
    const view = { name: 'q', datatype: 'FP32', shape: [1, 2], data: new Float64Array([0.3, 0.7]) } as unknown as Tensor;
    writer.add({ requestId: rid(1), endpoint: 'e', latencyMs: 1, status: 200, outputs: [odd] }, T0);
    writer.add({ requestId: rid(2), endpoint: 'e', latencyMs: 1, status: 200, outputs: [view] }, T0);
    const [a, b] = readTape(writer.seal());
    assert.deepEqual(a?.outputs, summarizeOutputs([odd]));
    assert.deepEqual(b?.outputs, summarizeOutputs([view]));
  });

  test('a tape crosses to another thread with its buffers transferred, and reads the same there', () => {
    const writer = createTapeWriter();
    const outputs: Tensor[] = [
      { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([1n, 0n]) },
      // a view into a larger buffer at an offset, as onnxruntime may hand back
      { name: 'scores', datatype: 'FP64', shape: [2, 2], data: new Float64Array(new Float64Array([9, 0.1, 0.9, 0.6, 0.4]).buffer, 8, 4) },
    ];
    for (let k = 0; k < 3; k++) writer.add({ requestId: rid(k), endpoint: 'e', model: 'm', version: 1, latencyMs: 1, status: 200, outputs }, T0);
    const tape = writer.seal();
    const before = readTape(tape);
    const moved = structuredClone(tape, { transfer: tapeTransferList(tape) });
    assert.equal(tape.nums.length, 0, 'the buffers left this side');
    assert.deepEqual(readTape(moved), before);
    assert.deepEqual(before[0]?.outputs.tensors[1]?.values, [1, 0]);
  });

  test('the recorder hands a store that takes tapes tapes, and what it stores equals what the record path stores', async () => {
    const clock = createFakeClock(T0);
    const plain = createMemoryMonitoringStore();
    const tapes: PredictionTape[] = [];
    const taped = createMemoryMonitoringStore();
    const tapeStore: MonitoringStore = Object.assign(Object.create(taped) as MonitoringStore, {
      insertTape: async (tape: PredictionTape): Promise<InsertPredictionsResult> => {
        tapes.push(tape);
        return taped.insertPredictions(readTape(tape));
      },
    });
    const a = createPredictionRecorder({ store: plain, clock, flushBatchSize: 4 });
    const b = createPredictionRecorder({ store: tapeStore, clock, flushBatchSize: 4 });
    const { tensor } = outputsGenerator(11);
    for (let k = 0; k < 10; k++) {
      const input: PredictionInput = { requestId: rid(k), endpoint: 'fraud', model: 'm', version: 2, latencyMs: 1, status: 200, outputs: [tensor(k)] };
      assert.equal(a.recordPrediction(input), true);
      assert.equal(b.recordPrediction(input), true);
    }
    assert.equal(b.stats().buffered, 10);
    await a.flush();
    await b.flush();
    assert.deepEqual(
      tapes.map((t) => t.n),
      [4, 4, 2],
      'sealed at the batch size, the rest at flush',
    );
    assert.deepEqual(b.stats(), a.stats());
    for (let k = 0; k < 10; k++) assert.deepEqual(await taped.getPredictions(rid(k)), await plain.getPredictions(rid(k)));
    await a.close();
    await b.close();
  });
});

describe('prediction tape memory', () => {
  test('a record whose raw outputs would exceed MAX_RAW_BYTES is summarised where it is recorded, and reads back the same', () => {
    const writer = createTapeWriter();
    // 16 rows of 1,000 class scores: 64 KB of floats raw
    const wide: Tensor = { name: 'scores', datatype: 'FP32', shape: [16, 1000], data: Float32Array.from({ length: 16_000 }, (_, i) => (i * 7919) % 1000) };
    const longText: Tensor = { name: 'text', datatype: 'BYTES', shape: [16], data: Array.from({ length: 16 }, (_, i) => `${i}`.repeat(400)) };
    const small = probabilities([1]);
    writer.add({ requestId: rid(1), endpoint: 'e', latencyMs: 1, status: 200, outputs: [wide] }, T0);
    writer.add({ requestId: rid(2), endpoint: 'e', latencyMs: 1, status: 200, outputs: [longText] }, T0);
    writer.add({ requestId: rid(3), endpoint: 'e', latencyMs: 1, status: 200, outputs: [small] }, T0);
    const tape = writer.seal();
    assert.ok(tape.arena.byteLength <= MAX_RAW_BYTES, `arena ${tape.arena.byteLength} bytes`);
    assert.equal(tape.summaries[0] === null, false, 'the wide one was summarised at once');
    assert.equal(tape.summaries[1] === null, false, 'so were the long texts');
    assert.equal(tape.summaries[2], null, 'the small one travels raw');
    const [a, b, c] = readTape(tape);
    assert.deepEqual(a?.outputs, summarizeOutputs([wide]));
    assert.deepEqual(b?.outputs, summarizeOutputs([longText]));
    assert.deepEqual(c?.outputs, summarizeOutputs([small]));
  });
});

/** A generated tensor of a numeric datatype (the generator's BYTES ones drawn again). */
function numericTensor(tensor: (i: number) => Tensor, i: number): Tensor {
  for (;;) {
    const t = tensor(i);
    if (t.datatype !== 'BYTES') return t;
  }
}
