import { describe, expect, it } from 'vitest';
import { sampleForScatter } from '../../src/report/sample.js';

describe('sampleForScatter', () => {
  it('keeps every point of a small cohort', () => {
    const chosen = sampleForScatter([0, 1, 0, 1, 2], 10, 0);
    expect([...chosen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps at least 25 points of a rare group', () => {
    const groups = Array.from({ length: 10_000 }, (_, i) => (i < 30 ? 1 : 0));
    const chosen = sampleForScatter(groups, 500, 0);
    const rare = [...chosen].filter((i) => groups[i] === 1).length;
    expect(rare).toBe(25);
    expect(chosen.length).toBeLessThanOrEqual(525);
  });

  it('draws each sample at most once', () => {
    const groups = Array.from({ length: 5_000 }, (_, i) => i % 7);
    const chosen = sampleForScatter(groups, 800, 3);
    expect(new Set(chosen).size).toBe(chosen.length);
  });

  it('repeats for the same seed', () => {
    const groups = Array.from({ length: 2_000 }, (_, i) => i % 3);
    expect([...sampleForScatter(groups, 100, 5)]).toEqual([...sampleForScatter(groups, 100, 5)]);
  });
});
