import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import {
  classificationMetrics,
  compareClassNames,
  LOG_LOSS_EPS,
  regressionMetrics,
  sliceMetrics,
  sortClasses,
  type ClassificationMetrics,
  type RegressionMetrics,
} from '../../../src/validate/metrics.js';
import { assertClose } from '../stats/assert-close.js';

const close = (actual: number | null | undefined, expected: number, label = ''): void => {
  assert.ok(typeof actual === 'number', `${label} expected a number, got ${String(actual)}`);
  assertClose(actual, expected, 1e-12, 1e-14, label);
};

function expectInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, 'VALIDATE_INVALID_METRIC_INPUT');
    assert.equal(error.kind, 'invalid');
    assert.match(error.message, message);
    return true;
  });
}

describe('classificationMetrics: labels only', () => {
  // Classes a, b, c, d (d is only ever predicted). Rows: (a→a) (a→b) (a→a) (b→b) (b→d) (c→c).
  // Confusion (rows true, columns predicted):  a [2 1 0 0]  b [0 1 0 1]  c [0 0 1 0]  d [0 0 0 0]
  // accuracy = (2 + 1 + 1) / 6 = 2/3
  // a: P = 2/2 = 1,   R = 2/3, F1 = 2·2 / (2·2 + 0 + 1) = 0.8, support 3
  // b: P = 1/2,       R = 1/2, F1 = 2·1 / (2·1 + 1 + 1) = 0.5, support 2
  // c: P = 1,         R = 1,   F1 = 1,                          support 1
  // d: P = 0/1 = 0,   R = 0/0 → 0 (zero_division=0), F1 = 0,    support 0
  // macro:    P = (1 + .5 + 1 + 0)/4 = .625, R = (2/3 + .5 + 1 + 0)/4 = 0.541666…, F1 = (.8 + .5 + 1 + 0)/4 = .575
  // weighted: P = (3·1 + 2·.5 + 1·1)/6 = 5/6, R = (3·2/3 + 2·.5 + 1)/6 = 2/3, F1 = (3·.8 + 2·.5 + 1)/6 = 4.4/6
  // scikit-learn 1.2.1 precision_recall_fscore_support(zero_division=0) gives the same numbers:
  // macro (0.625, 0.5416666666666666, 0.575), weighted (0.8333333333333334, 0.6666666666666666, 0.7333333333333334).
  const m = classificationMetrics({ labels: ['a', 'a', 'a', 'b', 'b', 'c'], predicted: ['a', 'b', 'a', 'b', 'd', 'c'] });

  test('counts every class seen in labels or predictions, in sorted order, with rows = truth', () => {
    assert.equal(m.task, 'classification');
    assert.equal(m.count, 6);
    assert.deepEqual(m.classes, ['a', 'b', 'c', 'd']);
    assert.deepEqual(m.confusionMatrix, [
      [2, 1, 0, 0],
      [0, 1, 0, 1],
      [0, 0, 1, 0],
      [0, 0, 0, 0],
    ]);
    close(m.accuracy, 2 / 3, 'accuracy');
  });

  test('per-class precision, recall and F1 follow zero_division=0', () => {
    assert.deepEqual(Object.keys(m.perClass), ['a', 'b', 'c', 'd']);
    close(m.perClass.a?.precision, 1, 'a.precision');
    close(m.perClass.a?.recall, 2 / 3, 'a.recall');
    close(m.perClass.a?.f1, 0.8, 'a.f1');
    assert.equal(m.perClass.a?.support, 3);
    close(m.perClass.b?.precision, 0.5, 'b.precision');
    close(m.perClass.b?.recall, 0.5, 'b.recall');
    close(m.perClass.b?.f1, 0.5, 'b.f1');
    assert.deepEqual(m.perClass.c, { precision: 1, recall: 1, f1: 1, support: 1 });
    assert.deepEqual(m.perClass.d, { precision: 0, recall: 0, f1: 0, support: 0 });
  });

  test('macro and weighted averages match scikit-learn', () => {
    close(m.macro.precision, 0.625, 'macro.precision');
    close(m.macro.recall, 0.5416666666666666, 'macro.recall');
    close(m.macro.f1, 0.575, 'macro.f1');
    close(m.weighted.precision, 0.8333333333333334, 'weighted.precision');
    close(m.weighted.recall, 0.6666666666666666, 'weighted.recall');
    close(m.weighted.f1, 0.7333333333333334, 'weighted.f1');
  });

  test('leaves probability figures out when no probabilities are given', () => {
    assert.equal(m.rocAuc, undefined);
    assert.equal(m.logLoss, undefined);
    assert.equal(m.brier, undefined);
    assert.equal(m.calibration, undefined);
    assert.equal('positiveClass' in m, false);
  });

  test('a class named __proto__ is an ordinary key', () => {
    const p = classificationMetrics({ labels: ['__proto__', 'x'], predicted: ['__proto__', '__proto__'] });
    assert.deepEqual(Object.keys(p.perClass), ['__proto__', 'x']);
    // __proto__: TP 1 of 2 predicted, support 1 → P .5, R 1, F1 2/(2+1+0)
    close(p.perClass.__proto__?.f1, 2 / 3, '__proto__.f1');
  });
});

describe('class order', () => {
  test('numeric class names sort as numbers, others by code units', () => {
    assert.deepEqual(sortClasses(['10', '2', '1', '2']), ['1', '2', '10']);
    assert.deepEqual(sortClasses(['b', 'B', 'a', '10', '9']), ['10', '9', 'B', 'a', 'b']);
    assert.ok(compareClassNames('2', '10') < 0);
    assert.ok(compareClassNames('x2', 'x10') > 0);
    const m = classificationMetrics({ labels: ['10', '2', '1'], predicted: ['10', '1', '1'] });
    assert.deepEqual(m.classes, ['1', '2', '10']);
    assert.deepEqual(m.confusionMatrix, [
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });
});

describe('classificationMetrics: probabilities', () => {
  test('binary ROC AUC handles tied scores with average ranks', () => {
    // p(pos) sorted: .1 neg, .35 pos, .4 neg, .4 pos, .7 neg, .8 pos → ranks 1, 2, 3.5, 3.5, 5, 6.
    // R+ = 2 + 3.5 + 6 = 11.5; AUC = (11.5 − 3·4/2) / (3·3) = 5.5/9. scikit-learn roc_auc_score: 0.6111111111111112.
    const score = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7];
    const labels = ['neg', 'neg', 'pos', 'pos', 'pos', 'neg'];
    const m = classificationMetrics({
      labels,
      predicted: score.map((s) => (s >= 0.5 ? 'pos' : 'neg')),
      probabilities: { classes: ['neg', 'pos'], rows: score.map((s) => [1 - s, s]) },
    });
    assert.equal(m.positiveClass, 'pos');
    close(m.rocAuc, 5.5 / 9, 'roc_auc');
    close(m.rocAuc, 0.6111111111111112, 'roc_auc vs scikit-learn');
  });

  test('the positive class is the second probability column unless positiveClass says otherwise', () => {
    // With rows that sum to 1, scoring "neg" by p(neg) ranks the rows in reverse with the labels
    // swapped, so the AUC and the Brier score do not depend on the choice; only the report's
    // positiveClass does. Rows (pos, neg) in columns order [pos, neg].
    const score = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7];
    const labels = ['neg', 'neg', 'pos', 'pos', 'pos', 'neg'];
    const probabilities = { classes: ['pos', 'neg'], rows: score.map((s) => [s, 1 - s]) };
    const second = classificationMetrics({ labels, predicted: labels, probabilities });
    assert.equal(second.positiveClass, 'neg');
    close(second.rocAuc, 5.5 / 9, 'roc_auc of neg');
    const chosen = classificationMetrics({ labels, predicted: labels, positiveClass: 'pos', probabilities });
    assert.equal(chosen.positiveClass, 'pos');
    close(chosen.rocAuc, 5.5 / 9, 'roc_auc of pos');
    close(chosen.brier, second.brier ?? Number.NaN, 'brier either way');
  });

  // Six rows (p_neg, p_pos) → label; top-class confidence → its bin of width 0.1 (upper edge inclusive):
  //   (.05 .95) pos: conf .95 → (0.9, 1],   top pos, correct
  //   (.1  .9 ) neg: conf .9  → (0.8, 0.9], top pos, wrong
  //   (.3  .7 ) pos: conf .7  → (0.6, 0.7], top pos, correct
  //   (.7  .3 ) pos: conf .7  → (0.6, 0.7], top neg, wrong
  //   (.4  .6 ) neg: conf .6  → (0.5, 0.6], top pos, wrong
  //   (.5  .5 ) neg: conf .5  → (0.4, 0.5], tie → first column neg, correct
  // ECE = Σ n_b/n · |acc_b − conf_b| = (1·|1 − .95| + 1·|0 − .9| + 2·|.5 − .7| + 1·|0 − .6| + 1·|1 − .5|) / 6 = 2.45 / 6
  // Brier (p_pos − y)²: .0025 + .81 + .09 + .49 + .36 + .25 = 2.0025 → / 6 = 0.33375 (scikit-learn brier_score_loss: 0.33375)
  // log loss: −(ln .95 + ln .1 + ln .7 + ln .3 + ln .4 + ln .5) / 6 (scikit-learn log_loss: 0.9206606746800609)
  // AUC: pos scores .95 .7 .3 vs neg .9 .6 .5 → 3 + 2 + 0 wins of 9 (scikit-learn: 0.5555555555555556)
  const calibrated = classificationMetrics({
    labels: ['pos', 'neg', 'pos', 'pos', 'neg', 'neg'],
    predicted: ['pos', 'pos', 'pos', 'neg', 'pos', 'neg'],
    probabilities: {
      classes: ['neg', 'pos'],
      rows: [
        [0.05, 0.95],
        [0.1, 0.9],
        [0.3, 0.7],
        [0.7, 0.3],
        [0.4, 0.6],
        [0.5, 0.5],
      ],
    },
  });

  test('expected calibration error over 10 equal-width bins of top-class confidence', () => {
    close(calibrated.calibration?.ece, 2.45 / 6, 'ece');
    const bins = calibrated.calibration?.bins ?? [];
    assert.equal(bins.length, 10);
    assert.deepEqual(
      bins.map((b) => b.count),
      [0, 0, 0, 0, 1, 1, 2, 0, 1, 1],
    );
    const sixth = bins[6];
    assert.equal(sixth?.lower, 0.6);
    assert.equal(sixth?.upper, 0.7);
    close(sixth?.meanConfidence, 0.7, 'bin 6 confidence');
    assert.equal(sixth?.accuracy, 0.5);
    assert.equal(bins[0]?.meanConfidence, null);
    assert.equal(bins[0]?.accuracy, null);
    assert.equal(bins[9]?.accuracy, 1);
    assert.equal(bins[8]?.accuracy, 0);
  });

  test('Brier score, log loss and AUC of the same rows match scikit-learn', () => {
    close(calibrated.brier, 0.33375, 'brier');
    close(calibrated.logLoss, -(Math.log(0.95) + Math.log(0.1) + Math.log(0.7) + Math.log(0.3) + Math.log(0.4) + Math.log(0.5)) / 6, 'log_loss');
    assertClose(calibrated.logLoss ?? Number.NaN, 0.9206606746800609, 1e-12, 0, 'log_loss vs scikit-learn');
    close(calibrated.rocAuc, 5 / 9, 'roc_auc');
  });

  test('log loss clips probabilities of 0 and 1 at 1e-15 as scikit-learn does', () => {
    // true-class probability 1 → −ln(1 − 1e-15) ≈ 1.1e-15; 0 → −ln(1e-15) = 34.538776394910684; 0.5 → ln 2.
    // scikit-learn log_loss(eps=1e-15) of these three rows: 11.743974525156878
    const m = classificationMetrics({
      labels: ['pos', 'neg', 'pos'],
      predicted: ['pos', 'pos', 'pos'],
      probabilities: {
        classes: ['neg', 'pos'],
        rows: [
          [0, 1],
          [0, 1],
          [0.5, 0.5],
        ],
      },
    });
    close(m.logLoss, (-Math.log(1 - LOG_LOSS_EPS) - Math.log(LOG_LOSS_EPS) + Math.LN2) / 3, 'log_loss');
    assertClose(m.logLoss ?? Number.NaN, 11.743974525156878, 1e-12, 0, 'log_loss vs scikit-learn');
    assert.ok(Number.isFinite(m.logLoss));
  });

  test('multi-class: macro one-vs-rest ROC AUC, multi-class Brier score and log loss', () => {
    // rows (a b c) → label: (.6 .3 .1) a, (.4 .4 .2) a, (.2 .5 .3) b, (.3 .3 .4) b, (.1 .2 .7) c, (.4 .2 .4) c
    // a vs rest: pos .6 .4 / neg .2 .3 .1 .4 → 4 + 3.5 (a tie counts ½) = 7.5 of 8
    // b vs rest: pos .5 .3 / neg .3 .4 .2 .2 → 4 + 2.5 = 6.5 of 8
    // c vs rest: pos .7 .4 / neg .1 .2 .3 .4 → 4 + 3.5 = 7.5 of 8
    // macro = (7.5 + 6.5 + 7.5) / 24 = 0.8958333… (scikit-learn roc_auc_score(multi_class='ovr'): 0.8958333333333334)
    // Brier Σₖ (pₖ − yₖ)² per row: .26 .56 .38 .74 .14 .56 → 2.64 / 6 = 0.44
    // log loss: −(ln .6 + ln .4 + ln .5 + ln .3 + ln .7 + ln .4) / 6 (scikit-learn: 0.7662003360564857)
    // predicted = first arg max: a a b c c a → a: P 2/3 R 1 F1 .8; b: P 1 R .5 F1 2/3; c: P .5 R .5 F1 .5
    // macro (0.7222222222222222, 0.6666666666666666, 0.6555555555555556) as scikit-learn
    const rows = [
      [0.6, 0.3, 0.1],
      [0.4, 0.4, 0.2],
      [0.2, 0.5, 0.3],
      [0.3, 0.3, 0.4],
      [0.1, 0.2, 0.7],
      [0.4, 0.2, 0.4],
    ];
    const m = classificationMetrics({
      labels: ['a', 'a', 'b', 'b', 'c', 'c'],
      predicted: ['a', 'a', 'b', 'c', 'c', 'a'],
      probabilities: { classes: ['a', 'b', 'c'], data: Float64Array.from(rows.flat()) },
    });
    assert.equal('positiveClass' in m, false);
    close(m.rocAuc, 21.5 / 24, 'roc_auc');
    close(m.rocAuc, 0.8958333333333334, 'roc_auc vs scikit-learn');
    close(m.brier, 0.44, 'brier');
    assertClose(m.logLoss ?? Number.NaN, 0.7662003360564857, 1e-12, 0, 'log_loss vs scikit-learn');
    close(m.macro.precision, 0.7222222222222222, 'macro.precision');
    close(m.macro.recall, 0.6666666666666666, 'macro.recall');
    close(m.macro.f1, 0.6555555555555556, 'macro.f1');
    // ECE: confidences .6 .4 .5 .4 .7 .4 → bins 5, 3, 4, 3, 6, 3; correct: a(yes) a(yes) b(yes) c≠b c(yes) a≠c
    // bin 3: conf (.4 + .4 + .4)/3 = .4, acc 1/3; bins 4, 5, 6: acc 1 → (3·|1/3 − .4| + .5 + .4 + .3) / 6
    close(m.calibration?.ece, (3 * Math.abs(1 / 3 - 0.4) + 0.5 + 0.4 + 0.3) / 6, 'ece');
  });

  test('ROC AUC is null when the labels hold one class only; classes absent from the labels are skipped in the macro mean', () => {
    const one = classificationMetrics({ labels: ['a', 'a'], predicted: ['a', 'b'], probabilities: { classes: ['a', 'b'], rows: [[0.9, 0.1], [0.4, 0.6]] } });
    assert.equal(one.rocAuc, null);
    // three columns, c never a label: a vs rest 1, b vs rest 1 (perfect separation) → macro 1
    const skip = classificationMetrics({
      labels: ['a', 'b'],
      predicted: ['a', 'b'],
      probabilities: { classes: ['a', 'b', 'c'], rows: [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]] },
    });
    assert.equal(skip.rocAuc, 1);
  });

  test('float32 rows a hair outside [0, 1] are clamped, not refused', () => {
    const m = classificationMetrics({
      labels: ['a', 'b'],
      predicted: ['a', 'b'],
      probabilities: { classes: ['a', 'b'], data: Float32Array.from([1.0000001, 0, 0, 1]) },
    });
    close(m.logLoss, -Math.log(1 - LOG_LOSS_EPS), 'log_loss');
    assert.equal(m.brier, 0);
  });
});

describe('classificationMetrics: input checks', () => {
  test('refuses lists of different lengths, empty lists and empty class names', () => {
    expectInvalid(() => classificationMetrics({ labels: ['a', 'b'], predicted: ['a'] }), /labels and predicted must have the same length, got 2 labels and 1 predicted/);
    expectInvalid(() => classificationMetrics({ labels: [], predicted: [] }), /labels must hold at least one value/);
    expectInvalid(() => classificationMetrics({ labels: ['a', ''], predicted: ['a', 'a'] }), /labels\[1\] must be a non-empty class name/);
  });

  test('refuses probability rows that are not probabilities or do not fit the labels', () => {
    const base = { labels: ['a', 'b'], predicted: ['a', 'b'] };
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'b'], rows: [[0.5, 0.5]] } }), /probabilities\.rows must hold one row per label \(2\), got 1/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'b'], rows: [[0.5, 0.5], [2, -1]] } }), /row 1, class "a" must be a probability in \[0, 1\], got 2/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'b'], rows: [[0.5, 0.5], [0.3, 0.3]] } }), /row 1 must sum to 1/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'b'], rows: [[0.5, 0.5], [Number.NaN, 0.5]] } }), /must be a probability in \[0, 1\], got NaN/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'c'], rows: [[0.5, 0.5], [0.5, 0.5]] } }), /labels\[1\] is "b", which has no probability column; expected one of a, c/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'a'], rows: [[0.5, 0.5], [0.5, 0.5]] } }), /repeats "a"/);
    expectInvalid(() => classificationMetrics({ ...base, probabilities: { classes: ['a', 'b'], data: new Float64Array(3) } }), /must hold 2 rows × 2 classes = 4 numbers, got 3/);
    expectInvalid(() => classificationMetrics({ ...base, positiveClass: 'z', probabilities: { classes: ['a', 'b'], rows: [[1, 0], [0, 1]] } }), /positiveClass "z" must be one of/);
  });
});

describe('regressionMetrics', () => {
  test('MAE, RMSE, R², MAPE (zero actuals skipped) and max error', () => {
    // actual 3, −0.5, 2, 7, 0; predicted 2.5, 0, 2, 8, 0.5 → errors .5, −.5, 0, −1, −.5
    // MAE = 2.5/5 = .5; RMSE = √(1.75/5); mean actual 2.3, SST = .49 + 7.84 + .09 + 22.09 + 5.29 = 35.8, R² = 1 − 1.75/35.8
    // MAPE over the four non-zero actuals: (.5/3 + .5/.5 + 0 + 1/7) / 4; max error 1.
    // scikit-learn: MAE 0.5, RMSE 0.5916079783099616, R² 0.9511173184357542, max_error 1.0,
    // mean_absolute_percentage_error on the non-zero rows 0.3273809523809524.
    const m: RegressionMetrics = regressionMetrics([3, -0.5, 2, 7, 0], Float64Array.from([2.5, 0, 2, 8, 0.5]));
    assert.equal(m.task, 'regression');
    assert.equal(m.count, 5);
    close(m.mae, 0.5, 'mae');
    close(m.rmse, 0.5916079783099616, 'rmse');
    close(m.r2, 1 - 1.75 / 35.8, 'r2');
    close(m.r2, 0.9511173184357542, 'r2 vs scikit-learn');
    close(m.mape, (0.5 / 3 + 1 + 0 + 1 / 7) / 4, 'mape');
    close(m.mape, 0.3273809523809524, 'mape vs scikit-learn');
    assert.equal(m.mapeSkipped, 1);
    assert.equal(m.maxError, 1);
  });

  test('constant actual values give R² 1 for a perfect fit, else 0; MAPE is null when every actual is 0', () => {
    assert.equal(regressionMetrics([2, 2, 2], [2, 2, 2]).r2, 1);
    assert.equal(regressionMetrics([2, 2, 2], [2, 2, 3]).r2, 0);
    const zeros = regressionMetrics([0, 0], [1, -3]);
    assert.equal(zeros.mape, null);
    assert.equal(zeros.mapeSkipped, 2);
    assert.equal(zeros.maxError, 3);
  });

  test('refuses empty lists, different lengths and numbers that are not finite', () => {
    expectInvalid(() => regressionMetrics([], []), /actual must hold at least one value/);
    expectInvalid(() => regressionMetrics([1, 2], [1]), /same length, got 2 actual and 1 predicted/);
    expectInvalid(() => regressionMetrics([1, Number.NaN], [1, 2]), /actual\[1\] must be a finite number, got NaN/);
    expectInvalid(() => regressionMetrics([1, 2], [1, Number.POSITIVE_INFINITY]), /predicted\[1\] must be a finite number, got Infinity/);
  });
});

describe('sliceMetrics', () => {
  test('categorical: the most frequent values each, the rest as (other), empty cells as (missing)', () => {
    // column: x x x y y z w '' null; labels vs predicted hit on rows 0, 1, 3, 5, 7.
    const values = ['x', 'x', 'x', 'y', 'y', 'z', 'w', '', null];
    const labels = ['a', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const predicted = ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'];
    const r = sliceMetrics({ task: 'classification', column: 'city', values, labels, predicted, maxCategories: 2 });
    assert.equal(r.column, 'city');
    assert.equal(r.binning, 'categorical');
    assert.equal(r.edges, undefined);
    assert.deepEqual(
      r.slices.map((s) => [s.name, s.kind, s.count]),
      [
        ['x', 'value', 3],
        ['y', 'value', 2],
        ['(other)', 'other', 2],
        ['(missing)', 'missing', 2],
      ],
    );
    // x: rows 0–2 → a a b vs a a a: accuracy 2/3; y: rows 3–4 → 1/2; (other) rows 5, 6 → 1/2; (missing) rows 7, 8 → 1/2
    const accuracy = r.slices.map((s) => s.metrics.accuracy);
    assert.deepEqual(accuracy, [2 / 3, 0.5, 0.5, 0.5]);
    // every slice's metrics are those of its rows alone
    assert.deepEqual(r.slices[0]?.metrics, classificationMetrics({ labels: ['a', 'a', 'b'], predicted: ['a', 'a', 'a'] }));
  });

  test('ties in count are broken by class order, and probabilities follow their rows', () => {
    const r = sliceMetrics({
      task: 'classification',
      column: 'k',
      values: ['q', 'p', 'q', 'p'],
      labels: ['a', 'b', 'b', 'a'],
      predicted: ['a', 'b', 'a', 'b'],
      probabilities: { classes: ['a', 'b'], rows: [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]] },
    });
    assert.deepEqual(
      r.slices.map((s) => s.name),
      ['p', 'q'],
    );
    // p: rows 1 (b, .8) and 3 (a, .7) → AUC 1; brier ((.8 − 1)² + (.7 − 0)²)/2 = (.04 + .49)/2
    const p = r.slices[0]?.metrics as ClassificationMetrics;
    assert.equal(p.rocAuc, 1);
    close(p.brier, 0.265, 'p.brier');
    // q: rows 0 (a, .1) and 2 (b, .4) → AUC 1; log loss −(ln .9 + ln .4)/2
    const q = r.slices[1]?.metrics as ClassificationMetrics;
    close(q.logLoss, -(Math.log(0.9) + Math.log(0.4)) / 2, 'q.log_loss');
  });

  test('numeric: quartile bins with the first edge closed, (lo, hi] after it', () => {
    // values 1…8: type-7 quartiles at h = 7p → 1, 2.75, 4.5, 6.25, 8
    // bins [1, 2.75] → 1 2; (2.75, 4.5] → 3 4; (4.5, 6.25] → 5 6; (6.25, 8] → 7 8
    const values = [8, 1, 2, 3, 4, 5, 6, 7, ''].map((v) => (typeof v === 'number' ? String(v) : v));
    const actual = [8, 1, 2, 3, 4, 5, 6, 7, 0];
    const predicted = [9, 1, 2, 3, 5, 5, 6, 10, 0];
    const r = sliceMetrics({ task: 'regression', column: 'age', values, actual, predicted, binning: 'numeric' });
    assert.equal(r.binning, 'numeric');
    assert.deepEqual(r.edges, [1, 2.75, 4.5, 6.25, 8]);
    assert.deepEqual(
      r.slices.map((s) => [s.name, s.count, s.lower, s.upper]),
      [
        ['[1, 2.75]', 2, 1, 2.75],
        ['(2.75, 4.5]', 2, 2.75, 4.5],
        ['(4.5, 6.25]', 2, 4.5, 6.25],
        ['(6.25, 8]', 2, 6.25, 8],
        ['(missing)', 1, undefined, undefined],
      ],
    );
    // (2.75, 4.5]: errors 0, −1 → MAE .5; (6.25, 8]: rows 7→10 and 8→9 → errors 3, 1 → MAE 2, max 3
    assert.equal((r.slices[1]?.metrics as RegressionMetrics).mae, 0.5);
    assert.equal((r.slices[3]?.metrics as RegressionMetrics).mae, 2);
    assert.equal((r.slices[3]?.metrics as RegressionMetrics).maxError, 3);
  });

  test('numeric: tied edges merge and a constant column is one bin', () => {
    // 1 1 1 2 → quartiles 1, 1, 1, 1.25, 2 → edges 1, 1.25, 2
    const r = sliceMetrics({ task: 'regression', column: 'n', values: [1, 1, 1, 2], actual: [1, 1, 1, 1], predicted: [1, 1, 1, 1], binning: 'numeric' });
    assert.deepEqual(r.edges, [1, 1.25, 2]);
    assert.deepEqual(
      r.slices.map((s) => [s.name, s.count]),
      [
        ['[1, 1.25]', 3],
        ['(1.25, 2]', 1],
      ],
    );
    const c = sliceMetrics({ task: 'regression', column: 'n', values: [5, 5], actual: [1, 2], predicted: [1, 2], binning: 'numeric' });
    assert.deepEqual(c.edges, [5]);
    assert.deepEqual(
      c.slices.map((s) => [s.name, s.count]),
      [['[5, 5]', 2]],
    );
  });

  test('auto: numbers with more distinct values than maxCategories are binned, fewer are categories', () => {
    const many = Array.from({ length: 25 }, (_, i) => i);
    const task = { task: 'regression' as const, actual: many, predicted: many };
    const binned = sliceMetrics({ ...task, column: 'n', values: many });
    assert.equal(binned.binning, 'numeric');
    // 0…24: quartiles at h = 24p → 0, 6, 12, 18, 24 → bins of 7, 6, 6, 6
    assert.deepEqual(binned.edges, [0, 6, 12, 18, 24]);
    assert.deepEqual(
      binned.slices.map((s) => s.count),
      [7, 6, 6, 6],
    );
    const few = sliceMetrics({ task: 'regression', column: 'grade', values: [1, 2, 2, 3], actual: [1, 2, 3, 4], predicted: [1, 2, 3, 4] });
    assert.equal(few.binning, 'categorical');
    assert.deepEqual(
      few.slices.map((s) => [s.name, s.count]),
      [
        ['2', 2],
        ['1', 1],
        ['3', 1],
      ],
    );
  });

  test('refuses a values list of the wrong length and text in a numeric column', () => {
    expectInvalid(() => sliceMetrics({ task: 'regression', column: 'n', values: [1], actual: [1, 2], predicted: [1, 2] }), /values of column "n" must hold one value per row \(2\), got 1/);
    expectInvalid(() => sliceMetrics({ task: 'regression', column: 'n', values: [1, 'x'], actual: [1, 2], predicted: [1, 2], binning: 'numeric' }), /column "n" row 1 must be a number for numeric slices, got "x"/);
    // the task's own inputs are checked with row numbers of the whole input
    expectInvalid(() => sliceMetrics({ task: 'classification', column: 'n', values: [1, 2], labels: ['a', ''], predicted: ['a', 'a'] }), /sliceMetrics: labels\[1\] must be a non-empty class name/);
  });
});
