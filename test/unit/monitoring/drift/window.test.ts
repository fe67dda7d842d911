import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../../src/core/index.js';
import { createDriftWindow, type DriftWindowSnapshot, type NumericFeatureWindow, type CategoricalFeatureWindow } from '../../../../src/monitoring/drift/index.js';
import { OTHER_CATEGORY } from '../../../../src/monitoring/profiles/types.js';
import { createSeededRandom } from '../../../../src/stats/index.js';
import { categoricalProfile, makeProfile, numericProfile, normals } from './fixtures.js';

const random = createSeededRandom(11);
const profile = makeProfile(
  [numericProfile('x', normals(2000, random), { bins: 10 }), categoricalProfile('colour', ['red', 'red', 'green', 'blue'])],
  categoricalProfile('predicted', ['0', '1', '1']),
);

const numeric = (s: DriftWindowSnapshot, i = 0): NumericFeatureWindow => s.features[i] as NumericFeatureWindow;
const categorical = (s: DriftWindowSnapshot, i = 1): CategoricalFeatureWindow => s.features[i] as CategoricalFeatureWindow;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof PlatformError ? e.code : String(e);
  }
  return 'no error';
}

describe('drift window: accumulating rows', () => {
  test('counts numeric values over the profile bins, outside values in the end bins, with Welford moments', () => {
    const p0 = profile.features[0];
    assert.ok(p0?.kind === 'numeric');
    const edges = p0.histogram.edges;
    const w = createDriftWindow({ profile, clock: createFakeClock() });
    const values = [edges[0]! - 100, edges[0]!, edges[1]!, (edges[4]! + edges[5]!) / 2, edges[10]!, edges[10]! + 100];
    for (const v of values) w.add([v, 'red'], 1);
    const x = numeric(w.snapshot());
    assert.deepEqual(x.histogram, [2, 1, 0, 0, 1, 0, 0, 0, 0, 2]);
    assert.equal(x.count, 6);
    const mean = values.reduce((s, v) => s + v, 0) / 6;
    assert.ok(Math.abs(x.moments.mean - mean) < 1e-12);
    const m2 = values.reduce((s, v) => s + (v - mean) ** 2, 0);
    assert.ok(Math.abs(x.moments.m2 - m2) < 1e-9 * m2);
    assert.equal(x.min, values[0]);
    assert.equal(x.max, values[5]);
    assert.deepEqual([...x.sample].sort((a, b) => a - b), [...values].sort((a, b) => a - b));
  });

  test('counts missing, blank and non-numeric values as missing and parses numeric text', () => {
    const w = createDriftWindow({ profile, clock: createFakeClock() });
    w.add([null, null]);
    w.add([undefined, '']);
    w.add(['abc', 'red']);
    w.add([Number.NaN, 'red']);
    w.add([Infinity, 'red']);
    w.add([' 0.5 ', 'green'], '1');
    w.add([3n, 'blue'], 0);
    const s = w.snapshot();
    assert.equal(numeric(s).missing, 5);
    assert.equal(numeric(s).count, 2);
    assert.deepEqual([...numeric(s).sample].sort(), [0.5, 3]);
    assert.equal(categorical(s).missing, 2);
    assert.deepEqual(categorical(s).frequencies, { red: 3, green: 1, blue: 1 });
    // Predictions: the number 0 and the text "0" are one category, as in prediction records.
    assert.equal(s.predictions?.missing, 5);
    assert.deepEqual((s.predictions as CategoricalFeatureWindow).frequencies, { '0': 1, '1': 1 });
  });

  test('refuses a row of the wrong length', () => {
    const w = createDriftWindow({ profile });
    assert.equal(code(() => w.add([1])), 'MONITORING_DRIFT_INVALID_ROW');
    assert.equal(code(() => w.add([1, 'red', 'extra'])), 'MONITORING_DRIFT_INVALID_ROW');
    assert.equal(w.stats().totalRows, 0);
  });
});

describe('drift window: bounded memory', () => {
  test('keeps at most sampleSize values per numeric feature however many rows arrive', () => {
    const w = createDriftWindow({ profile, sampleSize: 200, maxRows: 1_000_000, clock: createFakeClock() });
    const bound = w.stats().memoryBoundBytes;
    const r = createSeededRandom(5);
    for (let i = 0; i < 50_000; i++) w.add([r.normal(), 'red']);
    const s = w.snapshot();
    assert.equal(numeric(s).sample.length, 200);
    assert.equal(numeric(s).count, 50_000);
    assert.equal(s.sampleCapacity, 200);
    assert.equal(w.stats().memoryBoundBytes, bound);
    // The bound is linear in the reservoir: 200 more slots per numeric column, two copies (open + last closed).
    const bigger = createDriftWindow({ profile, sampleSize: 400 }).stats().memoryBoundBytes;
    assert.equal(bigger - bound, 2 * 200 * 8);
  });

  test('counts at most maxNewCategories unseen categories by name and the rest under __other__', () => {
    const w = createDriftWindow({ profile, maxNewCategories: 3, clock: createFakeClock() });
    for (let i = 0; i < 1000; i++) w.add([0, `new-${i}`]);
    w.add([0, 'red']);
    const f = categorical(w.snapshot()).frequencies;
    assert.deepEqual(Object.keys(f).sort(), ['__other__', 'blue', 'green', 'new-0', 'new-1', 'new-2', 'red'].sort());
    assert.equal(f[OTHER_CATEGORY], 997);
    assert.equal(f.red, 1);
  });

  test('cuts long category texts to maxCategoryLength characters', () => {
    const w = createDriftWindow({ profile, maxCategoryLength: 4, clock: createFakeClock() });
    w.add([0, 'purple-ish']);
    assert.deepEqual(Object.keys(categorical(w.snapshot()).frequencies).filter((k) => !['red', 'green', 'blue'].includes(k)), ['purp']);
  });
});

describe('drift window: tumbling windows', () => {
  test('closes a window after maxRows rows and hands it to onClose', () => {
    const closed: DriftWindowSnapshot[] = [];
    const clock = createFakeClock(1_000);
    const w = createDriftWindow({ profile, maxRows: 3, clock, onClose: (s) => closed.push(s) });
    for (let i = 0; i < 7; i++) w.add([i, 'red']);
    assert.equal(closed.length, 2);
    assert.deepEqual(
      closed.map((s) => [s.sequence, s.rows, s.state, s.closeReason]),
      [
        [1, 3, 'closed', 'rows'],
        [2, 3, 'closed', 'rows'],
      ],
    );
    assert.deepEqual([...numeric(closed[1]!).sample].sort(), [3, 4, 5]);
    assert.equal(w.lastClosed(), closed[1]);
    assert.ok(Object.isFrozen(closed[1]) && Object.isFrozen(closed[1]!.features[1]) && Object.isFrozen(numeric(closed[1]!).moments));
    const open = w.snapshot();
    assert.equal(open.sequence, 3);
    assert.equal(open.rows, 1);
    assert.deepEqual(numeric(open).sample, [6]);
    assert.deepEqual(categorical(open).frequencies, { red: 1, green: 0, blue: 0 });
    assert.deepEqual({ ...w.stats(), memoryBoundBytes: 0 }, {
      sequence: 3,
      rows: 1,
      totalRows: 7,
      totalLabels: 0,
      windowsClosed: 2,
      maxRows: 3,
      maxAgeMs: 3_600_000,
      sampleCapacity: 5000,
      memoryBoundBytes: 0,
    });
  });

  test('closes a window maxAgeMs after its first row, on the next row or tick, with a fake clock', async () => {
    const closed: DriftWindowSnapshot[] = [];
    const clock = createFakeClock(0);
    const w = createDriftWindow({ profile, maxAgeMs: 60_000, clock, onClose: (s) => closed.push(s) });
    assert.equal(w.tick(), null);
    await clock.advance(5_000);
    w.add([1, 'red']);
    await clock.advance(30_000);
    w.add([2, 'red']);
    await clock.advance(29_999);
    assert.equal(w.tick(), null, 'not yet 60 s since the first row');
    await clock.advance(1);
    w.add([3, 'green']);
    assert.equal(closed.length, 1);
    assert.deepEqual(
      { rows: closed[0]!.rows, since: closed[0]!.since, until: closed[0]!.until, closedAt: closed[0]!.closedAt, reason: closed[0]!.closeReason },
      { rows: 2, since: 5_000, until: 35_000, closedAt: 65_000, reason: 'age' },
    );
    const open = w.snapshot();
    assert.deepEqual([open.rows, open.since, open.until], [1, 65_000, 65_000]);
    // An idle window closes on tick (or on the next snapshot) once its time is up.
    await clock.advance(60_000);
    const idle = w.tick();
    assert.equal(idle?.rows, 1);
    assert.equal(idle?.closedAt, 125_000);
    assert.equal(closed.length, 2);
    assert.equal(w.snapshot().rows, 0);
    assert.equal(w.tick(), null, 'an empty window never expires');
  });

  test('a window without a time limit closes only by count or by hand', async () => {
    const clock = createFakeClock(0);
    const w = createDriftWindow({ profile, maxAgeMs: null, maxRows: 10, clock });
    w.add([1, 'red']);
    await clock.advance(86_400_000);
    assert.equal(w.tick(), null);
    const closed = w.close();
    assert.equal(closed?.closeReason, 'manual');
    assert.equal(closed?.closedAt, 86_400_000);
    assert.equal(w.close(), null, 'nothing to close');
  });
});

describe('drift window: determinism', () => {
  const fill = (seed: number): DriftWindowSnapshot => {
    const w = createDriftWindow({ profile, seed, sampleSize: 50, clock: createFakeClock(0) });
    for (let i = 0; i < 5000; i++) w.add([i, i % 3 === 0 ? 'red' : 'blue'], i % 2);
    return w.snapshot();
  };

  test('the same seed and rows give the same snapshot; another seed another sample', () => {
    assert.deepEqual(fill(42), fill(42));
    assert.notDeepEqual(numeric(fill(42)).sample, numeric(fill(43)).sample);
  });

  test('snapshots are JSON-exact', () => {
    const s = fill(1);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    const empty = createDriftWindow({ profile }).snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(empty)), empty);
    assert.equal(numeric(empty).min, null);
  });
});

describe('drift window: options and profile', () => {
  test('reports every bad option at once', () => {
    try {
      createDriftWindow({ profile, maxRows: 0, sampleSize: 1.5, maxAgeMs: -1 });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof PlatformError);
      assert.equal(e.code, 'MONITORING_DRIFT_INVALID_OPTIONS');
      assert.match(e.message, /3 problems/);
      assert.match(e.message, /maxRows/);
      assert.match(e.message, /sampleSize/);
      assert.match(e.message, /maxAgeMs/);
    }
  });

  test('refuses a profile whose histogram edges do not increase', () => {
    const bad = makeProfile([{ ...numericProfile('x', [1, 2, 3]), histogram: { edges: [0, 2, 1], counts: [1, 2] } }]);
    assert.equal(code(() => createDriftWindow({ profile: bad })), 'MONITORING_DRIFT_INVALID_PROFILE');
    const mismatched = makeProfile([{ ...numericProfile('x', [1, 2, 3]), histogram: { edges: [0, 1, 2], counts: [1] } }]);
    assert.equal(code(() => createDriftWindow({ profile: mismatched })), 'MONITORING_DRIFT_INVALID_PROFILE');
  });

  test('refuses labels when the window has no task', () => {
    const w = createDriftWindow({ profile: makeProfile([numericProfile('x', [1, 2, 3])]) });
    assert.equal(code(() => w.addLabel(1, 1)), 'MONITORING_DRIFT_INVALID_LABEL');
    const r = createDriftWindow({ profile: makeProfile([numericProfile('x', [1, 2, 3])]), task: 'regression' });
    r.addLabel(2, 1);
    assert.equal(r.stats().totalLabels, 1);
    assert.equal(code(() => r.addLabel('abc', 1)), 'MONITORING_DRIFT_INVALID_LABEL');
  });
});
