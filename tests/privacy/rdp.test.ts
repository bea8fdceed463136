import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RDP_ORDERS,
  deltaFromRdp,
  epsilonFromRdp,
  rdpCurve,
  rdpPoissonGaussian,
} from '../../src/privacy/rdp.js';
import { RDP_EPSILON_CASES, RDP_VALUE_CASES } from './reference-cases.js';

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

describe('rdpPoissonGaussian', () => {
  for (const c of RDP_VALUE_CASES) {
    it(`matches ${c.name}`, () => {
      const value = c.steps * rdpPoissonGaussian(c.q, c.sigma, c.order);
      // Published values carry 4 to 9 significant digits; 1e-4 relative covers their rounding.
      expect(relativeError(value, c.expected), c.source).toBeLessThan(1e-4);
    });
  }

  it('is zero without sampling', () => {
    expect(rdpPoissonGaussian(0, 10, 20)).toBe(0);
  });

  it('is infinite without noise', () => {
    expect(rdpPoissonGaussian(0.1, 0, 2)).toBe(Infinity);
  });

  it('is infinite at order infinity', () => {
    expect(rdpPoissonGaussian(0.01, 2.5, Infinity)).toBe(Infinity);
  });

  it('equals the Gaussian RDP at q = 1', () => {
    expect(rdpPoissonGaussian(1, 2.71828, 3.14159)).toBeCloseTo(3.14159 / (2 * 2.71828 ** 2), 14);
  });

  it('grows with the order', () => {
    const values = [1.5, 2, 2.5, 4, 8, 16, 32].map((order) => rdpPoissonGaussian(0.05, 1.1, order));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
  });

  it('is continuous across integer orders', () => {
    // The fractional series and the integer sum are different formulas for the same quantity.
    const below = rdpPoissonGaussian(0.02, 1.3, 7.999999);
    const at = rdpPoissonGaussian(0.02, 1.3, 8);
    const above = rdpPoissonGaussian(0.02, 1.3, 8.000001);
    expect(relativeError(below, at)).toBeLessThan(1e-4);
    expect(relativeError(above, at)).toBeLessThan(1e-4);
  });

  it('rejects a sampling rate above 1', () => {
    expect(() => rdpPoissonGaussian(1.5, 1, 2)).toThrow(/sampling rate/);
  });
});

describe('epsilonFromRdp', () => {
  for (const c of RDP_EPSILON_CASES) {
    it(`matches ${c.name}`, () => {
      const orders = c.orders ?? [...DEFAULT_RDP_ORDERS];
      const { value } = epsilonFromRdp(orders, rdpCurve(c.q, c.sigma, c.steps, orders), c.delta);
      expect(relativeError(value, c.expected), c.source).toBeLessThan(c.tolerance ?? 1e-4);
    });
  }

  it('reports the optimal order of the TensorFlow Privacy cases', () => {
    // compute_dp_sgd_privacy_test.py test_compute_dp_sgd_privacy asserts these orders.
    const expectedOrders = [19, 13, 1.25];
    RDP_EPSILON_CASES.slice(0, 3).forEach((c, i) => {
      const { order } = epsilonFromRdp(c.orders!, rdpCurve(c.q, c.sigma, c.steps, c.orders!), c.delta);
      expect(order, c.name).toBe(expectedOrders[i]);
    });
  });

  it('matches the pure-DP hand computation', () => {
    // dp_accounting rdp_privacy_accountant_test.py test_compute_epsilon_delta_pure_dp.
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const result = epsilonFromRdp(orders, orders.map(() => 1.1), 1e-5);
    expect(result.value).toBeCloseTo(1.32783806176, 10);
    expect(result.order).toBe(32);
  });

  it('gives exactly (1, 1e-6) for the calibrated Gaussian', () => {
    // dp_accounting test_compute_epsilon_delta_gaussian: sigma 4.530877117 is exactly (1, 1e-6)-DP.
    const orders = Array.from({ length: 99000 }, (_, i) => 0.001 * (i + 1000));
    const rdp = rdpCurve(1, 4.530877117, 1, orders);
    expect(epsilonFromRdp(orders, rdp, 1e-6).value).toBeCloseTo(1, 6);
    expect(deltaFromRdp(orders, rdp, 1).value).toBeCloseTo(1e-6, 11);
  });

  it('composes heterogeneous mechanisms by adding RDP', () => {
    // Opacus opacus/accountants/analysis/rdp.py module docstring: (0.336, 23).
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const first = rdpCurve(1e-5, 1.0, 10, orders);
    const second = rdpCurve(1e-4, 3.0, 4, orders);
    const total = first.map((value, i) => value + second[i]);
    const result = epsilonFromRdp(orders, total, 1e-5);
    expect(result.value).toBeCloseTo(0.336, 3);
    expect(result.order).toBe(23);
  });

  it('is zero for zero RDP', () => {
    expect(epsilonFromRdp([2, 4], [0, 0], 1e-5).value).toBe(0);
  });

  it('is infinite for infinite RDP', () => {
    expect(epsilonFromRdp([2, 4], [Infinity, Infinity], 1e-5).value).toBe(Infinity);
  });

  it('inverts deltaFromRdp', () => {
    const rdp = rdpCurve(0.01, 1.1, 1000);
    const { value: epsilon } = epsilonFromRdp(DEFAULT_RDP_ORDERS, rdp, 1e-5);
    const { value: delta } = deltaFromRdp(DEFAULT_RDP_ORDERS, rdp, epsilon);
    expect(relativeError(delta, 1e-5)).toBeLessThan(1e-9);
  });

  it('rejects delta of 1', () => {
    expect(() => epsilonFromRdp([2], [1], 1)).toThrow(/delta/);
  });
});
