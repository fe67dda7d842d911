import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  jensenShannonDistance,
  normalizedWasserstein1,
  normalizedWasserstein1Histograms,
  populationStabilityIndex,
  wasserstein1,
  wasserstein1Histograms,
} from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('Jensen–Shannon distance', () => {
  test('matches scipy.spatial.distance.jensenshannon(p, q, base=2) and lies in [0, 1]', () => {
    assertClose(jensenShannonDistance([10, 20, 30, 0, 40], [5, 25, 25, 15, 30]), 0.2999125592804715, 1e-14);
    assert.equal(jensenShannonDistance([1, 0], [0, 1]), 1);
    assert.equal(jensenShannonDistance([1, 2, 3], [2, 4, 6]), 0);
  });

  test('is symmetric and refuses mismatched or empty histograms', () => {
    const p = [3, 0, 9, 1];
    const q = [1, 4, 4, 4];
    assertClose(jensenShannonDistance(p, q), jensenShannonDistance(q, p), 1e-15);
    assert.throws(() => jensenShannonDistance([1, 2], [1, 2, 3]), /same bins/);
    assert.throws(() => jensenShannonDistance([0, 0], [1, 2]), /empty/);
  });
});

describe('population stability index', () => {
  test('applies Evidently’s empty-bin floor (computed by the same rule in numpy)', () => {
    // shares with zeros replaced by 0.0001 (or min non-zero / 1e6 when that is ≤ 0.0001).
    assertClose(populationStabilityIndex([100, 200, 300, 400, 0], [150, 150, 250, 400, 50]), 0.3538823809789623, 1e-13);
    assert.equal(populationStabilityIndex([1, 2, 3], [1, 2, 3]), 0);
  });
});

describe('Wasserstein-1', () => {
  const u = [-0.35237, -0.22173, 0.70052, -1.59564, -1.03721, -0.37811, 2.53231, 0.95568, -0.11145, 0.712, 2.05744, -0.23374, -0.36641, 1.21194, 0.49418, 0.67133, -0.50822];
  const v = [4.34841, 3.91918, 1.6319, 1.86858, -3.55452, 1.77542, 0.11178, 1.36781, 1.86492, -0.18258, -2.88096];

  test('matches scipy.stats.wasserstein_distance, weighted and unweighted', () => {
    assertClose(wasserstein1(u, v), 1.4636354010695185, 1e-14);
    assertClose(wasserstein1([0, 1, 3], [5, 6, 8], [1, 2, 3], [3, 1, 1]), 3.966666666666667, 1e-14);
  });

  test('the normalised form divides by the reference’s standard deviation, as Evidently does', () => {
    // scipy.stats.wasserstein_distance(u, v) / max(numpy.std(u), 0.001).
    assertClose(normalizedWasserstein1(u, v), 1.4259384909387185, 1e-14);
    // A constant reference divides by the 0.001 floor instead of zero.
    assertClose(normalizedWasserstein1([2, 2, 2], [2, 2, 3]), 1 / 3 / 0.001, 1e-12);
  });

  test('between histograms it puts each bin’s mass at its centre', () => {
    const edges = [0, 1, 2, 3];
    // All mass moves from the first bin's centre (0.5) to the last one's (2.5).
    assertClose(wasserstein1Histograms(edges, [4, 0, 0], [0, 0, 9]), 2, 1e-15);
    assertClose(wasserstein1Histograms(edges, [1, 2, 1], [1, 2, 1]), 0, 1e-15);
    // Reference centres 0.5, 1.5, 2.5 with equal mass: std √(2/3).
    assertClose(normalizedWasserstein1Histograms(edges, [1, 1, 1], [0, 0, 1]), 1 / Math.sqrt(2 / 3), 1e-14);
    assert.throws(() => wasserstein1Histograms([0, 1], [1, 2], [1, 2]), /edges/);
  });
});
