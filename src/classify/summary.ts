import type { CrossValidationResult } from './crossvalidate.js';
import type { ModelName } from './ensemble.js';
import { argmaxRows } from './learner.js';
import {
  calibration,
  confusionMatrix,
  meanAndSd,
  perClassScores,
  rocCurve,
  scorePredictions,
  type Calibration,
  type RocCurve,
  type Scores,
} from './metrics.js';

/** Mean and sample standard deviation of a score over the test folds of every repeat. */
export interface ScoreSpread {
  mean: number;
  sd: number;
}

/** Cross-validated results of one model (a base learner or an ensemble). */
export interface ModelReport {
  /** Per score: mean and spread over the folds x repeats test folds. */
  folds: Record<keyof Scores, ScoreSpread>;
  /** Per score: the value on the pooled out-of-fold predictions of each repeat. */
  repeats: Record<keyof Scores, number[]>;
  /** Per class, on out-of-fold predictions pooled over all repeats. */
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[];
  /** Counts summed over repeats (each sample once per repeat): true class in rows, predicted in columns. */
  confusion: number[][];
  /** One-vs-rest ROC curve per class, on out-of-fold probabilities pooled over all repeats. */
  roc: ({ label: string } & RocCurve)[];
  /** Reliability of the top-label probability, pooled over all repeats. */
  calibration: Calibration;
}

const SCORE_NAMES: (keyof Scores)[] = ['accuracy', 'balancedAccuracy', 'macroF1', 'aurocMacro', 'brier'];

/** Computes the mean and standard deviation of every score over test folds. */
export function foldSpread(foldScores: Scores[]): Record<keyof Scores, ScoreSpread> {
  const folds = {} as Record<keyof Scores, ScoreSpread>;
  for (const score of SCORE_NAMES) folds[score] = meanAndSd(foldScores.map((s) => s[score]));
  return folds;
}

/** Summarizes one model's cross-validation: fold spread, per-repeat pooled scores, curves and confusion. */
export function reportModel(
  name: ModelName,
  result: CrossValidationResult,
  y: Int32Array,
  classes: string[],
  calibrationBins: number,
): ModelReport {
  const nClasses = classes.length;
  const foldScores = result.foldScores[name]!;
  const repeatsOutOfFold = result.outOfFold[name]!;
  const folds = foldSpread(foldScores);
  const repeats = {} as Record<keyof Scores, number[]>;
  const repeatScores = repeatsOutOfFold.map((probabilities) => scorePredictions(y, probabilities, nClasses));
  for (const score of SCORE_NAMES) repeats[score] = repeatScores.map((s) => s[score]);

  // Pool every repeat: each labelled sample appears once per repeat.
  const pooledTruth = new Int32Array(y.length * repeatsOutOfFold.length);
  const pooled = new Float64Array(pooledTruth.length * nClasses);
  repeatsOutOfFold.forEach((probabilities, r) => {
    pooledTruth.set(y, r * y.length);
    pooled.set(probabilities, r * y.length * nClasses);
  });
  const confusion = confusionMatrix(pooledTruth, argmaxRows(pooled, nClasses), nClasses);
  const perClass = perClassScores(confusion).map((scores, k) => ({ label: classes[k], ...scores }));
  const roc = classes.map((label, k) => ({
    label,
    ...rocCurve(
      Float64Array.from(pooledTruth, (_, i) => pooled[i * nClasses + k]),
      Array.from(pooledTruth, (truth) => truth === k),
    ),
  }));
  return {
    folds,
    repeats,
    perClass,
    confusion,
    roc,
    calibration: calibration(pooledTruth, pooled, nClasses, calibrationBins),
  };
}
