/**
 * An in-memory MonitoringStore for unit tests and throw-away runs. Each method runs without
 * awaiting, so it is atomic on the single JavaScript thread. Outcome arms are computed by scanning
 * the records, in the same way and the same order of arithmetic as the SQLite adapter's SQL.
 */
import {
  labelText,
  numberOfText,
  SHADOW_VARIANT,
  type ArmRow,
  type FeedbackOutcome,
  type MonitoringStore,
  type OutcomeArm,
  type OutcomeMetric,
  type PredictedValueRow,
  type PredictionCountRow,
  type PredictionRecord,
  type TimeWindow,
} from '../../monitoring/index.js';

/** The memory adapter of the MonitoringStore port. */
export type MemoryMonitoringStore = MonitoringStore;

interface Stored {
  readonly seq: number;
  readonly record: PredictionRecord;
  /** The prediction as text, what labels are compared with. */
  readonly predicted: string | null;
}

/** A deep copy, frozen: what a durable store would give back. */
function snapshot<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const answered = (status: number): boolean => status >= 200 && status <= 299;

/** The continuous arm of values, two passes as the SQL computes it; undefined with none. */
function continuousArm(values: readonly number[]): OutcomeArm | undefined {
  if (values.length === 0) return undefined;
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const m2 = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { kind: 'continuous', n: values.length, mean, m2 };
}

const armKey = (variant: string, version: number | null): string => `${variant}\u0000${version ?? ''}`;

/** Creates an empty memory store. */
export function createMemoryMonitoringStore(): MemoryMonitoringStore {
  let nextSeq = 1;
  /** Insertion order is seq order, which count-based retention removes first. */
  const records = new Map<number, Stored>();
  /** request id → seqs of its primary and shadow records */
  const byRequest = new Map<string, { primary?: number; shadow?: number }>();
  const labels = new Map<string, { label: string | number; at: number }>();
  /** request id → event ('' = no event) → outcome */
  const outcomes = new Map<string, Map<string, { value: number | null; at: number }>>();

  const inWindow = (s: Stored, endpoint: string, window: TimeWindow): boolean =>
    s.record.endpoint === endpoint && s.record.at >= window.since && (window.until === undefined || s.record.at < window.until);

  const remove = (seq: number): string | undefined => {
    const s = records.get(seq);
    if (s === undefined) return undefined;
    records.delete(seq);
    const entry = byRequest.get(s.record.requestId);
    if (entry !== undefined) {
      if (entry.primary === seq) delete entry.primary;
      if (entry.shadow === seq) delete entry.shadow;
      if (entry.primary === undefined && entry.shadow === undefined) {
        byRequest.delete(s.record.requestId);
        labels.delete(s.record.requestId);
        outcomes.delete(s.record.requestId);
      }
    }
    return s.record.requestId;
  };

  /** Groups the answered predictions in the window by (variant, version). */
  const groups = (endpoint: string, window: TimeWindow, withShadow: boolean): Map<string, Stored[]> => {
    const out = new Map<string, Stored[]>();
    for (const s of records.values()) {
      if (!inWindow(s, endpoint, window) || !answered(s.record.status)) continue;
      if (!withShadow && s.record.variant === SHADOW_VARIANT) continue;
      const key = armKey(s.record.variant, s.record.version);
      const list = out.get(key) ?? [];
      list.push(s);
      out.set(key, list);
    }
    return out;
  };

  const rows = (grouped: Map<string, Stored[]>, arm: (list: Stored[]) => OutcomeArm | undefined): ArmRow[] => {
    const out: ArmRow[] = [];
    for (const list of grouped.values()) {
      const first = list[0];
      const a = arm(list);
      if (first !== undefined && a !== undefined) out.push({ variant: first.record.variant, version: first.record.version, arm: a });
    }
    return out;
  };

  const armsOf = (endpoint: string, window: TimeWindow, metric: OutcomeMetric): ArmRow[] => {
    switch (metric.kind) {
      case 'rate':
        return rows(groups(endpoint, window, false), (list) => ({
          kind: 'rate',
          n: list.length,
          successes: list.filter((s) => outcomes.get(s.record.requestId)?.has(metric.event) === true).length,
        }));
      case 'accuracy':
        return rows(groups(endpoint, window, true), (list) => {
          const labelled = list.filter((s) => s.predicted !== null && labels.has(s.record.requestId));
          if (labelled.length === 0) return undefined;
          const correct = labelled.filter((s) => {
            const label = labels.get(s.record.requestId);
            return label !== undefined && labelText(label.label) === s.predicted;
          }).length;
          return { kind: 'rate', n: labelled.length, successes: correct };
        });
      case 'error':
        return rows(groups(endpoint, window, true), (list) => {
          const errors: number[] = [];
          for (const s of list) {
            const label = labels.get(s.record.requestId)?.label;
            const predicted = s.predicted === null ? undefined : numberOfText(s.predicted);
            if (typeof label === 'number' && predicted !== undefined) errors.push(Math.abs(label - predicted));
          }
          return continuousArm(errors);
        });
      case 'mean':
        return rows(groups(endpoint, window, false), (list) => {
          const values: number[] = [];
          for (const s of list) {
            let sum = 0;
            let answered = false;
            for (const [event, o] of outcomes.get(s.record.requestId) ?? []) {
              if (o.value === null || (metric.event !== undefined && event !== metric.event)) continue;
              sum += o.value;
              answered = true;
            }
            if (answered || metric.missing === 'zero') values.push(sum);
          }
          return continuousArm(values);
        });
    }
  };

  const countsOf = (endpoint: string, window: TimeWindow): PredictionCountRow[] => {
    const counts = new Map<string, { variant: string; version: number | null; predictions: number; answered: number }>();
    for (const s of records.values()) {
      if (!inWindow(s, endpoint, window)) continue;
      const key = armKey(s.record.variant, s.record.version);
      const c = counts.get(key) ?? { variant: s.record.variant, version: s.record.version, predictions: 0, answered: 0 };
      c.predictions++;
      if (answered(s.record.status)) c.answered++;
      counts.set(key, c);
    }
    return [...counts.values()] as PredictionCountRow[];
  };

  return {
    async insertPredictions(batch) {
      let inserted = 0;
      for (const record of batch) {
        const role = record.variant === SHADOW_VARIANT ? 'shadow' : 'primary';
        const entry = byRequest.get(record.requestId) ?? {};
        if (entry[role] !== undefined) continue;
        const seq = nextSeq++;
        const copy = snapshot(record);
        records.set(seq, { seq, record: copy, predicted: copy.outputs.predicted === null ? null : labelText(copy.outputs.predicted.value) });
        entry[role] = seq;
        byRequest.set(record.requestId, entry);
        inserted++;
      }
      return { inserted, duplicates: batch.length - inserted };
    },

    async getPredictions(requestId) {
      const entry = byRequest.get(requestId);
      if (entry === undefined) return [];
      return [entry.primary, entry.shadow].flatMap((seq) => {
        const s = seq === undefined ? undefined : records.get(seq);
        return s === undefined ? [] : [s.record];
      });
    },

    async getFeedback(requestId) {
      const label = labels.get(requestId);
      const events = outcomes.get(requestId);
      const list: FeedbackOutcome[] = [...(events?.entries() ?? [])]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([event, o]) => ({ event: event === '' ? null : event, value: o.value, at: o.at }));
      return snapshot({ label: label === undefined ? null : { value: label.label, at: label.at }, outcomes: list });
    },

    async addFeedback(items, options) {
      const unknown: string[] = [];
      const seen = new Set<string>();
      for (const item of items) {
        if (seen.has(item.requestId)) continue;
        seen.add(item.requestId);
        if (!byRequest.has(item.requestId)) unknown.push(item.requestId);
      }
      if (unknown.length > 0 && !options.skipUnknown) return { applied: 0, unknownRequestIds: unknown };
      let applied = 0;
      for (const item of items) {
        if (!byRequest.has(item.requestId)) continue;
        if (item.label !== undefined) labels.set(item.requestId, { label: item.label, at: item.at });
        if (item.event !== undefined || item.value !== undefined) {
          const events = outcomes.get(item.requestId) ?? new Map<string, { value: number | null; at: number }>();
          const key = item.event ?? '';
          events.set(key, { value: item.value ?? events.get(key)?.value ?? null, at: item.at });
          outcomes.set(item.requestId, events);
        }
        applied++;
      }
      return { applied, unknownRequestIds: unknown };
    },

    async outcomeSnapshot(endpoint, window, metrics, span) {
      const snapshot = { counts: countsOf(endpoint, window), arms: metrics.map((metric) => armsOf(endpoint, window, metric)) };
      return span === undefined ? snapshot : { ...snapshot, spanCounts: countsOf(endpoint, span) };
    },

    async predictedValues(endpoint, window) {
      const counts = new Map<string, { variant: string; predicted: string; count: number }>();
      for (const s of records.values()) {
        if (s.predicted === null || !inWindow(s, endpoint, window) || !answered(s.record.status)) continue;
        const key = JSON.stringify([s.record.variant, s.predicted]);
        const c = counts.get(key) ?? { variant: s.record.variant, predicted: s.predicted, count: 0 };
        c.count++;
        counts.set(key, c);
      }
      return [...counts.values()] as PredictedValueRow[];
    },

    async predictionCounts(endpoint, window) {
      return countsOf(endpoint, window);
    },

    async prune(policy) {
      let deleted = 0;
      if (policy.olderThan !== undefined) {
        const due = [...records.values()].filter((s) => s.record.at < (policy.olderThan ?? 0)).sort((a, b) => a.record.at - b.record.at);
        for (const s of due.slice(0, policy.limit)) if (remove(s.seq) !== undefined) deleted++;
      }
      if (policy.keepNewest !== undefined) {
        for (const seq of [...records.keys()]) {
          if (deleted >= policy.limit || records.size <= policy.keepNewest) break;
          if (remove(seq) !== undefined) deleted++;
        }
      }
      return { deleted, more: deleted >= policy.limit };
    },

    async size() {
      let events = 0;
      for (const m of outcomes.values()) events += m.size;
      return { predictions: records.size, labels: labels.size, outcomes: events };
    },
  };
}
