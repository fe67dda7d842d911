/**
 * Every strategy as one list of steps, so that one state machine walks them all. A rollout's
 * `stepIndex` indexes this list; for a canary it is the spec's own `steps`, index for index.
 */
import type { AnalysisTemplate, RolloutStrategy } from '../spec/index.js';

/** One step of a plan. */
export type PlanStep =
  /** Route `weight` percent to the candidate; done as soon as it is recorded. */
  | { readonly kind: 'setWeight'; readonly weight: number }
  /**
   * Hold the split. `durationSeconds` undefined: until `promote` (or `resume`). `from: 'candidateReady'`
   * counts the duration from the candidate being ready rather than from entering the step
   * (blue-green's `autoPromotionSeconds` is "after green is ready").
   */
  | { readonly kind: 'pause'; readonly durationSeconds: number | undefined; readonly from: 'step' | 'candidateReady' }
  /** Run an analysis; Pass moves on, Fail aborts, no verdict by the deadline pauses for a person. */
  | { readonly kind: 'analysis'; readonly analysis: AnalysisTemplate }
  /** Blue-green smoke requests against the candidate; the controller reports stepCompleted or stepFailed. */
  | { readonly kind: 'smoke' }
  /** An experiment's variants share traffic until the stopping rule (experimentConcluded) or a person ends it. */
  | { readonly kind: 'experiment' };

const planCache = new WeakMap<RolloutStrategy, readonly PlanStep[]>();

/**
 * The steps a strategy walks, after which it promotes by itself:
 *
 * - canary: its `steps`;
 * - blue-green: smoke requests (if any), pre-promotion analysis (if any), then a pause —
 *   `autoPromotionSeconds` after green is ready with `autoPromote`, else until `promote`;
 * - shadow: one pause until `promote` or `abort` (the candidate only gets mirrored copies);
 * - experiment: one experiment step, which never ends by itself (a stopping rule pauses it).
 */
export function planOf(strategy: RolloutStrategy): readonly PlanStep[] {
  const cached = planCache.get(strategy);
  if (cached !== undefined) return cached;
  let plan: PlanStep[];
  switch (strategy.kind) {
    case 'canary':
      plan = strategy.steps.map((s): PlanStep => (s.kind === 'pause' ? { kind: 'pause', durationSeconds: s.durationSeconds, from: 'step' } : s));
      break;
    case 'blueGreen':
      plan = [];
      if (strategy.smokeRequests.length > 0) plan.push({ kind: 'smoke' });
      if (strategy.prePromotionAnalysis !== undefined) plan.push({ kind: 'analysis', analysis: strategy.prePromotionAnalysis });
      plan.push({ kind: 'pause', durationSeconds: strategy.autoPromote ? strategy.autoPromotionSeconds : undefined, from: 'candidateReady' });
      break;
    case 'shadow':
      plan = [{ kind: 'pause', durationSeconds: undefined, from: 'step' }];
      break;
    case 'experiment':
      plan = [{ kind: 'experiment' }];
      break;
    default:
      // only a record written by something else than Slipway gets here
      throw new Error(`unknown strategy kind ${String((strategy as { kind?: unknown }).kind)}`);
  }
  const frozen = Object.freeze(plan.map((s) => Object.freeze(s)));
  planCache.set(strategy, frozen);
  return frozen;
}
