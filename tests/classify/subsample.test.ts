import { describe, expect, it } from 'vitest';
import { MIN_PER_CLASS, stratifiedSubsample } from '../../src/classify/subsample.js';
import { Rng } from '../../src/util/rng.js';

function classSizes(y: Int32Array, rows: Int32Array, nClasses: number): number[] {
  const sizes = new Array<number>(nClasses).fill(0);
  for (const row of rows) sizes[y[row]]++;
  return sizes;
}

/** Labels with `sizes[k]` members of class k, interleaved. */
function labels(sizes: number[]): Int32Array {
  const y: number[] = [];
  sizes.forEach((size, k) => {
    for (let i = 0; i < size; i++) y.push(k);
  });
  return Int32Array.from(new Rng(1).shuffle(y));
}

describe('stratifiedSubsample', () => {
  it('returns every row when under the cap', () => {
    const rows = stratifiedSubsample(labels([5, 5]), 2, 10, new Rng(2));
    expect(Array.from(rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps class shares with largest remainders', () => {
    const y = labels([500, 300, 200]);
    const rows = stratifiedSubsample(y, 3, 101, new Rng(3));
    // Exact shares 50.5, 30.3 and 20.2: the largest remainder (0.5) gets the extra row.
    expect(classSizes(y, rows, 3)).toEqual([51, 30, 20]);
  });

  it('keeps a floor of a rare class', () => {
    const y = labels([990, 12]);
    const rows = stratifiedSubsample(y, 2, 100, new Rng(4));
    expect(classSizes(y, rows, 2)).toEqual([99, MIN_PER_CLASS]);
  });

  it('keeps all of a class below the floor', () => {
    const y = labels([995, 4]);
    expect(classSizes(y, stratifiedSubsample(y, 2, 50, new Rng(5)), 2)[1]).toBe(4);
  });

  it('returns sorted distinct rows', () => {
    const rows = stratifiedSubsample(labels([400, 350, 250]), 3, 300, new Rng(6));
    expect(new Set(rows).size).toBe(rows.length);
    expect(Array.from(rows)).toEqual(Array.from(rows).sort((a, b) => a - b));
  });

  it('repeats for a seed and differs across seeds', () => {
    const y = labels([400, 350, 250]);
    expect(stratifiedSubsample(y, 3, 300, new Rng(7))).toEqual(stratifiedSubsample(y, 3, 300, new Rng(7)));
    expect(stratifiedSubsample(y, 3, 300, new Rng(7))).not.toEqual(stratifiedSubsample(y, 3, 300, new Rng(8)));
  });

  it('rejects a size below one', () => {
    expect(() => stratifiedSubsample(labels([5, 5]), 2, 0, new Rng(9))).toThrow(/positive integer/);
  });
});
