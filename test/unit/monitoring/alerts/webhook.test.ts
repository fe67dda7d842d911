import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../../../src/core/index.js';
import { createWebhookNotifier, type AlertNotification, type AlertView, type WebhookPayload } from '../../../../src/monitoring/alerts/index.js';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: WebhookPayload;
}

/** A receiver on 127.0.0.1 whose answers a test scripts: a status per request, or hold (never answer until released). */
class Receiver {
  readonly received: Received[] = [];
  script: (n: number) => number | 'hold' = () => 200;
  private held: ServerResponse[] = [];
  private server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      this.received.push({ headers: req.headers, body: JSON.parse(text) as WebhookPayload });
      const answer = this.script(this.received.length);
      if (answer === 'hold') this.held.push(res);
      else res.writeHead(answer, answer === 429 ? { 'retry-after': '0' } : {}).end('{}');
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hook`;
  }
  release(): void {
    for (const r of this.held.splice(0)) r.writeHead(200).end('{}');
  }
  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function alert(over: Partial<AlertView> = {}): AlertView {
  return {
    rule: 'high-error-rate',
    fingerprint: '0123456789abcdef',
    state: 'firing',
    severity: 'critical',
    labels: { endpoint: 'shop', version: '3' },
    endpoint: 'shop',
    model: null,
    version: '3',
    variant: null,
    value: 0.12,
    op: '>',
    threshold: 0.05,
    window: '5m',
    for: '2m',
    since: '2026-01-01T00:00:00.000Z',
    firingSince: '2026-01-01T00:02:00.000Z',
    resolvedAt: null,
    summary: 'high-error-rate: slipway_errors_total / slipway_requests_total over 5m is 0.12 (> 0.05) on endpoint shop, version 3',
    description: 'More than 5 % of requests fail.',
    evidence: { figures: { metric: 'slipway_errors_total', reduce: 'ratio', value: 0.12, series: 2, windowSeconds: 300, coveredSeconds: 300, increase: 12, denominator: 'slipway_requests_total', denominatorIncrease: 100 } },
    action: null,
    ...over,
  };
}

const base = { queueSize: 100, maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 5, closeTimeoutMs: 2000, clock: systemClock };

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition not reached');
}

describe('the webhook notifier', () => {
  const receiver = new Receiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  test('posts Alertmanager\'s webhook format with Slipway\'s fields, firing then resolved', async () => {
    receiver.received.length = 0;
    receiver.script = () => 200;
    const notifier = createWebhookNotifier({ ...base, webhooks: [{ name: 'ops', url: receiver.url, headers: { authorization: 'Bearer s3cret' }, severities: ['critical', 'warning'], timeoutMs: 2000 }] });
    const firing: AlertNotification = { status: 'firing', alert: alert() };
    notifier.notify(firing);
    notifier.notify({ status: 'resolved', alert: alert({ state: 'resolved', resolvedAt: '2026-01-01T00:09:00.000Z' }) });
    await notifier.close();
    assert.equal(receiver.received.length, 2);
    const [first, second] = receiver.received;
    assert.equal(first?.headers.authorization, 'Bearer s3cret');
    assert.equal(first?.headers['content-type'], 'application/json');
    const p = first?.body;
    assert.equal(p?.version, '4');
    assert.equal(p?.status, 'firing');
    assert.equal(p?.receiver, 'ops');
    assert.equal(p?.groupKey, '{}:{alertname="high-error-rate",fingerprint="0123456789abcdef"}');
    assert.deepEqual(p?.groupLabels, { alertname: 'high-error-rate' });
    assert.deepEqual(p?.alerts[0]?.labels, { endpoint: 'shop', version: '3', alertname: 'high-error-rate', severity: 'critical' });
    assert.equal(p?.alerts[0]?.annotations.threshold, '> 0.05');
    assert.equal(p?.alerts[0]?.annotations.value, '0.12');
    assert.equal(p?.alerts[0]?.startsAt, '2026-01-01T00:02:00.000Z');
    assert.equal(p?.alerts[0]?.endsAt, '0001-01-01T00:00:00Z');
    assert.equal(p?.alerts[0]?.fingerprint, '0123456789abcdef');
    assert.equal(p?.slipway.alert.endpoint, 'shop');
    assert.equal(p?.slipway.alert.evidence.figures.denominatorIncrease, 100);
    assert.equal(second?.body.status, 'resolved');
    assert.equal(second?.body.groupKey, p?.groupKey);
    assert.equal(second?.body.alerts[0]?.endsAt, '2026-01-01T00:09:00.000Z');
    assert.deepEqual(notifier.stats(), [{ receiver: 'ops', queued: 0, sent: 2, failed: 0, dropped: 0, retries: 0 }]);
  });

  test('retries 5xx and 429 with backoff, then succeeds; a 400 is not retried', async () => {
    receiver.received.length = 0;
    receiver.script = (n) => (n === 1 ? 503 : n === 2 ? 429 : n === 3 ? 200 : 400);
    const notifier = createWebhookNotifier({ ...base, random: () => 0.5, webhooks: [{ name: 'ops', url: receiver.url, headers: {}, severities: ['critical'], timeoutMs: 2000 }] });
    notifier.notify({ status: 'firing', alert: alert() });
    notifier.notify({ status: 'firing', alert: alert({ rule: 'other' }) });
    await notifier.close();
    assert.equal(receiver.received.length, 4);
    assert.deepEqual(notifier.stats(), [{ receiver: 'ops', queued: 0, sent: 1, failed: 1, dropped: 0, retries: 2 }]);
  });

  test('gives up after maxAttempts on an unreachable receiver and counts the failure', async () => {
    const dead = new Receiver();
    await dead.start();
    const url = dead.url;
    await dead.stop();
    const notifier = createWebhookNotifier({ ...base, maxAttempts: 3, webhooks: [{ name: 'gone', url, headers: {}, severities: ['critical'], timeoutMs: 500 }] });
    notifier.notify({ status: 'firing', alert: alert() });
    await notifier.close();
    assert.deepEqual(notifier.stats(), [{ receiver: 'gone', queued: 0, sent: 0, failed: 1, dropped: 0, retries: 2 }]);
  });

  test('drops what does not fit its queue without waiting, and sends only the severities a receiver takes', async () => {
    receiver.received.length = 0;
    receiver.script = () => 'hold';
    const notifier = createWebhookNotifier({
      ...base,
      queueSize: 2,
      webhooks: [
        { name: 'ops', url: receiver.url, headers: {}, severities: ['critical'], timeoutMs: 5000 },
        { name: 'chat', url: receiver.url, headers: {}, severities: ['info'], timeoutMs: 5000 },
      ],
    });
    for (let i = 0; i < 5; i++) notifier.notify({ status: 'firing', alert: alert({ rule: `r${i}` }) });
    // notify returned at once although the receiver holds every request
    assert.deepEqual(
      notifier.stats().map((s) => [s.receiver, s.queued, s.dropped]),
      [
        ['ops', 2, 3],
        ['chat', 0, 0],
      ],
    );
    await until(() => receiver.received.length === 1);
    receiver.script = () => 200;
    receiver.release();
    await notifier.close();
    assert.deepEqual(receiver.received.map((r) => r.body.alerts[0]?.labels.alertname), ['r0', 'r1']);
    assert.deepEqual(notifier.stats()[0], { receiver: 'ops', queued: 0, sent: 2, failed: 0, dropped: 3, retries: 0 });
  });

  test('close gives up at its deadline: the one in flight fails and the rest is dropped', async () => {
    receiver.received.length = 0;
    receiver.script = () => 'hold';
    const notifier = createWebhookNotifier({ ...base, closeTimeoutMs: 50, webhooks: [{ name: 'ops', url: receiver.url, headers: {}, severities: ['critical'], timeoutMs: 60_000 }] });
    for (let i = 0; i < 3; i++) notifier.notify({ status: 'firing', alert: alert({ rule: `r${i}` }) });
    await until(() => receiver.received.length === 1);
    await notifier.close();
    assert.deepEqual(notifier.stats()[0], { receiver: 'ops', queued: 0, sent: 0, failed: 1, dropped: 2, retries: 0 });
    notifier.notify({ status: 'firing', alert: alert() });
    assert.equal(notifier.stats()[0]?.dropped, 3, 'a closed notifier drops and counts');
    receiver.release();
  });
});
