/**
 * `slipway rollout status | promote | pause | resume | abort | retry | history` against the real
 * server (rollout controller ticking every 100 ms): a canary of the add model v1 → v2 applied from
 * a YAML file, watched, steered and rolled back through the CLI alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeStep, formatInterval, formatNumber } from '../../../src/cli/commands/rollout.js';
import type { RolloutEventsResponse, RolloutsListResponse, RolloutStatusResponse, RolloutResponse } from '../../../src/control/index.js';
import type { Rollout } from '../../../src/rollout/state/index.js';
import { addModel } from '../../support/models.js';
import { addRequest, startTestServer, type TestServer, TEST_ADMIN_KEY } from '../../support/server.js';
import { runCli, type RunResult } from './cli-harness.js';

let s: TestServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-cli-rollout-'));
  s = await startTestServer({ overrides: { 'rollouts.tickMs': 100 } });
  await s.push('adder', addModel(1)); // v1: y = x + 1
  await s.push('adder', addModel(2)); // v2: y = x + 2
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (argv: readonly string[]): Promise<RunResult> => runCli(argv, { cwd: dir, env: { SLIPWAY_SERVER: s.url, SLIPWAY_API_KEY: TEST_ADMIN_KEY } });

/** Writes an Endpoint spec for the add model at version 2 with `strategy` (YAML, indented under `strategy:`). */
function specFile(endpoint: string, strategy: string): string {
  const name = `${endpoint}.yaml`;
  writeFileSync(join(dir, name), `apiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata:\n  name: ${endpoint}\nspec:\n  model: adder\n  version: 2\n  strategy:\n${strategy}`);
  return name;
}

async function rolloutOf(endpoint: string): Promise<Rollout | null> {
  const r = await s.call('GET', `/api/v1/endpoints/${endpoint}/rollout`);
  return (r.json as unknown as RolloutStatusResponse).status.rollout;
}

/** Polls until the endpoint's rollout satisfies `check` (bounded: 20 s). */
async function until(endpoint: string, check: (r: Rollout) => boolean, what: string): Promise<Rollout> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await rolloutOf(endpoint);
    if (r !== null && check(r)) return r;
    if (Date.now() > deadline) throw new Error(`rollout of ${endpoint} never reached: ${what}; last: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The version that answers a request: y = x + k, so y of zeros is k. */
async function served(endpoint: string): Promise<number> {
  const r = await s.call('POST', `/v2/models/${endpoint}/infer`, addRequest([[0, 0, 0, 0]]));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return Number((r.json.outputs as { data: number[] }[])[0]?.data[0]);
}

void describe('slipway rollout', () => {
  void test('a canary applied from YAML pauses at 30 %, promote completes it, history lists it with its events, rollback returns to v1', async () => {
    await s.deploy('web', 'adder', 1);
    const applied = await cli(['apply', '-f', specFile('web', '    canary:\n      steps:\n        - setWeight: 30\n        - pause: {}\n')]);
    assert.equal(applied.code, 0, applied.stderr);
    await until('web', (r) => r.phase === 'Paused', 'paused by its pause step');

    const status = await cli(['rollout', 'status', 'web']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Strategy +canary: setWeight 30 % → pause until promote$/m);
    assert.match(status.stdout, /^Stable +version 1$/m);
    assert.match(status.stdout, /^Target +version 2$/m);
    assert.match(status.stdout, /^Rollout +\S+ \(canary, 1 → 2, started .* by key:admin\)$/m);
    assert.match(status.stdout, /^Phase +Paused \(PausedByStep\)$/m);
    assert.match(status.stdout, /^Step +1 of 2: pause until promote$/m);
    assert.match(status.stdout, /^Weight +30 %$/m);
    assert.match(status.stdout, /^CONDITION +STATUS +REASON +SINCE +MESSAGE$/m);
    assert.match(status.stdout, /^Paused +True +PausedByStep +/m);
    assert.match(status.stdout, /^CandidateReady +True +CandidateReady +.*candidate version 2 loaded and warmed$/m);

    // requests during the pause show up per variant
    for (let i = 0; i < 20; i++) await served('web');
    const json = await cli(['rollout', 'status', 'web', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as RolloutStatusResponse;
    assert.equal(body.status.rollout?.currentWeight, 30);
    const observed = body.status.observed?.variants ?? [];
    assert.equal(observed.reduce((n, v) => n + v.requests, 0), 20, JSON.stringify(observed));
    const again = await cli(['rollout', 'status', 'web']);
    for (const v of observed) assert.match(again.stdout, new RegExp(`^${v.variant} +${v.version} +${v.requests} +0 +[\\d.]+$`, 'm'));

    const paused = await cli(['rollout', 'pause', 'web', '-m', 'hold on']);
    assert.equal(paused.code, 0, paused.stderr);
    const id = body.status.rollout?.id ?? '';
    assert.equal(paused.stdout, `Rollout ${id} of web: Paused (PausedByUser) · step 1 of 2: pause until promote · weight 30 %\n`);
    const resumed = await cli(['rollout', 'resume', 'web']);
    assert.equal(resumed.stdout, `Rollout ${id} of web: Paused (PausedByStep) · step 1 of 2: pause until promote · weight 30 %\n`);

    const promoted = await cli(['rollout', 'promote', 'web', '-m', 'looks good']);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, new RegExp(`^Rollout ${id} of web: (Promoting|Promoted) · weight 100 %\\n$`));
    await until('web', (r) => r.phase === 'Promoted', 'promoted');
    await s.waitForVersion('web', 2);
    assert.equal(await served('web'), 2);

    const history = await cli(['rollout', 'history', 'web']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^ID +STRATEGY +VERSIONS +PHASE +CREATED +BY +FINISHED$/m);
    assert.match(history.stdout, new RegExp(`^${id} +canary +1 → 2 +Promoted +\\S+ \\S+ +key:admin +\\S+ \\S+$`, 'm'));

    const events = await cli(['rollout', 'history', 'web', '--events']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, new RegExp(`^Rollout ${id} of web \\(canary, 1 → 2\\): Promoted, 6 events$`, 'm'));
    const rows = events.stdout.trimEnd().split('\n').slice(2);
    assert.deepEqual(
      rows.map((line) => line.split(/ {2,}/).slice(2, 8)),
      [
        ['key:admin', 'started', 'Progressing', 'RolloutStarted', '0', '0 %'],
        ['controller', 'candidateReady', 'Progressing → Paused', 'CandidateReady', '1', '30 %'],
        ['key:admin', 'pause', 'Paused', 'PausedByUser', '1', '30 %'],
        ['key:admin', 'resume', 'Paused', 'Resumed', '1', '30 %'],
        ['key:admin', 'promote', 'Paused → Promoting', 'PromotedByUser', '2', '100 %'],
        ['controller', 'finalized', 'Promoting → Promoted', 'PromotionCompleted', '2', '100 %'],
      ],
    );
    assert.match(events.stdout, /hold on$/m);
    assert.match(events.stdout, /looks good$/m);
    const byId = await cli(['rollout', 'history', 'web', '--events', id, '--json']);
    const listed = (JSON.parse(byId.stdout) as RolloutEventsResponse).events;
    assert.deepEqual(
      listed.map((e) => e.seq),
      [1, 2, 3, 4, 5, 6],
    );

    const back = await cli(['rollback', 'web']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'Endpoint "web" rolled back from version 2 to 1\n');
    await s.waitForVersion('web', 1);
    assert.equal(await served('web'), 1);
    assert.match((await cli(['rollout', 'status', 'web'])).stdout, /^Stable +version 1$/m);
  });

  void test('status shows the last verdict of each analysis run with its evidence, and the shadow comparison', async () => {
    await s.deploy('checked', 'adder', 1);
    const file = specFile(
      'checked',
      '    canary:\n      mirrorPercent: 100\n      analysis: { interval: 1s, minimumSamplePerArm: 5, checks: [ { metric: error-rate } ] }\n      steps:\n        - setWeight: 50\n        - analysis: { interval: 1s, minimumSamplePerArm: 1000, checks: [ { metric: error-rate } ] }\n',
    );
    assert.equal((await cli(['apply', '-f', file])).code, 0);
    await until('checked', (r) => r.stepIndex === 1 && r.stepStartedAt !== null, 'at its analysis step');
    for (let i = 0; i < 40; i++) await served('checked');
    const looked = await until('checked', (r) => r.analysis.step?.lastResult !== null && r.analysis.step?.lastResult !== undefined, 'a first analysis look');
    const result = looked.analysis.step?.lastResult;
    const check = result?.checks[0];
    assert.equal(check?.verdict, 'InsufficientData', 'far below the minimum sample');

    await until('checked', (r) => {
      const e = r.analysis.background?.lastResult?.checks[0]?.evidence;
      return e !== undefined && e.nBaseline >= 5 && e.nCandidate >= 5;
    }, 'a background look with enough data to judge');

    const status = await cli(['rollout', 'status', 'checked']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Strategy +canary: setWeight 50 % → analysis every 1s \(background analysis every 1s, mirror 100 %\)$/m);
    // the background check has its minimum sample: a verdict with estimates, an interval and a p-value (no errors on either side)
    assert.match(status.stdout, /^Analysis \(background\): (Pass|Inconclusive) at /m);
    assert.match(status.stdout, /^error-rate +(Pass|Inconclusive) +\d+\/\d+ +0 +0 +0 \(absolute\) +\[-[\d.]+, [\d.]+\] +[\d.e-]+$/m);
    assert.match(status.stdout, /^Step +1 of 2: analysis every 1s$/m);
    assert.match(status.stdout, /^Analysis \(step\): InsufficientData at .* — waiting for data: error-rate/m);
    assert.match(status.stdout, /^CHECK +VERDICT +N BASE\/CAND +BASELINE +CANDIDATE +DIFFERENCE +INTERVAL +P-VALUE$/m);
    // a later look may have seen more requests than `looked`; the row shows counts of the same shape
    assert.match(status.stdout, /^error-rate +InsufficientData +\d+\/\d+ +\S+ +\S+ +- +- +-$/m);
    assert.match(status.stdout, /^Shadow v2: \d+ compared, 0 failed, 0 dropped/m);

    const aborted = await cli(['rollout', 'abort', 'checked', '-m', 'done looking']);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, /^Rollout \S+ of checked: (Aborting|Aborted) · weight 0 %\n$/);
    await until('checked', (r) => r.phase === 'Aborted', 'aborted');
    assert.equal(await served('checked'), 1);

    const retried = await cli(['rollout', 'retry', 'checked', '--json']);
    assert.equal(retried.code, 0, retried.stderr);
    const fresh = (JSON.parse(retried.stdout) as RolloutResponse).rollout;
    assert.notEqual(fresh.id, looked.id);
    assert.equal(fresh.candidateVersion, 2);
    assert.equal((await cli(['rollout', 'abort', 'checked'])).code, 0);

    const list = await cli(['rollout', 'history', 'checked', '--limit', '1', '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as RolloutsListResponse).rollouts.map((r) => r.id),
      [fresh.id],
    );
  });

  void test('exit codes: 3 for an unknown endpoint, 4 for a verb on a finished rollout, 2 for a bad --limit or a rollout of another endpoint', async () => {
    const unknown = await cli(['rollout', 'status', 'nowhere']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /\[REGISTRY_ENDPOINT_NOT_FOUND\]/);
    await s.deploy('plain', 'adder', 1);
    const none = await cli(['rollout', 'pause', 'plain']);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /has no rollout to pause \[ROLLOUT_NOT_RUNNING\]/);
    const empty = await cli(['rollout', 'history', 'plain']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^Endpoint plain has had no rollout\./);
    const noStrategy = await cli(['rollout', 'status', 'plain']);
    assert.match(noStrategy.stdout, /^Strategy +- \(none: a new target switches at once\)$/m);
    assert.match(noStrategy.stdout, /^Rollout +- \(none yet\)$/m);

    // `web` is the canary the first test promoted
    const finished = await cli(['rollout', 'abort', 'web']);
    assert.equal(finished.code, 4);
    assert.match(finished.stderr, /\[ROLLOUT_STATE_FINISHED\]/);
    const badLimit = await cli(['rollout', 'history', 'web', '--limit', '0']);
    assert.equal(badLimit.code, 2);
    const webId = (await rolloutOf('web'))?.id ?? '';
    const elsewhere = await cli(['rollout', 'history', 'plain', '--events', webId]);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, new RegExp(`rollout ${webId} belongs to endpoint web, not plain \\[CLI_USAGE\\]`));
    const missing = await cli(['rollout', 'history', 'web', '--events', 'no-such-rollout']);
    assert.equal(missing.code, 3);
  });
});

void describe('rollout formatting', () => {
  void test('numbers keep three significant digits, intervals show unbounded sides, steps read as words', () => {
    assert.deepEqual([formatNumber(0.012345), formatNumber(12), formatNumber(null), formatNumber(2.346e-7)], ['0.0123', '12', '-', '2.35e-7']);
    assert.equal(formatInterval({ lower: null, upper: 0.05 }), '[-∞, 0.05]');
    assert.equal(formatInterval(null), '-');
    assert.equal(describeStep({ kind: 'pause', durationSeconds: 90, from: 'step' }), 'pause 1m30s');
    assert.equal(describeStep({ kind: 'pause', durationSeconds: 0, from: 'candidateReady' }), 'promote once the candidate is ready');
    assert.equal(describeStep({ kind: 'setWeight', weight: 12.5 }), 'setWeight 12.5 %');
  });
});
