import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { compileCheck, compileChecks, isCompiledCheck, validateCheckDefinitions } from '../../../../src/rollout/analysis/index.js';

describe('check definitions', () => {
  test('defaults are filled in: α 0.05, 100 per arm, tolerance 0, pass margin max(tolerance, mde), τ = mde²', () => {
    const c = compileCheck({ metric: 'errors', kind: 'rate', direction: 'lower-is-better', minimumDetectableEffect: 0.02 });
    assert.equal(c.name, 'errors');
    assert.equal(c.alpha, 0.05);
    assert.equal(c.minimumSample, 100);
    assert.equal(c.tolerance, 0);
    assert.equal(c.nonInferiorityMargin, 0.02);
    assert.equal(c.scale, 'absolute');
    assert.equal(c.method, 'msprt');
    assert.ok(Math.abs((c.tau as number) - 0.0004) < 1e-18);
    assert.equal(c.prior, null);
    assert.ok(Object.isFrozen(c));
    assert.ok(isCompiledCheck(c));
  });

  test('latency checks are ratios: mde 10 % by default, τ on the log scale, GrowthBook’s N(0, 0.3²) prior', () => {
    const c = compileCheck({ metric: 'latency', kind: 'latency' });
    assert.equal(c.scale, 'ratio');
    assert.equal(c.direction, 'lower-is-better');
    assert.equal(c.minimumDetectableEffect, 0.1);
    assert.ok(Math.abs((c.tau as number) - Math.log1p(0.1) ** 2) < 1e-18);
    assert.deepEqual(c.prior, { mean: 0, stddev: 0.3 });
  });

  test('distribution and disagreement checks default to a 0.1 distance and a 5 % disagreement tolerance', () => {
    assert.equal(compileCheck({ metric: 'outputs', kind: 'distribution' }).tolerance, 0.1);
    const d = compileCheck({ metric: 'shadow', kind: 'disagreement' });
    assert.equal(d.tolerance, 0.05);
    assert.equal(d.nonInferiorityMargin, 0.05);
    assert.equal(d.method, 'beta-binomial');
  });

  test('every problem is reported at once with its path', () => {
    const problems = validateCheckDefinitions(
      [
        { metric: 'errors', kind: 'rate' },
        { metric: 'revenue', kind: 'continuous', direction: 'up', alpha: 0.9, minimumSample: 1, colour: 'red' },
        { metric: 'latency', kind: 'latency', direction: 'higher-is-better', relative: true },
        { metric: 'x', kind: 'histogram' },
        { metric: 'errors', kind: 'rate', direction: 'lower-is-better', tolerance: 0.01 },
      ],
      'spec.analysis.checks',
    );
    const paths = problems.map((p) => p.path);
    for (const expected of [
      'spec.analysis.checks[0].direction',
      'spec.analysis.checks[0].minimumDetectableEffect',
      'spec.analysis.checks[1].colour',
      'spec.analysis.checks[1].direction',
      'spec.analysis.checks[1].alpha',
      'spec.analysis.checks[1].minimumSample',
      'spec.analysis.checks[2].direction',
      'spec.analysis.checks[2].relative',
      'spec.analysis.checks[3].kind',
    ]) {
      assert.ok(paths.includes(expected), `missing ${expected} in ${paths.join(', ')}`);
    }
    assert.equal(validateCheckDefinitions('nope').length, 1);
    // A confidence sequence needs no τ, but without an mde or a margin it could never Pass.
    assert.equal(validateCheckDefinitions([{ metric: 'e', kind: 'rate', direction: 'lower-is-better', method: 'confidence-sequence' }])[0]?.path, 'checks[0].minimumDetectableEffect');
    assert.deepEqual(validateCheckDefinitions([{ metric: 'e', kind: 'rate', direction: 'lower-is-better', method: 'confidence-sequence', nonInferiorityMargin: 0.01 }]), []);
  });

  test('duplicate names are refused with ROLLOUT_ANALYSIS_INVALID_CHECK', () => {
    const def = { metric: 'errors', kind: 'rate', direction: 'lower-is-better', tolerance: 0.01 } as const;
    assert.throws(
      () => compileChecks([def, def]),
      (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_ANALYSIS_INVALID_CHECK' && /already the name/.test(e.message),
    );
    assert.equal(compileChecks([def, { ...def, name: 'errors-strict', tolerance: 0 , minimumDetectableEffect: 0.005 }]).length, 2);
  });
});
