/**
 * Synthetic canary traffic for the rollout simulator: one request at a time, routed to the stable
 * version (baseline) or the canary (candidate), each with an error flag, a latency and an outcome
 * (a conversion reported later through the feedback API). Deterministic given the seed.
 *
 * Every request draws the same five uniforms whatever the scenario and the arm (route, error,
 * two for the latency's normal deviate, conversion), so scenarios run on the same seed share their
 * random numbers (common random numbers): a faulty candidate sees the same requests as a healthy one
 * with only the fault added, and the scenarios differ by the fault alone.
 */
import { createSeededRandom } from '../../src/stats/index.js';

/** The traffic both arms receive, and how the candidate differs from the baseline. */
export interface TrafficShape {
  /** Total requests in one run (both arms). */
  readonly requests: number;
  /** The candidate's share of requests, in (0, 1). */
  readonly candidateWeight: number;
  /** The baseline's error rate per request. */
  readonly baselineErrorRate: number;
  /** Median of the baseline's log-normal latency, in milliseconds. */
  readonly latencyMedianMs: number;
  /** σ of ln(latency): the spread of the log-normal. */
  readonly latencySigma: number;
  /** The baseline's conversion rate: the share of predictions that later receive a `converted` feedback event. */
  readonly baselineConversionRate: number;
}

/** What is wrong with the candidate in a scenario (all zero / one: nothing). */
export interface Fault {
  /** Added to the candidate's error rate (0.02 = two percentage points). */
  readonly extraErrorRate: number;
  /** Multiplies every candidate latency (1.5 = 50 % slower). */
  readonly latencyFactor: number;
  /** The candidate's conversion rate, or null for the baseline's. */
  readonly candidateConversionRate: number | null;
}

export const NO_FAULT: Fault = Object.freeze({ extraErrorRate: 0, latencyFactor: 1, candidateConversionRate: null });

/** One simulated request. */
export interface SimulatedRequest {
  /** 1-based position in the run. */
  readonly index: number;
  readonly arm: 'baseline' | 'candidate';
  readonly failed: boolean;
  readonly latencyMs: number;
  readonly converted: boolean;
}

/**
 * The true p-quantile of the baseline's log-normal latency, in milliseconds: median · exp(σ · z_p).
 * `z` is the standard normal quantile of p (passed in so this module needs no inverse normal).
 */
export function logNormalQuantile(shape: TrafficShape, z: number): number {
  return shape.latencyMedianMs * Math.exp(shape.latencySigma * z);
}

/**
 * Generates one run's requests. A generator rather than an array so a run of 20,000 requests
 * never materialises; the loop is bounded by `shape.requests`.
 */
export function* generateTraffic(shape: TrafficShape, fault: Fault, seed: number): Generator<SimulatedRequest, void, undefined> {
  const rnd = createSeededRandom(seed);
  const logMedian = Math.log(shape.latencyMedianMs);
  const candidateConversion = fault.candidateConversionRate ?? shape.baselineConversionRate;
  for (let index = 1; index <= shape.requests; index++) {
    const uRoute = rnd.next();
    const uError = rnd.next();
    const z = rnd.normal();
    const uConversion = rnd.next();
    const candidate = uRoute < shape.candidateWeight;
    const errorRate = shape.baselineErrorRate + (candidate ? fault.extraErrorRate : 0);
    const latencyMs = Math.exp(logMedian + shape.latencySigma * z) * (candidate ? fault.latencyFactor : 1);
    yield {
      index,
      arm: candidate ? 'candidate' : 'baseline',
      failed: uError < errorRate,
      latencyMs,
      converted: uConversion < (candidate ? candidateConversion : shape.baselineConversionRate),
    };
  }
}
