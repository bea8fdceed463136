import { logAddExp, logErfc } from './normal.js';

/**
 * Rényi differential privacy (RDP) of the Poisson-subsampled Gaussian mechanism and its
 * conversion to (epsilon, delta)-DP.
 *
 * The RDP of one step is log(A_alpha) / (alpha - 1) with A_alpha the alpha-th moment of the
 * likelihood ratio between (1 - q) N(0, sigma^2) + q N(1, sigma^2) and N(0, sigma^2), computed
 * as in Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian
 * Mechanism" (2019), section 3.3: a finite binomial sum for integer orders and a convergent
 * series of erfc terms for fractional orders. The same computation is in Google's
 * dp_accounting (rdp_privacy_accountant.py), TensorFlow Privacy and Opacus (analysis/rdp.py).
 * RDP composes additively over steps.
 */

/**
 * RDP orders searched by default: dp_accounting's DEFAULT_RDP_ORDERS, a superset of Opacus'
 * DEFAULT_ALPHAS, so epsilon here is never above what either library reports on its own grid.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 53 }, (_, x) => 11 + x),
  128,
  256,
  512,
  1024,
]);

/** Iterations after which the fractional-order series counts as not converged (dp_accounting's limit). */
const MAX_FRACTIONAL_TERMS = 1000;

/** log(A_alpha) for integer alpha >= 1 and 0 < q < 1: a binomial sum over i = 0..alpha. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVariance = 2 * sigma * sigma;
  let logA = -Infinity;
  let logBinomial = 0;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinomial += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinomial + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoVariance;
    logA = logAddExp(logA, term);
  }
  return logA;
}

/**
 * log(A_alpha) for fractional alpha and 0 < q < 1. The series splits the integral at z0, where
 * the two Gaussians' weighted densities cross. Like current dp_accounting it sums the terms'
 * absolute values, an upper bound on A_alpha and so a conservative RDP, and returns Infinity
 * (the order is then ignored) when the series has not converged after 1000 terms.
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const variance = sigma * sigma;
  const z0 = variance * Math.log(1 / q - 1) + 0.5;
  const scale = Math.SQRT2 * sigma;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let lastS0 = -Infinity;
  let lastS1 = -Infinity;
  let logAbsBinomial = 0;
  for (let i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
    if (i > 0) logAbsBinomial += Math.log(Math.abs(alpha - i + 1)) - Math.log(i);
    const j = alpha - i;
    const logT0 = logAbsBinomial + i * logQ + j * log1mQ;
    const logT1 = logAbsBinomial + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / scale);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / scale);
    const logS0 = logT0 + (i * i - i) / (2 * variance) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * variance) + logE1;
    logA0 = logAddExp(logA0, logS0);
    logA1 = logAddExp(logA1, logS1);
    const total = logAddExp(logA0, logA1);
    if (logS0 < lastS0 && logS1 < lastS1 && Math.max(logS0, logS1) < total - 30) return total;
    lastS0 = logS0;
    lastS1 = logS1;
  }
  return Infinity;
}

/** RDP at `order` of one step of the Gaussian mechanism with noise multiplier sigma, Poisson-sampled at rate q. */
export function rdpPoissonGaussian(q: number, sigma: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate must be in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`noise multiplier must be >= 0, got ${sigma}`);
  if (!(order >= 1)) throw new RangeError(`RDP order must be >= 1, got ${order}`);
  if (q === 0) return 0;
  if (sigma === 0 || order === Infinity) return Infinity;
  if (q === 1) return order / (2 * sigma * sigma);
  // Order 1 (the KL divergence) has no closed form for q < 1; conversions ignore orders below 1.01.
  if (order === 1) return Infinity;
  const logA = Number.isInteger(order) ? logAInteger(q, sigma, order) : logAFractional(q, sigma, order);
  return logA / (order - 1);
}

/** RDP of `steps` compositions of the subsampled Gaussian at each order. */
export function rdpCurve(
  q: number,
  sigma: number,
  steps: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): Float64Array {
  const out = new Float64Array(orders.length);
  if (steps === 0) return out;
  for (let i = 0; i < orders.length; i++) out[i] = steps * rdpPoissonGaussian(q, sigma, orders[i]);
  return out;
}

/** Epsilon (or delta) from an RDP curve, with the order where the minimum was attained. */
export interface RdpConversion {
  value: number;
  order: number;
}

/**
 * Smallest epsilon such that the RDP curve implies (epsilon, delta)-DP, using the conversion
 * of Balle et al. 2020 (arXiv:1905.09982, theorem 21) and Canonne, Kamath and Steinke 2020
 * (arXiv:2004.00010, proposition 12): epsilon = rdp + log1p(-1/a) - log(delta * a) / (a - 1),
 * plus the KL bound delta <= sqrt(1 - exp(-rdp)) that gives epsilon = 0 for tiny RDP. This is
 * dp_accounting's compute_epsilon and the formula in Opacus' get_privacy_spent.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: ArrayLike<number>, delta: number): RdpConversion {
  if (orders.length !== rdp.length) throw new RangeError(`${orders.length} orders but ${rdp.length} RDP values`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  let best = Infinity;
  let bestOrder = NaN;
  for (let i = 0; i < orders.length; i++) {
    const order = orders[i];
    const value = checkedRdp(rdp[i], order);
    let epsilon: number;
    if (delta * delta + Math.expm1(-value) > 0) epsilon = 0;
    else if (order > 1.01) epsilon = value + Math.log1p(-1 / order) - Math.log(delta * order) / (order - 1);
    else epsilon = Infinity; // the bound is numerically unstable as the order approaches 1
    if (epsilon < best || Number.isNaN(bestOrder)) {
      best = epsilon;
      bestOrder = order;
    }
  }
  return { value: Math.max(0, best), order: bestOrder };
}

/** Smallest delta such that the RDP curve implies (epsilon, delta)-DP (the inverse of epsilonFromRdp). */
export function deltaFromRdp(orders: readonly number[], rdp: ArrayLike<number>, epsilon: number): RdpConversion {
  if (orders.length !== rdp.length) throw new RangeError(`${orders.length} orders but ${rdp.length} RDP values`);
  if (!(epsilon >= 0)) throw new RangeError(`epsilon must be >= 0, got ${epsilon}`);
  let bestLog = Infinity;
  let bestOrder = NaN;
  for (let i = 0; i < orders.length; i++) {
    const order = orders[i];
    const value = checkedRdp(rdp[i], order);
    let logDelta = value === 0 ? -Infinity : 0.5 * Math.log1p(-Math.exp(-value));
    if (order > 1.01) {
      logDelta = Math.min(logDelta, (order - 1) * (value - epsilon + Math.log1p(-1 / order)) - Math.log(order));
    }
    if (logDelta < bestLog || Number.isNaN(bestOrder)) {
      bestLog = logDelta;
      bestOrder = order;
    }
  }
  return { value: Math.min(Math.exp(bestLog), 1), order: bestOrder };
}

/**
 * Returns an RDP value ready for conversion. Rounding can leave log(A) a hair below zero when q
 * is tiny, which means a divergence of about 0. Anything clearly negative is a numerical fault.
 */
function checkedRdp(value: number, order: number): number {
  if (Number.isNaN(value)) return Infinity;
  if (value < 0) {
    if (value > -1e-12) return 0;
    throw new Error(`RDP at order ${order} is negative (${value}); the accountant has a numerical fault`);
  }
  return value;
}
