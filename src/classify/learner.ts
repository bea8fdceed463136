import type { ClassifierName } from '../../pipeline/classify.js';
import type { Features } from './features.js';

/** The base learners the classify stage can train. */
export const LEARNER_NAMES = ['logistic', 'forest', 'knn', 'svm'] as const satisfies readonly ClassifierName[];
export type LearnerName = ClassifierName;

/** Training data of one fit: classes are 0..nClasses-1; a class may be absent from `y`. */
export interface TrainingSet {
  x: Features;
  y: Int32Array;
  nClasses: number;
  /** Per-sample weight (class weights applied per sample); all ones when unweighted. */
  sampleWeight: Float64Array;
}

/** A probabilistic classifier over a fixed class list. */
export interface Classifier {
  fit(train: TrainingSet): void;
  /** Class probabilities, row-major nRows x nClasses; each row sums to 1. */
  predictProba(x: Features): Float64Array;
  /** Plain JSON that the learner's `fromJSON` restores into an equivalent fitted model. */
  toJSON(): unknown;
}

/** Index of the largest probability in row `r` (the first on ties). */
export function argmaxRow(probabilities: Float64Array, nClasses: number, r: number): number {
  let best = 0;
  for (let k = 1; k < nClasses; k++) {
    if (probabilities[r * nClasses + k] > probabilities[r * nClasses + best]) best = k;
  }
  return best;
}

export function argmaxRows(probabilities: Float64Array, nClasses: number): Int32Array {
  const n = probabilities.length / nClasses;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) out[r] = argmaxRow(probabilities, nClasses, r);
  return out;
}
