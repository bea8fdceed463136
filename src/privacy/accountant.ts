import { InputError } from '../util/errors.js';
import { pldEpsilon } from './pld.js';
import { DEFAULT_RDP_ORDERS, epsilonFromRdp, rdpCurve } from './rdp.js';

/**
 * The privacy accountants behind DP-SGD: epsilon for given parameters, and the noise
 * multiplier that reaches a target epsilon.
 *
 * Accounting assumptions, which the training loop must uphold for the numbers to hold:
 *  - Poisson sampling: each example joins each step's batch independently with probability q.
 *    The subsampled-Gaussian analysis covers exactly this sampling, and shuffled fixed-size
 *    batches are a different mechanism;
 *  - add/remove adjacency: neighbouring datasets differ by one example being present or absent;
 *  - one example is one patient, so the guarantee is per patient only if no patient has more
 *    than one sample in the cohort;
 *  - every step adds Gaussian noise of standard deviation sigma * C to the sum of per-example
 *    gradients clipped to norm C, and all intermediate models may be released.
 */

export type AccountantName = 'rdp' | 'pld';

export const ACCOUNTANTS: readonly AccountantName[] = ['rdp', 'pld'];

/** Parameters of DP-SGD that determine its privacy cost. */
export interface DpSgdMechanism {
  /** Poisson sampling rate q in [0, 1]: expected batch size / number of training examples. */
  samplingRate: number;
  /** sigma: noise standard deviation divided by the clipping norm. */
  noiseMultiplier: number;
  /** Number of noisy updates. */
  steps: number;
  /** delta of (epsilon, delta)-DP, in (0, 1). */
  delta: number;
  accountant: AccountantName;
}

/** Epsilon with how it was found. */
export interface EpsilonResult {
  epsilon: number;
  accountant: AccountantName;
  /** RDP order at which the minimum was attained (RDP only). */
  rdpOrder?: number;
}

/** Epsilon spent by `steps` noisy updates of the Poisson-subsampled Gaussian mechanism; 0 for zero steps. */
export function epsilonFor(m: DpSgdMechanism): number {
  return epsilonDetails(m).epsilon;
}

/** Like epsilonFor, with the optimal RDP order when the RDP accountant is used. */
export function epsilonDetails(m: DpSgdMechanism): EpsilonResult {
  validateMechanism(m);
  if (m.accountant === 'rdp') {
    const rdp = rdpCurve(m.samplingRate, m.noiseMultiplier, m.steps, DEFAULT_RDP_ORDERS);
    const { value, order } = epsilonFromRdp(DEFAULT_RDP_ORDERS, rdp, m.delta);
    return { epsilon: value, accountant: 'rdp', rdpOrder: order };
  }
  return { epsilon: pldEpsilon(m.samplingRate, m.noiseMultiplier, m.steps, m.delta), accountant: 'pld' };
}

/** Calibration request: the noise multiplier that keeps `steps` updates within targetEpsilon. */
export interface NoiseCalibration {
  targetEpsilon: number;
  samplingRate: number;
  steps: number;
  delta: number;
  accountant: AccountantName;
}

/** Largest noise multiplier searched; beyond it the target is treated as unreachable. */
const MAX_NOISE_MULTIPLIER = 1e6;

/**
 * Smallest noise multiplier (to a relative tolerance of 1e-4 for RDP and 1e-3 for PLD) whose
 * epsilon is at most targetEpsilon, by bisection on log sigma. The returned sigma always meets
 * the target: bisection keeps the upper end of the bracket. Returns 0 when no noise is needed
 * (zero steps or q = 0).
 */
export function noiseMultiplierFor(o: NoiseCalibration): number {
  if (!(o.targetEpsilon > 0 && Number.isFinite(o.targetEpsilon))) {
    throw new InputError(`target epsilon must be a positive number, got ${o.targetEpsilon}`);
  }
  const epsilonAt = (sigma: number) =>
    epsilonFor({ samplingRate: o.samplingRate, noiseMultiplier: sigma, steps: o.steps, delta: o.delta, accountant: o.accountant });
  validateMechanism({ samplingRate: o.samplingRate, noiseMultiplier: 1, steps: o.steps, delta: o.delta, accountant: o.accountant });
  if (o.steps === 0 || o.samplingRate === 0) return 0;

  // RDP is the looser bound, so the noise it needs is a cheap upper bracket for PLD; the loop
  // below still doubles the bracket if a PLD epsilon ever came out higher.
  let high = o.accountant === 'pld' ? noiseMultiplierFor({ ...o, accountant: 'rdp' }) : 1;
  let low = o.accountant === 'pld' ? high * 0.7 : 1;
  while (epsilonAt(high) > o.targetEpsilon) {
    low = high;
    high *= 2;
    if (high > MAX_NOISE_MULTIPLIER) {
      throw new InputError(
        `target epsilon ${o.targetEpsilon} is out of reach: even noise multiplier ${MAX_NOISE_MULTIPLIER} spends more`,
        {},
        'raise the target epsilon or delta, or lower the number of steps or the sampling rate',
      );
    }
  }
  while (low === high || epsilonAt(low) <= o.targetEpsilon) {
    high = low;
    low /= 2;
    if (low < 1e-6) return high;
  }
  const tolerance = o.accountant === 'rdp' ? 1e-4 : 1e-3;
  while (high / low - 1 > tolerance) {
    const middle = Math.sqrt(low * high);
    if (epsilonAt(middle) > o.targetEpsilon) low = middle;
    else high = middle;
  }
  return high;
}

/** Rejects parameters the accountants cannot account for, naming the parameter and the fix. */
export function validateMechanism(m: DpSgdMechanism): void {
  if (!ACCOUNTANTS.includes(m.accountant)) {
    throw new InputError(`unknown accountant '${m.accountant}'`, {}, `use one of ${ACCOUNTANTS.join(', ')}`);
  }
  if (!(m.samplingRate >= 0 && m.samplingRate <= 1)) {
    throw new InputError(`sampling rate must be in [0, 1], got ${m.samplingRate}`, {}, 'the rate is expected batch size / number of samples');
  }
  if (!(m.noiseMultiplier >= 0 && Number.isFinite(m.noiseMultiplier))) {
    throw new InputError(`noise multiplier must be a finite number >= 0, got ${m.noiseMultiplier}`);
  }
  if (!(Number.isInteger(m.steps) && m.steps >= 0)) {
    throw new InputError(`steps must be an integer >= 0, got ${m.steps}`);
  }
  if (!(m.delta > 0 && m.delta < 1)) {
    throw new InputError(`delta must be in (0, 1), got ${m.delta}`, {}, 'choose delta well below 1 / number of samples');
  }
}
