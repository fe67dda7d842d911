/** Reading reference data: the CSV reader in pieces, columns mapped onto inputs, row errors, tensors, declared feature names. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PlatformError, type ModelSignature, type TensorSpec } from '../../../../src/core/index.js';
import { featureNamesFrom, inputTensors, planReferenceLayout, readOnnxMetadata, readReferenceRow } from '../../../../src/monitoring/profiles/index.js';
import { buildModel } from '../../../../src/onnx/index.js';
import { createCsvReader, parseCsvText } from '../../../../src/serving/tabular.js';
import { createSeededRandom } from '../../../../src/stats/index.js';

const fail = (message: string): Error => new Error(message);

const spec = (name: string, datatype: TensorSpec['datatype'], shape: number[]): TensorSpec => ({ name, datatype, shape });
const sig = (...inputs: TensorSpec[]): ModelSignature => ({ inputs, outputs: [spec('y', 'FP32', [-1, 1])] });
const fourFloats = sig(spec('x', 'FP32', [-1, 4]));

/** Asserts a PlatformError with `code` whose message matches every pattern. */
function refuses(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PlatformError, String(e));
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

void describe('the CSV reader', () => {
  const text = '\ufeffa,"b ""q""",c\r\n1,"two\nlines",3\r\n\r\n4,,"6,7"\n8,9,10';

  void test('reads quoted fields, escaped quotes, CRLF and blank lines, and drops a leading BOM', () => {
    assert.deepEqual(parseCsvText(text, fail), [
      ['a', 'b "q"', 'c'],
      ['1', 'two\nlines', '3'],
      ['4', '', '6,7'],
      ['8', '9', '10'],
    ]);
  });

  void test('gives the same rows whatever pieces the text arrives in', () => {
    const whole = parseCsvText(text, fail);
    const random = createSeededRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const reader = createCsvReader({ fail });
      const rows: string[][] = [];
      let at = 0;
      while (at < text.length) {
        const size = 1 + random.int(4);
        rows.push(...reader.push(text.slice(at, at + size)));
        at += size;
      }
      rows.push(...reader.end());
      assert.deepEqual(rows, whole, `trial ${trial}`);
    }
  });

  void test('names the line of a quote that is never closed, and caps a field’s length', () => {
    assert.throws(() => parseCsvText('a,b\n1,"open\n2,3\n', fail), /the quoted field opened on line 2 is never closed/);
    const reader = createCsvReader({ fail, maxFieldChars: 10 });
    assert.throws(() => reader.push('a,"0123456789abc'), /longer than 10 characters \(is a quote left open\?\)/);
  });
});

void describe('mapping columns onto inputs', () => {
  void test('fills a [batch, 4] input from four columns in order, naming the features after the header', () => {
    const layout = planReferenceLayout(fourFloats, ['a', ' b ', 'c', 'd']);
    assert.deepEqual(
      layout.features.map((f) => [f.name, f.input, f.column, f.datatype]),
      [
        ['a', 'x', 0, 'FP32'],
        ['b', 'x', 1, 'FP32'],
        ['c', 'x', 2, 'FP32'],
        ['d', 'x', 3, 'FP32'],
      ],
    );
    assert.deepEqual(layout.sourceColumns, [0, 1, 2, 3]);
    assert.equal(layout.batchRows, 256);
    assert.equal(layout.byName, false);
  });

  void test('leaves out the target column, as predict --target does', () => {
    const layout = planReferenceLayout(fourFloats, ['a', 'b', 'label', 'c', 'd'], { target: 'label' });
    assert.deepEqual(layout.sourceColumns, [0, 1, 3, 4]);
    assert.equal(layout.rowWidth, 5);
  });

  void test('refuses a column count that does not fit, hinting at the label when there is one too many', () => {
    refuses(() => planReferenceLayout(fourFloats, ['a', 'b', 'c', 'd', 'label']), 'MONITORING_PROFILE_COLUMNS_MISMATCH', /take 4 values per row \(x \[\?, 4\]: 4\); the data has 5 columns/, /is one of them the label\?/);
    refuses(() => planReferenceLayout(fourFloats, ['a', 'b', 'c']), 'MONITORING_PROFILE_COLUMNS_MISMATCH', /take 4 values per row.*the data has 3 columns/);
  });

  void test('refuses a target that is not a column and a name given twice', () => {
    refuses(() => planReferenceLayout(fourFloats, ['a', 'b', 'c', 'd'], { target: 'y' }), 'MONITORING_PROFILE_COLUMNS_MISMATCH', /target "y" is not a column of the data \(columns: "a", "b", "c", "d"\)/);
    refuses(() => planReferenceLayout(fourFloats, ['a', 'b', 'a', 'd']), 'MONITORING_PROFILE_COLUMNS_MISMATCH', /column "a" appears twice in the header \(columns 1 and 3\)/);
  });

  void test('matches columns by the model’s feature_names in any order, naming unknown columns and missing features', () => {
    const names = ['a', 'b', 'c', 'd'];
    const layout = planReferenceLayout(fourFloats, ['d', 'b', 'label', 'a', 'c'], { featureNames: names, target: 'label' });
    assert.equal(layout.byName, true);
    assert.deepEqual(layout.features.map((f) => f.name), names);
    assert.deepEqual(layout.sourceColumns, [3, 1, 4, 0]);
    refuses(
      () => planReferenceLayout(fourFloats, ['a', 'b', 'c', 'e', 'label'], { featureNames: names }),
      'MONITORING_PROFILE_COLUMNS_MISMATCH',
      /columns the model does not take: "e", "label" \(if one of them is the label, name it as the target\)/,
      /lacks the feature "d"/,
      /feature_names are "a", "b", "c", "d"/,
    );
  });

  void test('fills several inputs one after another: a rank-1 input takes one column', () => {
    const layout = planReferenceLayout(sig(spec('age', 'INT64', [-1]), spec('x', 'FP32', [-1, 2])), ['age', 'h', 'w']);
    assert.deepEqual(
      layout.features.map((f) => [f.name, f.input, f.column]),
      [
        ['age', 'age', null],
        ['h', 'x', 0],
        ['w', 'x', 1],
      ],
    );
  });

  void test('gives a dynamic-width input the columns left over', () => {
    const layout = planReferenceLayout(sig(spec('x', 'FP32', [-1, -1])), ['p', 'q', 'r']);
    assert.equal(layout.features.length, 3);
    assert.deepEqual(layout.inputs.map((s) => s.width), [3]);
  });

  void test('refuses inputs of rank 3 or more, a fixed batch above 1, and runs a batch-of-1 model a row at a time', () => {
    refuses(() => planReferenceLayout(sig(spec('image', 'FP32', [-1, 28, 28])), ['a']), 'MONITORING_PROFILE_UNSUPPORTED_MODEL', /input "image" has shape \[\?, 28, 28\] \(rank 3\)/);
    refuses(() => planReferenceLayout(sig(spec('x', 'FP32', [8, 2])), ['a', 'b']), 'MONITORING_PROFILE_UNSUPPORTED_MODEL', /fixed batch of 8 rows/);
    assert.equal(planReferenceLayout(sig(spec('x', 'FP32', [1, 2])), ['a', 'b']).batchRows, 1);
  });
});

void describe('reading rows', () => {
  const layout = planReferenceLayout(sig(spec('x', 'FP32', [-1, 2]), spec('n', 'INT64', [-1]), spec('flag', 'BOOL', [-1]), spec('s', 'BYTES', [-1])), ['a', 'b', 'n', 'flag', 's']);

  void test('converts each cell for its input and marks rows with missing values', () => {
    assert.deepEqual(readReferenceRow(layout, ['1.5', ' 2 ', '3', 'true', 'red'], 1), { values: [1.5, 2, 3, true, 'red'], complete: true, target: null });
    assert.deepEqual(readReferenceRow(layout, ['NA', 'inf', '', '0', ''], 2), { values: [null, null, null, false, null], complete: false, target: null });
  });

  void test('names the row and column of a cell that is not a value of its input’s datatype', () => {
    refuses(() => readReferenceRow(layout, ['1', 'six', '3', 'true', 'x'], 4), 'MONITORING_PROFILE_INVALID_DATA', /row 4, column "b": "six" is not a number/);
    refuses(() => readReferenceRow(layout, ['1', '2', '3.5', 'true', 'x'], 5), 'MONITORING_PROFILE_INVALID_DATA', /row 5, column "n": 3\.5 is not a whole number \(input datatype INT64\)/);
    refuses(() => readReferenceRow(layout, ['1', '2', '3', 'maybe', 'x'], 6), 'MONITORING_PROFILE_INVALID_DATA', /row 6, column "flag": "maybe" is not a boolean/);
    refuses(() => readReferenceRow(layout, ['1', '2', '3'], 7), 'MONITORING_PROFILE_INVALID_DATA', /row 7 has 3 cells; the header has 5/);
  });

  void test('builds one tensor per input in its datatype for a batch of rows', () => {
    const rows = [readReferenceRow(layout, ['1', '2', '3', '1', 'a'], 1).values, readReferenceRow(layout, ['4', '5', '6', '0', 'b'], 2).values];
    const [x, n, flag, s] = inputTensors(layout, rows);
    assert.deepEqual(x, { name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 4, 5]) });
    assert.deepEqual(n, { name: 'n', datatype: 'INT64', shape: [2], data: new BigInt64Array([3n, 6n]) });
    assert.deepEqual(flag, { name: 'flag', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) });
    assert.deepEqual(s, { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'b'] });
  });
});

void describe('declared feature names', () => {
  void test('reads feature_names from an ONNX file’s metadata without loading the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-profile-meta-'));
    try {
      const path = join(dir, 'm.onnx');
      const bytes = buildModel({
        graph: {
          inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2] }],
          outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 2] }],
          nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        },
        metadata: { feature_names: '["height","weight"]', author: 'me' },
      });
      writeFileSync(path, bytes);
      const metadata = await readOnnxMetadata(path);
      assert.deepEqual(metadata, { feature_names: '["height","weight"]', author: 'me' });
      assert.deepEqual(featureNamesFrom(metadata), ['height', 'weight']);
      writeFileSync(join(dir, 'junk.onnx'), 'not a model at all');
      assert.deepEqual(await readOnnxMetadata(join(dir, 'junk.onnx')), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('ignores feature_names that are not a list of distinct names', () => {
    assert.equal(featureNamesFrom({}), undefined);
    assert.equal(featureNamesFrom({ feature_names: 'a,b' }), undefined);
    assert.equal(featureNamesFrom({ feature_names: '["a","a"]' }), undefined);
    assert.equal(featureNamesFrom({ feature_names: '["a",""]' }), undefined);
  });
});
