import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import {
  evaluateGates,
  flattenFigures,
  gatesPassed,
  needsBaseline,
  parseGateCheck,
  parseGates,
  readGatePolicy,
  type GateCheck,
  type GatePolicy,
  type GateResult,
} from '../../../src/validate/gates.js';
import { classificationMetrics } from '../../../src/validate/metrics.js';

interface Problem {
  path: string;
  line?: number;
  message: string;
}

function problemsOf(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, 'VALIDATE_INVALID_GATES');
    assert.equal(error.kind, 'invalid');
    const problems = (error.details?.problems ?? []) as Problem[];
    assert.ok(problems.length > 0, 'details.problems is empty');
    for (const p of problems) {
      const where = `${p.path}${p.line === undefined ? '' : ` (line ${p.line})`}: ${p.message}`;
      assert.ok(error.message.includes(where), `message lacks "${where}":\n${error.message}`);
    }
    return problems;
  }
  assert.fail('expected VALIDATE_INVALID_GATES');
}

function expectProblem(text: string, path: string, line: number | undefined, message: RegExp): void {
  const problems = problemsOf(() => parseGates(text));
  assert.ok(
    problems.some((p) => p.path === path && p.line === line && message.test(p.message)),
    `expected "${path} (line ${line}): ${String(message)}", got:\n${problems.map((p) => `  ${p.path} (line ${p.line}): ${p.message}`).join('\n')}`,
  );
}

const check = (text: string): GateCheck => {
  const { figure, operator, rhs } = parseGateCheck(text);
  return { figure, operator, rhs };
};

describe('parseGates', () => {
  test('reads the example policy: strings and {name, check}, dots inside numbers in figure names', () => {
    const policy = parseGates(
      ['gates:', '  - accuracy >= baseline - 0.01', '  - latency.p99_ms <= 20', '  - name: robust to noise', '    check: robustness.noise_0.1.accuracy_drop <= 0.05', ''].join('\n'),
      'gates.yaml',
    );
    assert.equal(policy.source, 'gates.yaml');
    assert.deepEqual(policy.gates, [
      {
        name: 'accuracy >= baseline - 0.01',
        check: 'accuracy >= baseline - 0.01',
        figure: 'accuracy',
        operator: '>=',
        rhs: { kind: 'baseline', figure: 'accuracy', adjust: { op: '-', operand: 0.01 } },
      },
      { name: 'latency.p99_ms <= 20', check: 'latency.p99_ms <= 20', figure: 'latency.p99_ms', operator: '<=', rhs: { kind: 'number', value: 20 } },
      {
        name: 'robust to noise',
        check: 'robustness.noise_0.1.accuracy_drop <= 0.05',
        figure: 'robustness.noise_0.1.accuracy_drop',
        operator: '<=',
        rhs: { kind: 'number', value: 0.05 },
      },
    ]);
    assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.gates) && Object.isFrozen(policy.gates[0]));
    assert.equal(needsBaseline(policy), true);
  });

  test('reads every operator and right-hand side form, with or without spaces', () => {
    assert.deepEqual(check('accuracy>=baseline-0.01'), { figure: 'accuracy', operator: '>=', rhs: { kind: 'baseline', figure: 'accuracy', adjust: { op: '-', operand: 0.01 } } });
    assert.deepEqual(check('  log_loss <= baseline  '), { figure: 'log_loss', operator: '<=', rhs: { kind: 'baseline', figure: 'log_loss' } });
    assert.deepEqual(check('latency.p99_ms < baseline * 1.1'), { figure: 'latency.p99_ms', operator: '<', rhs: { kind: 'baseline', figure: 'latency.p99_ms', adjust: { op: '*', operand: 1.1 } } });
    assert.deepEqual(check('macro.f1 > baseline + 1e-3'), { figure: 'macro.f1', operator: '>', rhs: { kind: 'baseline', figure: 'macro.f1', adjust: { op: '+', operand: 0.001 } } });
    assert.deepEqual(check('slice_f1 >= baseline.macro.f1 - .05'), { figure: 'slice_f1', operator: '>=', rhs: { kind: 'baseline', figure: 'macro.f1', adjust: { op: '-', operand: 0.05 } } });
    assert.deepEqual(check('edge_cases.failed == 0'), { figure: 'edge_cases.failed', operator: '==', rhs: { kind: 'number', value: 0 } });
    assert.deepEqual(check('r2 != -1.5'), { figure: 'r2', operator: '!=', rhs: { kind: 'number', value: -1.5 } });
    assert.deepEqual(check('_x.0.y>+2'), { figure: '_x.0.y', operator: '>', rhs: { kind: 'number', value: 2 } });
  });

  test('a policy without baseline checks needs no baseline', () => {
    assert.equal(needsBaseline(parseGates('gates: [accuracy >= 0.9, "x < baseline.y"]')), true);
    assert.equal(needsBaseline(parseGates('gates: [accuracy >= 0.9]')), false);
  });

  test('names the entry and its line for each bad check', () => {
    const text = [
      'gates:', // 1
      '  - accuracy = 0.9', // 2
      '  - 5', // 3
      '  - name: strict', // 4
      '    check: macro.f1 >> 0.8', // 5
      '  - macro.f1 >= baseline + x', // 6
      '  - 0.9 <= accuracy', // 7
      '  - acc uracy >= 1', // 8
      '  - accuracy >=', // 9
      '  - accuracy 0.9', // 10
      '  - name: no check', // 11
      '  - name: ""', // 12
      '    check: accuracy > 0', // 13
      '  - check: [accuracy]', // 14
      '  - accuracy > 1e999', // 15
    ].join('\n');
    const problems = problemsOf(() => parseGates(text, 'gates.yaml'));
    const got = problems.map((p) => `${p.path}@${p.line ?? '?'}`);
    assert.deepEqual(got, [
      'gates[0]@2',
      'gates[1]@3',
      'gates[2].check@5',
      'gates[3]@6',
      'gates[4]@7',
      'gates[5]@8',
      'gates[6]@9',
      'gates[7]@10',
      'gates[8].check@11',
      'gates[9].name@12',
      'gates[10].check@14',
      'gates[11]@15',
    ]);
    expectProblem(text, 'gates[0]', 2, /"=" is not an operator \(did you mean ==\?\); expected one of >= <= > < == !=/);
    expectProblem(text, 'gates[1]', 3, /must be a check string .* or a mapping \{name, check\}, got number 5/);
    expectProblem(text, 'gates[2].check', 5, /">>" is not an operator/);
    expectProblem(text, 'gates[3]', 6, /right-hand side "baseline \+ x" must be a number, baseline, baseline \+ n/);
    expectProblem(text, 'gates[4]', 7, /figure "0\.9" must be .*; write the figure on the left/);
    expectProblem(text, 'gates[5]', 8, /figure "acc uracy" must be a dotted name of letters, digits and "_"/);
    expectProblem(text, 'gates[6]', 9, /has nothing after >=; expected a number, baseline/);
    expectProblem(text, 'gates[7]', 10, /has no comparison operator; expected <figure> <op> <rhs>/);
    expectProblem(text, 'gates[8].check', 11, /is required: <figure> <op> <rhs>/);
    expectProblem(text, 'gates[9].name', 12, /must be a one-line, non-empty string, got ""/);
    expectProblem(text, 'gates[10].check', 14, /must be a string .*, got a list/);
    expectProblem(text, 'gates[11]', 15, /right-hand side "1e999" is too large/);
    const error = (() => {
      try {
        parseGates(text, 'gates.yaml');
      } catch (e) {
        return e as PlatformError;
      }
      return undefined;
    })();
    assert.match(error?.message ?? '', /^invalid gate policy in gates\.yaml \(12 problems\):\n {2}gates\[0\] \(line 2\): /);
  });

  test('refuses unknown keys, at the top and in an entry, at the key’s line', () => {
    expectProblem('gates:\n  - accuracy > 0.5\nthreshold: 3\n', 'threshold', 3, /unknown key \(known: gates\)/);
    expectProblem('gates:\n  - name: a\n    check: accuracy > 0.5\n    severity: high\n', 'gates[0].severity', 4, /unknown key \(known: name, check\)/);
  });

  test('a check written as a YAML mapping gets a hint to write it as one string', () => {
    expectProblem('gates:\n  - accuracy: ">= 0.9"\n', 'gates[0].check', 2, /"accuracy: >= 0\.9" reads as a mapping, write the check as one string: - accuracy >= 0\.9/);
  });

  test('refuses an empty policy in every shape', () => {
    expectProblem('', '(document)', undefined, /the policy is empty; expected a mapping with a non-empty `gates` list/);
    expectProblem('# only a comment\n', '(document)', undefined, /the policy is empty/);
    expectProblem('gates: []\n', 'gates', 1, /must hold at least one gate/);
    expectProblem('gates:\n', 'gates', 1, /is required: a non-empty list of checks/);
    // a missing key has no line: the problem points at the enclosing mapping
    expectProblem('rules:\n  - accuracy > 0.5\n', 'gates', 1, /is required/);
    expectProblem('- accuracy > 0.5\n', '(document)', 1, /must be a mapping with a `gates` list, got a list/);
    expectProblem('gates: accuracy > 0.5\n', 'gates', 1, /must be a list of checks, got "accuracy > 0\.5"/);
  });

  test('refuses two gates under one name', () => {
    expectProblem('gates:\n  - a > 1\n  - a > 1\n', 'gates[1]', 3, /gate name "a > 1" is already used by gates\[0\]/);
    expectProblem('gates:\n  - name: fast\n    check: a > 1\n  - name: fast\n    check: b > 1\n', 'gates[1].name', 4, /gate name "fast" is already used by gates\[0\]/);
  });

  test('reports YAML syntax errors with their line', () => {
    expectProblem('gates:\n  - a > 1\n - b > 2\n', '(document)', 3, /^YAML syntax error: /);
    expectProblem('gates: [a > 1]\ngates: [b > 1]\n', '(document)', 2, /^YAML syntax error: Map keys must be unique/);
  });

  test('readGatePolicy checks an already parsed policy with the same rules, without lines', () => {
    const policy = readGatePolicy({ gates: ['accuracy >= 0.9', { name: 'p99', check: 'latency.p99_ms <= 20' }] }, 'request body');
    assert.deepEqual(
      policy.gates.map((g) => g.name),
      ['accuracy >= 0.9', 'p99'],
    );
    const problems = problemsOf(() => readGatePolicy({ gates: [{ check: 'a >= baseline -' }] }));
    assert.deepEqual(problems, [{ path: 'gates[0].check', message: 'right-hand side "baseline -" must be a number, baseline, baseline + n, baseline - n, baseline * n, or baseline.<figure> with the same arithmetic' }]);
  });

  test('parseGateCheck throws VALIDATE_INVALID_GATES naming the check', () => {
    const problems = problemsOf(() => parseGateCheck('accuracy => 0.9'));
    assert.deepEqual(problems, [{ path: 'check', message: '"=>" is not an operator (did you mean >=?); expected one of >= <= > < == !=' }]);
  });
});

describe('evaluateGates', () => {
  const policyOf = (...checks: string[]): GatePolicy => readGatePolicy({ gates: checks });
  const one = (c: string, figures: Record<string, number> | Map<string, number>, baseline?: Record<string, number>): GateResult => {
    const [result] = evaluateGates(policyOf(c), figures, baseline);
    assert.ok(result !== undefined);
    return result;
  };

  test('every operator below, at and above its threshold', () => {
    // [operator, passes at 1 vs 2, at 2 vs 2, at 3 vs 2]
    const table: [string, boolean, boolean, boolean][] = [
      ['>=', false, true, true],
      ['<=', true, true, false],
      ['>', false, false, true],
      ['<', true, false, false],
      ['==', false, true, false],
      ['!=', true, false, true],
    ];
    for (const [op, below, at, above] of table) {
      assert.deepEqual(
        [1, 2, 3].map((x) => one(`x ${op} 2`, { x }).passed),
        [below, at, above],
        `x ${op} 2`,
      );
    }
  });

  test('reports actual, threshold and a reason for a pass and a fail', () => {
    assert.deepEqual(one('latency.p99_ms <= 20', { 'latency.p99_ms': 12.5 }), {
      name: 'latency.p99_ms <= 20',
      check: 'latency.p99_ms <= 20',
      passed: true,
      actual: 12.5,
      threshold: 20,
      reason: 'latency.p99_ms is 12.5: meets <= 20',
    });
    const failed = one('latency.p99_ms <= 20', { 'latency.p99_ms': 31 });
    assert.equal(failed.passed, false);
    assert.equal(failed.reason, 'latency.p99_ms is 31: fails <= 20');
  });

  test('baseline arithmetic: same figure, ± n, * n and another baseline figure', () => {
    const report = { accuracy: 0.9, 'latency.p99_ms': 11, 'macro.f1': 0.7 };
    const base = { accuracy: 0.905, 'latency.p99_ms': 10, 'macro.f1': 0.75, 'weighted.f1': 0.8 };
    // 0.9 ≥ 0.905 − 0.01 = 0.895 → pass
    const minus = one('accuracy >= baseline - 0.01', report, base);
    assert.equal(minus.passed, true);
    assert.ok(Math.abs((minus.threshold ?? 0) - 0.895) < 1e-15);
    assert.equal(minus.reason, 'accuracy is 0.9: meets >= 0.895 (baseline 0.905 - 0.01)');
    // 0.9 ≥ 0.905 → fail
    assert.equal(one('accuracy >= baseline', report, base).passed, false);
    // 11 ≤ 10 · 1.05 = 10.5 → fail; 11 ≤ 10 · 1.1 = 11 → pass
    const slower = one('latency.p99_ms <= baseline * 1.05', report, base);
    assert.equal(slower.passed, false);
    assert.equal(slower.threshold, 10.5);
    assert.equal(one('latency.p99_ms <= baseline * 1.1', report, base).passed, true);
    // 0.7 > 0.75 + 0.1 → fail
    assert.equal(one('macro.f1 > baseline + 0.1', report, base).passed, false);
    // macro.f1 0.7 ≥ baseline weighted.f1 0.8 − 0.1 = 0.7 (exactly, within rounding) → pass
    const other = one('macro.f1 >= baseline.weighted.f1 - 0.1', report, base);
    assert.equal(other.passed, true);
    assert.equal(other.reason, 'macro.f1 is 0.7: meets >= 0.7 (baseline.weighted.f1 0.8 - 0.1)');
  });

  test('rounding in the policy’s own arithmetic does not decide a gate', () => {
    // 0.3 − 0.1 is 0.19999999999999998 in binary floating point; 0.1 + 0.2 is 0.30000000000000004
    assert.ok(0.3 - 0.1 < 0.2);
    const r = one('error_rate <= baseline - 0.1', { error_rate: 0.2 }, { error_rate: 0.3 });
    assert.equal(r.passed, true);
    assert.equal(r.reason, 'error_rate is 0.2: meets <= 0.2 (baseline 0.3 - 0.1)');
    assert.equal(one('error_rate < baseline - 0.1', { error_rate: 0.2 }, { error_rate: 0.3 }).passed, false);
    assert.equal(one('x == 0.3', { x: 0.1 + 0.2 }).passed, true);
    assert.equal(one('x != 0.3', { x: 0.1 + 0.2 }).passed, false);
    // a real difference still counts
    assert.equal(one('x <= 0.3', { x: 0.3000001 }).passed, false);
  });

  test('a figure missing from the report fails with close names, or the known ones', () => {
    const figures = new Map([
      ['accuracy', 0.9],
      ['macro.f1', 0.8],
      ['latency.p50_ms', 2],
      ['latency.p99_ms', 9],
    ]);
    const typo = one('acuracy >= 0.8', figures);
    assert.deepEqual([typo.passed, typo.actual, typo.threshold], [false, null, 0.8]);
    assert.equal(typo.reason, 'figure "acuracy" is not in the report; did you mean accuracy?');
    assert.equal(one('latency.p999_ms < 3', figures).reason, 'figure "latency.p999_ms" is not in the report; did you mean latency.p99_ms, latency.p50_ms?');
    assert.equal(one('latency.maximum_ms < 3', figures).reason, 'figure "latency.maximum_ms" is not in the report; latency has latency.p50_ms, latency.p99_ms');
    // a name inside a longer one counts as close
    assert.equal(one('f1 > 0', figures).reason, 'figure "f1" is not in the report; did you mean macro.f1?');
    assert.equal(one('robustness.noise_0.1.accuracy_drop < 3', figures).reason, 'figure "robustness.noise_0.1.accuracy_drop" is not in the report; known figures include accuracy, latency.p50_ms, latency.p99_ms, macro.f1');
    // an inherited property of a plain object is not a figure
    assert.equal(one('constructor > 0', { accuracy: 1 }).passed, false);
  });

  test('a baseline check without baseline figures fails with "needs --baseline"', () => {
    const r = one('accuracy >= baseline - 0.01', { accuracy: 0.99 });
    assert.equal(r.passed, false);
    assert.equal(r.actual, 0.99);
    assert.equal(r.threshold, null);
    assert.match(r.reason, /^needs --baseline: /);
    const lacking = one('accuracy >= baseline.acc', { accuracy: 0.99 }, { accuracy: 0.9 });
    assert.equal(lacking.passed, false);
    assert.equal(lacking.reason, 'figure "acc" is not in the baseline report; did you mean accuracy?');
  });

  test('NaN never passes, whichever side it is on', () => {
    for (const op of ['>=', '<=', '>', '<', '==', '!=']) {
      const r = one(`x ${op} 1`, { x: Number.NaN });
      assert.equal(r.passed, false, `NaN ${op} 1`);
      assert.equal(r.actual, null);
      assert.match(r.reason, /not a number/);
      const b = one(`x ${op} baseline`, { x: 1 }, { x: Number.NaN });
      assert.equal(b.passed, false, `1 ${op} NaN baseline`);
      assert.match(b.reason, /the baseline's x is not a number/);
    }
  });

  test('results follow policy order and gatesPassed needs every one', () => {
    const policy = policyOf('a > 0', 'b > 0', 'c > 0');
    const results = evaluateGates(policy, { a: 1, b: 1, c: 1 });
    assert.deepEqual(
      results.map((r) => r.name),
      ['a > 0', 'b > 0', 'c > 0'],
    );
    assert.equal(gatesPassed(results), true);
    assert.equal(gatesPassed(evaluateGates(policy, { a: 1, b: 0, c: 1 })), false);
  });
});

describe('flattenFigures', () => {
  test('joins nested keys with dots, keeps dots inside keys, turns null into NaN and skips the rest', () => {
    const figures = flattenFigures({
      accuracy: 0.93,
      task: 'classification',
      macro: { f1: 0.9, precision: 0.91 },
      latency: { p99_ms: 12 },
      robustness: { 'noise_0.1': { accuracy_drop: 0.02 } },
      roc_auc: null,
      skipped: undefined,
      matrix: [
        [1, 2],
        [3, 4],
      ],
      ok: true,
      when: new Date(0),
    });
    assert.deepEqual(
      [...figures.keys()],
      ['accuracy', 'macro.f1', 'macro.precision', 'latency.p99_ms', 'robustness.noise_0.1.accuracy_drop', 'roc_auc'],
    );
    assert.equal(figures.get('robustness.noise_0.1.accuracy_drop'), 0.02);
    assert.ok(Number.isNaN(figures.get('roc_auc')));
  });

  test('makes other characters of a key "_", and the first of two equal names wins', () => {
    const figures = flattenFigures({ per_class: { 'high risk': { f1: 0.5 }, 'high-risk': { f1: 0.7 }, '..odd..': 1 } });
    assert.deepEqual([...figures], [
      ['per_class.high_risk.f1', 0.5],
      ['per_class.odd', 1],
    ]);
  });

  test('the names it makes are the figures gates check, e.g. of a classification report', () => {
    const m = classificationMetrics({ labels: ['a', 'b', 'b'], predicted: ['a', 'b', 'a'], probabilities: { classes: ['a', 'b'], rows: [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]] } });
    const figures = flattenFigures(m);
    // accuracy 2/3; per class b: P 1/1, R 1/2, F1 2/(2 + 0 + 1); AUC: b scores .7 .4 vs a .2 → 1
    const results = evaluateGates(parseGates('gates: [accuracy > 0.66, perClass.b.f1 >= 0.66, rocAuc == 1, calibration.ece < 1, "brier <= 1"]'), figures);
    assert.deepEqual(
      results.map((r) => [r.name, r.passed]),
      [
        ['accuracy > 0.66', true],
        ['perClass.b.f1 >= 0.66', true],
        ['rocAuc == 1', true],
        ['calibration.ece < 1', true],
        ['brier <= 1', true],
      ],
    );
    assert.equal(figures.get('perClass.b.f1'), 2 / 3);
    assert.equal(figures.has('confusionMatrix'), false);
  });
});
