import { describe, expect, it } from 'vitest';
import { correctedPairedTest } from '../../src/classify/paired.js';

// Expected values computed with scipy.stats.t.sf on the same differences and corrected variance.
describe('correctedPairedTest', () => {
  it('matches the corrected t and p for 5 folds', () => {
    const result = correctedPairedTest([0.9, 0.8, 0.7, 0.6], [0.8, 0.6, 0.4, 0.2], 5);
    expect(result.difference).toBeCloseTo(0.25, 12);
    expect(result.standardError).toBeCloseTo(0.09128709291752768, 12);
    expect(result.t).toBeCloseTo(2.7386127875258306, 10);
    expect(result.degreesOfFreedom).toBe(3);
    expect(result.pValue).toBeCloseTo(0.07142153823145017, 8);
    expect(result.verdict).toBe('no significant difference');
  });

  it('matches the corrected t and p for 3 folds', () => {
    const model = [0.7, 0.72, 0.69, 0.75, 0.7, 0.71];
    const differences = [-0.02, 0.01, -0.03, 0.0, -0.01, -0.02];
    const result = correctedPairedTest(model, model.map((value, i) => value - differences[i]), 3);
    expect(result.difference).toBeCloseTo(-0.011666666666666667, 12);
    expect(result.standardError).toBeCloseTo(0.01201850425154663, 10);
    expect(result.t).toBeCloseTo(-0.9707253433941511, 8);
    expect(result.pValue).toBeCloseTo(0.3762684238040611, 8);
  });

  it('calls a consistent large gain better', () => {
    const reference = [0.6, 0.62, 0.58, 0.61, 0.6, 0.59, 0.6, 0.63, 0.61, 0.6];
    const result = correctedPairedTest(reference.map((value, i) => value + 0.2 + (i % 2) * 0.01), reference, 5);
    expect(result.verdict).toBe('better');
    expect(result.pValue).toBeLessThan(0.001);
  });

  it('calls a consistent loss worse', () => {
    const reference = [0.9, 0.91, 0.92, 0.9, 0.89, 0.9];
    const result = correctedPairedTest(reference.map((value, i) => value - 0.1 - (i % 3) * 0.01), reference, 5);
    expect(result.verdict).toBe('worse');
  });

  it('gives p = 1 for identical scores', () => {
    const scores = [0.8, 0.9, 0.85];
    const result = correctedPairedTest(scores, scores, 3);
    expect(result.t).toBeNull();
    expect(result.pValue).toBe(1);
    expect(result.verdict).toBe('no significant difference');
  });

  it('gives p = 0 for a constant non-zero difference', () => {
    const result = correctedPairedTest([0.9, 0.8, 0.7], [0.8, 0.7, 0.6], 3);
    expect(result.t).toBeNull();
    expect(result.pValue).toBe(0);
    expect(result.verdict).toBe('better');
  });

  it('rejects lists of different lengths', () => {
    expect(() => correctedPairedTest([0.1, 0.2], [0.1], 5)).toThrow(/two equal score lists/);
  });

  it('rejects fewer than 2 folds', () => {
    expect(() => correctedPairedTest([0.1, 0.2], [0.1, 0.3], 1)).toThrow(/at least 2 folds/);
  });
});
