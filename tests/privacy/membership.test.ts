import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFrame } from '../../src/io/arrow.js';
import { Rng } from '../../src/util/rng.js';
import { dpAucBound, membershipFromFile, membershipInference } from '../../src/privacy/membership.js';
import { InputError } from '../../src/util/errors.js';

/** Losses with members shifted down by `gap` standard deviations. */
function syntheticLosses(members: number, nonMembers: number, gap: number, seed = 1) {
  const rng = new Rng(seed);
  const losses = new Float64Array(members + nonMembers);
  const isMember: boolean[] = [];
  for (let i = 0; i < losses.length; i++) {
    const member = i < members;
    losses[i] = 10 + rng.normal() - (member ? gap : 0);
    isMember.push(member);
  }
  return { losses, isMember };
}

describe('membershipInference', () => {
  it('finds no signal when losses do not differ', () => {
    const { losses, isMember } = syntheticLosses(400, 400, 0);
    const result = membershipInference(losses, isMember);
    expect(result.aucLow).toBeLessThan(0.5);
    expect(result.aucHigh).toBeGreaterThan(0.5);
    expect(result.summary).toMatch(/no evidence/);
  });

  it('finds the signal when members fit better', () => {
    // Normal shift d gives AUC = Phi(d / sqrt(2)); d = 1 gives 0.760.
    const { losses, isMember } = syntheticLosses(2000, 2000, 1);
    const result = membershipInference(losses, isMember);
    expect(Math.abs(result.auc - 0.760)).toBeLessThan(0.02);
    expect(result.aucLow).toBeGreaterThan(0.5);
    expect(result.summary).toMatch(/reveal something/);
  });

  it('covers the true AUC with its interval', () => {
    let covered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { losses, isMember } = syntheticLosses(150, 100, 1, seed);
      const result = membershipInference(losses, isMember);
      if (result.aucLow <= 0.7602 && 0.7602 <= result.aucHigh) covered++;
    }
    // A 95% interval should miss about 2 of 40; 34 is far in the tail of Binomial(40, 0.95).
    expect(covered).toBeGreaterThanOrEqual(34);
  });

  it('matches the Mann-Whitney count on a small case', () => {
    // Pairs (member, non-member) with member loss lower: (1,3) (1,4) (2,3) (2,4) (5,?) none; tie (3,3) counts half.
    const losses = [1, 2, 5, 3, 3, 4];
    const isMember = [true, true, true, false, true, false];
    // members 1, 2, 5, 3; non-members 3, 4: wins 2+2+0+1(3<4)+0.5(3=3) = 5.5 of 8.
    expect(membershipInference(losses, isMember).auc).toBeCloseTo(5.5 / 8, 12);
  });

  it('gives AUC 1 for perfectly separated losses', () => {
    const result = membershipInference([1, 2, 3, 10, 11, 12], [true, true, true, false, false, false]);
    expect(result.auc).toBe(1);
    expect(result.advantage).toBe(1);
  });

  it('leaves the low false-positive rates out with few held-out samples', () => {
    const result = membershipInference([1, 2, 3, 10, 11, 12], [true, true, true, false, false, false]);
    expect(result.tprAtFpr1).toBeNull();
    expect(result.tprAtFpr10).toBeNull();
  });

  it('measures the low false-positive rates with enough held-out samples', () => {
    const losses = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => 1000 + i)];
    const isMember = losses.map((_, i) => i < 100);
    const result = membershipInference(losses, isMember);
    expect(result.tprAtFpr1).toBe(1);
    expect(result.tprAtFpr10).toBe(1);
  });

  it('says a bound near AUC 1 rules out almost nothing', () => {
    const { losses, isMember } = syntheticLosses(100, 100, 0);
    const result = membershipInference(losses, isMember, { epsilon: 8, delta: 1e-5 });
    expect(result.summary).toMatch(/rules out almost no single attack/);
  });

  it('states the DP bound when epsilon is given', () => {
    const { losses, isMember } = syntheticLosses(100, 100, 0);
    const result = membershipInference(losses, isMember, { epsilon: 1, delta: 1e-5 });
    expect(result.dpAucBound).toBeCloseTo(dpAucBound(1, 1e-5), 12);
    expect(result.summary).toMatch(/limits any attack/);
  });

  it('rejects a group with no samples', () => {
    expect(() => membershipInference([1, 2], [true, true])).toThrow(InputError);
  });
});

describe('dpAucBound', () => {
  it('is one half at epsilon 0 and delta 0', () => {
    expect(dpAucBound(0, 0)).toBeCloseTo(0.5, 6);
  });

  it('grows with epsilon', () => {
    expect(dpAucBound(1, 1e-5)).toBeGreaterThan(dpAucBound(0.5, 1e-5));
  });

  it('approaches one for large epsilon', () => {
    expect(dpAucBound(20, 1e-5)).toBeGreaterThan(0.999);
  });
});

describe('membershipFromFile', () => {
  it('reads sample_losses.arrow', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'genevae-losses-')), 'sample_losses.arrow');
    const { losses, isMember } = syntheticLosses(30, 20, 2);
    writeFrame(path, {
      sample_id: Array.from(losses, (_, i) => `s${i}`),
      split: isMember.map((m) => (m ? 'train' : 'validation')),
      loss: losses,
    });
    const result = membershipFromFile(path, null);
    expect(result.members).toBe(30);
    expect(result.nonMembers).toBe(20);
    expect(result.auc).toBeGreaterThan(0.8);
  });

  it('rejects an unknown split', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'genevae-losses-')), 'sample_losses.arrow');
    writeFrame(path, { sample_id: ['a', 'b'], split: ['train', 'test'], loss: Float64Array.from([1, 2]) });
    expect(() => membershipFromFile(path, null)).toThrow(/line 2, column 'split': split 'test'/);
  });
});
