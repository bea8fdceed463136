import erfc from '@stdlib/math-base-special-erfc';
import erfcx from '@stdlib/math-base-special-erfcx';

/**
 * Log-space arithmetic and the standard normal distribution in log space, as the privacy
 * accountants need them: tail probabilities far below the smallest double (1e-308) must
 * still compare and add correctly.
 */

/** log(e^a + e^b) without overflow; either argument may be -Infinity. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(Math.min(a, b) - high));
}

/** log(e^a - e^b) for a >= b; -Infinity when they are equal. */
export function logSubExp(a: number, b: number): number {
  if (b > a) throw new RangeError(`logSubExp: ${b} > ${a} would give the log of a negative number`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  // -expm1 keeps full precision when a and b are close, where 1 - exp(b - a) would cancel.
  return a + Math.log(-Math.expm1(b - a));
}

/**
 * log Φ(z), the log of the standard normal CDF, accurate in both tails: for z < 0 it goes
 * through the scaled erfcx, so Φ(-40) ≈ 1e-350 still gets an accurate logarithm.
 */
export function logNormalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  if (z < 0) {
    const t = -z * Math.SQRT1_2;
    return Math.log(0.5 * erfcx(t)) - t * t;
  }
  return Math.log1p(-0.5 * erfc(z * Math.SQRT1_2));
}

/** log(1 - Φ(z)), the log of the standard normal survival function. */
export function logNormalSf(z: number): number {
  return logNormalCdf(-z);
}

/** log(erfc(x)) for any x, accurate for large x where erfc underflows. */
export function logErfc(x: number): number {
  return Math.LN2 + logNormalCdf(-x * Math.SQRT2);
}

/**
 * log(Φ(b) - Φ(a)) for a <= b: the standard normal mass of [a, b], accurate when the
 * interval is narrow or lies far in a tail (both are common in the PLD accountant).
 */
export function logNormalIntervalMass(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  if (a >= 0) return logSubExp(logNormalCdf(-a), logNormalCdf(-b));
  if (b <= 0) return logSubExp(logNormalCdf(b), logNormalCdf(a));
  // The interval contains 0, so its mass is at least that of [min(-a, b), 0] and 1 - (tails) does not cancel badly.
  return Math.log1p(-(Math.exp(logNormalCdf(a)) + Math.exp(logNormalCdf(-b))));
}

/**
 * log of the smaller tail at z: log Φ(z) for z < 0, log(1 - Φ(z)) for z >= 0. These are the
 * only values logIntervalMassFromTails needs, one special-function call per point.
 */
export function logNormalTail(z: number): number {
  return z >= 0 ? logNormalCdf(-z) : logNormalCdf(z);
}

/** Same as logNormalIntervalMass, from logNormalTail precomputed at both ends. */
export function logIntervalMassFromTails(a: number, b: number, tailA: number, tailB: number): number {
  if (!(b > a)) return -Infinity;
  if (a >= 0) return logSubExp(tailA, tailB);
  if (b <= 0) return logSubExp(tailB, tailA);
  return Math.log1p(-(Math.exp(tailA) + Math.exp(tailB)));
}
