/**
 * Input guards and output hardening without a server: options and their problems, the range check,
 * the outlier score and its p-value (full covariance against the diagonal fallback), non-finite
 * numbers, per-endpoint overrides, top-k and rounding, and the decoder's tensor-element limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigReader, float32ToFloat16Bits, float16BitsToNumber, PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import { createProfileBuilder, type ReferenceProfile } from '../../../src/monitoring/profiles/index.js';
import {
  compileGuardReference,
  compileInputGuardOptions,
  compileOutputOptions,
  createInferenceGuards,
  outlierLaw,
  outlierPValue,
  topKOutputs,
  type GuardAction,
  type GuardCheck,
  type GuardMetrics,
  type InputGuardsConfig,
  type OutputHardeningConfig,
} from '../../../src/security/index.js';
import { decodeInferenceRequest, encodeOutputs, type InferenceRequest } from '../../../src/serving/index.js';
import { createSeededRandom } from '../../../src/stats/index.js';
import { loadConfig } from '../../../src/app/config.js';

function inputOptions(input: unknown): InputGuardsConfig {
  const r = new ConfigReader();
  const c = compileInputGuardOptions(r, input, 'security.inputGuards');
  r.finish();
  return c;
}
function outputOptions(input: unknown): OutputHardeningConfig {
  const r = new ConfigReader();
  const c = compileOutputOptions(r, input, 'security.outputs');
  r.finish();
  return c;
}
function problemsOf(read: (r: ConfigReader) => void): string[] {
  const r = new ConfigReader();
  read(r);
  return r.problems.map((p) => `${p.path}: ${p.message}`);
}

/**
 * A profile of 300 rows of x = (a, 2a + small noise, b) with a, b ~ N(0, 1): a 3-column input `x`.
 * Its first two features are strongly correlated, which only the full covariance knows.
 */
function referenceProfile(covariance = true): ReferenceProfile {
  const random = createSeededRandom(11);
  const b = createProfileBuilder({
    features: ['a', 'twice a', 'b'].map((name, i) => ({ name, input: 'x', column: i, datatype: 'FP32' as const })),
    predictions: false,
    covariance,
  });
  for (let i = 0; i < 300; i++) {
    const a = random.normal();
    b.add([a, 2 * a + 0.2 * random.normal(), random.normal()]);
  }
  if (b.seal().needed) throw new Error('not expected: few rows');
  return b.finish({ model: 'm', version: 3, source: 'test', createdAt: 0, createdBy: 'test' });
}

function request(rows: number[][], nonFinite?: InferenceRequest['nonFinite']): InferenceRequest {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 3], data: Float32Array.from(rows.flat()) }], ...(nonFinite === undefined ? {} : { nonFinite }) };
}

function recordingMetrics(): GuardMetrics & { counts: string[]; scores: number[] } {
  const counts: string[] = [];
  const scores: number[] = [];
  return {
    counts,
    scores,
    count: (endpoint: string, version: number, check: GuardCheck, action: GuardAction) => counts.push(`${endpoint}/${version} ${check} ${action}`),
    score: (_endpoint: string, _version: number, distance: number) => scores.push(distance),
  };
}

function guardsWith(inputs: unknown, profile: ReferenceProfile | undefined = referenceProfile(), outputs: unknown = undefined) {
  const metrics = recordingMetrics();
  const guards = createInferenceGuards({ inputs: inputOptions(inputs), outputs: outputOptions(outputs), profileOf: () => profile, metrics });
  return { guards, metrics };
}

function refused(run: () => unknown, code: string): PlatformError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PlatformError, String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

const parsed = (p: Record<string, unknown> | undefined): { flags: Record<string, unknown>[]; more?: number } => JSON.parse(String(p?.input_guard)) as { flags: Record<string, unknown>[]; more?: number };

describe('options', () => {
  test('defaults: non-finite rejected, ranges flagged with a 10 % margin, outlier scored and reported, no rejection; no output hardening', () => {
    const c = inputOptions(undefined);
    assert.deepEqual({ ...c, endpoints: { ...c.endpoints } }, {
      nonFinite: 'reject',
      ranges: 'flag',
      rangeMargin: 0.1,
      outlier: { enabled: true, flagPValue: 0, rejectPValue: 0, inResponse: true },
      endpoints: {},
    });
    const o = outputOptions(undefined);
    assert.deepEqual([o.roundDigits, o.topK], [0, 0]);
  });

  test('endpoint overrides apply field by field over the server settings; strings from the environment are read', () => {
    const c = inputOptions({ ranges: 'reject', rangeMargin: '0.5', outlier: { rejectPValue: '1e-6' }, endpoints: { fraud: { ranges: 'off', outlier: { flagPValue: 0.001 } } } });
    assert.equal(c.ranges, 'reject');
    assert.equal(c.outlier.rejectPValue, 1e-6);
    const fraud = c.endpoints.fraud;
    assert.ok(fraud !== undefined);
    assert.equal(fraud.ranges, 'off');
    assert.equal(fraud.rangeMargin, 0.5, 'inherited');
    assert.equal(fraud.outlier.rejectPValue, 1e-6, 'inherited');
    assert.equal(fraud.outlier.flagPValue, 0.001);
    const o = outputOptions({ roundDigits: 3, endpoints: { fraud: { topK: 1 } } });
    assert.deepEqual([o.endpoints.fraud?.roundDigits, o.endpoints.fraud?.topK], [3, 1]);
  });

  test('the server configuration reads them from SLIPWAY_* variables, per-endpoint settings from the file only', () => {
    const config = loadConfig({
      env: {
        SLIPWAY_SERVING_MAX_TENSOR_ELEMENTS: '1000',
        SLIPWAY_SECURITY_INPUT_GUARDS_RANGES: 'reject',
        SLIPWAY_SECURITY_INPUT_GUARDS_OUTLIER_REJECT_PVALUE: '1e-9',
        SLIPWAY_SECURITY_OUTPUTS_TOP_K: '2',
      },
      overrides: { 'security.outputs.endpoints': { fraud: { roundDigits: 4 } } },
    });
    assert.equal(config.serving.maxTensorElements, 1000);
    assert.equal(config.security.inputGuards.ranges, 'reject');
    assert.equal(config.security.inputGuards.outlier.rejectPValue, 1e-9);
    assert.equal(config.security.outputs.topK, 2);
    assert.deepEqual(config.security.outputs.endpoints.fraud, { roundDigits: 4, topK: 2 });
    assert.equal(loadConfig({ env: {} }).serving.maxTensorElements, 16_777_216);
    assert.throws(() => loadConfig({ env: { SLIPWAY_SECURITY_INPUT_GUARDS_NON_FINITE: 'ignore' } }), /security\.inputGuards\.nonFinite: must be one of reject, flag, allow/);
  });

  test('every problem is reported by its path', () => {
    const problems = problemsOf((r) => {
      compileInputGuardOptions(r, { nonFinite: 'maybe', ranges: 'warn', rangeMargin: -1, outlier: { rejectPValue: 1, enabled: 'yes', typo: 1 }, endpoints: { 'Not A Name': {} } }, 'security.inputGuards');
      compileOutputOptions(r, { roundDigits: 20, topK: -1, endpoints: { ok: { extra: 1 } } }, 'security.outputs');
    });
    for (const expected of [
      /^security\.inputGuards\.nonFinite: must be one of reject, flag, allow/,
      /^security\.inputGuards\.ranges: must be one of off, flag, reject/,
      /^security\.inputGuards\.rangeMargin: must be ≥ 0/,
      /^security\.inputGuards\.outlier\.rejectPValue: must be below 1/,
      /^security\.inputGuards\.outlier\.enabled: must be true or false/,
      /^security\.inputGuards\.outlier\.typo: unknown key/,
      /^security\.inputGuards\.endpoints\.Not A Name: the key must be an endpoint name/,
      /^security\.outputs\.roundDigits: must be ≥ 0 and ≤ 15/,
      /^security\.outputs\.topK: must be ≥ 0/,
      /^security\.outputs\.endpoints\.ok\.extra: unknown key/,
    ]) {
      assert.ok(problems.some((p) => expected.test(p)), `${String(expected)} in ${problems.join(' | ')}`);
    }
  });
});

describe('range and outlier checks', () => {
  test('a row like the reference: a small score with a high p-value, the full covariance, and no flag', () => {
    const { guards, metrics } = guardsWith(undefined);
    const p = guards.forEndpoint('ep').check('ep', 'm', 3, request([[0.3, 0.62, -0.4]]));
    assert.ok(p !== undefined);
    assert.equal(p.input_guard, undefined);
    assert.equal(p.outlier_covariance, 'full');
    assert.ok((p.outlier_score as number) < 2, `score ${String(p.outlier_score)}`);
    assert.ok((p.outlier_p_value as number) > 0.1, `p ${String(p.outlier_p_value)}`);
    assert.deepEqual(metrics.counts, []);
    assert.equal(metrics.scores.length, 1);
  });

  test('a value beyond the observed range plus the margin is flagged, naming the feature, its value and the observed range', () => {
    const profile = referenceProfile();
    const { guards, metrics } = guardsWith(undefined, profile);
    const b = profile.features[2];
    assert.ok(b?.kind === 'numeric');
    const p = guards.forEndpoint('ep').check('ep', 'm', 3, request([[0, 0, 0], [0.1, 0.2, b.max + 0.5 * (b.max - b.min)]]));
    const flags = parsed(p).flags;
    assert.equal(flags.length, 1);
    assert.deepEqual({ ...flags[0], value: undefined }, { check: 'range', feature: 'b', row: 1, value: undefined, min: b.min, max: b.max, rows: 1 });
    assert.deepEqual(metrics.counts, ['ep/3 range flag']);
    // just inside the margin: not flagged
    const inside = guards.forEndpoint('ep').check('ep', 'm', 3, request([[0.1, 0.2, b.max + 0.05 * (b.max - b.min)]]));
    assert.equal(inside?.input_guard, undefined);
  });

  test('ranges: reject refuses with the feature, the value and the observed range named', () => {
    const profile = referenceProfile();
    const { guards, metrics } = guardsWith({ ranges: 'reject' }, profile);
    const a = profile.features[0];
    assert.ok(a?.kind === 'numeric');
    const error = refused(() => guards.forEndpoint('ep').check('ep', 'm', 3, request([[a.max * 10, a.max * 20, 0]])), 'SECURITY_INPUT_OUT_OF_RANGE');
    assert.match(error.message, /feature "a" is [\d.]+ in row 0, observed -?[\d.]+ to [\d.]+; feature "twice a" is/);
    assert.match(error.message, /reference profile of m:3/);
    assert.equal(error.kind, 'invalid');
    assert.deepEqual(metrics.counts, ['ep/3 range reject']);
  });

  test('a row within every range that breaks the correlation scores far with the full covariance and near with the diagonal', () => {
    const row = [[1, -2, 0]]; // a = 1 with "twice a" = −2: each value ordinary, together never seen
    const full = guardsWith(undefined, referenceProfile(true)).guards.forEndpoint('ep').check('ep', 'm', 3, request(row));
    const diagonal = guardsWith(undefined, referenceProfile(false)).guards.forEndpoint('ep').check('ep', 'm', 3, request(row));
    assert.equal(full?.input_guard, undefined, 'no range flag');
    assert.equal(full?.outlier_covariance, 'full');
    assert.equal(diagonal?.outlier_covariance, 'diagonal');
    assert.ok((full?.outlier_score as number) > 10, `full ${String(full?.outlier_score)}`);
    assert.ok((diagonal?.outlier_score as number) < 3, `diagonal ${String(diagonal?.outlier_score)}`);
    assert.ok((full?.outlier_p_value as number) < 1e-6);
  });

  test('outlier.rejectPValue refuses with the row, the distance and the p-value; flagPValue flags', () => {
    const rejecting = guardsWith({ outlier: { rejectPValue: 1e-6 } });
    const error = refused(() => rejecting.guards.forEndpoint('ep').check('ep', 'm', 3, request([[0, 0, 0], [1, -2, 0]])), 'SECURITY_INPUT_OUTLIER');
    assert.match(error.message, /^row 1 is an outlier: its Mahalanobis distance to the reference profile of m:3 is [\d.]+ over 3 features \(full covariance\), p-value [\d.e-]+ under F\(3, \d+\) for the farthest of 2 rows/);
    assert.deepEqual(rejecting.metrics.counts, ['ep/3 outlier reject']);
    const flagging = guardsWith({ outlier: { flagPValue: 1e-3, inResponse: false } });
    const p = flagging.guards.forEndpoint('ep').check('ep', 'm', 3, request([[1, -2, 0]]));
    assert.equal(p?.outlier_score, undefined, 'not in the answer');
    assert.deepEqual(parsed(p).flags.map((f) => [f.check, f.row]), [['outlier', 0]]);
    assert.deepEqual(flagging.metrics.counts, ['ep/3 outlier flag']);
  });

  test('the p-value is the farthest row’s χ² tail adjusted for the rows scored (Šidák)', () => {
    const d2 = 11.344866730144368; // scipy.stats.chi2.isf(0.01, 3)
    assert.ok(Math.abs(outlierPValue(d2, 3, 1) - 0.01) < 1e-12);
    assert.ok(Math.abs(outlierPValue(d2, 3, 10) - (1 - 0.99 ** 10)) < 1e-12);
    assert.equal(outlierPValue(0, 3, 5), 1);
    assert.ok(outlierPValue(1e6, 3, 1000) === 0);
  });

  test('with a covariance estimated from n rows the p-value follows the prediction law F(d, n − d), heavier than χ²(d)', () => {
    // scipy: D² at which n(n − d)/((n² − 1)d) · D² has F(3, 37) tail 0.01, for n = 40
    const d2 = 14.130211049133239;
    assert.ok(Math.abs(outlierPValue(d2, 3, 1, 40) - 0.01) < 1e-10, String(outlierPValue(d2, 3, 1, 40)));
    assert.ok(Math.abs(outlierPValue(d2, 3, 10, 40) - (1 - 0.99 ** 10)) < 1e-9);
    // the breast-cancer example's shape: 456 reference rows, 30 features, D² = 60
    assert.ok(Math.abs(outlierPValue(60, 30, 1, 456) / 0.004188478599465155 - 1) < 1e-9, 'scipy.stats.f.sf');
    assert.ok(Math.abs(outlierPValue(60, 30, 1) / 0.0009206823961486636 - 1) < 1e-9, 'χ²(30) without n, as before');
    // n ≤ d leaves no degrees of freedom for F: χ² it is
    assert.equal(outlierPValue(60, 30, 1, 30), outlierPValue(60, 30, 1));
    assert.equal(outlierLaw({ d: 30, referenceRows: 456 }), 'F(30, 426)');
    assert.equal(outlierLaw({ d: 30, referenceRows: null }), 'χ²(30)');
  });

  test('per-endpoint overrides: one endpoint rejects while the server flags', () => {
    const { guards } = guardsWith({ endpoints: { strict: { ranges: 'reject' } } });
    const far = request([[50, 100, 0]]);
    assert.ok(parsed(guards.forEndpoint('other').check('other', 'm', 3, far)).flags.length > 0);
    refused(() => guards.forEndpoint('strict').check('strict', 'm', 3, far), 'SECURITY_INPUT_OUT_OF_RANGE');
  });

  test('without a profile, or for a request the profile does not describe, the guards say nothing', () => {
    const none = createInferenceGuards({ inputs: inputOptions(undefined), outputs: outputOptions(undefined), profileOf: () => undefined }).forEndpoint('ep');
    assert.equal(none.check('ep', 'm', 3, request([[50, 100, 0]])), undefined);
    const other: InferenceRequest = { inputs: [{ name: 'y', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }] };
    assert.equal(guardsWith(undefined).guards.forEndpoint('ep').check('ep', 'm', 3, other), undefined);
    const narrow: InferenceRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array(2) }] };
    assert.equal(guardsWith(undefined).guards.forEndpoint('ep').check('ep', 'm', 3, narrow), undefined);
  });

  test('guards that are off are not called, and need no profile', () => {
    let asked = 0;
    const guards = createInferenceGuards({
      inputs: inputOptions({ ranges: 'off', outlier: { enabled: false } }),
      outputs: outputOptions(undefined),
      profileOf: () => {
        asked++;
        return referenceProfile();
      },
    });
    const g = guards.forEndpoint('ep');
    assert.equal(g.checksInputs, false);
    assert.equal(g.acceptNonFinite, false);
    assert.equal(g.harden, undefined);
    assert.equal(g.roundDigits, 0);
    assert.equal(asked, 0);
  });

  test('a singular reference covariance (a feature that copies another) still gives a finite score', () => {
    const random = createSeededRandom(5);
    const b = createProfileBuilder({ features: ['a', 'copy', 'c'].map((name, i) => ({ name, input: 'x', column: i, datatype: 'FP64' as const })), predictions: false });
    for (let i = 0; i < 100; i++) {
      const a = random.normal();
      b.add([a, a, random.normal()]);
    }
    const profile = b.finish({ model: 'm', version: 1, source: 't', createdAt: 0, createdBy: 't' });
    const ref = compileGuardReference(profile);
    assert.equal(ref.outlier?.covariance, 'full');
    const p = createInferenceGuards({ inputs: inputOptions(undefined), outputs: outputOptions(undefined), profileOf: () => profile }).forEndpoint('ep').check('ep', 'm', 1, {
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 3], data: Float64Array.from([0.5, 0.5, 0]) }],
    });
    assert.ok(Number.isFinite(p?.outlier_score), String(p?.outlier_score));
  });
});

describe('non-finite numbers', () => {
  const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [] };
  const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, null, 'Infinity'] }] };

  test('are refused by default, with a message that says which setting refuses them', () => {
    const error = refused(() => decodeInferenceRequest(body, signature), 'SERVING_INVALID_DATA');
    assert.match(error.message, /inputs\[0\]\.data\[1\]: expected a number for FP32, got null \(NaN and ±Infinity are refused: security\.inputGuards\.nonFinite is reject\)/);
  });

  test('decode as NaN and ±Infinity when let through, and are flagged with their count and first field', () => {
    const decoded = decodeInferenceRequest(body, signature, { acceptNonFinite: true });
    const data = decoded.inputs[0]?.data as Float32Array;
    assert.ok(Number.isNaN(data[1]));
    assert.equal(data[2], Infinity);
    assert.deepEqual(decoded.nonFinite, { count: 2, field: 'inputs[0].data[1]' });
    const { guards, metrics } = guardsWith({ nonFinite: 'flag' });
    const g = guards.forEndpoint('ep');
    assert.equal(g.acceptNonFinite, true);
    const p = g.check('ep', 'm', 3, request([[0, 0, 0]], decoded.nonFinite));
    assert.deepEqual(parsed(p).flags, [{ check: 'non_finite', field: 'inputs[0].data[1]', count: 2 }]);
    assert.deepEqual(metrics.counts, ['ep/3 non_finite flag']);
    // a row with NaN gets no distance, and NaN is no range violation
    const q = g.check('ep', 'm', 3, request([[NaN, 0, 0]]));
    assert.equal(q?.outlier_score, undefined);
    const allowed = guardsWith({ nonFinite: 'allow' }).guards.forEndpoint('ep');
    assert.equal(allowed.check('ep', 'm', 3, request([[0, 0, 0]], decoded.nonFinite))?.input_guard, undefined);
  });
});

describe('the tensor-element limit', () => {
  const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }, { name: 'y', datatype: 'FP32', shape: [-1] }], outputs: [] };

  test('refuses a shape of billions before allocating, naming the input, its shape and the limit', () => {
    const error = refused(() => decodeInferenceRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [100000, 100000], data: [] }] }, signature), 'SERVING_TENSOR_TOO_LARGE');
    assert.equal(error.kind, 'too_large');
    assert.match(error.message, /^inputs\[0\]\.shape: input 'x' declares shape \[100000, 100000\], 10,000,000,000 elements; a request may declare at most 16,777,216 elements in all \(serving\.maxTensorElements\)/);
  });

  test('counts every input together', () => {
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, { name: 'y', datatype: 'FP32', shape: [5], data: [1, 2, 3, 4, 5] }] };
    const error = refused(() => decodeInferenceRequest(body, signature, { maxTensorElements: 10 }), 'SERVING_TENSOR_TOO_LARGE');
    assert.match(error.message, /^inputs\[1\]\.shape: input 'y' declares shape \[5\], 5 elements \(11 with the inputs before it\); a request may declare at most 10 elements/);
    assert.equal(decodeInferenceRequest(body, signature, { maxTensorElements: 11 }).inputs.length, 2);
  });
});

describe('output hardening', () => {
  const scores: Tensor = { name: 'probabilities', datatype: 'FP32', shape: [2, 4], data: Float32Array.from([0.1, 0.4, 0.4, 0.1, 0.7, NaN, 0.05, 0.25]) };
  const label: Tensor = { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([1n, 0n]) };

  test('top-k keeps each row’s k largest scores in descending order, with their class indices beside', () => {
    const out = topKOutputs([label, scores], 2);
    assert.deepEqual(out.map((t) => [t.name, t.datatype, t.shape]), [
      ['label', 'INT64', [2]],
      ['probabilities', 'FP32', [2, 2]],
      ['probabilities_indices', 'INT64', [2, 2]],
    ]);
    assert.equal(out[0], label, 'other outputs pass unchanged');
    assert.deepEqual([...(out[1]?.data as Float32Array)].map((v) => Number(v.toFixed(4))), [0.4, 0.4, 0.7, 0.25], 'ties: the lower class first; NaN ranks last');
    assert.deepEqual([...(out[2]?.data as BigInt64Array)], [1n, 2n, 0n, 3n]);
    assert.deepEqual(scores.shape, [2, 4], 'the model output is not changed');
  });

  test('top-k leaves narrow outputs alone, works on FP16, and avoids a name the model uses', () => {
    assert.equal(topKOutputs([scores], 4)[0], scores);
    const half: Tensor = { name: 's', datatype: 'FP16', shape: [1, 3], data: Uint16Array.from([0.2, 0.9, 0.5].map(float32ToFloat16Bits)) };
    const taken: Tensor = { name: 's_indices', datatype: 'FP32', shape: [1], data: new Float32Array(1) };
    const out = topKOutputs([half, taken], 1);
    assert.deepEqual(out.map((t) => t.name), ['s', 's_topk_indices', 's_indices']);
    assert.ok(Math.abs(float16BitsToNumber((out[0]?.data as Uint16Array)[0] as number) - 0.9) < 1e-3);
  });

  test('rounding: floating-point outputs to N decimal places, printed short; other datatypes unchanged', () => {
    const [p, l] = encodeOutputs([{ name: 'p', datatype: 'FP32', shape: [4], data: Float32Array.from([0.123456, 0.98765, -0.0049, 0.5]) }, label], 2);
    assert.deepEqual(p?.data, [0.12, 0.99, -0, 0.5]);
    assert.equal(JSON.stringify(p?.data), '[0.12,0.99,0,0.5]');
    assert.deepEqual(l?.data, [1, 0]);
    const [raw] = encodeOutputs([{ name: 'p', datatype: 'FP32', shape: [1], data: Float32Array.from([0.1]) }]);
    assert.notEqual(raw?.data[0], 0.1, 'without rounding FP32 prints its full value');
  });

  test('the endpoint guards harden only where configured', () => {
    const guards = createInferenceGuards({ inputs: inputOptions(undefined), outputs: outputOptions({ endpoints: { hard: { topK: 1, roundDigits: 3 } } }) });
    assert.equal(guards.forEndpoint('soft').harden, undefined);
    const hard = guards.forEndpoint('hard');
    assert.equal(hard.roundDigits, 3);
    assert.deepEqual(hard.harden?.([scores]).map((t) => t.shape), [[2, 1], [2, 1]]);
  });
});
