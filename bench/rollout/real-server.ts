/**
 * The "smaller run against a real server" of issue [3 of 6], section 7: the same scenarios driven
 * through `slipway serve` over HTTP, to prove that the data plane, the analysis and the rollout
 * controller are wired together — not to measure rates (a few runs cannot).
 *
 * NOT MEASURED YET: the rollout controller is still being built. {@link runAgainstRealServer}
 * returns `not-measured`, and the report says so; it must never be made to return invented figures.
 *
 * For whoever fills it in (the lead, once `slipway apply` runs canaries):
 * 1. start `slipway serve` on 127.0.0.1 with a temporary data directory (bench/lib/harness.ts
 *    `startServerProcess`), register two versions of a tiny model — the candidate wrapped so it fails
 *    a share of requests or sleeps (the scenario's fault) — and apply a canary spec at 10 % with a
 *    background analysis every 500 requests (the simulator's checks);
 * 2. send `requests` inference requests (and the feedback events for the outcome scenario), read
 *    `slipway rollout status` after each interval, and stop at promotion or rollback;
 * 3. return per scenario the runs, the summary (`summarise` from simulation.ts over the observed
 *    outcomes) and what proves the wiring (observed split, stored verdicts with evidence).
 */
import type { GateSummary } from './simulation.js';

/** One scenario driven through a real server. */
export interface RealServerScenarioResult {
  readonly scenarioId: string;
  readonly runs: number;
  readonly summary: GateSummary;
}

/** What the real-server run produced, or why it did not run. */
export type RealServerResult =
  | { readonly status: 'not-measured'; readonly reason: string }
  | {
      readonly status: 'measured';
      readonly seconds: number;
      readonly requestsPerRun: number;
      readonly scenarios: readonly RealServerScenarioResult[];
      /** Observations that show the wiring (observed split, verdicts stored with evidence, …). */
      readonly notes: readonly string[];
    };

/** Options of the real-server run. */
export interface RealServerOptions {
  /** Runs per scenario. */
  readonly runs: number;
  /** Requests per run. */
  readonly requests: number;
}

/**
 * Runs the scenarios against a real `slipway serve`. Placeholder until the rollout controller lands:
 * it reports that nothing was measured.
 */
export async function runAgainstRealServer(options: RealServerOptions): Promise<RealServerResult> {
  void options;
  return {
    status: 'not-measured',
    reason: 'the rollout controller (`slipway apply` with a canary strategy) is not built yet; bench/rollout/real-server.ts is the hook that will drive it',
  };
}
