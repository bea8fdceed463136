import type { CsrMatrix } from '../matrix/csr.js';

/** What an expression matrix holds, which decides the normalization steps. */
export type InputKind = 'counts' | 'normalized' | 'log';

export interface ValueProfile {
  /** Minimum over all cells, zeros included (stored or implicit). */
  min: number;
  max: number;
  /** Every stored value is an integer. */
  allIntegers: boolean;
  negativeCount: number;
  nonFiniteCount: number;
  /** Median of the stored non-zero values. */
  medianNonzero: number;
  /** 99th percentile of the stored non-zero values. */
  p99Nonzero: number;
}

/** Largest maximum that log-scale expression plausibly reaches (log2 of ~1e15). */
const LOG_SCALE_MAX = 50;
/** Log-scale values are compact: their 99th percentile stays within this factor of their median. */
const LOG_SCALE_SPREAD = 8;
/** Values sampled for the quantiles; min, max, integrality and signs use every value. */
const QUANTILE_SAMPLE = 200_000;

/** Scans every stored value once (quantiles come from an even-stride sample of at most 200,000 values). */
export function profileValues(m: CsrMatrix): ValueProfile {
  const total = m.data.length;
  let min = total < m.nRows * m.nCols ? 0 : Infinity;
  let max = total < m.nRows * m.nCols ? 0 : -Infinity;
  let allIntegers = true;
  let negativeCount = 0;
  let nonFiniteCount = 0;
  for (let k = 0; k < total; k++) {
    const v = m.data[k];
    if (!Number.isFinite(v)) {
      nonFiniteCount++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    if (v < 0) negativeCount++;
    if (allIntegers && v !== Math.round(v)) allIntegers = false;
  }
  const stride = Math.max(1, Math.floor(total / QUANTILE_SAMPLE));
  const sample: number[] = [];
  for (let k = 0; k < total; k += stride) {
    if (Number.isFinite(m.data[k])) sample.push(m.data[k]);
  }
  sample.sort((a, b) => a - b);
  const quantile = (p: number) => (sample.length === 0 ? 0 : sample[Math.min(sample.length - 1, Math.floor(p * sample.length))]);
  return {
    min: Number.isFinite(min) ? min : 0,
    max: Number.isFinite(max) ? max : 0,
    allIntegers,
    negativeCount,
    nonFiniteCount,
    medianNonzero: quantile(0.5),
    p99Nonzero: quantile(0.99),
  };
}

export interface KindDecision {
  kind: InputKind;
  /** Why, in words, for the log and the report. */
  reason: string;
}

/**
 * Decides what the values are. Non-negative integers are counts. Values below LOG_SCALE_MAX
 * whose 99th percentile is within LOG_SCALE_SPREAD times their median, or that are negative
 * with a small maximum, look log-transformed. Anything else is linear-scale normalized data
 * (intensities, ratios, TPM).
 */
export function detectInputKind(profile: ValueProfile): KindDecision {
  if (profile.allIntegers && profile.negativeCount === 0) {
    return { kind: 'counts', reason: 'every value is a non-negative integer' };
  }
  const spread = profile.medianNonzero > 0 ? profile.p99Nonzero / profile.medianNonzero : Infinity;
  if (profile.max <= LOG_SCALE_MAX && profile.negativeCount > 0) {
    return {
      kind: 'log',
      reason: `values include negatives and the maximum is ${round(profile.max)} (at most ${LOG_SCALE_MAX}), as on a log scale`,
    };
  }
  if (profile.max <= LOG_SCALE_MAX && spread <= LOG_SCALE_SPREAD) {
    return {
      kind: 'log',
      reason:
        `the maximum is ${round(profile.max)} and the values are compact (99th percentile ${round(spread)} times the median; ` +
        `linear-scale expression is usually more than ${LOG_SCALE_SPREAD} times), as on a log scale`,
    };
  }
  const what = profile.allIntegers ? 'integers with negative values' : 'non-integer values';
  return {
    kind: 'normalized',
    reason: `${what} with a maximum of ${round(profile.max)} and a long upper tail (99th percentile ${round(spread)} times the median), as on a linear scale`,
  };
}

function round(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 100) / 100) : 'infinite';
}
