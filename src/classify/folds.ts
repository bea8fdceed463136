import type { Rng } from '../util/rng.js';

/**
 * Assigns each sample to one of `folds` test folds so that every class is spread over the
 * folds as evenly as possible (stratified k-fold). Samples of each class are shuffled with
 * `rng`, then dealt round-robin, continuing where the previous class stopped so that fold
 * sizes differ by at most one. Returns the fold index of each sample.
 */
export function stratifiedFolds(y: Int32Array, nClasses: number, folds: number, rng: Rng): Int32Array {
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`stratified folds: need at least 2 folds, got ${folds}`);
  const assignment = new Int32Array(y.length);
  let next = 0;
  for (let k = 0; k < nClasses; k++) {
    const members: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === k) members.push(i);
    rng.shuffle(members);
    for (const i of members) {
      assignment[i] = next;
      next = (next + 1) % folds;
    }
  }
  return assignment;
}

/** Indices of the training and test samples of fold `fold`. */
export function splitFold(assignment: Int32Array, fold: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < assignment.length; i++) (assignment[i] === fold ? test : train).push(i);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
