import { describe, expect, it } from 'vitest';
import { gaussianDelta, pldDelta, pldEpsilon } from '../../src/privacy/pld.js';
import { DEFAULT_RDP_ORDERS, epsilonFromRdp, rdpCurve } from '../../src/privacy/rdp.js';
import { PLD_EPSILON_CASES, PRV_VALUES } from './reference-cases.js';

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);
const rdpEpsilon = (q: number, sigma: number, steps: number, delta: number) =>
  epsilonFromRdp(DEFAULT_RDP_ORDERS, rdpCurve(q, sigma, steps), delta).value;

describe('pldEpsilon', () => {
  for (const c of PLD_EPSILON_CASES) {
    it(`matches dp_accounting for ${c.name}`, () => {
      const value = pldEpsilon(c.q, c.sigma, c.steps, c.delta);
      expect(relativeError(value, c.expected), c.source).toBeLessThan(c.tolerance ?? 1e-4);
    });
  }

  it('is within the PRV accountant interval on the Opacus table', () => {
    // Each published value is the upper end of an interval of width 0.01 around the estimate;
    // ours is an upper bound too, so it should sit at most a little above the estimate.
    for (const [sigma, q, steps, expected] of PRV_VALUES) {
      const value = pldEpsilon(q, sigma, steps, 1e-6);
      const label = `sigma=${sigma} q=${q} steps=${steps}`;
      expect(value, label).toBeLessThanOrEqual(expected);
      expect(value, label).toBeGreaterThan(expected - 0.02);
    }
  }, 120_000);

  it('never exceeds RDP on the Opacus table', () => {
    for (const [sigma, q, steps] of PRV_VALUES.filter((_, i) => i % 3 === 0)) {
      expect(pldEpsilon(q, sigma, steps, 1e-6), `sigma=${sigma} q=${q} steps=${steps}`).toBeLessThanOrEqual(
        rdpEpsilon(q, sigma, steps, 1e-6),
      );
    }
  }, 120_000);

  it('agrees with the closed form when composed numerically at q = 1', () => {
    // The Gaussian case exercises discretisation, truncation and FFT composition against an exact answer.
    const exact = pldEpsilon(1, 2, 16, 1e-5);
    const numeric = pldEpsilon(1, 2, 16, 1e-5, { numericForFullBatch: true });
    expect(numeric).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
    expect(relativeError(numeric, exact)).toBeLessThan(1e-5);
  });

  it('changes little when the grid is refined', () => {
    const coarse = pldEpsilon(0.01, 1.1, 5000, 1e-5, { targetBins: 98_304 });
    const fine = pldEpsilon(0.01, 1.1, 5000, 1e-5, { targetBins: 393_216 });
    expect(relativeError(coarse, fine)).toBeLessThan(1e-3);
  });

  it('decreases towards the limit as the grid is refined', () => {
    // Every grid gives an upper bound, so a finer grid never gives a much larger epsilon; this
    // case once lost its composition window to an overflow at some grid sizes.
    const values = [49_152, 150_000, 262_144].map((targetBins) => pldEpsilon(0.05, 2, 20000, 1e-6, { targetBins }));
    expect(values[1]).toBeLessThanOrEqual(values[0] * (1 + 1e-9));
    expect(values[2]).toBeLessThanOrEqual(values[1] * (1 + 1e-9));
    expect(relativeError(values[0], values[2])).toBeLessThan(1e-3);
  });

  it('is zero for zero steps', () => {
    expect(pldEpsilon(0.01, 1, 0, 1e-5)).toBe(0);
  });

  it('is zero for zero sampling rate', () => {
    expect(pldEpsilon(0, 1, 100, 1e-5)).toBe(0);
  });

  it('is infinite without noise', () => {
    expect(pldEpsilon(0.01, 0, 100, 1e-5)).toBe(Infinity);
  });

  it('rejects fractional steps', () => {
    expect(() => pldEpsilon(0.01, 1, 2.5, 1e-5)).toThrow(/steps/);
  });
});

describe('pldDelta', () => {
  it('matches the Gaussian test of dp_accounting', () => {
    // pld_privacy_accountant_test.py test_gaussian_basic: sigma sqrt(3) three times, eps 1.
    expect(pldDelta(1, Math.sqrt(3), 3, 1)).toBeCloseTo(0.126936, 5);
  });

  it('matches the subsampled Gaussian test of dp_accounting', () => {
    // pld_privacy_accountant_test.py test_poisson_subsampled_gaussian (their tolerance 1e-3).
    expect(Math.abs(pldDelta(0.2, 0.5, 3, 1) - 0.15594)).toBeLessThan(1e-3);
  });

  it('is consistent with pldEpsilon', () => {
    const epsilon = pldEpsilon(0.05, 1.2, 300, 1e-6);
    expect(relativeError(pldDelta(0.05, 1.2, 300, epsilon), 1e-6)).toBeLessThan(1e-3);
  });
});

describe('gaussianDelta', () => {
  it('matches the Gaussian test of dp_accounting', () => {
    // Three compositions of sigma sqrt(3) are one Gaussian with s = 1 (test_gaussian_basic).
    expect(gaussianDelta(1, 1)).toBeCloseTo(0.126936, 5);
  });

  it('stays below the RDP bound', () => {
    // dp_accounting calibrates sigma 4.530877117 to (1, 1e-6) through RDP, which is not tight.
    expect(gaussianDelta(4.530877117, 1)).toBeLessThan(1e-6);
  });
});
