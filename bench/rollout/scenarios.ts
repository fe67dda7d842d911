/**
 * What the rollout simulator runs: the traffic shape of issue [3 of 6], the four scenarios, the gates
 * (Slipway's checks as the spec defaults should compile them, the alternatives that were measured
 * before choosing them, and the fixed-threshold gate of the Flagger kind), and the list of cases.
 * Every figure in the benchmark's report comes from these constants; change them here.
 */
import type { CheckDefinition } from '../../src/rollout/analysis/index.js';
import { normalQuantile } from '../../src/stats/index.js';
import { METRICS, type FixedGateConfig } from './gates.js';
import { logNormalQuantile, NO_FAULT, type Fault, type TrafficShape } from './traffic.js';

/** The scenario shape, with the latency and outcome parameters this benchmark chose. */
export const SHAPE: TrafficShape = Object.freeze({
  requests: 20_000,
  candidateWeight: 0.1,
  baselineErrorRate: 0.01,
  // A small model served over HTTP: median 20 ms, σ = 0.5 on the log scale puts p90 at 38 ms and
  // p99 at 64 ms — a typical spread for a fast inference endpoint (p99 ≈ 3 × median).
  latencyMedianMs: 20,
  latencySigma: 0.5,
  // One prediction in ten is followed by a `converted` feedback event.
  baselineConversionRate: 0.1,
});

/** Requests between two looks of either gate. */
export const LOOK_EVERY = 500;

/** The configured split [stable, canary] in percent, as the router and the SRM test see it. */
export const WEIGHTS: readonly [number, number] = [100 * (1 - SHAPE.candidateWeight), 100 * SHAPE.candidateWeight];

/** The baseline's true p99 latency (ms). */
export const BASELINE_P99_MS = logNormalQuantile(SHAPE, normalQuantile(0.99));

/**
 * The fixed-threshold gate of the Flagger kind: per interval, the canary's error rate above 2 %
 * (the threshold) or its p99 latency above 1.5 × the baseline's true p99 counts as one
 * failed check; rollback at 2 failed checks in total; promotion after the last step. It has no
 * outcome check: Flagger's built-in checks are request success rate and request duration only.
 */
export const FIXED_GATE: FixedGateConfig = Object.freeze({
  errorRateAbove: 0.02,
  p99AboveMs: 1.5 * BASELINE_P99_MS,
  failedChecksThreshold: 2,
});

/** The analysis template's significance level, split across the checks by Bonferroni (as `analyse` does). */
export const ALPHA = 0.05;

/** Observations per arm before a check judges (the template's `minimumSamplePerArm`). */
export const MINIMUM_SAMPLE_PER_ARM = 100;

/**
 * The error-rate check: any established increase fails (tolerance 0); the mSPRT is tuned to catch
 * +2 percentage points fast, and a healthy canary passes once +2 pp is ruled out.
 */
export const ERROR_RATE_CHECK: CheckDefinition = Object.freeze({
  name: 'error-rate',
  metric: METRICS.errorRate,
  kind: 'rate',
  direction: 'lower-is-better',
  alpha: ALPHA,
  minimumSample: MINIMUM_SAMPLE_PER_ARM,
  tolerance: 0,
  minimumDetectableEffect: 0.02,
});

/**
 * The latency check on the mean of log latency (the ratio of geometric means): fails once the
 * candidate is established to be more than 10 % slower, passes once 10 % slower is ruled out.
 */
export const LATENCY_CHECK: CheckDefinition = Object.freeze({
  name: 'latency-mean-log',
  metric: METRICS.latency,
  kind: 'latency',
  alpha: ALPHA,
  minimumSample: MINIMUM_SAMPLE_PER_ARM,
  tolerance: 0.1,
  minimumDetectableEffect: 0.1,
});

/** The outcome check a user adds for the feedback scenario: conversions, same shape as the error-rate check. */
export const CONVERSION_CHECK: CheckDefinition = Object.freeze({
  name: 'feedback:converted',
  metric: METRICS.conversion,
  kind: 'rate',
  direction: 'higher-is-better',
  alpha: ALPHA,
  minimumSample: MINIMUM_SAMPLE_PER_ARM,
  tolerance: 0,
  minimumDetectableEffect: 0.02,
});

/** A set of Slipway checks the simulator runs. */
export interface GateVariant {
  readonly id: string;
  readonly title: string;
  readonly checks: readonly CheckDefinition[];
}

const withOverrides = (check: CheckDefinition, overrides: Partial<CheckDefinition>): CheckDefinition => ({ ...check, ...overrides });

export const GATE_VARIANTS: readonly GateVariant[] = [
  { id: 'slipway', title: 'Slipway (default checks)', checks: [ERROR_RATE_CHECK, LATENCY_CHECK] },
  { id: 'slipway-feedback', title: 'Slipway (default checks + feedback:converted)', checks: [ERROR_RATE_CHECK, LATENCY_CHECK, CONVERSION_CHECK] },
  // Alternatives measured before choosing the mapping above (see the report's "Mapping" table).
  {
    id: 'spec-literal',
    title: "the spec's earlier defaults read literally: error-rate tolerance 0.01 (mde 0.01), latency tolerance 0.2, minimumSamplePerArm 200",
    checks: [
      withOverrides(ERROR_RATE_CHECK, { tolerance: 0.01, minimumDetectableEffect: 0.01, minimumSample: 200 }),
      withOverrides(LATENCY_CHECK, { tolerance: 0.2, minimumDetectableEffect: 0.2, minimumSample: 200 }),
    ],
  },
  {
    id: 'min-sample-200',
    title: 'the chosen checks with minimumSamplePerArm 200',
    checks: [withOverrides(ERROR_RATE_CHECK, { minimumSample: 200 }), withOverrides(LATENCY_CHECK, { minimumSample: 200 })],
  },
  {
    id: 'error-mde-0.01',
    title: 'the chosen checks with error-rate minimumDetectableEffect 0.01',
    checks: [withOverrides(ERROR_RATE_CHECK, { minimumDetectableEffect: 0.01 }), LATENCY_CHECK],
  },
];

/** One scenario: what is wrong with the candidate, and which check should catch it. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly fault: Fault;
  /** The check of each gate that watches the faulty metric (null: no fault, or the gate has none). */
  readonly faultCheck: { readonly slipway: string | null; readonly fixed: string | null };
}

export const SCENARIOS: readonly Scenario[] = [
  { id: 'no-fault', title: 'no fault', fault: NO_FAULT, faultCheck: { slipway: null, fixed: null } },
  {
    id: 'errors',
    title: '+2 pp errors (1 % → 3 %)',
    fault: { ...NO_FAULT, extraErrorRate: 0.02 },
    faultCheck: { slipway: 'error-rate', fixed: 'error-rate' },
  },
  {
    id: 'latency',
    title: '+50 % latency (every request 1.5 × slower)',
    fault: { ...NO_FAULT, latencyFactor: 1.5 },
    faultCheck: { slipway: 'latency-mean-log', fixed: 'latency-p99' },
  },
  {
    id: 'outcome',
    title: 'worse outcomes (conversion 10 % → 8 %)',
    fault: { ...NO_FAULT, candidateConversionRate: 0.08 },
    faultCheck: { slipway: 'feedback:converted', fixed: null },
  },
];

/** One gate variant on one scenario over a range of seeds. */
export interface Case {
  readonly id: string;
  readonly variant: string;
  readonly scenario: string;
  /** Seeds are seedBase + 0 … runs − 1. */
  readonly seedBase: number;
  /** Only the fixed gate's failed checks are needed (threshold calibration). */
  readonly fixedOnly: boolean;
}

/** Seeds of the reported runs start here; every case uses the same ones, so both gates and all scenarios see the same random numbers. */
export const SEED_BASE = 1;
/** Seeds for calibrating the fixed gate's threshold, disjoint from the reported ones. */
export const CALIBRATION_SEED_BASE = 1_000_001;

export const CASES: readonly Case[] = [
  { id: 'main:no-fault', variant: 'slipway', scenario: 'no-fault', seedBase: SEED_BASE, fixedOnly: false },
  { id: 'main:errors', variant: 'slipway', scenario: 'errors', seedBase: SEED_BASE, fixedOnly: false },
  { id: 'main:latency', variant: 'slipway', scenario: 'latency', seedBase: SEED_BASE, fixedOnly: false },
  { id: 'feedback:no-fault', variant: 'slipway-feedback', scenario: 'no-fault', seedBase: SEED_BASE, fixedOnly: false },
  { id: 'feedback:outcome', variant: 'slipway-feedback', scenario: 'outcome', seedBase: SEED_BASE, fixedOnly: false },
  ...['spec-literal', 'min-sample-200', 'error-mde-0.01'].flatMap((variant) =>
    ['no-fault', 'errors', 'latency'].map((scenario) => ({ id: `${variant}:${scenario}`, variant, scenario, seedBase: SEED_BASE, fixedOnly: false })),
  ),
  { id: 'calibration:no-fault', variant: 'slipway', scenario: 'no-fault', seedBase: CALIBRATION_SEED_BASE, fixedOnly: true },
];

/** Looks a value up by id, or throws naming what exists (a typo in a case list must not pass silently). */
export function byId<T extends { readonly id: string }>(list: readonly T[], id: string): T {
  const found = list.find((x) => x.id === id);
  if (found === undefined) throw new Error(`unknown id ${JSON.stringify(id)} (known: ${list.map((x) => x.id).join(', ')})`);
  return found;
}
