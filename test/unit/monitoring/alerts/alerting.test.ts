import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, type FakeClock, type PlatformError } from '../../../../src/core/index.js';
import {
  compileAlertsOptions,
  createAlerting,
  createMemoryAlertStore,
  createStaticSignalSource,
  type Alerting,
  type AlertActionPort,
  type AlertEvidenceProvider,
  type AlertNotification,
  type AlertNotifier,
  type AlertStore,
  type MetricFamily,
} from '../../../../src/monitoring/alerts/index.js';

const T0 = Date.UTC(2026, 0, 1);

interface Setup {
  readonly alerting: Alerting;
  readonly clock: FakeClock;
  readonly sent: AlertNotification[];
  readonly store: AlertStore;
  /** Sets the drift share gauge of an endpoint (undefined removes the series). */
  set(endpoint: string, value: number | undefined): void;
  /** Moves the clock by `seconds` and evaluates. */
  step(seconds: number): Promise<void>;
}

function setup(options: Record<string, unknown>, ports: { actions?: AlertActionPort; evidence?: AlertEvidenceProvider; failSource?: () => boolean } = {}): Setup {
  const clock = createFakeClock(T0);
  const values = new Map<string, number>();
  const source = createStaticSignalSource((): MetricFamily[] => {
    if (ports.failSource?.() === true) throw new Error('registry unavailable');
    return [
      {
        name: 'slipway_drift_share',
        type: 'gauge',
        samples: [...values].map(([endpoint, value]) => ({ name: 'slipway_drift_share', labels: { endpoint, model: endpoint, version: '2' }, value })),
      },
    ];
  });
  const sent: AlertNotification[] = [];
  const notifier: AlertNotifier = { notify: (n) => void sent.push(n), stats: () => [], close: async () => undefined };
  const store = createMemoryAlertStore();
  const alerting = createAlerting({ config: compileAlertsOptions(options), source, store, clock, notifier, ...ports });
  return {
    alerting,
    clock,
    sent,
    store,
    set: (endpoint, value) => (value === undefined ? values.delete(endpoint) : values.set(endpoint, value)),
    async step(seconds) {
      await clock.advance(seconds * 1000);
      await alerting.evaluate();
    },
  };
}

const driftRule = (extra: Record<string, unknown> = {}) => ({ name: 'drift', metric: 'slipway_drift_share', op: '>', threshold: 0.5, severity: 'critical', ...extra });

describe('the alert state machine', () => {
  test('goes pending, fires once after the for-duration, sends no duplicate, and resolves once', async () => {
    const s = setup({ rules: [driftRule({ for: '2m' })] });
    s.set('shop', 0.7);
    await s.step(0);
    assert.deepEqual(s.alerting.active().map((a) => [a.state, a.endpoint]), [['pending', 'shop']]);
    await s.step(60);
    assert.equal(s.sent.length, 0);
    await s.step(60);
    assert.deepEqual(s.sent.map((n) => n.status), ['firing']);
    const alert = s.sent[0]?.alert;
    assert.equal(alert?.endpoint, 'shop');
    assert.equal(alert?.model, 'shop');
    assert.equal(alert?.version, '2');
    assert.equal(alert?.value, 0.7);
    assert.equal(alert?.since, new Date(T0).toISOString());
    assert.equal(alert?.firingSince, new Date(T0 + 120_000).toISOString());
    assert.equal(alert?.evidence.figures.metric, 'slipway_drift_share');
    assert.match(alert?.summary ?? '', /drift: slipway_drift_share is 0\.7 \(> 0\.5\) on endpoint shop, version shop:2/);
    for (let i = 0; i < 5; i++) await s.step(15);
    assert.equal(s.sent.length, 1, 'no duplicate while firing');
    s.set('shop', 0.3);
    await s.step(15);
    await s.step(15);
    assert.deepEqual(s.sent.map((n) => n.status), ['firing', 'resolved']);
    assert.equal(s.sent[1]?.alert.resolvedAt, new Date(T0 + 120_000 + 90_000).toISOString());
    assert.deepEqual(s.alerting.active(), []);
    const history = await s.alerting.history();
    assert.deepEqual(history.map((e) => e.type), ['resolved', 'firing']);
  });

  test('drops a pending alert silently when the condition clears before the for-duration', async () => {
    const s = setup({ rules: [driftRule({ for: '5m' })] });
    s.set('shop', 0.9);
    await s.step(0);
    await s.step(60);
    s.set('shop', 0.1);
    await s.step(60);
    assert.deepEqual(s.alerting.active(), []);
    assert.equal(s.sent.length, 0);
    assert.deepEqual(await s.alerting.history(), []);
  });

  test('repeats a still-firing alert after repeatIntervalMinutes, not before', async () => {
    const s = setup({ repeatIntervalMinutes: 10, rules: [driftRule()] });
    s.set('shop', 0.9);
    await s.step(0);
    assert.equal(s.sent.length, 1);
    for (let i = 0; i < 9; i++) await s.step(60);
    assert.equal(s.sent.length, 1);
    await s.step(60);
    assert.equal(s.sent.length, 2);
    assert.equal(s.sent[1]?.status, 'firing');
    for (let i = 0; i < 5; i++) await s.step(60);
    assert.equal(s.sent.length, 2);
  });

  test('keeps one alert per label set and resolves the one whose series disappears', async () => {
    const s = setup({ rules: [driftRule()] });
    s.set('shop', 0.9);
    s.set('bank', 0.8);
    await s.step(0);
    assert.equal(s.alerting.active().length, 2);
    const fingerprints = new Set(s.alerting.active().map((a) => a.fingerprint));
    assert.equal(fingerprints.size, 2);
    s.set('bank', undefined);
    await s.step(15);
    assert.deepEqual(s.alerting.active().map((a) => a.endpoint), ['shop']);
    assert.deepEqual(s.sent.map((n) => `${n.status}:${n.alert.endpoint}`).sort(), ['firing:bank', 'firing:shop', 'resolved:bank']);
  });

  test('keeps alerts as they are when the metrics cannot be read', async () => {
    let fail = false;
    const s = setup({ rules: [driftRule()] }, { failSource: () => fail });
    s.set('shop', 0.9);
    await s.step(0);
    fail = true;
    s.set('shop', 0.1);
    await s.step(15);
    assert.equal(s.alerting.active()[0]?.state, 'firing');
    assert.equal(s.alerting.stats().evaluationFailures, 1);
    fail = false;
    await s.step(15);
    assert.deepEqual(s.alerting.active(), []);
  });

  test('attaches what the evidence port adds, and records its failure instead of failing', async () => {
    const asked: string[] = [];
    const s = setup(
      { rules: [driftRule(), driftRule({ name: 'drift-b', threshold: 0.6 })] },
      {
        evidence: async (req) => {
          asked.push(`${req.rule.name}:${req.status}:${req.endpoint ?? '-'}`);
          if (req.rule.name === 'drift-b') throw new Error('profile store offline');
          return { driftedFeatures: ['temp', 'hum'] };
        },
      },
    );
    s.set('shop', 0.9);
    await s.step(0);
    const [a, b] = [s.sent.find((n) => n.alert.rule === 'drift'), s.sent.find((n) => n.alert.rule === 'drift-b')];
    assert.deepEqual(a?.alert.evidence.details, { driftedFeatures: ['temp', 'hum'] });
    assert.equal(b?.alert.evidence.details, undefined);
    assert.equal(b?.alert.evidence.detailsError, 'profile store offline');
    s.set('shop', 0.1);
    await s.step(15);
    assert.deepEqual(asked.sort(), ['drift-b:firing:shop', 'drift-b:resolved:shop', 'drift:firing:shop', 'drift:resolved:shop']);
  });

  test('evaluates on its interval once started, and stops when closed', async () => {
    const s = setup({ evaluationIntervalSeconds: 30, rules: [driftRule()] });
    s.set('shop', 0.9);
    await s.alerting.start();
    await s.clock.advance(29_000);
    assert.equal(s.alerting.stats().evaluations, 0);
    await s.clock.advance(1000);
    assert.equal(s.alerting.stats().evaluations, 1);
    await s.clock.advance(60_000);
    assert.equal(s.alerting.stats().evaluations, 3);
    assert.equal(s.sent.length, 1);
    await s.alerting.close();
    await s.clock.advance(120_000);
    assert.equal(s.alerting.stats().evaluations, 3);
  });
});

describe('alert actions', () => {
  function actionPort(fail = false) {
    const calls: string[] = [];
    const port: AlertActionPort = {
      async pauseRollout(endpoint, reason) {
        calls.push(`pause:${endpoint}:${reason}`);
        if (fail) throw new Error('no rollout is running on shop');
        return { message: `rollout of ${endpoint} paused` };
      },
      async rollback(endpoint) {
        calls.push(`rollback:${endpoint}`);
        if (fail) throw new Error('nothing to roll back to');
        return { message: `endpoint "${endpoint}" rolled back from version 2 to 1` };
      },
    };
    return { port, calls };
  }

  test('does not run when actions.enabled is false, though the rule names one', async () => {
    const { port, calls } = actionPort();
    const s = setup({ rules: [driftRule({ action: 'rollback' })] }, { actions: port });
    s.set('shop', 0.9);
    await s.step(0);
    assert.deepEqual(calls, []);
    assert.equal(s.sent[0]?.alert.action?.status, 'disabled');
    assert.match(s.sent[0]?.alert.action?.message ?? '', /actions\.enabled is false/);
  });

  test('does not run when the rule names none, though actions are enabled', async () => {
    const { port, calls } = actionPort();
    const s = setup({ actions: { enabled: true }, rules: [driftRule()] }, { actions: port });
    s.set('shop', 0.9);
    await s.step(0);
    assert.deepEqual(calls, []);
    assert.equal(s.sent[0]?.alert.action, null);
  });

  test('runs once per firing when both locks are open, and records the result', async () => {
    const { port, calls } = actionPort();
    const s = setup({ actions: { enabled: true }, rules: [driftRule({ action: 'rollback' })] }, { actions: port });
    s.set('shop', 0.9);
    await s.step(0);
    await s.step(15);
    await s.step(15);
    assert.deepEqual(calls, ['rollback:shop']);
    assert.deepEqual(s.alerting.active()[0]?.action?.status, 'ok');
    assert.equal(s.sent[0]?.alert.action?.message, 'endpoint "shop" rolled back from version 2 to 1');
    s.set('shop', 0.1);
    await s.step(15);
    s.set('shop', 0.9);
    await s.step(15);
    assert.deepEqual(calls, ['rollback:shop', 'rollback:shop'], 'a new firing runs the action again');
    const history = await s.alerting.history();
    assert.deepEqual(history.map((e) => e.type), ['action', 'firing', 'resolved', 'action', 'firing']);
    assert.match(history[0]?.message ?? '', /^rollback ok: /);
  });

  test('records a failing action on the alert and in history, and evaluation goes on', async () => {
    const { port, calls } = actionPort(true);
    const s = setup({ actions: { enabled: true }, rules: [driftRule({ action: 'pause-rollout' }), driftRule({ name: 'other', threshold: 0.8 })] }, { actions: port });
    s.set('shop', 0.9);
    await s.step(0);
    assert.equal(calls.length, 1);
    assert.match(calls[0] ?? '', /^pause:shop:alert drift \(critical\): slipway_drift_share is 0\.9/);
    const drift = s.alerting.active().find((a) => a.rule === 'drift');
    assert.deepEqual([drift?.action?.status, drift?.action?.message], ['error', 'no rollout is running on shop']);
    assert.ok(s.alerting.active().some((a) => a.rule === 'other' && a.state === 'firing'));
    const events = await s.alerting.history({ rule: 'drift' });
    assert.ok(events.some((e) => e.type === 'action' && e.message === 'pause-rollout error: no rollout is running on shop'));
    assert.equal(s.alerting.stats().actions.error, 1);
  });
});

describe('rules from the config and the API', () => {
  test('refuses to change or delete a config rule, and deleting an API rule resolves its alerts', async () => {
    const s = setup({ rules: [driftRule()] });
    await assert.rejects(s.alerting.putRule('drift', driftRule(), 'ann'), (e: PlatformError) => e.code === 'ALERTS_RULE_READ_ONLY');
    await assert.rejects(s.alerting.deleteRule('drift', 'ann'), (e: PlatformError) => e.code === 'ALERTS_RULE_READ_ONLY');
    await assert.rejects(s.alerting.deleteRule('nope', 'ann'), (e: PlatformError) => e.code === 'ALERTS_RULE_NOT_FOUND');
    const put = await s.alerting.putRule('low-drift', { metric: 'slipway_drift_share', op: '>', threshold: 0.2 }, 'ann');
    assert.equal(put.created, true);
    assert.equal(put.rule.source, 'api');
    assert.equal(put.rule.updatedBy, 'ann');
    s.set('shop', 0.3);
    await s.step(0);
    assert.deepEqual(s.alerting.active().map((a) => a.rule), ['low-drift']);
    await s.alerting.deleteRule('low-drift', 'ann');
    assert.deepEqual(s.alerting.active(), []);
    assert.equal(s.sent.at(-1)?.status, 'resolved');
    assert.match(s.sent.at(-1)?.alert.summary ?? '', /deleted by ann/);
    assert.deepEqual((await s.store.listRules()).map((r) => r.name), []);
  });

  test('loads stored rules at start and refuses a body whose name differs from the path', async () => {
    const s = setup({ maxApiRules: 1 });
    await s.store.putRule({ name: 'stored', spec: { name: 'stored', metric: 'slipway_drift_share', op: '>', threshold: 0.5 }, at: T0, by: 'bob' });
    await s.alerting.start();
    assert.deepEqual((await s.alerting.rules()).map((r) => [r.name, r.source, r.health]), [['stored', 'api', 'unknown']]);
    await assert.rejects(s.alerting.putRule('a', { name: 'b', metric: 'm', op: '>', threshold: 1 }, 'ann'), (e: PlatformError) => e.code === 'ALERTS_INVALID_RULE' && /name/.test(e.message));
    await assert.rejects(s.alerting.putRule('another', { metric: 'm', op: '>', threshold: 1 }, 'ann'), (e: PlatformError) => e.code === 'ALERTS_RULE_LIMIT');
    // replacing an existing one is not over the limit
    assert.equal((await s.alerting.putRule('stored', { metric: 'm', op: '>', threshold: 1 }, 'ann')).created, false);
    await s.alerting.close();
  });
});
