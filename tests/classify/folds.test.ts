import { describe, expect, it } from 'vitest';
import { splitFold, stratifiedFolds } from '../../src/classify/folds.js';
import { planLabels } from '../../src/classify/labels.js';
import { Rng } from '../../src/util/rng.js';

describe('stratifiedFolds', () => {
  const y = Int32Array.from([...Array(50).fill(0), ...Array(23).fill(1), ...Array(7).fill(2)]);

  it('spreads every class over the folds', () => {
    const assignment = stratifiedFolds(y, 3, 5, new Rng(1));
    for (let fold = 0; fold < 5; fold++) {
      const { test } = splitFold(assignment, fold);
      const counts = [0, 0, 0];
      for (const i of test) counts[y[i]]++;
      expect(counts[0], `fold ${fold}`).toBe(10);
      expect(counts[1], `fold ${fold}`).toBeGreaterThanOrEqual(4);
      expect(counts[1], `fold ${fold}`).toBeLessThanOrEqual(5);
      expect(counts[2], `fold ${fold}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps fold sizes within one', () => {
    const assignment = stratifiedFolds(y, 3, 5, new Rng(2));
    const sizes = [0, 1, 2, 3, 4].map((fold) => splitFold(assignment, fold).test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('depends on the seed', () => {
    expect(stratifiedFolds(y, 3, 5, new Rng(1))).toEqual(stratifiedFolds(y, 3, 5, new Rng(1)));
    expect(stratifiedFolds(y, 3, 5, new Rng(1))).not.toEqual(stratifiedFolds(y, 3, 5, new Rng(2)));
  });

  it('splits into disjoint train and test', () => {
    const { train, test } = splitFold(stratifiedFolds(y, 3, 5, new Rng(3)), 2);
    expect(train.length + test.length).toBe(y.length);
    expect(new Set([...train, ...test]).size).toBe(y.length);
  });
});

describe('planLabels', () => {
  it('counts unlabelled samples', () => {
    const plan = planLabels(['a', null, 'b', 'a', null, 'b', 'a', 'b'], 3, 'reduce-folds');
    expect(plan.unlabelled).toBe(2);
    expect(Array.from(plan.rows)).toEqual([0, 2, 3, 5, 6, 7]);
    expect(Array.from(plan.y)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('drops a single-member class', () => {
    const plan = planLabels(['a', 'a', 'a', 'b', 'b', 'b', 'c'], 3, 'reduce-folds');
    expect(plan.classes).toEqual(['a', 'b']);
    expect(plan.dropped[0].label).toBe('c');
    expect(plan.folds).toBe(3);
  });

  it('reduces folds to the smallest class', () => {
    const plan = planLabels([...Array(10).fill('a'), 'b', 'b', 'b'], 5, 'reduce-folds');
    expect(plan.folds).toBe(3);
    expect(plan.warnings[0]).toContain('3 folds instead of 5');
  });

  it('skips when too few classes remain', () => {
    const plan = planLabels([...Array(10).fill('a'), 'b', 'b'], 5, 'drop');
    expect(plan.skipReason).toContain('fewer than two labels');
  });

  it('skips without labels', () => {
    expect(planLabels([null, null], 5, 'reduce-folds').skipReason).toBe('no sample has a label');
  });
});
