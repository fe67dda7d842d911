import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import {
  ANALYSIS_DEFAULTS,
  parseEndpointSpecs,
  readEndpointSpecs,
  type AnalysisTemplate,
  type BlueGreenStrategy,
  type CanaryStrategy,
  type EndpointSpecDocument,
  type ExperimentStrategy,
  type ShadowStrategy,
} from '../../../../src/rollout/spec/index.js';

type Json = Record<string, unknown>;

const doc = (spec: Json = {}, over: Json = {}): Json => ({
  apiVersion: 'slipway.dev/v1',
  kind: 'Endpoint',
  metadata: { name: 'breast-cancer' },
  spec: { model: 'breast-cancer', version: 3, ...spec },
  ...over,
});
const withStrategy = (strategy: Json): Json => doc({ strategy });

interface Problem {
  path: string;
  message: string;
}

function problemsOf(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, 'ROLLOUT_SPEC_INVALID');
    assert.equal(error.kind, 'invalid');
    const problems = (error.details?.problems ?? []) as Problem[];
    for (const p of problems) assert.ok(error.message.includes(`${p.path || '(document)'}: ${p.message}`), `message lacks ${p.path}`);
    return problems;
  }
  assert.fail('expected ROLLOUT_SPEC_INVALID');
}

function expectProblem(value: unknown, path: string, message: RegExp): void {
  const problems = problemsOf(() => readEndpointSpecs(value));
  assert.ok(
    problems.some((p) => p.path === path && message.test(p.message)),
    `expected "${path}: ${String(message)}", got:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
  );
}

const only = (docs: readonly EndpointSpecDocument[]): EndpointSpecDocument => {
  assert.equal(docs.length, 1);
  return docs[0]!;
};

describe('endpoint spec: documents and targets', () => {
  test('reads a minimal document: a pinned version and no strategy (switch at once)', () => {
    const d = only(readEndpointSpecs(doc()));
    assert.deepEqual(d, {
      apiVersion: 'slipway.dev/v1',
      kind: 'Endpoint',
      metadata: { name: 'breast-cancer' },
      spec: { model: 'breast-cancer', target: { kind: 'version', model: 'breast-cancer', version: 3 }, description: undefined, strategy: undefined },
    });
    assert.ok(Object.isFrozen(d) && Object.isFrozen(d.spec) && Object.isFrozen(d.spec.target));
  });

  test('reads an alias target and a description', () => {
    const d = only(readEndpointSpecs(doc({ version: undefined, alias: 'production', description: 'the tour model' })));
    assert.deepEqual(d.spec.target, { kind: 'alias', model: 'breast-cancer', alias: 'production' });
    assert.equal(d.spec.description, 'the tour model');
  });

  test('parses a YAML stream of several documents, skipping empty ones', () => {
    const text = [
      '---',
      'apiVersion: slipway.dev/v1',
      'kind: Endpoint',
      'metadata: { name: one }',
      'spec: { model: m, version: 1 }',
      '---',
      'apiVersion: slipway.dev/v1',
      'kind: Endpoint',
      'metadata: { name: two }',
      'spec: { model: m, alias: staging }',
      '---',
      '',
    ].join('\n');
    const docs = parseEndpointSpecs(text);
    assert.deepEqual(docs.map((d) => d.metadata.name), ['one', 'two']);
  });

  test('prefixes paths with documents[i] in a stream and not for a lone document', () => {
    const one = 'apiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata: { name: one }\nspec: { model: m, version: 0 }\n';
    assert.deepEqual(problemsOf(() => parseEndpointSpecs(one)).map((p) => p.path), ['spec.version']);
    const two = `${one}---\napiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata: { name: Two }\nspec: { model: m, version: 1 }\n`;
    assert.deepEqual(problemsOf(() => parseEndpointSpecs(two)).map((p) => p.path), ['documents[0].spec.version', 'documents[1].metadata.name']);
  });

  test('reports YAML syntax errors with their document and line, together with the other documents’ problems', () => {
    const text = 'apiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata: { name: a }\nspec: { model: m, version: 1, version: 2 }\n---\nkind: [\n---\napiVersion: v2\nkind: Endpoint\nmetadata: { name: b }\nspec: { model: m, version: 1 }\n';
    const problems = problemsOf(() => parseEndpointSpecs(text, { source: 'deploy.yaml' }));
    assert.ok(problems.some((p) => p.path === 'documents[0]' && /YAML syntax error: Map keys must be unique at line 4/.test(p.message)), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.path === 'documents[1]' && /YAML syntax error/.test(p.message)));
    assert.ok(problems.some((p) => p.path === 'documents[2].apiVersion'));
    assert.throws(() => parseEndpointSpecs(text, { source: 'deploy.yaml' }), /invalid endpoint spec in deploy\.yaml \(\d+ problems\)/);
  });

  test('refuses a document that is not a mapping', () => {
    expectProblem('apiVersion: x', '(document)', /must be a mapping with apiVersion, kind, metadata and spec, got "apiVersion: x"/);
    expectProblem([doc(), 7], 'documents[1]', /must be a mapping/);
    assert.equal(problemsOf(() => parseEndpointSpecs('- a\n- b\n'))[0]?.path, '(document)');
  });

  test('refuses text with no document, and a body with none', () => {
    assert.deepEqual(problemsOf(() => parseEndpointSpecs('# nothing here\n')).map((p) => p.path), ['documents']);
    assert.deepEqual(problemsOf(() => readEndpointSpecs([])).map((p) => p.path), ['documents']);
  });

  test('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    const problems = problemsOf(() => parseEndpointSpecs(lines.join('\n')));
    assert.equal(problems[0]?.path, 'documents[0]');
  });

  test('reads a JSON body: one object plainly, a list with documents[i] paths', () => {
    assert.equal(readEndpointSpecs([doc(), doc({}, { metadata: { name: 'other' } })]).length, 2);
    expectProblem([doc(), doc({ version: 0 })], 'documents[1].spec.version', /version number/);
  });

  test('refuses two documents for one endpoint, and a preview endpoint that another document defines', () => {
    expectProblem([doc(), doc()], 'documents[1].metadata.name', /already defined by documents\[0\]/);
    expectProblem(
      [withStrategy({ blueGreen: { previewEndpoint: 'other' } }), doc({}, { metadata: { name: 'other' } })],
      'documents[0].spec.strategy.blueGreen.previewEndpoint',
      /defined as an endpoint by documents\[1\]/,
    );
  });

  test('collects every problem of a document at once', () => {
    const problems = problemsOf(() =>
      readEndpointSpecs(doc({ model: 'Bad Model', version: 0, strategy: { canary: { steps: [{ setWeight: 120 }, { pause: { duration: '60' } }], mirrorPercent: -1 } } })),
    );
    assert.deepEqual(problems.map((p) => p.path), ['spec.model', 'spec.version', 'spec.strategy.canary.steps[0].setWeight', 'spec.strategy.canary.steps[1].pause.duration', 'spec.strategy.canary.mirrorPercent']);
  });

  const topCases: [string, Json, string, RegExp][] = [
    ['missing apiVersion', doc({}, { apiVersion: undefined }), 'apiVersion', /is required: slipway\.dev\/v1/],
    ['unknown apiVersion', doc({}, { apiVersion: 'slipway.dev/v2' }), 'apiVersion', /must be slipway\.dev\/v1, got "slipway\.dev\/v2"/],
    ['missing kind', doc({}, { kind: undefined }), 'kind', /is required/],
    ['unknown kind', doc({}, { kind: 'Rollout' }), 'kind', /must be one of Endpoint, got "Rollout"/],
    ['unknown top-level key', doc({}, { status: {} }), 'status', /unknown key \(known: apiVersion, kind, metadata, spec\)/],
    ['missing metadata', doc({}, { metadata: undefined }), 'metadata', /is required/],
    ['missing name', doc({}, { metadata: {} }), 'metadata.name', /is required/],
    ['bad name', doc({}, { metadata: { name: 'Breast_Cancer' } }), 'metadata.name', /DNS label/],
    ['unknown metadata key', doc({}, { metadata: { name: 'a', labels: {} } }), 'metadata.labels', /unknown key/],
    ['missing spec', doc({}, { spec: undefined }), 'spec', /is required/],
    ['spec not a mapping', doc({}, { spec: [1] }), 'spec', /must be a mapping, got a list/],
    ['missing model', doc({ model: undefined }), 'spec.model', /is required/],
    ['bad model', doc({ model: 'a/b' }), 'spec.model', /DNS label/],
    ['version and alias', doc({ alias: 'production' }), 'spec', /has version and alias: give exactly one/],
    ['neither version nor alias', doc({ version: undefined }), 'spec', /needs a version to serve: one of version, alias/],
    ['version 0', doc({ version: 0 }), 'spec.version', /whole number ≥ 1\), got number 0/],
    ['fractional version', doc({ version: 2.5 }), 'spec.version', /whole number ≥ 1/],
    ['version as a string', doc({ version: '3' }), 'spec.version', /got "3"/],
    ['bad alias', doc({ version: undefined, alias: 'Prod!' }), 'spec.alias', /DNS label/],
    ['description not a string', doc({ description: 5 }), 'spec.description', /must be a string/],
    ['unknown spec key', doc({ replicas: 2 }), 'spec.replicas', /unknown key/],
    ['empty strategy', doc({ strategy: {} }), 'spec.strategy', /needs one of blueGreen, canary, experiment, shadow/],
    ['two strategies', doc({ strategy: { blueGreen: {}, shadow: { version: 4 } } }), 'spec.strategy', /has blueGreen and shadow: give exactly one strategy/],
    ['unknown strategy', doc({ strategy: { rolling: {} } }), 'spec.strategy.rolling', /unknown key/],
    ['strategy not a mapping', doc({ strategy: 'canary' }), 'spec.strategy', /must be a mapping/],
  ];
  for (const [what, value, path, message] of topCases) {
    test(`refuses ${what} at ${path}`, () => expectProblem(value, path, message));
  }
});

describe('endpoint spec: blueGreen', () => {
  test('applies the defaults: auto-promote at once, keep blue 30 s, no preview, smoke or analysis', () => {
    for (const value of [{}, null]) {
      const s = only(readEndpointSpecs(withStrategy({ blueGreen: value }))).spec.strategy as BlueGreenStrategy;
      assert.deepEqual(s, { kind: 'blueGreen', autoPromote: true, autoPromotionSeconds: 0, scaleDownDelaySeconds: 30, previewEndpoint: undefined, smokeRequests: [], prePromotionAnalysis: undefined });
    }
  });

  test('reads every field', () => {
    const s = only(
      readEndpointSpecs(
        withStrategy({
          blueGreen: {
            autoPromote: true,
            autoPromotionSeconds: 60,
            scaleDownDelaySeconds: 120,
            previewEndpoint: 'breast-cancer-preview',
            smokeRequests: [
              { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[0.5, 1]] }] },
              { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: ['oops'] }], outputs: [{ name: 'label' }], expectStatus: 400 },
            ],
            prePromotionAnalysis: { checks: [{ metric: 'error-rate', tolerance: 0 }] },
          },
        }),
      ),
    ).spec.strategy as BlueGreenStrategy;
    assert.equal(s.autoPromotionSeconds, 60);
    assert.equal(s.scaleDownDelaySeconds, 120);
    assert.equal(s.previewEndpoint, 'breast-cancer-preview');
    assert.deepEqual(s.smokeRequests, [
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[0.5, 1]] }], outputs: undefined, expectStatus: 200 },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: ['oops'] }], outputs: [{ name: 'label' }], expectStatus: 400 },
    ]);
    assert.deepEqual(s.prePromotionAnalysis?.checks, [{ metric: 'error-rate', tolerance: 0, relative: false, minimumDetectableEffect: 0.02, direction: 'lower-is-better', feedback: undefined }]);
  });

  const bg = (over: Json): Json => withStrategy({ blueGreen: over });
  const smoke = (input: Json, extra: Json = {}): Json => bg({ smokeRequests: [{ inputs: [input], ...extra }] });
  const x = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };
  const P = 'spec.strategy.blueGreen';
  const cases: [string, Json, string, RegExp][] = [
    ['a string autoPromote', bg({ autoPromote: 'yes' }), `${P}.autoPromote`, /must be true or false, got "yes"/],
    ['a negative autoPromotionSeconds', bg({ autoPromotionSeconds: -1 }), `${P}.autoPromotionSeconds`, /≥ 0/],
    ['a duration string in a *Seconds field', bg({ scaleDownDelaySeconds: '30s' }), `${P}.scaleDownDelaySeconds`, /must be a whole number, got "30s"/],
    ['autoPromotionSeconds without autoPromote', bg({ autoPromote: false, autoPromotionSeconds: 10 }), `${P}.autoPromotionSeconds`, /applies only when autoPromote is true/],
    ['a preview endpoint named like the endpoint', bg({ previewEndpoint: 'breast-cancer' }), `${P}.previewEndpoint`, /must differ/],
    ['a bad preview endpoint name', bg({ previewEndpoint: 'Preview' }), `${P}.previewEndpoint`, /DNS label/],
    ['smoke requests that are not a list', bg({ smokeRequests: {} }), `${P}.smokeRequests`, /must be a list/],
    ['a smoke request without inputs', bg({ smokeRequests: [{}] }), `${P}.smokeRequests[0].inputs`, /is required/],
    ['a smoke request with no input', bg({ smokeRequests: [{ inputs: [] }] }), `${P}.smokeRequests[0].inputs`, /at least one input/],
    ['an input without a name', smoke({ ...x, name: undefined }), `${P}.smokeRequests[0].inputs[0].name`, /is required/],
    ['an unknown datatype', smoke({ ...x, datatype: 'FLOAT' }), `${P}.smokeRequests[0].inputs[0].datatype`, /OIP datatype/],
    ['a negative dimension', smoke({ ...x, shape: [1, -1] }), `${P}.smokeRequests[0].inputs[0].shape[1]`, /whole number ≥ 0/],
    ['data of the wrong size', smoke({ ...x, data: [1, 2, 3] }), `${P}.smokeRequests[0].inputs[0].data`, /has 3 elements but shape \[1, 2\] needs 2/],
    ['data holding a mapping', smoke({ ...x, data: [1, { a: 1 }] }), `${P}.smokeRequests[0].inputs[0].data`, /only values or lists/],
    ['an unknown input key', smoke({ ...x, parameters: {} }), `${P}.smokeRequests[0].inputs[0].parameters`, /unknown key/],
    ['an expected status below 200', smoke(x, { expectStatus: 99 }), `${P}.smokeRequests[0].expectStatus`, /≥ 200 and ≤ 599, got 99/],
    ['an output without a name', smoke(x, { outputs: [{}] }), `${P}.smokeRequests[0].outputs[0].name`, /is required/],
    ['a shadow-disagreement check', bg({ prePromotionAnalysis: { checks: [{ metric: 'shadow-disagreement' }] } }), `${P}.prePromotionAnalysis.checks[0]`, /needs mirrored traffic/],
    ['an unknown key', bg({ postPromotionAnalysis: {} }), `${P}.postPromotionAnalysis`, /unknown key/],
  ];
  for (const [what, value, path, message] of cases) test(`refuses ${what}`, () => expectProblem(value, path, message));
});

describe('endpoint spec: canary', () => {
  test('reads steps, durations, stickiness, header route and mirror, with defaults', () => {
    const text = [
      'apiVersion: slipway.dev/v1',
      'kind: Endpoint',
      'metadata: { name: breast-cancer }',
      'spec:',
      '  model: breast-cancer',
      '  alias: production',
      '  strategy:',
      '    canary:',
      '      steps:',
      '        - setWeight: 10',
      '        - pause: { duration: 60s }',
      '        - pause: { duration: 90 }',
      '        - analysis: {}',
      '        - setWeight: 50.5',
      '        - pause: {}',
      '        - pause:',
      '      analysis: { interval: 1m, minimumSamplePerArm: 500, deadlineSeconds: 1800, alpha: 0.01 }',
      '      stickiness: { cookie: uid }',
      '      headerRoute: { header: X-Canary, value: "yes" }',
      '      mirrorPercent: 5',
    ].join('\n');
    const s = only(parseEndpointSpecs(text)).spec.strategy as CanaryStrategy;
    const defaults: AnalysisTemplate = {
      ...ANALYSIS_DEFAULTS,
      checks: [
        { metric: 'error-rate', tolerance: 0, relative: false, minimumDetectableEffect: 0.02, direction: 'lower-is-better', feedback: undefined },
        { metric: 'latency-mean-log', tolerance: 0.1, relative: false, minimumDetectableEffect: 0.1, direction: 'lower-is-better', feedback: undefined },
      ],
    };
    assert.deepEqual(s.steps, [
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationSeconds: 60 },
      { kind: 'pause', durationSeconds: 90 },
      { kind: 'analysis', analysis: defaults },
      { kind: 'setWeight', weight: 50.5 },
      { kind: 'pause', durationSeconds: undefined },
      { kind: 'pause', durationSeconds: undefined },
    ]);
    assert.deepEqual(s.analysis, { ...defaults, intervalSeconds: 60, minimumSamplePerArm: 500, deadlineSeconds: 1800, alpha: 0.01 });
    assert.deepEqual(s.stickiness, { kind: 'cookie', name: 'uid' });
    assert.deepEqual(s.headerRoute, { header: 'x-canary', value: 'yes' });
    assert.equal(s.mirrorPercent, 5);
  });

  test('defaults: no background analysis, stickiness or header route, no mirror; headerRoute {} is x-slipway-variant: canary', () => {
    const s = only(readEndpointSpecs(withStrategy({ canary: { steps: [{ setWeight: 20 }] } }))).spec.strategy as CanaryStrategy;
    assert.deepEqual(s, { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }], analysis: undefined, stickiness: undefined, headerRoute: undefined, mirrorPercent: 0 });
    const h = only(readEndpointSpecs(withStrategy({ canary: { steps: [{ setWeight: 20 }], headerRoute: {}, stickiness: { header: 'X-User-Id' } } }))).spec.strategy as CanaryStrategy;
    assert.deepEqual(h.headerRoute, { header: 'x-slipway-variant', value: 'canary' });
    assert.deepEqual(h.stickiness, { kind: 'header', name: 'x-user-id' });
  });

  const canary = (over: Json): Json => withStrategy({ canary: { steps: [{ setWeight: 10 }], ...over } });
  const step = (s: unknown): Json => canary({ steps: [{ setWeight: 10 }, s] });
  const P = 'spec.strategy.canary';
  const cases: [string, Json, string, RegExp][] = [
    ['a canary without steps', withStrategy({ canary: {} }), `${P}.steps`, /is required/],
    ['a canary that is null', withStrategy({ canary: null }), P, /must be a mapping with `steps`/],
    ['no steps', canary({ steps: [] }), `${P}.steps`, /at least one step/],
    ['steps not a list', canary({ steps: { setWeight: 10 } }), `${P}.steps`, /must be a list/],
    ['a step doing two things', step({ setWeight: 10, pause: {} }), `${P}.steps[1]`, /has setWeight and pause: a step does exactly one thing/],
    ['an empty step', step({}), `${P}.steps[1]`, /needs one of setWeight, pause, analysis/],
    ['an unknown step', step({ setCanaryScale: 1 }), `${P}.steps[1].setCanaryScale`, /unknown key/],
    ['a step that is not a mapping', step('pause'), `${P}.steps[1]`, /must be a mapping/],
    ['a weight above 100', step({ setWeight: 120 }), `${P}.steps[1].setWeight`, /^must be ≥ 0 and ≤ 100, got 120$/],
    ['a negative weight', step({ setWeight: -5 }), `${P}.steps[1].setWeight`, /≥ 0 and ≤ 100, got -5/],
    ['a weight as a string', step({ setWeight: '10' }), `${P}.steps[1].setWeight`, /must be a number, got "10"/],
    ['a null weight', step({ setWeight: null }), `${P}.steps[1].setWeight`, /is required/],
    ['a duration without a unit', step({ pause: { duration: '60' } }), `${P}.steps[1].pause.duration`, /must be a duration such as '30s'/],
    ['a fractional duration', step({ pause: { duration: '1.5m' } }), `${P}.steps[1].pause.duration`, /duration/],
    ['a zero pause', step({ pause: { duration: 0 } }), `${P}.steps[1].pause.duration`, /at least 1 s/],
    ['a pause over 31 days', step({ pause: { duration: '800h' } }), `${P}.steps[1].pause.duration`, /at most 2678400 s/],
    ['a pause that is a number', step({ pause: 60 }), `${P}.steps[1].pause`, /must be a mapping/],
    ['an unknown pause key', step({ pause: { until: 'promote' } }), `${P}.steps[1].pause.until`, /unknown key/],
    ['a bad step analysis', step({ analysis: { interval: '0s' } }), `${P}.steps[1].analysis.interval`, /at least 1 s/],
    ['stickiness by header and cookie', canary({ stickiness: { header: 'x-user-id', cookie: 'uid' } }), `${P}.stickiness`, /has header and cookie: give exactly one/],
    ['empty stickiness', canary({ stickiness: {} }), `${P}.stickiness`, /needs where the sticky key is read/],
    ['a header name with a space', canary({ stickiness: { header: 'x user' } }), `${P}.stickiness.header`, /header name/],
    ['a cookie name with a semicolon', canary({ stickiness: { cookie: 'a;b' } }), `${P}.stickiness.cookie`, /cookie name/],
    ['an empty header route value', canary({ headerRoute: { value: '' } }), `${P}.headerRoute.value`, /non-empty string/],
    ['a bad header route name', canary({ headerRoute: { header: 'x:y' } }), `${P}.headerRoute.header`, /header name/],
    ['a mirror above 100 %', canary({ mirrorPercent: 101 }), `${P}.mirrorPercent`, /≤ 100/],
    ['a shadow-disagreement check without a mirror', canary({ analysis: { checks: [{ metric: 'shadow-disagreement' }] } }), `${P}.analysis.checks[0]`, /needs mirrorPercent > 0/],
    ['a step shadow-disagreement check without a mirror', step({ analysis: { checks: [{ metric: 'shadow-disagreement' }] } }), `${P}.steps[1].analysis.checks[0]`, /needs mirrorPercent > 0/],
    ['an unknown key', canary({ trafficRouting: {} }), `${P}.trafficRouting`, /unknown key/],
  ];
  for (const [what, value, path, message] of cases) test(`refuses ${what}`, () => expectProblem(value, path, message));

  test('accepts shadow-disagreement when the canary mirrors', () => {
    const s = only(readEndpointSpecs(withStrategy({ canary: { steps: [{ setWeight: 10 }], mirrorPercent: 10, analysis: { checks: [{ metric: 'shadow-disagreement' }] } } }))).spec.strategy as CanaryStrategy;
    assert.deepEqual(s.analysis?.checks, [{ metric: 'shadow-disagreement', tolerance: 0.05, relative: false, minimumDetectableEffect: undefined, direction: 'lower-is-better', feedback: undefined }]);
  });
});

describe('endpoint spec: analysis template', () => {
  const analysis = (template: unknown): Json => withStrategy({ canary: { steps: [{ analysis: template }] } });
  const read = (template: unknown): AnalysisTemplate => {
    const s = only(readEndpointSpecs(analysis(template))).spec.strategy as CanaryStrategy;
    const first = s.steps[0];
    assert.equal(first?.kind, 'analysis');
    return (first as { analysis: AnalysisTemplate }).analysis;
  };

  test('fills built-in check defaults and keeps an explicit tolerance in the default mode', () => {
    const t = read({ checks: [{ metric: 'latency-p99' }, { metric: 'latency-mean-log' }, { metric: 'prediction-js', tolerance: 0.2 }, { metric: 'error-rate', relative: true, tolerance: 0.5 }] });
    assert.deepEqual(t.checks.map((c) => [c.metric, c.tolerance, c.relative]), [
      ['latency-p99', 0.2, true],
      ['latency-mean-log', 0.1, false],
      ['prediction-js', 0.2, false],
      ['error-rate', 0.5, true],
    ]);
  });

  test('reads feedback checks: rate by default with the event named like the metric, or mean and accuracy', () => {
    const t = read({
      checks: [
        { metric: 'feedback:converted', direction: 'higher-is-better', tolerance: 0.01 },
        { metric: 'feedback:revenue', kind: 'mean', event: 'purchase', direction: 'higher-is-better', tolerance: 0.1, relative: true },
        { metric: 'feedback:accuracy', kind: 'accuracy', direction: 'higher-is-better', tolerance: 0.02 },
      ],
    });
    assert.deepEqual(t.checks, [
      { metric: 'feedback:converted', tolerance: 0.01, relative: false, minimumDetectableEffect: undefined, direction: 'higher-is-better', feedback: { name: 'converted', kind: 'rate', event: 'converted' } },
      { metric: 'feedback:revenue', tolerance: 0.1, relative: true, minimumDetectableEffect: undefined, direction: 'higher-is-better', feedback: { name: 'revenue', kind: 'mean', event: 'purchase' } },
      { metric: 'feedback:accuracy', tolerance: 0.02, relative: false, minimumDetectableEffect: undefined, direction: 'higher-is-better', feedback: { name: 'accuracy', kind: 'accuracy', event: undefined } },
    ]);
  });

  const P = 'spec.strategy.canary.steps[0].analysis';
  const cases: [string, unknown, string, RegExp][] = [
    ['a template that is a list', [], P, /must be a mapping/],
    ['an interval without a unit', { interval: '30' }, `${P}.interval`, /duration/],
    ['an interval over a day', { interval: '25h' }, `${P}.interval`, /at most 86400 s/],
    ['a zero minimum sample', { minimumSamplePerArm: 0 }, `${P}.minimumSamplePerArm`, /≥ 1/],
    ['a fractional minimum sample', { minimumSamplePerArm: 10.5 }, `${P}.minimumSamplePerArm`, /whole number/],
    ['a deadline shorter than the interval', { interval: '5m', deadlineSeconds: 60 }, `${P}.deadlineSeconds`, /at least the interval \(300 s\), got 60/],
    ['a deadline as a duration string', { deadlineSeconds: '10m' }, `${P}.deadlineSeconds`, /whole number/],
    ['alpha 0', { alpha: 0 }, `${P}.alpha`, /> 0 and ≤ 0\.5/],
    ['alpha above 0.5', { alpha: 0.6 }, `${P}.alpha`, /> 0 and ≤ 0\.5/],
    ['no checks', { checks: [] }, `${P}.checks`, /at least one check/],
    ['checks not a list', { checks: { metric: 'error-rate' } }, `${P}.checks`, /must be a list/],
    ['a check without a metric', { checks: [{ tolerance: 0.1 }] }, `${P}.checks[0].metric`, /is required/],
    ['an unknown metric', { checks: [{ metric: 'accuracy' }] }, `${P}.checks[0].metric`, /must be one of error-rate, latency-p99, latency-mean-log, prediction-js, shadow-disagreement, or feedback:<name>/],
    ['a check that is null', { checks: [null] }, `${P}.checks[0]`, /must be a mapping/],
    ['a metric checked twice', { checks: [{ metric: 'error-rate' }, { metric: 'error-rate', tolerance: 0.02 }] }, `${P}.checks[1]`, /again \(already checks\[0\]\)/],
    ['a negative tolerance', { checks: [{ metric: 'error-rate', tolerance: -0.01 }] }, `${P}.checks[0].tolerance`, /≥ 0/],
    ['an absolute error-rate tolerance above 1', { checks: [{ metric: 'error-rate', tolerance: 2 }] }, `${P}.checks[0].tolerance`, /≤ 1, got 2/],
    ['a direction on a built-in metric', { checks: [{ metric: 'error-rate', direction: 'higher-is-better' }] }, `${P}.checks[0].direction`, /applies only to feedback/],
    ['relative switched without a tolerance', { checks: [{ metric: 'latency-p99', relative: false }] }, `${P}.checks[0].tolerance`, /is required when relative is false/],
    ['a non-boolean relative', { checks: [{ metric: 'error-rate', relative: 'yes', tolerance: 0.1 }] }, `${P}.checks[0].relative`, /true or false/],
    ['an unknown check key', { checks: [{ metric: 'error-rate', threshold: 0.1 }] }, `${P}.checks[0].threshold`, /unknown key/],
    ['a feedback check without a direction', { checks: [{ metric: 'feedback:converted', tolerance: 0.01 }] }, `${P}.checks[0].direction`, /is required/],
    ['a feedback check without a tolerance', { checks: [{ metric: 'feedback:converted', direction: 'higher-is-better' }] }, `${P}.checks[0].tolerance`, /is required/],
    ['a feedback check with no name', { checks: [{ metric: 'feedback:', direction: 'higher-is-better', tolerance: 0 }] }, `${P}.checks[0].metric`, /1–63 letters/],
    ['a feedback check of an unknown kind', { checks: [{ metric: 'feedback:x', kind: 'median', direction: 'higher-is-better', tolerance: 0 }] }, `${P}.checks[0].kind`, /rate, mean, accuracy/],
    ['an event on an accuracy check', { checks: [{ metric: 'feedback:acc', kind: 'accuracy', event: 'x', direction: 'higher-is-better', tolerance: 0 }] }, `${P}.checks[0].event`, /does not apply to kind accuracy/],
    ['a bad direction', { checks: [{ metric: 'feedback:x', direction: 'up', tolerance: 0 }] }, `${P}.checks[0].direction`, /higher-is-better, lower-is-better/],
    ['a feedback check at tolerance 0 without a minimum effect', { checks: [{ metric: 'feedback:x', direction: 'higher-is-better', tolerance: 0 }] }, `${P}.checks[0].minimumDetectableEffect`, /is required when tolerance is 0/],
    ['a minimum effect that is not positive', { checks: [{ metric: 'error-rate', minimumDetectableEffect: 0 }] }, `${P}.checks[0].minimumDetectableEffect`, /must be > 0/],
    ['a relative error-rate at tolerance 0 with no effect to size it', { checks: [{ metric: 'error-rate', relative: true, tolerance: 0 }] }, `${P}.checks[0].minimumDetectableEffect`, /is required when tolerance is 0/],
    ['an unknown template key', { successCondition: 'x' }, `${P}.successCondition`, /unknown key/],
  ];
  for (const [what, template, path, message] of cases) test(`refuses ${what}`, () => expectProblem(analysis(template), path, message));
});

describe('endpoint spec: experiment', () => {
  const variants = [
    { name: 'control', version: 3, weight: 50 },
    { name: 'treatment', alias: 'challenger', weight: 50 },
  ];
  const metrics = [{ name: 'conversion', kind: 'rate', event: 'converted', direction: 'higher-is-better' }];

  test('reads variants, metrics and defaults: stop on significance, α 0.05, no stickiness', () => {
    const s = only(readEndpointSpecs(withStrategy({ experiment: { variants, metrics } }))).spec.strategy as ExperimentStrategy;
    assert.deepEqual(s, {
      kind: 'experiment',
      variants: [
        { name: 'control', target: { kind: 'version', model: 'breast-cancer', version: 3 }, weight: 50 },
        { name: 'treatment', target: { kind: 'alias', model: 'breast-cancer', alias: 'challenger' }, weight: 50 },
      ],
      stickiness: undefined,
      metrics: [{ name: 'conversion', kind: 'rate', event: 'converted', direction: 'higher-is-better' }],
      stoppingRule: { maxDurationSeconds: undefined, maxSamplesPerVariant: undefined, stopOnSignificance: true },
      alpha: 0.05,
    });
  });

  test('reads a stopping rule, stickiness, alpha and a rate metric whose event defaults to its name', () => {
    const s = only(
      readEndpointSpecs(
        withStrategy({
          experiment: {
            variants,
            metrics: [{ name: 'converted', kind: 'rate', direction: 'higher-is-better' }, { name: 'revenue', kind: 'mean', direction: 'higher-is-better' }],
            stickiness: { header: 'x-user-id' },
            stoppingRule: { maxDurationSeconds: 86400, maxSamplesPerVariant: 5000, stopOnSignificance: false },
            alpha: 0.01,
          },
        }),
      ),
    ).spec.strategy as ExperimentStrategy;
    assert.deepEqual(s.metrics.map((m) => m.event), ['converted', undefined]);
    assert.deepEqual(s.stoppingRule, { maxDurationSeconds: 86400, maxSamplesPerVariant: 5000, stopOnSignificance: false });
    assert.deepEqual(s.stickiness, { kind: 'header', name: 'x-user-id' });
    assert.equal(s.alpha, 0.01);
  });

  const exp = (over: Json): Json => withStrategy({ experiment: { variants, metrics, ...over } });
  const variant = (v: Json): Json => exp({ variants: [variants[0], v] });
  const metric = (m: Json): Json => exp({ metrics: [m] });
  const P = 'spec.strategy.experiment';
  const cases: [string, Json, string, RegExp][] = [
    ['an experiment without variants', exp({ variants: undefined }), `${P}.variants`, /is required/],
    ['one variant', exp({ variants: [variants[0]] }), `${P}.variants`, /at least 2 variants, got 1/],
    ['duplicate variant names', variant({ ...variants[1], name: 'control' }), `${P}.variants[1].name`, /duplicates variants\[0\]\.name "control"/],
    ['a variant named stable', variant({ ...variants[1], name: 'stable' }), `${P}.variants[1].name`, /reserved/],
    ['a variant without a name', variant({ version: 4, weight: 1 }), `${P}.variants[1].name`, /is required/],
    ['a variant without a version', variant({ name: 'b', weight: 1 }), `${P}.variants[1]`, /needs a version to serve/],
    ['a variant with version and alias', variant({ name: 'b', version: 4, alias: 'x', weight: 1 }), `${P}.variants[1]`, /give exactly one of version, alias/],
    ['a variant without a weight', variant({ name: 'b', version: 4 }), `${P}.variants[1].weight`, /is required/],
    ['a negative weight', variant({ name: 'b', version: 4, weight: -1 }), `${P}.variants[1].weight`, /≥ 0/],
    ['weights that add up to 0', exp({ variants: [{ name: 'a', version: 3, weight: 0 }, { name: 'b', version: 4, weight: 0 }] }), `${P}.variants`, /add up to more than 0/],
    ['an unknown variant key', variant({ name: 'b', version: 4, weight: 1, model: 'other' }), `${P}.variants[1].model`, /unknown key/],
    ['an experiment without metrics', exp({ metrics: undefined }), `${P}.metrics`, /is required/],
    ['no metrics', exp({ metrics: [] }), `${P}.metrics`, /at least one metric/],
    ['a metric without a kind', metric({ name: 'c', direction: 'higher-is-better' }), `${P}.metrics[0].kind`, /is required/],
    ['a metric of an unknown kind', metric({ name: 'c', kind: 'sum', direction: 'higher-is-better' }), `${P}.metrics[0].kind`, /rate, mean, accuracy/],
    ['a metric without a direction', metric({ name: 'c', kind: 'rate' }), `${P}.metrics[0].direction`, /is required/],
    ['a metric with a bad name', metric({ name: 'c d', kind: 'rate', direction: 'higher-is-better' }), `${P}.metrics[0].name`, /1–63 letters/],
    ['an accuracy metric with an event', metric({ name: 'acc', kind: 'accuracy', event: 'x', direction: 'higher-is-better' }), `${P}.metrics[0].event`, /does not apply/],
    ['duplicate metric names', exp({ metrics: [metrics[0], metrics[0]] }), `${P}.metrics[1].name`, /duplicates metrics\[0\]/],
    ['a zero maximum duration', exp({ stoppingRule: { maxDurationSeconds: 0 } }), `${P}.stoppingRule.maxDurationSeconds`, /≥ 1/],
    ['a fractional sample cap', exp({ stoppingRule: { maxSamplesPerVariant: 1.5 } }), `${P}.stoppingRule.maxSamplesPerVariant`, /whole number/],
    ['a string stopOnSignificance', exp({ stoppingRule: { stopOnSignificance: 'true' } }), `${P}.stoppingRule.stopOnSignificance`, /true or false/],
    ['an unknown stopping rule key', exp({ stoppingRule: { minSamples: 1 } }), `${P}.stoppingRule.minSamples`, /unknown key/],
    ['alpha 1', exp({ alpha: 1 }), `${P}.alpha`, /≤ 0\.5/],
    ['stickiness by both', exp({ stickiness: { header: 'a', cookie: 'b' } }), `${P}.stickiness`, /exactly one/],
  ];
  for (const [what, value, path, message] of cases) test(`refuses ${what}`, () => expectProblem(value, path, message));
});

describe('endpoint spec: shadow', () => {
  test('mirrors everything by default', () => {
    const s = only(readEndpointSpecs(withStrategy({ shadow: { version: 4 } }))).spec.strategy as ShadowStrategy;
    assert.deepEqual(s, { kind: 'shadow', target: { kind: 'version', model: 'breast-cancer', version: 4 }, mirrorPercent: 100 });
    const a = only(readEndpointSpecs(withStrategy({ shadow: { alias: 'challenger', mirrorPercent: 12.5 } }))).spec.strategy as ShadowStrategy;
    assert.deepEqual(a, { kind: 'shadow', target: { kind: 'alias', model: 'breast-cancer', alias: 'challenger' }, mirrorPercent: 12.5 });
  });

  const P = 'spec.strategy.shadow';
  const cases: [string, Json, string, RegExp][] = [
    ['a shadow without a version', withStrategy({ shadow: {} }), P, /needs a version to serve/],
    ['a shadow of the endpoint’s own version', withStrategy({ shadow: { version: 3 } }), P, /endpoint's own target/],
    ['a shadow of the endpoint’s own alias', doc({ version: undefined, alias: 'production', strategy: { shadow: { alias: 'production' } } }), P, /endpoint's own target/],
    ['a zero mirror', withStrategy({ shadow: { version: 4, mirrorPercent: 0 } }), `${P}.mirrorPercent`, /must be > 0/],
    ['a mirror above 100 %', withStrategy({ shadow: { version: 4, mirrorPercent: 150 } }), `${P}.mirrorPercent`, /≤ 100/],
    ['a shadow that is null', withStrategy({ shadow: null }), P, /must be a mapping/],
    ['an unknown key', withStrategy({ shadow: { version: 4, analysis: {} } }), `${P}.analysis`, /unknown key/],
  ];
  for (const [what, value, path, message] of cases) test(`refuses ${what}`, () => expectProblem(value, path, message));
});

describe('endpoint spec: the full example', () => {
  test('parses the documented example with every strategy in a stream', () => {
    const text = `
apiVersion: slipway.dev/v1
kind: Endpoint
metadata:
  name: breast-cancer
spec:
  model: breast-cancer
  version: 3
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: { duration: 60s }
        - analysis:
            interval: 30s
            minimumSamplePerArm: 200
            deadlineSeconds: 600
            alpha: 0.05
            checks:
              - { metric: error-rate, tolerance: 0.01 }
              - { metric: latency-p99, tolerance: 0.2, relative: true }
        - setWeight: 50
      analysis: { interval: 1m, checks: [ { metric: error-rate } ] }
      stickiness: { header: x-user-id }
      headerRoute: { header: x-slipway-variant, value: canary }
      mirrorPercent: 0
---
apiVersion: slipway.dev/v1
kind: Endpoint
metadata: { name: digits }
spec:
  model: digits
  alias: production
  strategy:
    blueGreen:
      autoPromote: false
      scaleDownDelaySeconds: 30
      previewEndpoint: digits-preview
---
apiVersion: slipway.dev/v1
kind: Endpoint
metadata: { name: bikes }
spec:
  model: bike-sharing
  version: 2
  strategy:
    experiment:
      variants: [ {name: control, version: 2, weight: 50}, {name: treatment, version: 3, weight: 50} ]
      stickiness: { cookie: uid }
      metrics: [ {name: conversion, kind: rate, event: converted, direction: higher-is-better} ]
      stoppingRule: { maxDurationSeconds: 604800, stopOnSignificance: true }
---
apiVersion: slipway.dev/v1
kind: Endpoint
metadata: { name: bikes-shadow }
spec:
  model: bike-sharing
  version: 2
  strategy:
    shadow: { version: 3, mirrorPercent: 100 }
`;
    const docs = parseEndpointSpecs(text);
    assert.deepEqual(docs.map((d) => d.spec.strategy?.kind), ['canary', 'blueGreen', 'experiment', 'shadow']);
    assert.ok(docs.every((d) => Object.isFrozen(d.spec.strategy)));
    assert.throws(() => {
      (docs[0]!.spec.strategy as { mirrorPercent: number }).mirrorPercent = 50;
    }, TypeError);
  });
});
