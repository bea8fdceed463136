import { describe, expect, it } from 'vitest';
import { epsilonDetails, epsilonFor, noiseMultiplierFor, type DpSgdMechanism } from '../../src/privacy/accountant.js';
import { InputError } from '../../src/util/errors.js';
import { NOISE_CASES, RDP_EPSILON_CASES } from './reference-cases.js';

const mechanism = (overrides: Partial<DpSgdMechanism> = {}): DpSgdMechanism => ({
  samplingRate: 0.01,
  noiseMultiplier: 1.1,
  steps: 1000,
  delta: 1e-5,
  accountant: 'rdp',
  ...overrides,
});

describe('epsilonFor', () => {
  it('never exceeds the reference libraries on their own grids', () => {
    // Our default orders include every order of the Opacus and TensorFlow Privacy grids.
    for (const c of RDP_EPSILON_CASES.filter((entry) => entry.orders)) {
      const ours = epsilonFor({ samplingRate: c.q, noiseMultiplier: c.sigma, steps: c.steps, delta: c.delta, accountant: 'rdp' });
      expect(ours, c.name).toBeLessThanOrEqual(c.expected * (1 + 1e-4));
    }
  });

  it('is zero for zero steps', () => {
    expect(epsilonFor(mechanism({ steps: 0 }))).toBe(0);
  });

  it('is zero for zero steps with PLD', () => {
    expect(epsilonFor(mechanism({ steps: 0, accountant: 'pld' }))).toBe(0);
  });

  it('grows with the number of steps', () => {
    const values = [1, 10, 100, 1000, 10000, 100000].map((steps) => epsilonFor(mechanism({ steps })));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
  });

  it('shrinks as the noise grows', () => {
    const values = [0.5, 0.8, 1, 2, 5, 10].map((noiseMultiplier) => epsilonFor(mechanism({ noiseMultiplier })));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
  });

  it('is lower with PLD than with RDP', () => {
    const rdp = epsilonFor(mechanism());
    const pld = epsilonFor(mechanism({ accountant: 'pld' }));
    expect(pld).toBeLessThan(rdp);
  });

  it('reports the optimal RDP order', () => {
    expect(epsilonDetails(mechanism()).rdpOrder).toBeGreaterThan(1);
  });

  it('rejects delta of 0 with an input error', () => {
    expect(() => epsilonFor(mechanism({ delta: 0 }))).toThrow(InputError);
  });

  it('rejects an unknown accountant', () => {
    expect(() => epsilonFor(mechanism({ accountant: 'gdp' as never }))).toThrow(/unknown accountant/);
  });
});

describe('noiseMultiplierFor', () => {
  for (const c of NOISE_CASES) {
    it(`matches Opacus for ${c.name}`, () => {
      const sigma = noiseMultiplierFor({ targetEpsilon: c.targetEpsilon, samplingRate: c.q, steps: c.steps, delta: c.delta, accountant: 'rdp' });
      expect(Math.abs(sigma - c.expected), c.source).toBeLessThanOrEqual(c.absoluteTolerance);
    });
  }

  it('meets the target and comes close to it', () => {
    // Property over a spread of settings: epsilon(sigma(E)) <= E, within 0.1% of E.
    const settings: Array<[number, number, number, number]> = [
      [0.5, 0.001, 100, 1e-5],
      [1, 0.01, 1000, 1e-5],
      [3, 0.05, 5000, 1e-6],
      [8, 0.2, 200, 1e-5],
      [10, 1, 50, 1e-5],
      [0.2, 0.004, 20000, 1e-7],
    ];
    for (const [targetEpsilon, samplingRate, steps, delta] of settings) {
      const sigma = noiseMultiplierFor({ targetEpsilon, samplingRate, steps, delta, accountant: 'rdp' });
      const reached = epsilonFor({ samplingRate, noiseMultiplier: sigma, steps, delta, accountant: 'rdp' });
      const label = `E=${targetEpsilon} q=${samplingRate} steps=${steps}`;
      expect(reached, label).toBeLessThanOrEqual(targetEpsilon);
      expect(reached, label).toBeGreaterThan(targetEpsilon * 0.999);
    }
  });

  it('meets the target with PLD and needs less noise than RDP', () => {
    const request = { targetEpsilon: 2, samplingRate: 0.02, steps: 1500, delta: 1e-5 };
    const pldSigma = noiseMultiplierFor({ ...request, accountant: 'pld' });
    const rdpSigma = noiseMultiplierFor({ ...request, accountant: 'rdp' });
    const reached = epsilonFor({ samplingRate: 0.02, noiseMultiplier: pldSigma, steps: 1500, delta: 1e-5, accountant: 'pld' });
    expect(reached).toBeLessThanOrEqual(2);
    expect(reached).toBeGreaterThan(2 * 0.995);
    expect(pldSigma).toBeLessThan(rdpSigma);
  }, 60_000);

  it('is zero for zero steps', () => {
    expect(noiseMultiplierFor({ targetEpsilon: 1, samplingRate: 0.1, steps: 0, delta: 1e-5, accountant: 'rdp' })).toBe(0);
  });

  it('rejects a non-positive target', () => {
    expect(() => noiseMultiplierFor({ targetEpsilon: 0, samplingRate: 0.1, steps: 10, delta: 1e-5, accountant: 'rdp' })).toThrow(
      /target epsilon/,
    );
  });
});
