import assert from 'node:assert/strict';

/** Asserts |actual − expected| ≤ max(rel·|expected|, abs), with a message naming the case. */
export function assertClose(actual: number, expected: number, rel: number, abs = 0, label = ''): void {
  if (actual === expected) return;
  const err = Math.abs(actual - expected);
  const tol = Math.max(rel * Math.abs(expected), abs);
  assert.ok(err <= tol, `${label} expected ${expected}, got ${actual} (error ${err.toExponential(2)} > ${tol.toExponential(2)})`);
}
