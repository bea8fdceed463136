import type { Rng } from '../util/rng.js';

/** Members kept of every class, however small its share, so that a rare class still trains a learner. */
export const MIN_PER_CLASS = 10;

/**
 * Draws a stratified subsample of about `maxSamples` rows: each class keeps a share
 * proportional to its size (largest-remainder rounding), but at least min(size, MIN_PER_CLASS)
 * members. The result may therefore exceed `maxSamples` by up to MIN_PER_CLASS rows per class.
 * Members are drawn without replacement by a permutation from `rng`. Returns the row indices
 * in increasing order, or every row when there are at most `maxSamples`.
 */
export function stratifiedSubsample(y: Int32Array, nClasses: number, maxSamples: number, rng: Rng): Int32Array {
  const n = y.length;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new Error(`subsample size must be a positive integer, got ${maxSamples}`);
  if (n <= maxSamples) return Int32Array.from({ length: n }, (_, i) => i);

  const members: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < n; i++) members[y[i]].push(i);
  const exact = members.map((list) => (list.length * maxSamples) / n);
  const quota = exact.map(Math.floor);
  let left = maxSamples - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, k) => ({ k, remainder: value - quota[k] })).sort((a, b) => b.remainder - a.remainder || a.k - b.k);
  for (const { k } of byRemainder) {
    if (left === 0) break;
    quota[k]++;
    left--;
  }

  const chosen: number[] = [];
  members.forEach((list, k) => {
    const take = Math.min(list.length, Math.max(quota[k], MIN_PER_CLASS));
    const order = rng.fork(`class-${k}`).permutation(list.length);
    for (let r = 0; r < take; r++) chosen.push(list[order[r]]);
  });
  return Int32Array.from(chosen).sort();
}
