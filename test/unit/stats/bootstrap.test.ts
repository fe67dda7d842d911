/**
 * The paired block bootstrap of a quantile ratio (src/stats/bootstrap.ts): exact when every round
 * says the same, an interval around 1 for two draws of one distribution, and a shift common to both
 * versions in some rounds (a machine slowing down) cancelled by the pairing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSeededRandom, pairedQuantileRatio } from '../../../src/stats/index.js';

void test('a version twice as slow in every round: ratio 2 and an interval of exactly 2', () => {
  const b = [[1, 1.2, 1.1], [1.05, 1, 1.3], [1.1, 1.2, 1]];
  const a = b.map((block) => block.map((x) => 2 * x));
  const r = pairedQuantileRatio(a, b);
  assert.equal(r.ratio, 2);
  assert.equal(r.lower, 2);
  assert.equal(r.upper, 2);
  assert.equal(r.rounds, 3);
});

void test('two draws of one distribution: the interval holds 1; a machine that slows down in some rounds does not move it', () => {
  const random = createSeededRandom(3);
  const draw = (): number => Math.exp(random.normal() * 0.3);
  // rounds 10–19 run 3× slower for both versions: paired, the slowdown cancels
  const slow = (r: number): number => (r >= 10 && r < 20 ? 3 : 1);
  const a = Array.from({ length: 40 }, (_, r) => Array.from({ length: 5 }, () => draw() * slow(r)));
  const b = Array.from({ length: 40 }, (_, r) => Array.from({ length: 5 }, () => draw() * slow(r)));
  const r = pairedQuantileRatio(a, b, { resamples: 1000 });
  assert.ok(r.lower < 1 && r.upper > 1, `interval [${r.lower}, ${r.upper}] should hold 1`);
  assert.ok(r.upper / r.lower < 1.6, `interval [${r.lower}, ${r.upper}] should be narrow with 200 calls a side`);
  // a real 1.5× slowdown is told apart: the whole interval sits above 1.25
  const c = b.map((block) => block.map((x) => x * 1.5 * Math.exp(random.normal() * 0.05)));
  const s = pairedQuantileRatio(c, b, { resamples: 1000 });
  assert.ok(s.lower > 1.25, `interval [${s.lower}, ${s.upper}]`);
});

void test('bad input is refused by name', () => {
  assert.throws(() => pairedQuantileRatio([[1]], [[1], [2]]), /rounds are paired/);
  assert.throws(() => pairedQuantileRatio([[1]], [[1]]), /at least 2 rounds/);
  assert.throws(() => pairedQuantileRatio([[1], []], [[1], [1]]), /empty block/);
  assert.throws(() => pairedQuantileRatio([[1], [0]], [[1], [1]]), /positive finite/);
  assert.throws(() => pairedQuantileRatio([[1], [1]], [[1], [1]], { q: 1 }), /q and confidence/);
});
