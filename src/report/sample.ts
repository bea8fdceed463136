import { Rng } from '../util/rng.js';

/** Minimum points kept from each group when a scatter is sampled, so small clusters stay visible. */
const MIN_PER_GROUP = 25;

/**
 * Chooses which samples a scatter plot draws when there are more than `max`. Each group keeps a
 * share proportional to its size but at least min(size, 25) points, so a rare cluster does not
 * vanish. The result may therefore exceed `max` by up to 25 points per group. The returned
 * indices are in a seeded random order, so that no group is always drawn on top of another.
 */
export function sampleForScatter(groups: ArrayLike<string | number>, max: number, seed: number): Int32Array {
  const n = groups.length;
  const rng = new Rng(seed).fork('report:scatter');
  if (n <= max) return rng.permutation(n);

  const members = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = members.get(groups[i]);
    if (list) list.push(i);
    else members.set(groups[i], [i]);
  }
  const chosen: number[] = [];
  for (const list of members.values()) {
    const quota = Math.min(list.length, Math.max(MIN_PER_GROUP, Math.round((list.length * max) / n)));
    const order = rng.permutation(list.length);
    for (let k = 0; k < quota; k++) chosen.push(list[order[k]]);
  }
  const shuffle = rng.permutation(chosen.length);
  return Int32Array.from(shuffle, (k) => chosen[k]);
}
