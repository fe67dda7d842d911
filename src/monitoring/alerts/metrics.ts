/**
 * Metrics about alerting itself, read from the service at scrape time:
 * `slipway_alerts_firing{rule,severity}`, `slipway_alerts_pending{rule,severity}`,
 * `slipway_alert_notifications_total{receiver,outcome}` (sent, failed, dropped),
 * `slipway_alert_notification_retries_total{receiver}`, `slipway_alert_notifications_queued{receiver}`,
 * `slipway_alert_actions_total{outcome}` (ok, error, disabled), `slipway_alert_evaluations_total`
 * and `slipway_alert_evaluation_failures_total`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Alerting } from './alerting.js';

/** Registers the alerting metrics on `registry` (call once per registry). */
export function registerAlertMetrics(registry: Registry, alerting: Pick<Alerting, 'active' | 'stats'>): void {
  const registers = [registry];
  const byRule = (state: 'firing' | 'pending') =>
    function collect(this: Gauge<'rule' | 'severity'>): void {
      this.reset();
      const counts = new Map<string, { rule: string; severity: string; n: number }>();
      for (const a of alerting.active()) {
        if (a.state !== state) continue;
        const key = `${a.rule}\u0000${a.severity}`;
        const c = counts.get(key) ?? { rule: a.rule, severity: a.severity, n: 0 };
        c.n++;
        counts.set(key, c);
      }
      for (const c of counts.values()) this.set({ rule: c.rule, severity: c.severity }, c.n);
    };
  new Gauge({ name: 'slipway_alerts_firing', help: 'Alert instances firing now, by rule and severity.', labelNames: ['rule', 'severity'] as const, registers, collect: byRule('firing') });
  new Gauge({ name: 'slipway_alerts_pending', help: 'Alert instances whose condition holds but whose for-duration has not passed yet, by rule and severity.', labelNames: ['rule', 'severity'] as const, registers, collect: byRule('pending') });
  new Counter({
    name: 'slipway_alert_notifications_total',
    help: 'Alert notifications by webhook receiver and outcome: sent, failed (after the last retry, or refused with a 4xx), dropped (queue full or closing).',
    labelNames: ['receiver', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of alerting.stats().notifications) {
        this.inc({ receiver: r.receiver, outcome: 'sent' }, r.sent);
        this.inc({ receiver: r.receiver, outcome: 'failed' }, r.failed);
        this.inc({ receiver: r.receiver, outcome: 'dropped' }, r.dropped);
      }
    },
  });
  new Counter({
    name: 'slipway_alert_notification_retries_total',
    help: 'Notification attempts beyond the first, by webhook receiver.',
    labelNames: ['receiver'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of alerting.stats().notifications) this.inc({ receiver: r.receiver }, r.retries);
    },
  });
  new Gauge({
    name: 'slipway_alert_notifications_queued',
    help: 'Notifications waiting or in flight, by webhook receiver.',
    labelNames: ['receiver'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of alerting.stats().notifications) this.set({ receiver: r.receiver }, r.queued);
    },
  });
  new Counter({
    name: 'slipway_alert_actions_total',
    help: 'Rule actions (pause-rollout, rollback) by outcome: ok, error, disabled (the rule names one but monitoring.alerts.actions.enabled is false).',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      this.reset();
      const a = alerting.stats().actions;
      this.inc({ outcome: 'ok' }, a.ok);
      this.inc({ outcome: 'error' }, a.error);
      this.inc({ outcome: 'disabled' }, a.disabled);
    },
  });
  new Counter({
    name: 'slipway_alert_evaluations_total',
    help: 'Alert rule evaluation rounds that read the metrics.',
    registers,
    collect() {
      this.reset();
      this.inc(alerting.stats().evaluations);
    },
  });
  new Counter({
    name: 'slipway_alert_evaluation_failures_total',
    help: 'Alert evaluation rounds that could not read the metrics (alerts kept their state).',
    registers,
    collect() {
      this.reset();
      this.inc(alerting.stats().evaluationFailures);
    },
  });
}
