/**
 * Alerting: Prometheus's rule evaluation and Alertmanager's dedup in one process. On every
 * interval each rule is evaluated against the signal source; each label set it yields is an alert
 * instance that moves inactive → pending → firing → resolved as Prometheus's do. A firing alert is
 * notified once (again only after `repeatIntervalMinutes`), its resolution once; its action, when
 * both locks allow, runs once per firing. Rules come from the config (read-only) and the API
 * (stored); firing, resolved and action events go to history.
 */
import { createHash } from 'node:crypto';
import { systemClock, silentLogger, toPlatformError, type Clock, type Logger, type TimerHandle } from '../../core/index.js';
import { AlertsErrors } from './errors.js';
import type { AlertsConfig } from './options.js';
import type { AlertActionPort, AlertEvidenceProvider, AlertNotifier, AlertStore, ReceiverStats } from './ports.js';
import { createSeriesHistory, evaluateRule, historyNames, indexSamples, labelsKey, type InstanceResult } from './reduce.js';
import { compare, compileAlertRule, formatAlertDuration, invalidRuleError } from './rules.js';
import type { SignalSource } from './source.js';
import type { AlertActionRecord, AlertHistoryEvent, AlertHistoryType, AlertRule, AlertRuleSpec, AlertSeverity, AlertView, RuleFigures } from './types.js';
import { createWebhookNotifier } from './webhook.js';

export interface AlertingOptions {
  readonly config: AlertsConfig;
  readonly source: SignalSource;
  readonly store: AlertStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** The endpoint actions (the rollout controller). Without it, an enabled action is recorded as an error. */
  readonly actions?: AlertActionPort;
  readonly evidence?: AlertEvidenceProvider;
  /** Default: the webhook notifier over `config.webhooks`. */
  readonly notifier?: AlertNotifier;
  /** For the default notifier: fetch and jitter. */
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** The `externalURL` of webhook payloads (the server's address). */
  readonly externalURL?: string;
}

/** A rule as `GET /api/v1/alerts/rules` shows it. */
export interface AlertRuleView {
  readonly name: string;
  /** `config`: from monitoring.alerts.rules, read-only; `api`: stored in the data directory. */
  readonly source: 'config' | 'api';
  readonly rule: AlertRuleSpec;
  /** `unknown` until first evaluated; `error` when the metric does not fit the reduce. */
  readonly health: 'unknown' | 'ok' | 'error';
  readonly lastError: string | null;
  readonly lastEvaluatedAt: string | null;
  readonly pending: number;
  readonly firing: number;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
}

/** What one evaluation did. */
export interface EvaluationSummary {
  readonly at: string;
  readonly rules: number;
  readonly pending: number;
  readonly firing: number;
  /** Alerts that fired, resolved, and notifications repeated in this evaluation. */
  readonly fired: number;
  readonly resolved: number;
  readonly repeated: number;
  /** Rules that could not be evaluated; the source's failure makes this -1. */
  readonly errors: number;
}

export interface AlertingStats {
  readonly evaluations: number;
  readonly evaluationFailures: number;
  readonly lastEvaluationAt: string | null;
  readonly series: { readonly series: number; readonly points: number; readonly refusedSeries: number };
  readonly notifications: readonly ReceiverStats[];
  readonly actions: { readonly ok: number; readonly error: number; readonly disabled: number };
  readonly notificationsQueued: number;
}

/** The alerting service. */
export interface Alerting {
  readonly config: AlertsConfig;
  /** Loads the stored rules and, when enabled, starts evaluating every interval. */
  start(): Promise<void>;
  /** Stops evaluating, waits for the evaluation in progress, flushes notifications (bounded). Idempotent. */
  close(): Promise<void>;
  /** One evaluation of every rule now (the loop calls it; tests with a fake clock too). */
  evaluate(): Promise<EvaluationSummary>;
  rules(): Promise<readonly AlertRuleView[]>;
  /** Creates or replaces an API rule (ALERTS_INVALID_RULE, ALERTS_RULE_READ_ONLY, ALERTS_RULE_LIMIT). */
  putRule(name: string, input: unknown, by: string): Promise<{ readonly rule: AlertRuleView; readonly created: boolean }>;
  /** Deletes an API rule, resolving its firing alerts (ALERTS_RULE_NOT_FOUND, ALERTS_RULE_READ_ONLY). */
  deleteRule(name: string, by: string): Promise<void>;
  /** Pending and firing alerts, critical first. */
  active(): readonly AlertView[];
  history(query?: { readonly limit?: number; readonly rule?: string }): Promise<readonly AlertHistoryEvent[]>;
  stats(): AlertingStats;
}

interface RuleEntry {
  rule: AlertRule;
  readonly source: 'config' | 'api';
  updatedAt: number | null;
  updatedBy: string | null;
  health: 'unknown' | 'ok' | 'error';
  lastError: string | null;
  lastEvaluatedAt: number | null;
}

interface InstanceState {
  readonly rule: string;
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  state: 'pending' | 'firing';
  readonly activeAt: number;
  firedAt: number | null;
  lastNotifiedAt: number | null;
  value: number | null;
  figures: RuleFigures;
  details: Readonly<Record<string, unknown>> | undefined;
  detailsError: string | undefined;
  action: AlertActionRecord | null;
}

const SEVERITY_ORDER: Readonly<Record<AlertSeverity, number>> = { critical: 0, warning: 1, info: 2 };

/** The stable id of an alert instance: 16 hex digits of SHA-256 over the rule name and the labels. */
export function alertFingerprint(rule: string, labels: Readonly<Record<string, string>>): string {
  return createHash('sha256').update(`${rule}\u0000${labelsKey(labels)}`).digest('hex').slice(0, 16);
}

function formatNumber(v: number | null): string {
  if (v === null) return 'unknown';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}

function describeFigure(rule: AlertRule): string {
  const window = formatAlertDuration(rule.windowSeconds);
  switch (rule.reduce) {
    case 'value':
      return rule.metric;
    case 'ratio':
      return `${rule.metric} / ${rule.denominator ?? '?'} over ${window}`;
    case 'rate':
    case 'increase':
      return `${rule.reduce} of ${rule.metric} over ${window}`;
    default:
      return `${rule.reduce} of ${rule.metric} over ${window}`;
  }
}

function where(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  if (labels.endpoint !== undefined) parts.push(`endpoint ${labels.endpoint}`);
  if (labels.version !== undefined) parts.push(`version ${labels.model === undefined ? '' : `${labels.model}:`}${labels.version}`);
  if (labels.variant !== undefined) parts.push(`variant ${labels.variant}`);
  return parts.length === 0 ? '' : ` on ${parts.join(', ')}`;
}

/** A message from an action's resolved value. */
function actionMessage(result: unknown, fallback: string): string {
  if (typeof result === 'string' && result !== '') return result;
  if (typeof result === 'object' && result !== null) {
    const m = (result as { message?: unknown }).message;
    if (typeof m === 'string' && m !== '') return m;
  }
  return fallback;
}

/** Creates the alerting service; nothing runs until {@link Alerting.start}. */
export function createAlerting(options: AlertingOptions): Alerting {
  const { config, source, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const notifier =
    options.notifier ??
    createWebhookNotifier({
      webhooks: config.webhooks,
      ...config.notifier,
      clock,
      logger,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.random === undefined ? {} : { random: options.random }),
      ...(options.externalURL === undefined ? {} : { externalURL: options.externalURL }),
    });
  const history = createSeriesHistory(config.maxSeries);
  const entries = new Map<string, RuleEntry>();
  for (const rule of config.rules) entries.set(rule.name, { rule, source: 'config', updatedAt: null, updatedBy: null, health: 'unknown', lastError: null, lastEvaluatedAt: null });
  const states = new Map<string, InstanceState>();
  const counts = { evaluations: 0, evaluationFailures: 0, lastEvaluationAt: null as number | null, actionsOk: 0, actionsError: 0, actionsDisabled: 0 };

  let loaded: Promise<void> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: TimerHandle | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Runs `fn` after everything queued before it: evaluations and rule changes never interleave. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  const load = (): Promise<void> =>
    (loaded ??= (async () => {
      for (const stored of await store.listRules()) {
        if (entries.get(stored.name)?.source === 'config') {
          logger.warn({ rule: stored.name }, 'an alert rule stored through the API has the name of a configuration rule; the configuration rule applies');
          continue;
        }
        try {
          const rule = compileAlertRule(stored.spec);
          entries.set(stored.name, { rule, source: 'api', updatedAt: stored.updatedAt, updatedBy: stored.updatedBy, health: 'unknown', lastError: null, lastEvaluatedAt: null });
        } catch (error) {
          logger.error({ rule: stored.name, err: toPlatformError(error).message }, 'a stored alert rule no longer compiles; it is not evaluated');
        }
      }
    })());

  const iso = (ms: number): string => new Date(ms).toISOString();

  const view = (st: InstanceState, rule: AlertRule, resolvedAt: number | null = null): AlertView => {
    const l = st.labels;
    const status = resolvedAt !== null ? 'resolved' : st.state;
    const figure = describeFigure(rule);
    const summary =
      status === 'resolved'
        ? `${rule.name} resolved: ${figure} is ${formatNumber(st.value)}${where(l)}, no longer ${rule.op} ${rule.threshold}`
        : `${rule.name}: ${figure} is ${formatNumber(st.value)} (${rule.op} ${rule.threshold})${where(l)}`;
    return {
      rule: rule.name,
      fingerprint: st.fingerprint,
      state: status,
      severity: rule.severity,
      labels: l,
      endpoint: l.endpoint ?? null,
      model: l.model ?? null,
      version: l.version ?? null,
      variant: l.variant ?? null,
      value: st.value,
      op: rule.op,
      threshold: rule.threshold,
      window: rule.spec.window,
      for: rule.spec.for,
      since: iso(st.activeAt),
      firingSince: st.firedAt === null ? null : iso(st.firedAt),
      resolvedAt: resolvedAt === null ? null : iso(resolvedAt),
      summary,
      description: rule.description ?? null,
      evidence: { figures: st.figures, ...(st.details === undefined ? {} : { details: st.details }), ...(st.detailsError === undefined ? {} : { detailsError: st.detailsError }) },
      action: st.action,
    };
  };

  /** Waits for `promise` at most `ms`; rejects with a timeout error after. */
  const withDeadline = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
    let handle: TimerHandle | undefined;
    const deadline = new Promise<never>((_, reject) => {
      handle = clock.setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      handle?.cancel();
    }
  };

  const collectEvidence = async (st: InstanceState, rule: AlertRule, status: 'firing' | 'resolved'): Promise<void> => {
    if (options.evidence === undefined) return;
    const l = st.labels;
    try {
      const details = await withDeadline(
        Promise.resolve().then(() =>
          options.evidence?.({ rule, status, labels: l, endpoint: l.endpoint ?? null, model: l.model ?? null, version: l.version ?? null, variant: l.variant ?? null, figures: st.figures }),
        ),
        config.evidenceTimeoutMs,
        'the evidence provider',
      );
      st.details = details;
      st.detailsError = undefined;
    } catch (error) {
      st.detailsError = error instanceof Error ? error.message : String(error);
    }
  };

  const record = async (type: AlertHistoryType, alert: AlertView, message: string): Promise<void> => {
    try {
      await store.appendHistory({ at: iso(clock.now()), type, rule: alert.rule, fingerprint: alert.fingerprint, severity: alert.severity, message, alert }, config.history.maxEvents);
    } catch (error) {
      logger.error({ rule: alert.rule, type, err: toPlatformError(error).message }, 'could not record an alert event');
    }
  };

  const runAction = async (st: InstanceState, rule: AlertRule): Promise<AlertActionRecord | null> => {
    if (rule.action === 'none') return null;
    const kind = rule.action;
    const at = iso(clock.now());
    if (!config.actions.enabled) {
      counts.actionsDisabled++;
      return { kind, status: 'disabled', message: `not run: monitoring.alerts.actions.enabled is false`, at };
    }
    const endpoint = st.labels.endpoint;
    if (endpoint === undefined || endpoint === '') {
      counts.actionsError++;
      return { kind, status: 'error', message: 'the alert names no endpoint (its labels have no "endpoint"); add endpoint to the rule\'s by labels', at };
    }
    if (options.actions === undefined) {
      counts.actionsError++;
      return { kind, status: 'error', message: 'no action port is wired into this server', at };
    }
    const reason = `alert ${rule.name} (${rule.severity}): ${describeFigure(rule)} is ${formatNumber(st.value)} (${rule.op} ${rule.threshold})`;
    const port = options.actions;
    const named = st.labels.version;
    const version = named === undefined || !/^\d+$/.test(named) ? null : Number(named);
    try {
      const result = await withDeadline(
        Promise.resolve().then(() => (kind === 'rollback' ? port.rollback(endpoint, reason, version) : port.pauseRollout(endpoint, reason))),
        config.actionTimeoutMs,
        `the ${kind} action`,
      );
      counts.actionsOk++;
      return { kind, status: 'ok', message: actionMessage(result, `${kind} of endpoint ${endpoint} done`), at: iso(clock.now()) };
    } catch (error) {
      counts.actionsError++;
      logger.warn({ rule: rule.name, endpoint, action: kind, err: toPlatformError(error).message }, 'alert action failed');
      return { kind, status: 'error', message: error instanceof Error ? error.message : String(error), at: iso(clock.now()) };
    }
  };

  const fire = async (st: InstanceState, rule: AlertRule, now: number): Promise<void> => {
    st.state = 'firing';
    st.firedAt = now;
    st.lastNotifiedAt = now;
    await collectEvidence(st, rule, 'firing');
    // the action runs before the notification, so the notification says what was done
    st.action = await runAction(st, rule);
    const alert = view(st, rule);
    await record('firing', alert, alert.summary);
    if (st.action !== null && st.action.status !== 'disabled') await record('action', alert, `${st.action.kind} ${st.action.status}: ${st.action.message}`);
    notifier.notify({ status: 'firing', alert });
  };

  const resolve = async (st: InstanceState, rule: AlertRule, note?: string): Promise<void> => {
    states.delete(st.fingerprint);
    if (st.state !== 'firing') return;
    await collectEvidence(st, rule, 'resolved');
    const alert = view(st, rule, clock.now());
    await record('resolved', alert, note === undefined ? alert.summary : `${rule.name} resolved: ${note}`);
    notifier.notify({ status: 'resolved', alert: note === undefined ? alert : { ...alert, summary: `${rule.name} resolved: ${note}` } });
  };

  const judge = async (rule: AlertRule, inst: InstanceResult, now: number, tally: { fired: number; resolved: number; repeated: number }): Promise<void> => {
    const fingerprint = alertFingerprint(rule.name, inst.labels);
    let st = states.get(fingerprint);
    // too little data to judge: the alert keeps its state (a firing alert is not resolved by a quiet spell)
    if (inst.value === null) {
      if (st !== undefined) st.figures = inst.figures;
      return;
    }
    if (!compare(inst.value, rule.op, rule.threshold)) {
      if (st !== undefined) {
        st.value = inst.value;
        st.figures = inst.figures;
        if (st.state === 'firing') tally.resolved++;
        await resolve(st, rule);
      }
      return;
    }
    if (st === undefined) {
      st = { rule: rule.name, fingerprint, labels: inst.labels, state: 'pending', activeAt: now, firedAt: null, lastNotifiedAt: null, value: inst.value, figures: inst.figures, details: undefined, detailsError: undefined, action: null };
      states.set(fingerprint, st);
    }
    st.value = inst.value;
    st.figures = inst.figures;
    if (st.state === 'pending') {
      if (now - st.activeAt >= rule.forSeconds * 1000) {
        tally.fired++;
        await fire(st, rule, now);
      }
      return;
    }
    const repeatMs = config.repeatIntervalMinutes * 60_000;
    if (repeatMs > 0 && st.lastNotifiedAt !== null && now - st.lastNotifiedAt >= repeatMs) {
      st.lastNotifiedAt = now;
      tally.repeated++;
      notifier.notify({ status: 'firing', alert: view(st, rule) });
    }
  };

  const evaluateNow = async (): Promise<EvaluationSummary> => {
    await load();
    const now = clock.now();
    const tally = { fired: 0, resolved: 0, repeated: 0 };
    const rules = [...entries.values()];
    const summary = (errors: number): EvaluationSummary => {
      let pending = 0;
      let firing = 0;
      for (const st of states.values()) {
        if (st.state === 'firing') firing++;
        else pending++;
      }
      return { at: iso(now), rules: rules.length, pending, firing, ...tally, errors };
    };
    let families;
    try {
      families = await source.samples();
    } catch (error) {
      counts.evaluationFailures++;
      logger.error({ err: toPlatformError(error).message }, 'alert evaluation could not read the metrics; alerts keep their state');
      return summary(-1);
    }
    counts.evaluations++;
    counts.lastEvaluationAt = now;
    const index = indexSamples(families);
    const horizons = new Map<string, number>();
    for (const { rule } of rules) {
      for (const name of historyNames(rule)) horizons.set(name, Math.max(horizons.get(name) ?? 0, rule.windowSeconds * 1000));
    }
    history.record(now, index, horizons);
    let errors = 0;
    for (const entry of rules) {
      const rule = entry.rule;
      entry.lastEvaluatedAt = now;
      let result;
      try {
        result = evaluateRule(rule, index, history, now);
      } catch (error) {
        result = { instances: [], error: toPlatformError(error).message };
      }
      if (result.error !== undefined) {
        // a rule that cannot be evaluated keeps its alerts as they are, as Prometheus does
        errors++;
        entry.health = 'error';
        entry.lastError = result.error;
        continue;
      }
      entry.health = 'ok';
      entry.lastError = null;
      const seen = new Set<string>();
      for (const inst of result.instances) {
        seen.add(alertFingerprint(rule.name, inst.labels));
        await judge(rule, inst, now, tally);
      }
      // a series that is gone no longer meets the condition
      for (const st of [...states.values()]) {
        if (st.rule !== rule.name || seen.has(st.fingerprint)) continue;
        if (st.state === 'firing') tally.resolved++;
        await resolve(st, rule);
      }
    }
    return summary(errors);
  };

  const ruleView = (entry: RuleEntry): AlertRuleView => {
    let pending = 0;
    let firing = 0;
    for (const st of states.values()) {
      if (st.rule !== entry.rule.name) continue;
      if (st.state === 'firing') firing++;
      else pending++;
    }
    return {
      name: entry.rule.name,
      source: entry.source,
      rule: entry.rule.spec,
      health: entry.health,
      lastError: entry.lastError,
      lastEvaluatedAt: entry.lastEvaluatedAt === null ? null : iso(entry.lastEvaluatedAt),
      pending,
      firing,
      updatedAt: entry.updatedAt === null ? null : iso(entry.updatedAt),
      updatedBy: entry.updatedBy,
    };
  };

  const schedule = (): void => {
    if (closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void exclusive(evaluateNow).then(
        () => schedule(),
        (error: unknown) => {
          logger.error({ err: toPlatformError(error).message }, 'alert evaluation failed');
          schedule();
        },
      );
    }, config.evaluationIntervalSeconds * 1000);
  };

  const readOnly = (name: string): Error =>
    AlertsErrors.ALERTS_RULE_READ_ONLY(`alert rule "${name}" is defined in the configuration file (monitoring.alerts.rules); the API cannot change or delete it`, { details: { rule: name } });

  return {
    config,
    async start() {
      await load();
      if (config.enabled && timer === undefined && !closed) schedule();
    },
    close() {
      closing ??= (async () => {
        closed = true;
        timer?.cancel();
        timer = undefined;
        await chain;
        await notifier.close();
      })();
      return closing;
    },
    evaluate: () => exclusive(evaluateNow),
    async rules() {
      await load();
      return [...entries.values()].map(ruleView).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    putRule(name, input, by) {
      return exclusive(async () => {
        await load();
        let body: unknown = input;
        if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
          const o = input as Record<string, unknown>;
          if (o.name !== undefined && o.name !== name) throw invalidRuleError([{ path: 'name', message: `must equal the name in the path (${JSON.stringify(name)}), got ${JSON.stringify(o.name)}` }]);
          body = { ...o, name };
        }
        const rule = compileAlertRule(body);
        const existing = entries.get(name);
        if (existing?.source === 'config') throw readOnly(name);
        if (existing === undefined) {
          const apiRules = [...entries.values()].filter((e) => e.source === 'api').length;
          if (apiRules >= config.maxApiRules) {
            throw AlertsErrors.ALERTS_RULE_LIMIT(`the server already holds ${apiRules} alert rules made through the API (monitoring.alerts.maxApiRules is ${config.maxApiRules})`, { details: { limit: config.maxApiRules } });
          }
        }
        const now = clock.now();
        const { created } = await store.putRule({ name, spec: rule.spec as unknown as Record<string, unknown>, at: now, by });
        const entry: RuleEntry = { rule, source: 'api', updatedAt: now, updatedBy: by, health: 'unknown', lastError: null, lastEvaluatedAt: null };
        entries.set(name, entry);
        return { rule: ruleView(entry), created };
      });
    },
    deleteRule(name, by) {
      return exclusive(async () => {
        await load();
        const entry = entries.get(name);
        if (entry === undefined) throw AlertsErrors.ALERTS_RULE_NOT_FOUND(`no alert rule is named "${name}"`, { details: { rule: name } });
        if (entry.source === 'config') throw readOnly(name);
        await store.deleteRule(name);
        entries.delete(name);
        for (const st of [...states.values()]) if (st.rule === name) await resolve(st, entry.rule, `the rule was deleted by ${by}`);
      });
    },
    active() {
      const out: AlertView[] = [];
      for (const st of states.values()) {
        const entry = entries.get(st.rule);
        if (entry !== undefined) out.push(view(st, entry.rule));
      }
      return out.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) || a.rule.localeCompare(b.rule) || a.since.localeCompare(b.since));
    },
    history(query = {}) {
      return store.listHistory({ limit: query.limit ?? 100, ...(query.rule === undefined ? {} : { rule: query.rule }) });
    },
    stats() {
      const notifications = notifier.stats();
      return {
        evaluations: counts.evaluations,
        evaluationFailures: counts.evaluationFailures,
        lastEvaluationAt: counts.lastEvaluationAt === null ? null : iso(counts.lastEvaluationAt),
        series: history.stats(),
        notifications,
        actions: { ok: counts.actionsOk, error: counts.actionsError, disabled: counts.actionsDisabled },
        notificationsQueued: notifications.reduce((s, r) => s + r.queued, 0),
      };
    },
  };
}
