import { describe, expect, it } from 'vitest';
import { csrFromDense } from '../../src/matrix/csr.js';
import { detectInputKind, profileValues } from '../../src/preprocess/detect.js';

function kindOf(values: number[], cols = 4): string {
  return detectInputKind(profileValues(csrFromDense(values.length / cols, cols, values))).kind;
}

describe('detectInputKind', () => {
  it('reads non-negative integers as counts', () => {
    expect(kindOf([0, 3, 10, 250, 1, 0, 7, 9])).toBe('counts');
  });

  it('reads negative integers with a large maximum as linear intensities', () => {
    expect(kindOf([-28400, 120, 71369, 50, 300, 900, -3, 15000])).toBe('normalized');
  });

  it('reads compact positive decimals as log scale', () => {
    expect(kindOf([7.1, 8.2, 9.5, 6.4, 10.1, 12.9, 5.5, 7.7])).toBe('log');
  });

  it('reads small negatives with a small maximum as log scale', () => {
    expect(kindOf([-3.9, 8.2, 14.9, 6.4, 10.1, 2.9, 5.5, 7.7])).toBe('log');
  });

  it('reads skewed positive ratios as linear', () => {
    const values = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 32.6];
    expect(kindOf(values, 4)).toBe('normalized');
  });

  it('counts implicit zeros in the minimum', () => {
    const profile = profileValues(csrFromDense(2, 2, [0, 5, 6, 7]));
    expect(profile.min).toBe(0);
    expect(profile.max).toBe(7);
  });
});
