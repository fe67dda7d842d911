/**
 * What alerting needs from outside: a store for API rules and history, the endpoint actions, an
 * evidence provider, and a notifier. Each method's contract is stated where it is declared.
 */
import type { AlertHistoryEvent, AlertNotification, AlertRule, AlertView, NewAlertHistoryEvent, RuleFigures } from './types.js';

/** A rule created through the API, as stored. */
export interface StoredAlertRule {
  readonly name: string;
  /** The rule in canonical written form (JSON); compiled again when loaded. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

export interface AlertHistoryQuery {
  /** Newest first, at most this many. */
  readonly limit: number;
  /** Only this rule's events. */
  readonly rule?: string;
}

/**
 * Rules made through the API and the alert history. Every method is safe to call concurrently;
 * `putRule` and `deleteRule` are idempotent for equal inputs. The store never compiles rules.
 */
export interface AlertStore {
  /** Every stored rule, by name. */
  listRules(): Promise<readonly StoredAlertRule[]>;
  /** Creates or replaces the rule `name`; `created` tells which. */
  putRule(rule: { readonly name: string; readonly spec: Readonly<Record<string, unknown>>; readonly at: number; readonly by: string }): Promise<{ readonly created: boolean }>;
  /** Deletes the rule; false when there was none. */
  deleteRule(name: string): Promise<boolean>;
  /** Appends an event and removes the oldest beyond `maxEvents`; returns the event with its id. */
  appendHistory(event: NewAlertHistoryEvent, maxEvents: number): Promise<AlertHistoryEvent>;
  /** Events newest first. */
  listHistory(query: AlertHistoryQuery): Promise<readonly AlertHistoryEvent[]>;
}

/**
 * What a firing rule's `action` does to its endpoint (the rollout controller, wired by the app).
 * Called at most once per firing of an alert, never concurrently for one alert; a rejection is
 * recorded on the alert and in history and never stops evaluation. `reason` says which alert and
 * why, for the endpoint's history; a rollback is also told the version the alert is about, so an
 * alert on one version never rolls back another. The resolved value, if any, is shown as the action's message
 * when it is a string or has a string `message`.
 */
export interface AlertActionPort {
  pauseRollout(endpoint: string, reason: string): Promise<unknown>;
  /** `version`: the version the alert names (its `version` label), or null when it names none. */
  rollback(endpoint: string, reason: string, version: number | null): Promise<unknown>;
}

/** What the evidence provider is asked about. */
export interface AlertEvidenceRequest {
  readonly rule: AlertRule;
  /** `firing` when the alert fires, `resolved` when it resolves. */
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoint: string | null;
  readonly model: string | null;
  readonly version: string | null;
  readonly variant: string | null;
  readonly figures: RuleFigures;
}

/**
 * Adds facts to an alert's evidence (e.g. the drifted feature names of a drift alert). Called once
 * when an alert fires and once when it resolves, with a deadline (`evidenceTimeoutMs`): a late,
 * failed or undefined answer leaves the evidence without details (a failure's message is kept).
 * The returned object must be JSON-safe and small; it goes into webhooks and history.
 */
export type AlertEvidenceProvider = (request: AlertEvidenceRequest) => Promise<Readonly<Record<string, unknown>> | undefined>;

/** Per-receiver delivery counts. */
export interface ReceiverStats {
  readonly receiver: string;
  /** Waiting or in flight now. */
  readonly queued: number;
  readonly sent: number;
  /** Given up on after the last attempt, or refused with a 4xx other than 429. */
  readonly failed: number;
  /** Refused because the queue was full or the notifier was closing. */
  readonly dropped: number;
  /** Attempts beyond the first. */
  readonly retries: number;
}

/**
 * Sends notifications. `notify` never blocks and never throws: it queues (or drops and counts).
 * `close` stops taking notifications and waits for the queue to drain, at most its deadline;
 * what is left then is dropped and counted. Idempotent.
 */
export interface AlertNotifier {
  notify(notification: AlertNotification): void;
  stats(): readonly ReceiverStats[];
  close(): Promise<void>;
}

/** Re-exported for the ports' users. */
export type { AlertView };
