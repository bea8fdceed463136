import FFT from 'fft.js';
import { logAddExp, logIntervalMassFromTails, logNormalCdf, logNormalTail } from './normal.js';

/**
 * Privacy loss distribution (PLD) accountant for the Poisson-subsampled Gaussian mechanism.
 *
 * The privacy loss of one step is L = log(P(x) / Q(x)) for x drawn from P. Under add/remove
 * adjacency there are two pairs: "remove" (P = (1 - q) N(0, s^2) + q N(1, s^2), Q = N(0, s^2))
 * and "add" (P and Q swapped). For each pair the accountant
 *  1. discretises the loss on a grid k * h with the connect-the-dots method of Doroshenko et
 *     al. 2022 ("Connect the Dots", arXiv:2207.04380): the P-mass and Q-mass of every band
 *     (k h, (k + 1) h] are split between its two end points so that both masses are kept. The
 *     result is a discrete pair that dominates the true one at every epsilon, so everything
 *     computed from it is an upper bound up to floating-point error;
 *  2. truncates pessimistically: loss mass above the grid becomes infinite loss, mass below is
 *     moved up to the lowest grid point;
 *  3. composes `steps` copies by raising the FFT of the grid masses to the power `steps`,
 *     over a window that contains all but a Chernoff-bounded tail of the composed mass; that
 *     tail is added to delta;
 *  4. reads epsilon off the composed distribution: delta(eps) = E[(1 - e^(eps - L))+] + P(L = inf).
 * Epsilon is the larger of the two pairs' epsilons, as in dp_accounting's PLDAccountant.
 * For q = 1 the composition is a single Gaussian with noise sigma / sqrt(steps), whose
 * delta(eps) has a closed form (Balle and Wang 2018, theorem 8), used directly.
 */

/** Tuning of the discretisation; the defaults suit every case in the tests. */
export interface PldOptions {
  /**
   * Grid cells the composed loss distribution should span. Finer grids cost time linearly and
   * tighten epsilon; the FFT length is the next power of two. Default 196608 (FFT of 2^18).
   */
  targetBins?: number;
  /**
   * Total probability mass that truncation may move to infinite loss (added to delta). Default:
   * delta * 1e-6, at most 1e-12.
   */
  tailMass?: number;
  /** Use the numerical composition even for q = 1 (for testing it against the closed form). */
  numericForFullBatch?: boolean;
}

const DEFAULT_TARGET_BINS = 196_608;
const MAX_FFT_LENGTH = 1 << 22;
const COARSE_BINS = 2048;
const CHERNOFF_SUMMARY_BINS = 4096;

/** Smallest epsilon >= 0 such that `steps` compositions are (epsilon, delta)-DP; Infinity if none. */
export function pldEpsilon(q: number, sigma: number, steps: number, delta: number, options: PldOptions = {}): number {
  checkMechanism(q, sigma, steps);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  if (steps === 0 || q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1 && !options.numericForFullBatch) return gaussianEpsilon(sigma / Math.sqrt(steps), delta);
  const tail = options.tailMass ?? Math.min(1e-12, delta * 1e-6);
  let epsilon = 0;
  for (const direction of ['remove', 'add'] as const) {
    const composed = composeLoss(new LossModel(q, sigma, direction), steps, tail, options.targetBins ?? DEFAULT_TARGET_BINS);
    epsilon = Math.max(epsilon, composed.epsilonFor(delta));
  }
  return epsilon;
}

/** Smallest delta such that `steps` compositions are (epsilon, delta)-DP. */
export function pldDelta(q: number, sigma: number, steps: number, epsilon: number, options: PldOptions = {}): number {
  checkMechanism(q, sigma, steps);
  if (!(epsilon >= 0)) throw new RangeError(`epsilon must be >= 0, got ${epsilon}`);
  if (steps === 0 || q === 0) return 0;
  if (sigma === 0) return 1;
  if (q === 1 && !options.numericForFullBatch) return gaussianDelta(sigma / Math.sqrt(steps), epsilon);
  const tail = options.tailMass ?? 1e-15;
  let delta = 0;
  for (const direction of ['remove', 'add'] as const) {
    const composed = composeLoss(new LossModel(q, sigma, direction), steps, tail, options.targetBins ?? DEFAULT_TARGET_BINS);
    delta = Math.max(delta, composed.deltaFor(epsilon));
  }
  return Math.min(1, delta);
}

function checkMechanism(q: number, sigma: number, steps: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate must be in [0, 1], got ${q}`);
  if (!(sigma >= 0 && Number.isFinite(sigma))) throw new RangeError(`noise multiplier must be finite and >= 0, got ${sigma}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be an integer >= 0, got ${steps}`);
}

/** Exact delta(eps) of the Gaussian mechanism with sensitivity 1 and noise s (Balle and Wang 2018, theorem 8). */
export function gaussianDelta(s: number, epsilon: number): number {
  const logFirst = logNormalCdf(1 / (2 * s) - epsilon * s);
  const logSecond = epsilon + logNormalCdf(-epsilon * s - 1 / (2 * s));
  if (logSecond >= logFirst) return 0;
  return Math.exp(logFirst) * -Math.expm1(logSecond - logFirst);
}

/** Smallest epsilon >= 0 with gaussianDelta(s, epsilon) <= delta, by bisection to machine precision. */
export function gaussianEpsilon(s: number, delta: number): number {
  if (gaussianDelta(s, 0) <= delta) return 0;
  let high = 1;
  while (gaussianDelta(s, high) > delta) {
    high *= 2;
    if (high > 1e12) return Infinity;
  }
  let low = 0;
  for (let i = 0; i < 200 && high - low > 1e-15 * high; i++) {
    const middle = (low + high) / 2;
    if (gaussianDelta(s, middle) > delta) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * Loss of one step of one adjacency direction, in terms of the Gaussian sample x.
 * With g(x) = exp((2x - 1) / (2 sigma^2)), the likelihood ratio N(1)/N(0), the loss is
 * log(1 - q + q g) for "remove" (increasing in x) and -log(1 - q + q g) for "add" (decreasing).
 */
class LossModel {
  readonly variance: number;
  /** Smallest and largest possible loss (-Infinity or Infinity when unbounded). */
  readonly supportLow: number;
  readonly supportHigh: number;

  constructor(
    readonly q: number,
    readonly sigma: number,
    readonly direction: 'remove' | 'add',
  ) {
    this.variance = sigma * sigma;
    const bound = q === 1 ? Infinity : -Math.log1p(-q);
    this.supportLow = direction === 'remove' ? -bound : -Infinity;
    this.supportHigh = direction === 'remove' ? Infinity : bound;
  }

  /**
   * Value of g at the x where the loss equals eps: (e^eps - (1 - q)) / q for "remove" and
   * (e^-eps - (1 - q)) / q for "add"; 0 (x = -Infinity) when no x reaches that loss from above.
   */
  ratioAt(epsilon: number): number {
    const shifted = this.direction === 'remove' ? Math.expm1(epsilon) + this.q : Math.expm1(-epsilon) + this.q;
    return shifted > 0 ? shifted / this.q : 0;
  }

  /** Returns the x where the loss equals eps; -Infinity at or beyond the support's edge. */
  thresholdAt(epsilon: number): number {
    const g = this.ratioAt(epsilon);
    return g > 0 ? this.variance * Math.log(g) + 0.5 : -Infinity;
  }

  /** log P(L > eps). */
  logMassAbove(epsilon: number): number {
    const x = this.thresholdAt(epsilon);
    if (this.direction === 'remove') {
      // L > eps  <=>  x > threshold, under the mixture P.
      if (x === -Infinity) return 0;
      return this.mixtureLog((z) => logNormalCdf(-z), x);
    }
    // L > eps  <=>  x < threshold, under P = N(0, sigma^2).
    return x === -Infinity ? -Infinity : logNormalCdf(x / this.sigma);
  }

  /** log P(L <= eps). */
  logMassAtOrBelow(epsilon: number): number {
    const x = this.thresholdAt(epsilon);
    if (this.direction === 'remove') {
      if (x === -Infinity) return -Infinity;
      return this.mixtureLog((z) => logNormalCdf(z), x);
    }
    return x === -Infinity ? 0 : logNormalCdf(-x / this.sigma);
  }

  /** log of (1 - q) F(x / sigma) + q F((x - 1) / sigma) for a log-probability function F. */
  private mixtureLog(logF: (z: number) => number, x: number): number {
    const near = logF(x / this.sigma);
    if (this.q === 1) return logF((x - 1) / this.sigma);
    return logAddExp(Math.log1p(-this.q) + near, Math.log(this.q) + logF((x - 1) / this.sigma));
  }
}

/** Grid masses of the loss of one step: mass[i] sits at loss (firstIndex + i) * step. */
interface DiscreteLoss {
  step: number;
  firstIndex: number;
  mass: Float64Array;
  /** Probability of infinite loss (mass truncated above the grid). */
  infinityMass: number;
}

/** Loss bounds outside which each step's mass is at most `tailPerStep` on either side. */
function truncationRange(model: LossModel, tailPerStep: number): [number, number] {
  const logTail = Math.log(tailPerStep);
  let low = model.supportLow;
  if (low === -Infinity) low = searchBound((e) => model.logMassAtOrBelow(e) <= logTail, -1);
  let high = model.supportHigh;
  if (high === Infinity) high = searchBound((e) => model.logMassAbove(e) <= logTail, 1);
  return [low, high];
}

/** Point at which `done` first holds when walking from 0 in `sign` direction, to ~1e-9 relative. */
function searchBound(done: (epsilon: number) => boolean, sign: number): number {
  let inner = 0;
  let outer = sign;
  while (!done(outer)) {
    inner = outer;
    outer *= 2;
    if (Math.abs(outer) > 1e9) throw new Error('privacy loss tail does not decay; noise multiplier too small to account');
  }
  for (let i = 0; i < 100 && Math.abs(outer - inner) > 1e-9 * Math.max(1, Math.abs(outer)); i++) {
    const middle = (inner + outer) / 2;
    if (done(middle)) outer = middle;
    else inner = middle;
  }
  return outer;
}

/**
 * Connect-the-dots discretisation of one step's loss on the grid k * step, k in [kLow, kHigh].
 * Each band (k h, (k+1) h] with P-mass p and Q-mass r (p / r lies in [e^(k h), e^((k+1) h)])
 * gives P-mass e^(k h) (1 - theta) r to its lower end and e^((k+1) h) theta r to its upper end,
 * theta = (p / r - e^(k h)) / (e^((k+1) h) - e^(k h)); both P- and Q-mass are then preserved.
 */
function discretize(model: LossModel, step: number, low: number, high: number): DiscreteLoss {
  const kLow = Math.floor(low / step);
  const kHigh = Math.max(kLow + 1, Math.ceil(high / step));
  const points = kHigh - kLow + 1;
  const { q, sigma } = model;
  const remove = model.direction === 'remove';

  // Standardised thresholds of each grid point under N(0, s^2) (z0) and N(1, s^2) (z1), with the
  // log of their smaller normal tail, so that each band costs no new erfc evaluations.
  const ratio = new Float64Array(points);
  const z0 = new Float64Array(points);
  const z1 = new Float64Array(points);
  const tail0 = new Float64Array(points);
  const tail1 = new Float64Array(points);
  for (let i = 0; i < points; i++) {
    const x = model.thresholdAt((kLow + i) * step);
    ratio[i] = model.ratioAt((kLow + i) * step);
    z0[i] = x / sigma;
    z1[i] = (x - 1) / sigma;
    tail0[i] = logNormalTail(z0[i]);
    tail1[i] = logNormalTail(z1[i]);
  }

  const mass = new Float64Array(points);
  const logQ = Math.log(q);
  const log1mQ = q === 1 ? -Infinity : Math.log1p(-q);
  for (let i = 0; i < points - 1; i++) {
    // The band's x-interval: (x_i, x_{i+1}] for "remove"; [x_{i+1}, x_i) for "add".
    const a = remove ? i : i + 1;
    const b = remove ? i + 1 : i;
    const logN0 = logIntervalMassFromTails(z0[a], z0[b], tail0[a], tail0[b]);
    if (logN0 === -Infinity) continue;
    const logN1 = logIntervalMassFromTails(z1[a], z1[b], tail1[a], tail1[b]);
    // R is the N(0)-average of g over the band; it lies between the band's end values of g.
    const averageRatio = Math.exp(logN1 - logN0);
    const lowerLoss = (kLow + i) * step;
    const upperLoss = lowerLoss + step;
    const dAverage = 1 - q + q * averageRatio;
    let theta: number;
    let logQMass: number;
    if (remove) {
      // p / r = 1 - q + q R. Inside the support e^eps = 1 - q + q g, so (1 - q) cancels out of
      // theta; a band that starts below the support (g = 0 there) uses the plain formula.
      theta =
        ratio[i] > 0
          ? (averageRatio - ratio[i]) / (ratio[i + 1] - ratio[i])
          : (dAverage - Math.exp(lowerLoss)) / -Math.expm1(lowerLoss - upperLoss) / Math.exp(upperLoss);
      logQMass = logN0;
    } else {
      // p / r = 1 / (1 - q + q R) and, inside the support, e^eps = 1 / (1 - q + q g); g decreases
      // along the band. A band that ends above the support (g = 0 there) uses the plain formula.
      const dHigh = 1 - q + q * ratio[i + 1];
      theta =
        ratio[i + 1] > 0
          ? ((ratio[i] - averageRatio) * dHigh) / ((ratio[i] - ratio[i + 1]) * dAverage)
          : (1 / dAverage - Math.exp(lowerLoss)) / -Math.expm1(lowerLoss - upperLoss) / Math.exp(upperLoss);
      logQMass = logAddExp(log1mQ + logN0, logQ + logN1);
    }
    if (!(theta >= 0)) theta = 0;
    if (theta > 1) theta = 1;
    mass[i] += Math.exp(lowerLoss + logQMass) * (1 - theta);
    mass[i + 1] += Math.exp(upperLoss + logQMass) * theta;
  }

  // Pessimistic truncation: loss at or below the grid moves up to its first point, loss above
  // the grid becomes infinite.
  mass[0] += Math.exp(model.logMassAtOrBelow(kLow * step));
  const infinityMass = Math.exp(model.logMassAbove(kHigh * step));

  let total = infinityMass;
  for (let i = 0; i < points; i++) total += mass[i];
  if (!(Math.abs(total - 1) < 1e-9)) {
    throw new Error(`PLD discretisation lost probability mass (total ${total}); please report these parameters`);
  }
  return { step, firstIndex: kLow, mass, infinityMass };
}

/** Upper and lower loss bounds of the composed distribution outside which at most `tail` mass lies on each side. */
function chernoffWindow(loss: DiscreteLoss, steps: number, tail: number): [number, number] {
  // Summarise the grid in at most CHERNOFF_SUMMARY_BINS cells. Take a cell [a, b] with mass M and
  // mean m. Because e^(l x) is convex, sum(mass e^(l x)) lies below the chord value
  // M ((b - m) e^(l a) + (m - a) e^(l b)) / (b - a) for either sign of l. This bounds the moment
  // generating function while keeping the mean exact, so the bound does not drift with steps.
  const n = loss.mass.length;
  const width = Math.max(1, Math.ceil(n / CHERNOFF_SUMMARY_BINS));
  const cells = Math.ceil(n / width);
  const cellMass = new Float64Array(cells);
  const cellLow = new Float64Array(cells);
  const cellHigh = new Float64Array(cells);
  const lowWeight = new Float64Array(cells);
  for (let c = 0; c < cells; c++) {
    const start = c * width;
    const end = Math.min(n, start + width);
    let sum = 0;
    let moment = 0;
    for (let i = start; i < end; i++) {
      sum += loss.mass[i];
      moment += loss.mass[i] * (i - start);
    }
    cellMass[c] = sum;
    cellLow[c] = (loss.firstIndex + start) * loss.step;
    cellHigh[c] = (loss.firstIndex + end - 1) * loss.step;
    const span = end - 1 - start;
    lowWeight[c] = span === 0 || sum === 0 ? 1 : Math.min(1, Math.max(0, 1 - moment / sum / span));
  }
  const logCellMass = cellMass.map(Math.log);
  const logLowWeight = lowWeight.map(Math.log);
  const logHighWeight = lowWeight.map((w) => Math.log1p(-w));
  const terms = new Float64Array(cells);
  const logMgf = (lambda: number): number => {
    let best = -Infinity;
    for (let c = 0; c < cells; c++) {
      terms[c] = logCellMass[c] + logAddExp(logLowWeight[c] + lambda * cellLow[c], logHighWeight[c] + lambda * cellHigh[c]);
      if (terms[c] > best) best = terms[c];
    }
    let sum = 0;
    for (let c = 0; c < cells; c++) sum += Math.exp(terms[c] - best);
    return best + Math.log(sum);
  };
  const logTail = Math.log(tail);
  // P(S >= t) <= exp(steps K(l) - l t) for l > 0; P(S <= t) <= exp(steps K(-l) + l t).
  const upper = (lambda: number) => (steps * logMgf(lambda) - logTail) / lambda;
  const lower = (lambda: number) => (logTail - steps * logMgf(-lambda)) / lambda;
  const span = Math.max(loss.step, cellHigh[cells - 1] - cellLow[0]);
  const high = minimizeOverLogScale(upper, span);
  const low = -minimizeOverLogScale((lambda) => -lower(lambda), span);
  return [low, high];
}

/** Minimum of f over lambda > 0, scanning lambda on a log grid around 1 / span and refining by golden section. */
function minimizeOverLogScale(f: (lambda: number) => number, span: number): number {
  let bestLog = 0;
  let best = Infinity;
  const base = Math.log(1 / span);
  for (let i = -60; i <= 120; i++) {
    const logLambda = base + i * 0.25;
    const value = f(Math.exp(logLambda));
    // Overflow at extreme lambda gives NaN or infinities, which bound nothing; skip them.
    if (Number.isFinite(value) && value < best) {
      best = value;
      bestLog = logLambda;
    }
  }
  let a = bestLog - 0.25;
  let b = bestLog + 0.25;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 40; i++) {
    const c = b - ratio * (b - a);
    const d = a + ratio * (b - a);
    const fc = f(Math.exp(c));
    const fd = f(Math.exp(d));
    if (Number.isFinite(fc)) best = Math.min(best, fc);
    if (Number.isFinite(fd)) best = Math.min(best, fd);
    if (fc < fd) b = d;
    else a = c;
  }
  return best;
}

/** The composed loss distribution on a window of the grid, plus mass counted as infinite loss. */
class ComposedLoss {
  constructor(
    readonly step: number,
    readonly firstIndex: number,
    readonly mass: Float64Array,
    /** Infinite-loss mass plus the Chernoff bound on mass above the window. */
    readonly extraDelta: number,
  ) {}

  deltaFor(epsilon: number): number {
    let delta = this.extraDelta;
    for (let i = this.mass.length - 1; i >= 0; i--) {
      const loss = (this.firstIndex + i) * this.step;
      if (loss <= epsilon) break;
      delta += this.mass[i] * -Math.expm1(epsilon - loss);
    }
    return delta;
  }

  /**
   * Smallest epsilon >= 0 with deltaFor(epsilon) <= delta. Walking down from the highest loss,
   * delta(eps) = extra + A - e^eps B between grid points, with A and B the sums of mass and of
   * mass * e^-loss above eps; the crossing is solved in closed form.
   */
  epsilonFor(delta: number): number {
    if (this.extraDelta > delta) return Infinity;
    let aboveMass = 0;
    let aboveWeighted = 0;
    for (let i = this.mass.length - 1; i >= 0; i--) {
      const loss = (this.firstIndex + i) * this.step;
      if (loss <= 0) break;
      aboveMass += this.mass[i];
      aboveWeighted += this.mass[i] * Math.exp(-loss);
      const next = Math.max(0, (this.firstIndex + i - 1) * this.step);
      const deltaAtNext = this.extraDelta + aboveMass - Math.exp(next) * aboveWeighted;
      if (deltaAtNext > delta) {
        return Math.log((this.extraDelta + aboveMass - delta) / aboveWeighted);
      }
    }
    return 0;
  }
}

/** Loss distribution of `steps` compositions, on a grid fine enough for `targetBins` cells over its bulk. */
function composeLoss(model: LossModel, steps: number, tail: number, targetBins: number): ComposedLoss {
  const [low, high] = truncationRange(model, tail / (2 * steps));

  // A coarse pass sizes the composed window, which sets the grid step of the fine pass.
  const coarse = discretize(model, (high - low) / COARSE_BINS, low, high);
  const [coarseLow, coarseHigh] = chernoffWindow(coarse, steps, tail);
  let step = Math.max((coarseHigh - coarseLow) / targetBins, (high - low) / targetBins / 4, 1e-12);

  for (;;) {
    const loss = discretize(model, step, low, high);
    const [windowLow, windowHigh] = chernoffWindow(loss, steps, tail);
    const minIndex = loss.firstIndex * steps;
    const maxIndex = (loss.firstIndex + loss.mass.length - 1) * steps;
    const first = Math.max(minIndex, Math.floor(windowLow / step));
    const last = Math.min(maxIndex, Math.ceil(windowHigh / step));
    const length = fftLength(last - first + 1);
    if (length > MAX_FFT_LENGTH) {
      step *= (last - first + 1) / (MAX_FFT_LENGTH / 2);
      continue;
    }
    if (!Number.isFinite(windowLow) || !Number.isFinite(windowHigh) || windowHigh < windowLow) {
      throw new Error(`PLD composition window [${windowLow}, ${windowHigh}] is invalid; please report these parameters`);
    }
    const composed = convolvePower(loss, steps, length, first);
    checkComposedMass(composed, loss, steps, tail);
    // Mass above the window was folded back into it (a wash at worst); count it as infinite loss.
    const aboveWindow = last < maxIndex ? tail : 0;
    const infinity = -Math.expm1(steps * Math.log1p(-loss.infinityMass));
    return new ComposedLoss(step, first, composed, infinity + aboveWindow);
  }
}

/**
 * Guards against a silent failure of the composition: the window must hold the composed finite
 * mass (1 - infinityMass)^steps, less at most the two Chernoff tails and rounding.
 */
function checkComposedMass(composed: Float64Array, loss: DiscreteLoss, steps: number, tail: number): void {
  let total = 0;
  for (let i = 0; i < composed.length; i++) total += composed[i];
  let finite = 0;
  for (let i = 0; i < loss.mass.length; i++) finite += loss.mass[i];
  const expected = Math.exp(steps * Math.log(finite));
  if (!(Math.abs(total - expected) < 1e-7 + 2 * tail)) {
    throw new Error(`PLD composition kept mass ${total} instead of ${expected}; please report these parameters`);
  }
}

function fftLength(n: number): number {
  let length = 4;
  while (length < n) length *= 2;
  return length;
}

/**
 * Convolves the grid masses with themselves `steps` times, folded modulo `length`, and returns
 * the composed indices first .. first + length - 1. Negative values from rounding become 0,
 * which can only raise delta.
 */
function convolvePower(loss: DiscreteLoss, steps: number, length: number, first: number): Float64Array {
  const fft = new FFT(length);
  const input = new Float64Array(length);
  for (let i = 0; i < loss.mass.length; i++) input[mod(loss.firstIndex + i, length)] += loss.mass[i];
  const spectrum = new Float64Array(2 * length);
  fft.realTransform(spectrum, input);
  // The input is real, so the spectrum is Hermitian: raise the first half to the power and mirror it.
  const half = length / 2;
  for (let k = 0; k <= half; k++) {
    const re = spectrum[2 * k];
    const im = spectrum[2 * k + 1];
    // Polar form: |X|^T e^(i T arg X); frequencies whose power underflows are set to 0.
    const logMagnitude = 0.5 * steps * Math.log(re * re + im * im);
    if (logMagnitude < -745) {
      spectrum[2 * k] = 0;
      spectrum[2 * k + 1] = 0;
      continue;
    }
    const magnitude = Math.exp(logMagnitude);
    const angle = steps * Math.atan2(im, re);
    spectrum[2 * k] = magnitude * Math.cos(angle);
    spectrum[2 * k + 1] = magnitude * Math.sin(angle);
  }
  for (let k = half + 1; k < length; k++) {
    spectrum[2 * k] = spectrum[2 * (length - k)];
    spectrum[2 * k + 1] = -spectrum[2 * (length - k) + 1];
  }
  const folded = new Float64Array(2 * length);
  fft.inverseTransform(folded, spectrum);
  const out = new Float64Array(length);
  for (let j = 0; j < length; j++) {
    const value = folded[2 * mod(first + j, length)];
    out[j] = value > 0 ? value : 0;
  }
  return out;
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
