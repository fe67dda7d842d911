import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { benjaminiHochberg, bonferroni, holm } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('multiple-testing adjustments', () => {
  const p = [0.01, 0.04, 0.03, 0.005, 0.2];

  test('Holm’s step-down adjusted p-values match R p.adjust(method = "holm") (by definition, in numpy)', () => {
    const expected = [0.04, 0.09, 0.09, 0.025, 0.2];
    holm(p).forEach((v, i) => assertClose(v, expected[i] as number, 1e-15, 0, `holm[${i}]`));
  });

  test('Benjamini–Hochberg adjusted p-values match R p.adjust(method = "BH") (by definition, in numpy)', () => {
    const expected = [0.025, 0.05, 0.05, 0.025, 0.2];
    benjaminiHochberg(p).forEach((v, i) => assertClose(v, expected[i] as number, 1e-15, 0, `bh[${i}]`));
  });

  test('Bonferroni multiplies by the family size and caps at 1; Holm is never more conservative', () => {
    assert.deepEqual(bonferroni([0.01, 0.3]), [0.02, 0.6]);
    assert.deepEqual(bonferroni([0.6, 0.1]), [1, 0.2]);
    const h = holm(p);
    bonferroni(p).forEach((b, i) => assert.ok((h[i] as number) <= b));
    assert.deepEqual(holm([]), []);
    assert.throws(() => holm([1.2]), /\[0, 1\]/);
  });
});
