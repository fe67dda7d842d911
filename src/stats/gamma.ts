/**
 * Log-gamma, log-beta and the regularized incomplete gamma and beta functions — the building blocks
 * of the chi-square, Student t and Harrell–Davis computations. Methods: Lanczos (g = 7, n = 9) and
 * the Stirling series for log Γ; series plus Lentz continued fraction for P(a, x) / Q(a, x) and for
 * I_x(a, b) (Numerical Recipes, 3rd ed., §6.2 and §6.4); log B(a, b) with the Stirling correction
 * for large arguments as in R's `lbeta`. Outside their domains the functions return NaN.
 */

const LN_SQRT_2PI = 0.9189385332046728; // ln √(2π)
const EPS = 1e-16;
const TINY = 1e-300;
/** Iteration cap for series and continued fractions; they converge in O(√max(a, b)) steps. */
const MAX_ITERATIONS = 1_000_000;

const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012,
  9.984369578019572e-06, 1.5056327351493116e-07,
] as const;

/** The Stirling remainder lgamma(x) − ((x − ½) ln x − x + ln √(2π)), for x ≥ 10 (error < 1e-17). */
function stirlingCorrection(x: number): number {
  const x2 = 1 / (x * x);
  return (1 / x) * (1 / 12 + x2 * (-1 / 360 + x2 * (1 / 1260 + x2 * (-1 / 1680 + x2 * (1 / 1188)))));
}

/** ln |Γ(x)|. Infinity at zero and the negative integers. */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity;
    // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  if (x < 0.5) return logGamma(x + 1) - Math.log(x);
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), computed without cancellation for large a or b. */
export function logBeta(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || a <= 0 || b <= 0) return NaN;
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(p + q);
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

/** ln(xᵃ e⁻ˣ / Γ(a)), the prefactor of both incomplete gamma expansions, kept accurate for large a. */
function logGammaPrefactor(a: number, x: number): number {
  if (a < 10) return a * Math.log(x) - x - logGamma(a);
  // a ln x − x − ln Γ(a) = a (log1p(t) − t) + ½ ln a − ln √(2π) − corr(a), with x = a (1 + t).
  const t = (x - a) / a;
  return a * (Math.log1p(t) - t) + 0.5 * Math.log(a) - LN_SQRT_2PI - stirlingCorrection(a);
}

function gammaSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(logGammaPrefactor(a, x));
}

function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(logGammaPrefactor(a, x)) * h;
}

/** The regularized lower incomplete gamma P(a, x) = γ(a, x)/Γ(a), for a > 0 and x ≥ 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** The regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate when it is tiny. */
export function regularizedGammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/**
 * Lentz's continued fraction for I_x(a, b) (Numerical Recipes `betacf`). `y` = 1 − x: the first
 * denominator 1 − (a + b)x/(a + 1) is formed as ((1 − b) + (a + b)y)/(a + 1) when x is near 1,
 * where the direct form would cancel.
 */
function betaContinuedFraction(a: number, b: number, x: number, y: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = x > 0.5 ? (1 - b + qab * y) / qap : 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Both tails of the regularized incomplete beta: `lower` = I_x(a, b), `upper` = 1 − I_x(a, b). */
export interface BetaTails {
  readonly lower: number;
  readonly upper: number;
}

/**
 * I_x(a, b) and its complement, each computed directly where it is the small one. `y` must equal
 * 1 − x; pass it when you know it more precisely than `1 - x` would give (e.g. t²/(ν + t²)).
 */
export function incompleteBetaTails(x: number, a: number, b: number, y: number = 1 - x): BetaTails {
  if ([x, y, a, b].some(Number.isNaN) || a <= 0 || b <= 0 || x < 0 || x > 1) return { lower: NaN, upper: NaN };
  if (x === 0) return { lower: 0, upper: 1 };
  if (y === 0 || x === 1) return { lower: 1, upper: 0 };
  // Each branch evaluates everything at the one point its continued fraction uses (x, or y = 1 − x
  // taken as given), so a precisely known y near 0 keeps its digits instead of passing through 1 − y.
  if (x < (a + 1) / (a + b + 2)) {
    const front = Math.exp(a * (x > 0.5 ? Math.log1p(-y) : Math.log(x)) + b * Math.log(y) - logBeta(a, b));
    const lower = (front * betaContinuedFraction(a, b, x, y)) / a;
    return { lower, upper: 1 - lower };
  }
  const front = Math.exp(a * Math.log1p(-y) + b * (y > 0.5 ? Math.log1p(-x) : Math.log(y)) - logBeta(a, b));
  const upper = (front * betaContinuedFraction(b, a, y, x)) / b;
  return { lower: 1 - upper, upper };
}

/** The regularized incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  return incompleteBetaTails(x, a, b).lower;
}
