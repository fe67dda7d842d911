/** A monitoring service over the memory store, seeded with a known shop, and a usage source the test sets. */
import { createFakeClock, type FakeClock } from '../../../../src/core/index.js';
import type { BusinessUsageSource, UsageWindow, VersionCpu } from '../../../../src/monitoring/business/index.js';
import { createMonitoring, type FeedbackItem, type Monitoring } from '../../../../src/monitoring/index.js';
import { createMemoryMonitoringStore } from '../../../../src/storage/index.js';
import { probabilities, rid } from '../fixtures.js';

export const T0 = Date.UTC(2026, 2, 3, 12, 0, 0);
export const HOUR = 3600 * 1000;

export interface Seeded {
  readonly clock: FakeClock;
  readonly monitoring: Monitoring;
  /** Records one prediction of `endpoint`. */
  predict(n: string, options: { endpoint?: string; variant?: string; version?: number; status?: number; predicted?: number; at?: number }): void;
  feedback(items: readonly FeedbackItem[]): Promise<void>;
}

export function seededMonitoring(): Seeded {
  const clock = createFakeClock(T0 + HOUR);
  const monitoring = createMonitoring({ store: createMemoryMonitoringStore(), clock });
  return {
    clock,
    monitoring,
    predict(n, o) {
      const status = o.status ?? 200;
      monitoring.recordPrediction({
        requestId: rid(n),
        endpoint: o.endpoint ?? 'shop',
        model: 'shop-model',
        version: o.version ?? 1,
        variant: o.variant ?? 'stable',
        latencyMs: 2,
        status,
        ...(status === 200 ? { outputs: [probabilities([o.predicted ?? 1])] } : {}),
        at: o.at ?? T0 + 60_000,
      });
    },
    async feedback(items) {
      await monitoring.submitFeedback(items);
    },
  };
}

/**
 * The shop used by the report tests, over [T0, T0 + 1 h):
 * - stable v1: 10 predictions, 8 answered (s0–s7) and 2 errors; s0, s1 converted; purchases 20 (s0)
 *   and 10 (s2); clicks s0–s3; labels s0–s3 = 1, 1, 1, 0 against a predicted 1 (3 of 4 right);
 * - candidate v2: 10 answered (c0–c9); c0–c4 converted; a purchase of 50 (c0); labels c0, c1 = 1 (both right);
 * - shadow v3: mirrored copies of s0–s3 predicting 2 (the labels make it 0 of 4 right).
 */
export async function seedShop(s: Seeded): Promise<void> {
  for (let i = 0; i < 8; i++) s.predict(`s${i}`, {});
  s.predict('s8', { status: 500 });
  s.predict('s9', { status: 503 });
  for (let i = 0; i < 10; i++) s.predict(`c${i}`, { variant: 'candidate', version: 2 });
  for (let i = 0; i < 4; i++) s.predict(`s${i}`, { variant: 'shadow', version: 3, predicted: 2 });
  await s.feedback([
    { requestId: rid('s0'), event: 'conversion' },
    { requestId: rid('s1'), event: 'conversion' },
    { requestId: rid('s0'), event: 'purchase', value: 20 },
    { requestId: rid('s2'), event: 'purchase', value: 10 },
    ...[0, 1, 2, 3].map((i) => ({ requestId: rid(`s${i}`), event: 'click' })),
    ...[1, 1, 1, 0].map((label, i) => ({ requestId: rid(`s${i}`), label })),
    ...[0, 1, 2, 3, 4].map((i) => ({ requestId: rid(`c${i}`), event: 'conversion' })),
    { requestId: rid('c0'), event: 'purchase', value: 50 },
    { requestId: rid('c0'), label: 1 },
    { requestId: rid('c1'), label: 1 },
  ]);
}

/** A usage source with a fixed window and totals. */
export function fixedUsage(versions: readonly VersionCpu[], window: Partial<UsageWindow> = {}): BusinessUsageSource & { calls: { since: number; until?: number }[] } {
  const calls: { since: number; until?: number }[] = [];
  return {
    calls,
    resolutionSeconds: 60,
    window(since, until) {
      calls.push(until === undefined ? { since } : { since, until });
      return {
        since,
        until: until ?? null,
        measuredSince: since,
        measuredUntil: until ?? T0 + HOUR,
        complete: true,
        versions,
        unattributedCpuSeconds: 7,
        processCpuSeconds: 7 + versions.reduce((s, v) => s + v.cpuSeconds, 0),
        ...window,
      };
    },
    totals: () => ({ startedAt: T0, sampledAt: T0 + HOUR, versions, unattributedCpuSeconds: 7, processCpuSeconds: 7 + versions.reduce((s, v) => s + v.cpuSeconds, 0) }),
  };
}
