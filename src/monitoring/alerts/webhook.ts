/**
 * The webhook notifier: each notification is POSTed as JSON in Alertmanager's webhook format
 * (version "4"), so receivers built for Alertmanager take it unchanged, plus a `slipway` field
 * with the whole alert (endpoint, version, evidence, action). One bounded queue per receiver, sent
 * in order by one sender each, so a slow receiver delays no other and evaluation never waits.
 */
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../core/http.js';
import { systemClock, silentLogger, type Clock, type Logger } from '../../core/index.js';
import type { WebhookReceiverConfig } from './options.js';
import type { AlertNotifier, ReceiverStats } from './ports.js';
import type { AlertNotification, AlertView } from './types.js';

/** Alertmanager's "not ended" time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One alert of an Alertmanager webhook payload. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** The body POSTed to a receiver. */
export interface WebhookPayload {
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: readonly WebhookAlert[];
  /** Slipway's own fields: the alert as `GET /api/v1/alerts` shows it. */
  readonly slipway: { readonly alert: AlertView };
}

/** The Alertmanager labels of an alert: alertname, severity, then the instance's labels. */
export function alertLabels(alert: AlertView): Record<string, string> {
  return { ...alert.labels, alertname: alert.rule, severity: alert.severity };
}

/** Builds the Alertmanager-format body of one notification for one receiver. */
export function webhookPayload(n: AlertNotification, receiver: string, externalURL = ''): WebhookPayload {
  const a = n.alert;
  const labels = alertLabels(a);
  const annotations: Record<string, string> = {
    summary: a.summary,
    ...(a.description === null ? {} : { description: a.description }),
    value: a.value === null ? '' : String(a.value),
    threshold: `${a.op} ${a.threshold}`,
  };
  // one group per alert instance, so a receiver's dedup key (PagerDuty, Opsgenie) pairs firing with resolved
  const groupKey = `{}:{alertname=${JSON.stringify(a.rule)},fingerprint=${JSON.stringify(a.fingerprint)}}`;
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: { alertname: a.rule },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL,
    alerts: [
      {
        status: n.status,
        labels,
        annotations,
        startsAt: a.firingSince ?? a.since,
        endsAt: n.status === 'resolved' ? (a.resolvedAt ?? ZERO_TIME) : ZERO_TIME,
        generatorURL: '',
        fingerprint: a.fingerprint,
      },
    ],
    slipway: { alert: a },
  };
}

export interface WebhookNotifierOptions {
  readonly webhooks: readonly WebhookReceiverConfig[];
  /** Notifications per receiver, waiting or in flight. */
  readonly queueSize: number;
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly closeTimeoutMs: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default: global fetch. */
  readonly fetch?: typeof fetch;
  /** Jitter source in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** The `externalURL` of payloads (the server's address). */
  readonly externalURL?: string;
}

interface Counts {
  sent: number;
  failed: number;
  dropped: number;
  retries: number;
}

/** An attempt's outcome: done, retry (after at least `afterMs`), or give up. */
type Attempt = { readonly kind: 'ok' } | { readonly kind: 'retry'; readonly why: string; readonly afterMs?: number } | { readonly kind: 'fail'; readonly why: string };

/** Creates the notifier; with no webhooks it counts nothing and sends nothing. */
export function createWebhookNotifier(options: WebhookNotifierOptions): AlertNotifier {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const doFetch = options.fetch ?? globalThis.fetch;
  const random = options.random ?? Math.random;
  const stopping = new AbortController();
  let closed = false;

  interface ReceiverState {
    readonly hook: WebhookReceiverConfig;
    readonly queue: AlertNotification[];
    readonly counts: Counts;
    running: Promise<void> | undefined;
  }
  const receivers: ReceiverState[] = options.webhooks.map((hook) => ({ hook, queue: [], counts: { sent: 0, failed: 0, dropped: 0, retries: 0 }, running: undefined }));

  const inFlight = (): Promise<void>[] => receivers.flatMap((r) => (r.running === undefined ? [] : [r.running]));

  const attempt = async (hook: WebhookReceiverConfig, body: string): Promise<Attempt> => {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stopping.signal.reason);
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const timer = clock.setTimeout(() => controller.abort(new Error(`no answer within ${hook.timeoutMs} ms`)), hook.timeoutMs);
    try {
      const res = await doFetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'slipway-alerts', ...hook.headers }, body, signal: controller.signal });
      // read the body so the connection can be reused
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { kind: 'ok' };
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), clock.now());
        return { kind: 'retry', why: `HTTP ${res.status}`, ...(retryAfter === undefined ? {} : { afterMs: Math.min(retryAfter, MAX_RETRY_AFTER_MS) }) };
      }
      return { kind: 'fail', why: `HTTP ${res.status}` };
    } catch (error) {
      return { kind: 'retry', why: error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error) };
    } finally {
      timer.cancel();
      stopping.signal.removeEventListener('abort', onStop);
    }
  };

  const deliver = async (receiver: ReceiverState, n: AlertNotification): Promise<void> => {
    const body = JSON.stringify(webhookPayload(n, receiver.hook.name, options.externalURL));
    for (let i = 1; ; i++) {
      const outcome = await attempt(receiver.hook, body);
      if (outcome.kind === 'ok') {
        receiver.counts.sent++;
        return;
      }
      if (outcome.kind === 'fail' || i >= options.maxAttempts || stopping.signal.aborted) {
        receiver.counts.failed++;
        logger.warn({ receiver: receiver.hook.name, rule: n.alert.rule, status: n.status, attempts: i, why: outcome.why }, 'alert notification failed');
        return;
      }
      receiver.counts.retries++;
      // exponential backoff with "equal jitter": half fixed, half random, so retries of many alerts spread out
      const exp = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** (i - 1));
      // a receiver's Retry-After is honoured even beyond maxBackoffMs (capped at MAX_RETRY_AFTER_MS when read)
      const delay = Math.max(outcome.kind === 'retry' ? (outcome.afterMs ?? 0) : 0, Math.min(options.maxBackoffMs, exp / 2 + random() * (exp / 2)));
      try {
        await clock.sleep(delay, stopping.signal);
      } catch {
        receiver.counts.failed++;
        return;
      }
    }
  };

  const run = async (receiver: ReceiverState): Promise<void> => {
    for (;;) {
      const next = receiver.queue[0];
      if (next === undefined) break;
      if (stopping.signal.aborted) {
        receiver.counts.dropped += receiver.queue.length;
        receiver.queue.length = 0;
        break;
      }
      await deliver(receiver, next);
      receiver.queue.shift();
    }
    receiver.running = undefined;
  };

  return {
    notify(n) {
      for (const receiver of receivers) {
        if (!receiver.hook.severities.includes(n.alert.severity)) continue;
        if (closed || receiver.queue.length >= options.queueSize) {
          receiver.counts.dropped++;
          continue;
        }
        receiver.queue.push(n);
        receiver.running ??= run(receiver);
      }
    },
    stats(): ReceiverStats[] {
      return receivers.map((r) => ({ receiver: r.hook.name, queued: r.queue.length, ...r.counts }));
    },
    async close() {
      if (closed) {
        await Promise.all(inFlight());
        return;
      }
      closed = true;
      const drained = Promise.all(inFlight());
      let timer: { cancel(): void } | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, options.closeTimeoutMs);
      });
      await Promise.race([drained, deadline]);
      timer?.cancel();
      // past the deadline: abort what is in flight and drop what waits
      stopping.abort(new Error('the notifier is closing'));
      await drained;
    },
  };
}
