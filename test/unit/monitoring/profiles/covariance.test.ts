/**
 * The profile's covariance, which the input guards' outlier score reads: which features it covers,
 * which rows it comes from, the row sample's bound and seed, and when it is left out.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Datatype } from '../../../../src/core/index.js';
import { createProfileBuilder, PROFILE_COVARIANCE_MAX_FEATURES, PROFILE_COVARIANCE_MIN_ROWS, type FeatureValue, type ReferenceProfile } from '../../../../src/monitoring/profiles/index.js';
import { createSeededRandom, packedIndex, shrinkageCovariance } from '../../../../src/stats/index.js';

const META = { model: 'm', version: 1, source: 'test.csv', createdAt: 0, createdBy: 'tester' };

function build(datatypes: readonly Datatype[], rows: readonly (readonly FeatureValue[])[], covarianceRows?: number): ReferenceProfile {
  const b = createProfileBuilder({
    features: datatypes.map((datatype, i) => ({ name: `f${i}`, input: 'x', column: i, datatype })),
    predictions: false,
    ...(covarianceRows === undefined ? {} : { covarianceRows }),
  });
  for (const row of rows) b.add(row);
  if (b.seal().needed) for (const row of rows) b.recount(row);
  return b.finish(META);
}

/** n rows of (a, 2a + noise, b): two correlated features and an independent one. */
function correlated(n: number, seed = 1): number[][] {
  const random = createSeededRandom(seed);
  return Array.from({ length: n }, () => {
    const a = random.normal();
    return [a, 2 * a + 0.1 * random.normal(), random.normal()];
  });
}

describe('the profile covariance', () => {
  test('covers the numeric features with spread, over every row when there are few, and equals the direct estimate', () => {
    const rows = correlated(200);
    const p = build(['FP32', 'FP32', 'FP64'], rows);
    const c = p.covariance;
    assert.ok(c !== undefined && c !== null);
    assert.deepEqual(c.features, [0, 1, 2]);
    assert.equal(c.rows, 200);
    const direct = shrinkageCovariance(rows, 3);
    c.matrix.forEach((v, k) => assert.ok(Math.abs(v - (direct.covariance[k] as number)) < 1e-12, `matrix[${k}]`));
    assert.equal(c.shrinkage, direct.shrinkage);
    // the two correlated features: correlation close to 1
    const r = (c.matrix[packedIndex(1, 0)] as number) / Math.sqrt((c.matrix[packedIndex(0, 0)] as number) * (c.matrix[packedIndex(1, 1)] as number));
    assert.ok(r > 0.99, `correlation ${r}`);
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'survives JSON unchanged');
  });

  test('leaves out categorical features, integer codes with few values, constant columns, and rows missing a covered value', () => {
    const random = createSeededRandom(4);
    const rows: FeatureValue[][] = Array.from({ length: 60 }, (_, i) => [random.normal(), i % 3, 'red', 7, i === 5 ? null : random.normal()]);
    const p = build(['FP32', 'INT64', 'BYTES', 'FP32', 'FP32'], rows);
    const c = p.covariance;
    assert.ok(c !== undefined && c !== null);
    assert.equal(p.features[1]?.kind, 'categorical', 'an integer with 3 values is a category');
    assert.deepEqual(c.features, [0, 4], 'numeric features with spread only');
    assert.equal(c.rows, 59, 'the row with a missing value is left out');
    assert.equal(c.mean.length, 2);
    assert.equal(c.matrix.length, 3);
  });

  test('estimates from a seeded uniform sample of at most covarianceRows rows: the same rows give the same covariance', () => {
    const rows = correlated(500, 9);
    const a = build(['FP32', 'FP32', 'FP32'], rows, 100);
    const b = build(['FP32', 'FP32', 'FP32'], rows, 100);
    assert.equal(a.covariance?.rows, 100);
    assert.deepEqual(a.covariance, b.covariance);
    // the sample still shows the correlation of the whole
    const c = a.covariance;
    assert.ok(c !== undefined && c !== null);
    const r = (c.matrix[packedIndex(1, 0)] as number) / Math.sqrt((c.matrix[packedIndex(0, 0)] as number) * (c.matrix[packedIndex(1, 1)] as number));
    assert.ok(r > 0.99, `correlation ${r}`);
  });

  test('is null with too few complete rows, without a numeric feature, or with too many candidates', () => {
    assert.equal(build(['FP32', 'FP32', 'FP32'], correlated(PROFILE_COVARIANCE_MIN_ROWS - 1)).covariance, null);
    assert.equal(build(['BYTES'], [['a'], ['b']]).covariance, null);
    const wide = PROFILE_COVARIANCE_MAX_FEATURES + 1;
    const random = createSeededRandom(2);
    const rows = Array.from({ length: 30 }, () => Array.from({ length: wide }, () => random.normal()));
    const p = build(Array<Datatype>(wide).fill('FP32'), rows);
    assert.equal(p.covariance, null);
  });

  test('can be switched off', () => {
    const b = createProfileBuilder({ features: [{ name: 'a', input: 'x', column: null, datatype: 'FP32' }], predictions: false, covariance: false });
    for (let i = 0; i < 30; i++) b.add([i]);
    assert.equal(b.finish(META).covariance, null);
  });
});
