/**
 * The outlier score's statistics: Cholesky factor, Mahalanobis distance, the Schäfer–Strimmer
 * shrunk covariance, and the χ² tail the p-value comes from — each against values computed with
 * numpy/scipy (numpy.linalg.cholesky, numpy.cov, (x−μ)ᵀ inv(Σ) (x−μ), scipy.stats.chi2.sf).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chiSquareSf, choleskyPacked, mahalanobisSquared, packedIndex, shrinkageCovariance, shrinkTowardDiagonal } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

/** A symmetric matrix's lower triangle, packed by rows. */
function pack(rows: number[][]): number[] {
  return rows.flatMap((row, i) => row.slice(0, i + 1));
}

const A = [
  [4, 2, 0.6],
  [2, 5, 1.5],
  [0.6, 1.5, 3],
];

/** Eight rows of three features: the first two almost proportional, the third unrelated. */
const X = [
  [1.0, 2.0, 0.5],
  [2.0, 3.9, 0.1],
  [3.0, 6.2, 0.4],
  [4.0, 7.8, 0.9],
  [5.0, 10.1, 0.3],
  [6.0, 12.2, 0.6],
  [7.0, 13.8, 0.2],
  [8.0, 16.1, 0.8],
];

describe('choleskyPacked', () => {
  test('factors a positive-definite matrix as numpy.linalg.cholesky does', () => {
    const l = choleskyPacked(pack(A), 3);
    assert.ok(l !== undefined);
    const expected = pack([
      [2, 0, 0],
      [1, 2, 0],
      [0.3, 0.6, 1.5968719422671311],
    ]);
    expected.forEach((v, k) => assertClose(l[k] as number, v, 1e-14, 1e-15, `L[${k}]`));
  });

  test('says undefined for a singular or indefinite matrix instead of returning NaN', () => {
    assert.equal(choleskyPacked(pack([[1, 2], [2, 4]]), 2), undefined, 'rank 1');
    assert.equal(choleskyPacked(pack([[1, 3], [3, 1]]), 2), undefined, 'indefinite');
    assert.equal(choleskyPacked([0], 1), undefined, 'zero variance');
  });

  test('refuses a packed array of the wrong length', () => {
    assert.throws(() => choleskyPacked([1, 2], 2), /expected 3 packed entries/);
  });
});

describe('mahalanobisSquared', () => {
  test('equals (x − μ)ᵀ Σ⁻¹ (x − μ) by matrix inverse', () => {
    const l = choleskyPacked(pack(A), 3);
    assert.ok(l !== undefined);
    const d2 = mahalanobisSquared(l, 3, [1, -2, 0.5], [2.5, 0, -1], new Float64Array(3));
    assertClose(d2, 2.6825367647058824, 1e-13);
  });

  test('is 0 at the mean and NaN when a value is NaN', () => {
    const l = choleskyPacked(pack(A), 3);
    assert.ok(l !== undefined);
    assert.equal(mahalanobisSquared(l, 3, [1, 2, 3], [1, 2, 3], new Float64Array(3)), 0);
    assert.ok(Number.isNaN(mahalanobisSquared(l, 3, [1, 2, 3], [1, NaN, 3], new Float64Array(3))));
  });
});

describe('shrinkageCovariance', () => {
  const s = shrinkageCovariance(X, 3);

  test('mean and covariance are numpy.mean and numpy.cov (n − 1)', () => {
    [4.5, 9.0125, 0.475].forEach((v, i) => assertClose(s.mean[i] as number, v, 1e-14, 0, `mean[${i}]`));
    const cov = [
      [6.0, 12.035714285714286, 0.18571428571428572],
      [12.035714285714286, 24.16982142857143, 0.3760714285714286],
      [0.18571428571428572, 0.3760714285714286, 0.0792857142857143],
    ];
    for (let i = 0; i < 3; i++) for (let j = 0; j <= i; j++) assertClose(s.covariance[packedIndex(i, j)] as number, cov[i]?.[j] as number, 1e-13, 0, `cov[${i}][${j}]`);
    assert.equal(s.rows, 8);
  });

  test('the shrinkage intensity is Schäfer–Strimmer’s Σ Var(r_ij) / Σ r_ij² on the standardised data', () => {
    // numpy: Z = (X − μ)/sd; W_kij = Z_ki Z_kj; Var(r_ij) = n/(n−1)³ Σ_k (W_kij − W̄_ij)²
    assertClose(s.shrinkage, 0.31449076364489575, 1e-12);
  });

  test('shrinking moves a row that breaks a correlation from far to near, as the estimate warrants at n = 8', () => {
    const x = [4, 12, 0.5];
    const raw = choleskyPacked(s.covariance, 3);
    const shrunk = choleskyPacked(shrinkTowardDiagonal(s.covariance, 3, s.shrinkage), 3);
    assert.ok(raw !== undefined && shrunk !== undefined);
    assertClose(mahalanobisSquared(raw, 3, s.mean, x, new Float64Array(3)), 598.5381399380772, 1e-9);
    assertClose(mahalanobisSquared(shrunk, 3, s.mean, x, new Float64Array(3)), 1.0966729542573175, 1e-11);
  });

  test('a singular covariance (one feature twice another) becomes usable once shrunk', () => {
    const rows = X.map(([a, , c]) => [a as number, 2 * (a as number), c as number]);
    const t = shrinkageCovariance(rows, 3);
    assert.equal(choleskyPacked(t.covariance, 3), undefined, 'the raw covariance is singular');
    assert.ok(t.shrinkage > 0 && t.shrinkage <= 1);
    assert.ok(choleskyPacked(shrinkTowardDiagonal(t.covariance, 3, Math.max(t.shrinkage, 1e-6)), 3) !== undefined);
  });

  test('uncorrelated features shrink all the way; a constant feature takes part in no correlation', () => {
    const t = shrinkageCovariance(
      [
        [1, 5],
        [2, 5],
        [3, 5],
      ],
      2,
    );
    assert.equal(t.shrinkage, 1);
    assert.equal(t.covariance[packedIndex(1, 1)], 0);
  });

  test('refuses fewer than two rows', () => {
    assert.throws(() => shrinkageCovariance([[1, 2]], 2), /at least 2 rows/);
  });
});

describe('the χ² tail the outlier p-value comes from', () => {
  // scipy.stats.chi2.sf(x, df)
  const cases: [number, number, number][] = [
    [3.841458820694124, 1, 0.04999999999999989],
    [30, 30, 0.4656537089440098],
    [50.892181, 30, 0.010000000757952127],
    [100, 30, 1.8568023365102314e-9],
    [1e-3, 5, 0.9999999983185123],
    [200, 2, 3.7200759760208177e-44],
  ];
  for (const [x, df, p] of cases) {
    test(`P(χ²(${df}) > ${x}) = ${p}`, () => assertClose(chiSquareSf(x, df), p, 1e-10));
  }
});
