/** `slipway feedback` and `slipway predictions show` against the monitoring routes (memory store, stand-in inference). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { labelFromText } from '../../../src/cli/commands/feedback.js';
import { startMonitoringHarness, type MonitoringHarness } from '../monitoring/harness.js';
import { runCli, type RunResult } from './cli-harness.js';

let h: MonitoringHarness;
before(async () => {
  h = await startMonitoringHarness();
});
after(async () => {
  await h.close();
});

const cli = (argv: readonly string[]): Promise<RunResult> => runCli(argv, { env: { SLIPWAY_SERVER: h.url } });

void describe('slipway feedback', () => {
  void test('sends a label, an event and a value for a request id and says what was recorded', async () => {
    const id = await h.infer('fraud', 2);
    const r = await cli(['feedback', id, '--label', '2', '--event', 'purchase', '--value', '19.5']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Feedback recorded for ${id}: label 2, event purchase, value 19.5\n`);
    const stored = await h.monitoring.getPrediction(id);
    assert.deepEqual(stored.feedback.label?.value, 2, 'a label that reads as a number is sent as one');
    assert.deepEqual(
      stored.feedback.outcomes.map((o) => [o.event, o.value]),
      [['purchase', 19.5]],
    );
  });

  void test('sends a label that is not a plain number as text, and prints the API answer with --json', async () => {
    const id = await h.infer('fraud', 1);
    const r = await cli(['feedback', id, '--label', 'cat', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { accepted: 1, unknownRequestIds: [] });
    assert.equal((await h.monitoring.getPrediction(id)).feedback.label?.value, 'cat');
  });

  void test('refuses a call without --label, --value or --event, and a --value that is not a number, with exit code 2', async () => {
    const id = await h.infer('fraud', 1);
    const none = await cli(['feedback', id]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give at least one of --label, --value or --event \[CLI_USAGE\]/);
    const nan = await cli(['feedback', id, '--value', 'lots']);
    assert.equal(nan.code, 2);
    assert.match(nan.stderr, /option '--value <number>' argument 'lots' is invalid\. must be a finite number/);
  });

  void test('reports a request id the server never answered with exit code 3, naming it', async () => {
    const r = await cli(['feedback', 'req-unknown-000000000', '--event', 'click']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /"req-unknown-000000000" is on record.*\[MONITORING_PREDICTION_NOT_FOUND\]/);
  });

  void test('reports a malformed event name with exit code 5 and the field', async () => {
    const id = await h.infer('fraud', 1);
    const r = await cli(['feedback', id, '--event', 'no spaces please']);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /event: .*\[MONITORING_INVALID_FEEDBACK\]/);
  });
});

void describe('slipway predictions show', () => {
  void test('prints the record, its outputs and its feedback', async () => {
    const id = await h.infer('fraud', 2, 'candidate', 4);
    await h.monitoring.submitFeedback([{ requestId: id, label: 2 }, { requestId: id, event: 'conversion' }]);
    const r = await cli(['predictions', 'show', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Request +${id}$`, 'm'));
    assert.match(r.stdout, /^Endpoint +fraud$/m);
    assert.match(r.stdout, /^Version +fraud:4$/m);
    assert.match(r.stdout, /^Variant +candidate$/m);
    assert.match(r.stdout, /^Status +200$/m);
    assert.match(r.stdout, /^Predicted +2 \(argmax of probabilities\)$/m);
    assert.match(r.stdout, /^Label +2 \(at 2026-03-03 12:00:00Z\)$/m);
    assert.match(r.stdout, /^probabilities +scores +FP32 +\[1, 3\] +2$/m);
    assert.match(r.stdout, /^conversion +- +2026-03-03 12:00:00Z$/m);
  });

  void test('prints the API body with --json, and exits 3 for an unknown request id', async () => {
    const id = await h.infer('fraud', 0);
    const r = await cli(['predictions', 'show', id, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { prediction: { requestId: string; variant: string }; shadow: unknown };
    assert.deepEqual([body.prediction.requestId, body.prediction.variant, body.shadow], [id, 'stable', null]);
    const missing = await cli(['predictions', 'show', 'req-unknown-000000001']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /MONITORING_PREDICTION_NOT_FOUND/);
  });
});

void describe('labelFromText', () => {
  void test('reads numbers in their shortest form as numbers and everything else as text', () => {
    assert.equal(labelFromText('1'), 1);
    assert.equal(labelFromText('-0.5'), -0.5);
    assert.equal(labelFromText('1.50'), '1.50');
    assert.equal(labelFromText('007'), '007');
    assert.equal(labelFromText('cat'), 'cat');
    assert.equal(labelFromText(' 1'), ' 1');
    assert.equal(labelFromText('Infinity'), 'Infinity');
  });
});
