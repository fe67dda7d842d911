/**
 * Rollouts end to end through the real server: `POST /api/v1/apply` with each strategy, the
 * verbs, rollback, an alias move starting the strategy, automatic abort by analysis, and the
 * guarantees the issue asks for — no failed client request during a blue-green switch, an abort
 * or a rollback under concurrent load; a server restarted mid-canary routing its first requests
 * exactly as before. The add models answer y = x + k, so an answer tells which version served.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chiSquareGoodnessOfFit } from '../../src/stats/index.js';
import { addModel, slowModel } from '../support/models.js';
import { addRequest, startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ overrides: { 'rollouts.tickMs': 100, 'rollouts.experimentLookMs': 200 } });
  await s.push('m', addModel(1)); // v1: y = x + 1
  await s.push('m', addModel(2)); // v2: y = x + 2
  await s.push('m', addModel(3)); // v3: y = x + 3
  await s.push('m', slowModel(8, 1)); // v4: takes [batch, 8], so it fails every request shaped for v1–v3: a broken candidate
});
after(async () => {
  await s.stop();
});

interface RolloutView {
  id: string;
  phase: string;
  stepIndex: number;
  currentWeight: number;
  stableVersion: number;
  candidateVersion: number | null;
  pauseReason: string | null;
  winner: string | null;
  conditions: { type: string; status: string; reason: string }[];
}

function doc(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'slipway.dev/v1', kind: 'Endpoint', metadata: { name }, spec: { model: 'm', ...spec } };
}

async function apply(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return s.call('POST', '/api/v1/apply', body);
}

async function status(endpoint: string): Promise<{ rollout: RolloutView | null; strategy: unknown; stableVersion: number; targetVersion: number; observed: { variants: { variant: string; requests: number }[]; shadow: { summary: { comparisons: number; meanAbsDiff: number | null } } | null } | null }> {
  const r = await s.call('GET', `/api/v1/endpoints/${endpoint}/rollout`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.status as never;
}

/** Polls the endpoint's rollout until `check` holds (bounded). */
async function until(endpoint: string, check: (r: RolloutView) => boolean, what: string, timeoutMs = 20_000): Promise<RolloutView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await status(endpoint);
    if (st.rollout !== null && check(st.rollout)) return st.rollout;
    if (Date.now() > deadline) throw new Error(`rollout of ${endpoint} never reached: ${what}; last: ${JSON.stringify(st.rollout)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function served(endpoint: string, headers: Record<string, string> = {}): Promise<{ status: number; version: number; variant: string | null }> {
  const r = await s.call('POST', `/v2/models/${endpoint}/infer`, addRequest([[0, 0, 0, 0]]), headers);
  const y = (r.json.outputs as { data: number[] }[] | undefined)?.[0]?.data[0];
  return { status: r.status, version: Number(y), variant: r.headers.get('x-slipway-variant') };
}

/** Keeps `clients` callers busy until stopped; collects every status and served version. */
function load(endpoint: string, clients = 4): { stop(): Promise<{ status: number; version: number }[]> } {
  let running = true;
  const out: { status: number; version: number }[] = [];
  const workers = Array.from({ length: clients }, async () => {
    // bounded: at most 20,000 requests per worker
    for (let i = 0; running && i < 20_000; i++) out.push(await served(endpoint));
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return out;
    },
  };
}

describe('apply', () => {
  test('an invalid spec is refused with every problem by path, and nothing changes', async () => {
    await s.deploy('untouched', 'm', 1);
    const r = await apply(doc('untouched', { version: 0, strategy: { canary: { steps: [{ setWeight: 120 }] } } }));
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.code, 'ROLLOUT_SPEC_INVALID');
    const paths = ((r.json.details as { problems: { path: string }[] }).problems ?? []).map((p) => p.path);
    assert.ok(paths.includes('spec.version'), paths.join(', '));
    assert.ok(paths.includes('spec.strategy.canary.steps[0].setWeight'), paths.join(', '));
    const ep = await s.call('GET', '/api/v1/endpoints/untouched');
    assert.equal((ep.json.endpoint as { version: number }).version, 1);
    assert.equal((await status('untouched')).rollout, null);

    const unknown = await apply(doc('untouched', { version: 9 }));
    assert.equal(unknown.status, 404, JSON.stringify(unknown.json));
    // a document the registry refuses stops the whole apply before the documents ahead of it change anything
    const mixed = await apply([doc('untouched', { version: 2 }), doc('other', { version: 1, strategy: { shadow: { version: 9 } } })]);
    assert.equal(mixed.status, 404, JSON.stringify(mixed.json));
    assert.equal((await served('untouched')).version, 1);
    assert.equal((await s.call('GET', '/api/v1/endpoints/untouched')).json.endpoint !== undefined, true);
  });

  test('apply creates an endpoint, and applying the same spec again changes nothing', async () => {
    const first = await apply(doc('created', { version: 2 }));
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal((first.json.results as { action: string }[])[0]?.action, 'created');
    await s.waitForVersion('created', 2);
    const again = await apply(doc('created', { version: 2 }));
    assert.equal((again.json.results as { action: string }[])[0]?.action, 'unchanged');
    const dry = await s.call('POST', '/api/v1/apply?dryRun=true', doc('created', { version: 3, strategy: { canary: { steps: [{ setWeight: 10 }] } } }));
    assert.equal(dry.status, 200, JSON.stringify(dry.json));
    assert.deepEqual(dry.json, { dryRun: true, endpoints: [{ endpoint: 'created', model: 'm', strategy: 'canary' }] });
    assert.equal((await served('created')).version, 2, 'a dry run applies nothing');
  });
});

describe('canary', () => {
  test('steps set the split, a pause waits for promote, and promotion makes the candidate stable', async () => {
    await s.deploy('canary', 'm', 1);
    const r = await apply(doc('canary', { version: 2, strategy: { canary: { steps: [{ setWeight: 30 }, { pause: {} }] } } }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const started = (r.json.results as { rollout: RolloutView | null }[])[0]?.rollout;
    assert.equal(started?.stableVersion, 1);
    assert.equal(started?.candidateVersion, 2);
    const paused = await until('canary', (x) => x.phase === 'Paused' && x.currentWeight === 30, 'paused at 30 %');
    assert.equal(paused.pauseReason, 'PausedByStep');
    // the registry names the new target; stable keeps serving until promotion
    const st = await status('canary');
    assert.equal(st.stableVersion, 1);
    assert.equal(st.targetVersion, 2);

    const answers: number[] = [];
    for (let i = 0; i < 1000; i++) answers.push((await served('canary')).version);
    const two = answers.filter((v) => v === 2).length;
    const one = answers.filter((v) => v === 1).length;
    assert.equal(one + two, 1000);
    const fit = chiSquareGoodnessOfFit([two, one], [30, 70]);
    assert.ok(fit.pValue > 0.001, `observed ${two} / ${one}`);

    const promoted = await s.call('POST', '/api/v1/endpoints/canary/rollout/promote', { message: 'looks good' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.json));
    await until('canary', (x) => x.phase === 'Promoted', 'promoted');
    await s.waitForVersion('canary', 2);
    assert.equal((await served('canary')).version, 2);
    const id = (promoted.json.rollout as RolloutView).id;
    const events = await s.call('GET', `/api/v1/rollouts/${id}/events`);
    const kinds = (events.json.events as { type: string; actor: string; reason: string }[]).map((e) => `${e.type}/${e.reason}`);
    assert.deepEqual(kinds, ['started/RolloutStarted', 'candidateReady/CandidateReady', 'promote/PromotedByUser', 'finalized/PromotionCompleted']);
    // a finished rollout refuses further verbs by name
    const late = await s.call('POST', '/api/v1/endpoints/canary/rollout/abort', {});
    assert.equal(late.status, 409);
    assert.equal(late.json.code, 'ROLLOUT_STATE_FINISHED');
  });

  test('an analysis that sees the candidate fail aborts the rollout by itself and sends all traffic back to stable', async () => {
    await s.deploy('bad-canary', 'm', 1);
    const r = await apply(
      doc('bad-canary', {
        version: 4,
        strategy: {
          canary: {
            steps: [{ setWeight: 50 }, { analysis: { interval: '1s', minimumSamplePerArm: 30, checks: [{ metric: 'error-rate', tolerance: 0, minimumDetectableEffect: 0.05 }] } }, { pause: {} }],
          },
        },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('bad-canary', (x) => x.currentWeight === 50 && x.stepIndex === 1, 'analysis step at 50 %');
    let failures = 0;
    let sent = 0;
    // bounded: until the rollout aborts, or 3,000 requests
    for (; sent < 3000; sent++) {
      const answer = await served('bad-canary');
      if (answer.status !== 200) failures++;
      if (sent % 50 === 49 && (await status('bad-canary')).rollout?.phase === 'Aborted') break;
    }
    assert.ok(failures > 0, 'the broken candidate failed requests');
    const ended = await until('bad-canary', (x) => x.phase === 'Aborted', 'aborted by the analysis');
    assert.equal(ended.conditions.find((c) => c.type === 'Completed')?.reason, 'AbortedByAnalysis');
    const events = await s.call('GET', `/api/v1/rollouts/${ended.id}/events`);
    const verdict = (events.json.events as { reason: string; evidence: { checks: { verdict: string; evidence: { nBaseline: number; nCandidate: number; interval: unknown; pValue: number } }[] } | null }[]).find((e) => e.reason === 'AbortedByAnalysis');
    const check = verdict?.evidence?.checks[0];
    assert.equal(check?.verdict, 'Fail');
    assert.ok((check?.evidence.nBaseline ?? 0) >= 30 && (check?.evidence.nCandidate ?? 0) >= 30, JSON.stringify(check?.evidence));
    assert.ok((check?.evidence.pValue ?? 1) < 0.05, 'the evidence carries its always-valid p-value');
    for (let i = 0; i < 20; i++) {
      const answer = await served('bad-canary');
      assert.equal(answer.status, 200);
      assert.equal(answer.version, 1);
    }
  });

  test('equal error rates on both arms are no regression: the analysis does not fail the candidate', async () => {
    await s.deploy('even-canary', 'm', 1);
    const r = await apply(
      doc('even-canary', {
        version: 2,
        strategy: { canary: { steps: [{ setWeight: 50 }, { analysis: { interval: '1s', minimumSamplePerArm: 30, checks: [{ metric: 'error-rate', tolerance: 0, minimumDetectableEffect: 0.05 }] } }] } },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('even-canary', (x) => x.currentWeight === 50 && x.stepIndex === 1, 'analysis step at 50 %');
    // every other request is malformed, whichever version gets it: both arms fail half their requests
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      const bad = i % 2 === 0;
      const res = await s.call('POST', '/v2/models/even-canary/infer', bad ? { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0] }] } : addRequest([[0, 0, 0, 0]]));
      if (res.status !== 200) failures++;
    }
    assert.equal(failures, 200);
    const looked = await until('even-canary', (x) => x.conditions.some((c) => c.type === 'AnalysisPassing' && c.reason !== 'AnalysisPending'), 'one analysis look');
    assert.ok(looked.phase === 'Progressing' || looked.phase === 'Promoted' || looked.phase === 'Promoting', `not aborted: ${looked.phase}`);
    const st = await status('even-canary');
    if (st.rollout?.phase === 'Progressing') await s.call('POST', '/api/v1/endpoints/even-canary/rollout/abort', { message: 'test over' });
  });

  test('a timed pause ends by itself and the last step promotes; an analysis without data waits, then pauses for a person at its deadline', async () => {
    await s.deploy('timed', 'm', 1);
    const r = await apply(doc('timed', { version: 2, strategy: { canary: { steps: [{ setWeight: 25 }, { pause: { duration: '1s' } }, { setWeight: 60 }] } } }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const done = await until('timed', (x) => x.phase === 'Promoted', 'promoted by itself after the timed pause');
    const events = await s.call('GET', `/api/v1/rollouts/${done.id}/events`);
    const reasons = (events.json.events as { reason: string; actor: string }[]).map((e) => `${e.actor}:${e.reason}`);
    assert.deepEqual(reasons, ['key:admin:RolloutStarted', 'controller:CandidateReady', 'controller:PromotedAutomatically', 'controller:PromotionCompleted']);
    await s.waitForVersion('timed', 2);

    await s.deploy('quiet', 'm', 1);
    const q = await apply(
      doc('quiet', { version: 2, strategy: { canary: { steps: [{ setWeight: 10 }, { analysis: { interval: '1s', deadlineSeconds: 2, minimumSamplePerArm: 50 } }] } } }),
    );
    assert.equal(q.status, 200, JSON.stringify(q.json));
    // no traffic at all: never a failure, a pause with its reason at the deadline
    const held = await until('quiet', (x) => x.phase === 'Paused', 'paused at the analysis deadline', 15_000);
    assert.equal(held.pauseReason, 'AnalysisInconclusiveDeadline');
    assert.equal(held.conditions.find((c) => c.type === 'AnalysisPassing')?.reason, 'AnalysisInsufficientData');
    const abort = await s.call('POST', '/api/v1/endpoints/quiet/rollout/abort', {});
    assert.equal((abort.json.rollout as RolloutView).phase, 'Aborted');
  });

  test('an abort under concurrent load fails no request, and every later request goes to stable', async () => {
    await s.deploy('abort-load', 'm', 1);
    await apply(doc('abort-load', { version: 2, strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } }));
    await until('abort-load', (x) => x.phase === 'Paused' && x.currentWeight === 50, 'paused at 50 %');
    const traffic = load('abort-load');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const abort = await s.call('POST', '/api/v1/endpoints/abort-load/rollout/abort', {});
    assert.equal(abort.status, 200, JSON.stringify(abort.json));
    assert.equal((abort.json.rollout as RolloutView).phase, 'Aborted', 'abort answers once traffic is back on stable');
    const afterAbort = await served('abort-load');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answers = await traffic.stop();
    assert.ok(answers.length > 20, `only ${answers.length} requests`);
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'no request failed');
    assert.ok(answers.some((a) => a.version === 2), 'the candidate served before the abort');
    assert.equal(afterAbort.version, 1);
    // re-applying the same spec does not retry an aborted rollout; `retry` does
    const again = await apply(doc('abort-load', { version: 2, strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } }));
    assert.equal((again.json.results as { rollout: unknown }[])[0]?.rollout, null);
    assert.equal((await status('abort-load')).rollout?.phase, 'Aborted');
    const retry = await s.call('POST', '/api/v1/endpoints/abort-load/rollout/retry', {});
    assert.equal(retry.status, 200, JSON.stringify(retry.json));
    await until('abort-load', (x) => x.phase === 'Paused' && x.currentWeight === 50, 'retried and paused at 50 %');
    await s.call('POST', '/api/v1/endpoints/abort-load/rollout/abort', {});
  });

  test('moving an alias the endpoint follows starts its canary instead of switching at once', async () => {
    assert.equal((await s.call('PUT', '/api/v1/models/m/aliases/prod', { version: 1 })).status, 200);
    const r = await apply(doc('follows', { alias: 'prod', strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await s.waitForVersion('follows', 1);
    assert.equal((await status('follows')).rollout, null);
    const moved = await s.call('PUT', '/api/v1/models/m/aliases/prod', { version: 3 });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    const rollout = await until('follows', (x) => x.phase === 'Paused' && x.currentWeight === 20, 'canary at 20 % after the alias move');
    assert.equal(rollout.stableVersion, 1);
    assert.equal(rollout.candidateVersion, 3);
    const dep = await s.call('GET', '/api/v1/endpoints/follows');
    const versions = (dep.json.endpoint as { deployment: { versions: { version: number; role: string }[] } }).deployment.versions;
    assert.deepEqual(versions.find((v) => v.role === 'stable')?.version, 1, 'stable did not switch');
    const full = await s.call('POST', '/api/v1/endpoints/follows/rollout/promote', { full: true });
    assert.equal(full.status, 200, JSON.stringify(full.json));
    await until('follows', (x) => x.phase === 'Promoted', 'promoted');
    await s.waitForVersion('follows', 3);
  });

  test('deleting an endpoint mid-rollout ends its rollout, whose history stays readable', async () => {
    await s.deploy('doomed', 'm', 1);
    await apply(doc('doomed', { version: 2, strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } } }));
    const running = await until('doomed', (x) => x.phase === 'Paused', 'paused');
    assert.equal((await s.call('DELETE', '/api/v1/endpoints/doomed')).status, 200);
    const deadline = Date.now() + 10_000;
    let phase = '';
    while (Date.now() < deadline) {
      const r = await s.call('GET', `/api/v1/rollouts/${running.id}`);
      phase = (r.json.rollout as RolloutView).phase;
      if (phase === 'Aborted') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(phase, 'Aborted');
    const list = await s.call('GET', '/api/v1/endpoints/doomed/rollouts');
    assert.equal(list.status, 200, JSON.stringify(list.json));
    assert.equal((list.json.rollouts as RolloutView[])[0]?.id, running.id);
  });

  test('re-pointing a canary endpoint at another model switches at once and ends its rollout', async () => {
    await s.push('other', addModel(5));
    await s.deploy('moved', 'm', 1);
    await apply(doc('moved', { version: 2, strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } } }));
    const running = await until('moved', (x) => x.phase === 'Paused', 'paused');
    const put = await s.call('PUT', '/api/v1/endpoints/moved', { model: 'other', version: 1 });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    await s.waitForVersion('moved', 1);
    const deadline = Date.now() + 10_000;
    let answer = await served('moved');
    while (answer.version !== 5 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      answer = await served('moved');
    }
    assert.equal(answer.version, 5, 'model "other" (y = x + 5) serves');
    const ended = await s.call('GET', `/api/v1/rollouts/${running.id}`);
    assert.equal((ended.json.rollout as RolloutView).phase, 'Aborted');
    assert.equal((await status('moved')).strategy, null, 'the strategy no longer applies');
  });

  test('a manual traffic policy is refused while a rollout sets the split', async () => {
    await s.deploy('owned', 'm', 1);
    await apply(doc('owned', { version: 2, strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } } }));
    await until('owned', (x) => x.phase === 'Paused', 'paused');
    const put = await s.call('PUT', '/api/v1/endpoints/owned/traffic', { candidate: { version: 3, weight: 50 } });
    assert.equal(put.status, 409);
    assert.equal(put.json.code, 'ROLLOUT_OWNS_TRAFFIC');
    await s.call('POST', '/api/v1/endpoints/owned/rollout/abort', {});
  });
});

describe('blue-green', () => {
  test('green is served by the preview only, smoke requests pass, the switch under load fails nothing, blue stays warm, rollback is instant', async () => {
    await s.deploy('bg', 'm', 1);
    const r = await apply(
      doc('bg', {
        version: 2,
        strategy: {
          blueGreen: {
            autoPromote: false,
            previewEndpoint: 'bg-preview',
            scaleDownDelaySeconds: 60,
            smokeRequests: [{ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] }] }],
          },
        },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const waiting = await until('bg', (x) => x.phase === 'Paused' && x.pauseReason === 'PausedByStep', 'green smoke-tested, waiting for promote');
    assert.equal(waiting.stepIndex, 1, 'the smoke step passed');
    for (let i = 0; i < 10; i++) assert.equal((await served('bg')).version, 1, 'live traffic stays on blue');
    const preview = await served('bg-preview');
    assert.equal(preview.status, 200);
    assert.equal(preview.version, 2, 'the preview endpoint serves green');

    const traffic = load('bg');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const promote = await s.call('POST', '/api/v1/endpoints/bg/rollout/promote', {});
    assert.equal(promote.status, 200, JSON.stringify(promote.json));
    assert.equal((promote.json.rollout as RolloutView).phase, 'Promoted');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const switched = await traffic.stop();
    assert.deepEqual(switched.filter((a) => a.status !== 200), [], 'no request failed during the switch');
    assert.equal((await served('bg')).version, 2);
    assert.equal((await served('bg-preview')).status, 404, 'the preview is gone after promotion');
    const dep = await s.call('GET', '/api/v1/endpoints/bg');
    const roles = (dep.json.endpoint as { deployment: { versions: { version: number; role: string }[] } }).deployment.versions.map((v) => `${v.version}:${v.role}`);
    assert.ok(roles.includes('1:warm'), `blue kept warm: ${roles.join(', ')}`);

    const during = load('bg');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const back = await s.call('POST', '/api/v1/endpoints/bg/rollback', { message: 'green misbehaves' });
    assert.equal(back.status, 200, JSON.stringify(back.json));
    assert.deepEqual({ from: (back.json.rollback as { fromVersion: number }).fromVersion, to: (back.json.rollback as { toVersion: number }).toVersion }, { from: 2, to: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rolled = await during.stop();
    assert.deepEqual(rolled.filter((a) => a.status !== 200), [], 'no request failed during the rollback');
    assert.equal((await served('bg')).version, 1);
    const history = await s.call('GET', '/api/v1/endpoints/bg/history');
    const last = (history.json.history as { reason: string; to: { version: number } }[]).at(-1);
    assert.equal(last?.to.version, 1);
    assert.match(last?.reason ?? '', /rollback from version 2 to 1/);
  });

  test('with autoPromote, green is promoted by itself once its pre-promotion analysis passes on preview traffic', async () => {
    await s.deploy('bg-auto', 'm', 1);
    const r = await apply(
      doc('bg-auto', {
        version: 3,
        strategy: {
          blueGreen: {
            previewEndpoint: 'bg-auto-preview',
            scaleDownDelaySeconds: 0,
            prePromotionAnalysis: { interval: '1s', minimumSamplePerArm: 50, checks: [{ metric: 'error-rate', tolerance: 0.05 }] },
          },
        },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('bg-auto', (x) => x.stepIndex === 0 && x.candidateVersion === 3 && x.conditions.some((c) => c.type === 'CandidateReady' && c.status === 'True'), 'green ready, analysing');
    // bounded: live traffic to blue and preview traffic to green until the analysis passes, or 4,000 requests
    let green = 0;
    for (let i = 0; i < 2000; i++) {
      await served('bg-auto');
      if ((await served('bg-auto-preview')).version === 3) green++;
      if (i % 50 === 49 && (await status('bg-auto')).rollout?.phase !== 'Progressing') break;
    }
    assert.ok(green >= 50, `green answered ${green} preview requests`);
    const done = await until('bg-auto', (x) => x.phase === 'Promoted', 'promoted by itself');
    assert.equal(done.conditions.find((c) => c.type === 'AnalysisPassing')?.reason, 'AnalysisPassed');
    await s.waitForVersion('bg-auto', 3);
  });

  test('a smoke request answered with another status aborts the rollout', async () => {
    await s.deploy('bg-smoke', 'm', 1);
    const r = await apply(
      doc('bg-smoke', {
        version: 2,
        strategy: { blueGreen: { smokeRequests: [{ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 1, 1] }] }] } },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const ended = await until('bg-smoke', (x) => x.phase === 'Aborted', 'aborted by its smoke request');
    assert.equal(ended.conditions.find((c) => c.type === 'Completed')?.reason, 'SmokeRequestsFailed');
    assert.equal((await served('bg-smoke')).version, 1);
  });
});

describe('rollback', () => {
  test('one step back to the previous stable version from the endpoint history; an endpoint with one version has none', async () => {
    await s.deploy('rb', 'm', 1);
    const none = await s.call('POST', '/api/v1/endpoints/rb/rollback', {});
    assert.equal(none.status, 409);
    assert.equal(none.json.code, 'ROLLOUT_NO_PREVIOUS_VERSION');
    await s.deploy('rb', 'm', 3);
    const traffic = load('rb');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const back = await s.call('POST', '/api/v1/endpoints/rb/rollback', {});
    assert.equal(back.status, 200, JSON.stringify(back.json));
    await s.waitForVersion('rb', 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answers = await traffic.stop();
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'no request failed during the rollback');
    assert.equal((await served('rb')).version, 1);
    const bad = await s.call('POST', '/api/v1/endpoints/rb/rollback', { toVersion: 'two' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /toVersion/);
  });
});

describe('experiment', () => {
  test('outcomes from the feedback API declare a winner on evidence; promote makes it stable', async () => {
    await s.deploy('ab', 'm', 1);
    const r = await apply(
      doc('ab', {
        version: 1,
        strategy: {
          experiment: {
            variants: [
              { name: 'control', version: 1, weight: 50 },
              { name: 'treatment', version: 2, weight: 50 },
            ],
            metrics: [{ name: 'converted', kind: 'rate', event: 'converted', direction: 'higher-is-better' }],
          },
        },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('ab', (x) => x.phase === 'Progressing' && x.currentWeight === 100, 'variants sharing traffic');
    const seen = { control: 0, treatment: 0 };
    // bounded: until the experiment concludes, or 3,000 requests
    for (let i = 0; i < 3000; i++) {
      const res = await s.call('POST', '/v2/models/ab/infer', addRequest([[0, 0, 0, 0]]));
      assert.equal(res.status, 200);
      const variant = res.headers.get('x-slipway-variant') as 'control' | 'treatment';
      const requestId = res.headers.get('x-request-id');
      seen[variant]++;
      // treatment converts one user in two, control one in ten
      const converts = variant === 'treatment' ? seen.treatment % 2 === 0 : seen.control % 10 === 0;
      if (converts) assert.equal((await s.call('POST', '/api/v1/feedback', { requestId, event: 'converted' })).status, 200);
      if (i % 100 === 99 && (await status('ab')).rollout?.phase === 'Paused') break;
    }
    const concluded = await until('ab', (x) => x.phase === 'Paused', 'concluded');
    assert.equal(concluded.pauseReason, 'ExperimentConcluded');
    assert.equal(concluded.winner, 'treatment');
    const promote = await s.call('POST', '/api/v1/endpoints/ab/rollout/promote', {});
    assert.equal(promote.status, 200, JSON.stringify(promote.json));
    await until('ab', (x) => x.phase === 'Promoted', 'promoted');
    await s.waitForVersion('ab', 2);
    assert.equal((await served('ab')).version, 2);
  });
});

describe('shadow', () => {
  test('the shadow gets mirrored copies and its answers are compared, never returned', async () => {
    await s.deploy('shadowed', 'm', 1);
    const r = await apply(doc('shadowed', { version: 1, strategy: { shadow: { version: 2, mirrorPercent: 100 } } }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await until('shadowed', (x) => x.phase === 'Paused', 'mirroring');
    for (let i = 0; i < 50; i++) assert.equal((await served('shadowed')).version, 1);
    const deadline = Date.now() + 10_000;
    let st = await status('shadowed');
    while ((st.observed?.shadow?.summary.comparisons ?? 0) < 50 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      st = await status('shadowed');
    }
    assert.equal(st.observed?.shadow?.summary.comparisons, 50);
    // v2 answers x + 2 against x + 1 on y, and 4 more on sum (= Σ(x + k)): mean |Δ| over 5 numbers = (4·1 + 4)/5
    assert.ok(Math.abs((st.observed?.shadow?.summary.meanAbsDiff ?? NaN) - 1.6) < 1e-6, JSON.stringify(st.observed?.shadow));
    await s.call('POST', '/api/v1/endpoints/shadowed/rollout/abort', {});
  });
});

describe('restart', () => {
  test('a server stopped mid-canary and restarted serves its first requests with the same split', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-restart-'));
    try {
      let first = await startTestServer({ dataDir, overrides: { 'rollouts.tickMs': 100 } });
      await first.push('m', addModel(1));
      await first.push('m', addModel(2));
      await first.deploy('sticky', 'm', 1);
      const spec = doc('sticky', { version: 2, strategy: { canary: { stickiness: { header: 'x-user' }, steps: [{ setWeight: 40 }, { pause: {} }] } } });
      assert.equal((await first.call('POST', '/api/v1/apply', spec)).status, 200);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const st = (await first.call('GET', '/api/v1/endpoints/sticky/rollout')).json.status as { rollout: RolloutView };
        if (st.rollout.phase === 'Paused' && st.rollout.currentWeight === 40) break;
        if (Date.now() > deadline) throw new Error('never paused at 40 %');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
      const ask = async (server: TestServer, user: string): Promise<number> => {
        const res = await server.call('POST', '/v2/models/sticky/infer', addRequest([[0, 0, 0, 0]]), { 'x-user': user });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        return Number((res.json.outputs as { data: number[] }[])[0]?.data[0]);
      };
      const before: number[] = [];
      for (const u of users) before.push(await ask(first, u));
      assert.ok(before.includes(1) && before.includes(2), `both sides served: ${before.join(',')}`);
      await first.stop();

      first = await startTestServer({ dataDir, overrides: { 'rollouts.tickMs': 100 } });
      await first.settled;
      const afterRestart: number[] = [];
      for (const u of users) afterRestart.push(await ask(first, u));
      assert.deepEqual(afterRestart, before, 'every user on the same side as before the restart');
      const st = (await first.call('GET', '/api/v1/endpoints/sticky/rollout')).json.status as { rollout: RolloutView };
      assert.equal(st.rollout.phase, 'Paused');
      assert.equal(st.rollout.currentWeight, 40);
      await first.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
