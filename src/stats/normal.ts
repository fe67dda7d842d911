/**
 * The standard normal distribution: density, cdf and survival accurate in the far tails, and the
 * quantile function. erf/erfc follow W. J. Cody, "Rational Chebyshev approximations for the error
 * function", Math. Comp. 23 (1969) 631–638 (the netlib CALERF coefficients); the quantile is
 * M. J. Wichura's Algorithm AS 241 (PPND16), Applied Statistics 37 (1988) 477–484. Both are
 * accurate to about 1e-16 relative in double precision.
 */

const SQRT_PI_INV = 0.5641895835477563; // 1/√π
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)

const A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315] as const;
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171] as const;
const C = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707,
  2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-08,
] as const;
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247,
  3439.3676741437216, 1230.3393548037495,
] as const;
const P = [0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378, 0.016315387137302097] as const;
const Q = [2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918] as const;

/** exp(-y²) computed in two parts so that the rounding of y² does not cost relative accuracy. */
function expMinusSquare(y: number): number {
  const ySplit = Math.trunc(y * 16) / 16;
  const del = (y - ySplit) * (y + ySplit);
  return Math.exp(-ySplit * ySplit) * Math.exp(-del);
}

/** erfc(y) for y ≥ 0.46875 (Cody's second and third intervals). */
function erfcLarge(y: number): number {
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + (C[i] as number)) * y;
      den = (den + (D[i] as number)) * y;
    }
    return (expMinusSquare(y) * (num + C[7])) / (den + D[7]);
  }
  // Beyond this erfc underflows to zero in double precision.
  if (y >= 26.543) return 0;
  const ysq = 1 / (y * y);
  let num = P[5] * ysq;
  let den = ysq;
  for (let i = 0; i < 4; i++) {
    num = (num + (P[i] as number)) * ysq;
    den = (den + (Q[i] as number)) * ysq;
  }
  const r = (ysq * (num + P[4])) / (den + Q[4]);
  return (expMinusSquare(y) * (SQRT_PI_INV - r)) / y;
}

/** erf(x) for |x| ≤ 0.46875 (Cody's first interval). */
function erfSmall(x: number): number {
  const ysq = x * x;
  let num = A[4] * ysq;
  let den = ysq;
  for (let i = 0; i < 3; i++) {
    num = (num + (A[i] as number)) * ysq;
    den = (den + (B[i] as number)) * ysq;
  }
  return (x * (num + A[3])) / (den + B[3]);
}

/** The error function erf(x) = 2/√π ∫₀ˣ e^{-t²} dt. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return erfSmall(x);
  const r = 1 - erfcLarge(y);
  return x < 0 ? -r : r;
}

/** The complementary error function erfc(x) = 1 − erf(x), accurate (relative) for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return 1 - erfSmall(x);
  const r = erfcLarge(y);
  return x < 0 ? 2 - r : r;
}

/** The standard normal density φ(x). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** The standard normal cdf Φ(x) = P(Z ≤ x), accurate relative to its value deep in the lower tail. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** The standard normal survival function 1 − Φ(x) = P(Z > x), accurate deep in the upper tail. */
export function normalSf(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

/** Two-sided normal p-value P(|Z| ≥ |z|). */
export function normalTwoSidedPValue(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

const Q_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087,
  33430.57558358813, 2509.0809287301227,
] as const;
const Q_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
] as const;
const Q_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506,
  0.022723844989269184, 0.0007745450142783414,
] as const;
const Q_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-09,
] as const;
const Q_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784,
  2.7115555687434876e-05, 2.0103343992922881e-07,
] as const;
const Q_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 1.8463183175100548e-05,
  1.421511758316446e-07, 2.0442631033899397e-15,
] as const;

function horner(c: readonly number[], x: number): number {
  let v = 0;
  for (let i = c.length - 1; i >= 0; i--) v = v * x + (c[i] as number);
  return v;
}

/**
 * The standard normal quantile Φ⁻¹(p) (Wichura's AS 241). Returns −∞ at 0, +∞ at 1 and NaN
 * outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(Q_A, r)) / horner(Q_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(Q_C, r) / horner(Q_D, r);
  } else {
    r -= 5;
    value = horner(Q_E, r) / horner(Q_F, r);
  }
  return q < 0 ? -value : value;
}

/**
 * The upper-tail quantile: the z with P(Z > z) = p. Unlike −Φ⁻¹(p) written as Φ⁻¹(1 − p), it
 * keeps full accuracy for tiny p.
 */
export function normalIsf(p: number): number {
  return -normalQuantile(p);
}
