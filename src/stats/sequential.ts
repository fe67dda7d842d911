/**
 * Always-valid (anytime-valid) inference: tests and intervals that stay valid however often they
 * are looked at, so checking a canary after every interval does not inflate false rollbacks.
 *
 * - Normal-mixture mSPRT (Johari, Koomen, Pekelis & Walsh, "Always valid inference: continuous
 *   monitoring of A/B tests", Operations Research 70 (2022); used by Optimizely and Statsig). For an
 *   estimate Δ̂ with variance V and mixing variance τ:
 *     Λ = √(V/(V + τ)) · exp(τ (Δ̂ − θ₀)² / (2V(V + τ))),
 *   reject θ = θ₀ when Λ ≥ 1/α; always-valid p-value p_n = min(1, 1/max_{s≤n} Λ_s); interval
 *     Δ̂ ± √( V(V + τ)/τ · (−2 ln α + ln((V + τ)/V)) ).
 * - Asymptotic confidence sequence (Waudby-Smith et al., "Time-uniform central limit theory and
 *   asymptotic confidence sequences", arXiv:2103.06476; as GrowthBook documents and implements it):
 *   ρ = √((−2 ln α + ln(−2 ln α + 1))/N*), half-width
 *     σ̂√N · √( 2(Nρ² + 1)/(N²ρ²) · ln(√(Nρ² + 1)/α) ), with σ̂√N = √(V·N) and N the total sample;
 *   e-value exp(ρ² Δ̂² N / (2V(Nρ² + 1))) / √(Nρ² + 1) (GrowthBook's p-value is its reciprocal).
 * - Beta-binomial mixture confidence sequence for one proportion (Robbins 1970; Howard, Ramdas,
 *   McAuliffe & Sekhon, Ann. Statist. 49 (2021)): {p : M_n(p) < 1/α} with
 *   M_n(p) = B(a + S, b + F) / (B(a, b) pˢ (1 − p)ᶠ). Valid at every n without any normal approximation.
 */
import { StatsErrors } from './errors.js';
import { logBeta } from './gamma.js';

/** A closed interval; bounds may be ±Infinity when nothing is known yet. */
export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

function checkAlpha(alpha: number, fn: string): void {
  if (!(alpha > 0 && alpha < 1)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: alpha must be in (0, 1), got ${alpha}`);
}

/** ln Λ of the normal-mixture mSPRT for H₀: θ = theta0, given the estimate, its variance V and τ. */
export function msprtLogLambda(estimate: number, variance: number, tau: number, theta0 = 0): number {
  if (!(variance > 0) || !(tau > 0)) return NaN;
  const d = estimate - theta0;
  return 0.5 * Math.log(variance / (variance + tau)) + (tau * d * d) / (2 * variance * (variance + tau));
}

/** The half-width of the mSPRT's always-valid interval at level 1 − alpha. */
export function msprtHalfWidth(variance: number, tau: number, alpha: number): number {
  checkAlpha(alpha, 'msprtHalfWidth');
  if (!(variance > 0) || !(tau > 0)) return NaN;
  return Math.sqrt(((variance * (variance + tau)) / tau) * (-2 * Math.log(alpha) + Math.log((variance + tau) / variance)));
}

/** The mSPRT's always-valid interval Δ̂ ± half-width at level 1 − alpha. */
export function msprtInterval(estimate: number, variance: number, tau: number, alpha: number): Interval {
  const h = msprtHalfWidth(variance, tau, alpha);
  return { lower: estimate - h, upper: estimate + h };
}

/** The always-valid p-value from the largest Λ seen so far (pass the running max of ln Λ). */
export function pValueFromLogEvidence(maxLogEvidence: number): number {
  if (Number.isNaN(maxLogEvidence)) return NaN;
  return Math.min(1, Math.exp(-maxLogEvidence));
}

/** GrowthBook's default tuning N* for the asymptotic confidence sequence. */
export const DEFAULT_CS_TUNING = 5000;

/** ρ of the asymptotic confidence sequence for level alpha and tuning N* (where it is tightest). */
export function asymptoticCsRho(alpha: number, tuning: number = DEFAULT_CS_TUNING): number {
  checkAlpha(alpha, 'asymptoticCsRho');
  if (!(tuning > 0)) throw StatsErrors.STATS_INVALID_INPUT(`asymptoticCsRho: tuning must be > 0, got ${tuning}`);
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuning);
}

/**
 * The asymptotic confidence sequence's half-width for an estimate with variance V from N total
 * observations (GrowthBook's `sequential_interval_halfwidth` with s² = V·N).
 */
export function asymptoticCsHalfWidth(variance: number, totalN: number, alpha: number, tuning: number = DEFAULT_CS_TUNING): number {
  const rho = asymptoticCsRho(alpha, tuning);
  if (!(variance > 0) || !(totalN > 0)) return NaN;
  const s2 = variance * totalN;
  const nr2 = totalN * rho * rho;
  return Math.sqrt(s2) * Math.sqrt(((2 * (nr2 + 1)) / (totalN * totalN * rho * rho)) * Math.log(Math.sqrt(nr2 + 1) / alpha));
}

/** ln of the asymptotic confidence sequence's e-value for H₀: θ = 0 (GrowthBook's p-value is 1/e). */
export function asymptoticCsLogEValue(estimate: number, variance: number, totalN: number, alpha: number, tuning: number = DEFAULT_CS_TUNING): number {
  const rho = asymptoticCsRho(alpha, tuning);
  if (!(variance > 0) || !(totalN > 0)) return NaN;
  // GrowthBook: st2 = Δ̂² N / se² with se² = V, and e = exp(ρ² st2 / (2(Nρ² + 1))) / √(Nρ² + 1).
  const st2 = (estimate * estimate * totalN) / variance;
  const nr2p1 = totalN * rho * rho + 1;
  return (rho * rho * st2) / (2 * nr2p1) - 0.5 * Math.log(nr2p1);
}

/** ln M_n(p) of the beta-binomial mixture for S successes out of n at the proportion p. */
export function betaBinomialLogMixture(successes: number, n: number, p: number, priorA = 1, priorB = 1): number {
  const failures = n - successes;
  if (p <= 0) return successes > 0 ? Infinity : logBeta(priorA, priorB + failures) - logBeta(priorA, priorB);
  if (p >= 1) return failures > 0 ? Infinity : logBeta(priorA + successes, priorB) - logBeta(priorA, priorB);
  return logBeta(priorA + successes, priorB + failures) - logBeta(priorA, priorB) - successes * Math.log(p) - failures * Math.log1p(-p);
}

/**
 * The always-valid interval for one proportion from the beta-binomial mixture (default prior
 * Beta(1, 1)): every p whose mixture martingale stays below 1/alpha.
 */
export function betaBinomialConfidenceSequence(successes: number, n: number, alpha: number, priorA = 1, priorB = 1): Interval {
  checkAlpha(alpha, 'betaBinomialConfidenceSequence');
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(successes) || successes < 0 || successes > n) {
    throw StatsErrors.STATS_INVALID_INPUT(`betaBinomialConfidenceSequence: need whole numbers 0 ≤ successes ≤ n, got ${successes} of ${n}`);
  }
  if (n === 0) return { lower: 0, upper: 1 };
  const bound = -Math.log(alpha);
  const pHat = successes / n;
  const f = (p: number): number => betaBinomialLogMixture(successes, n, p, priorA, priorB) - bound;
  // log M is convex in p with its minimum (≤ 0 < bound) at p̂, so each side has one crossing.
  const solve = (inside: number, outside: number): number => {
    if (f(outside) < 0) return outside;
    let a = inside;
    let b = outside;
    for (let i = 0; i < 200 && Math.abs(b - a) > 1e-15; i++) {
      const mid = (a + b) / 2;
      if (f(mid) < 0) a = mid;
      else b = mid;
    }
    return a;
  };
  return { lower: solve(pHat, 0), upper: solve(pHat, 1) };
}
