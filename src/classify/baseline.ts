import { crossValidate, type CrossValidationResult } from './crossvalidate.js';
import type { EnsembleSettings } from './ensemble.js';
import type { Features } from './features.js';
import type { Scores } from './metrics.js';
import { foldSpread, type ScoreSpread } from './summary.js';
import type { Rng } from '../util/rng.js';
import { correctedPairedTest, type PairedComparison } from './paired.js';

/**
 * Scores of one logistic regression on the latents and on the principal components of the
 * normalized genes, on the same folds. It shows whether the latents keep the label signal
 * that a linear summary of the genes carries.
 */
export interface PcaClassifierBaseline {
  learner: 'logistic';
  nComponents: number;
  /** Mean and standard deviation over the test folds of each score. */
  latent: Record<keyof Scores, ScoreSpread>;
  pca: Record<keyof Scores, ScoreSpread>;
  /** Latent minus PCA mean balanced accuracy. */
  difference: number;
  /** The same difference tested over the paired folds (corrected resampled t-test). */
  test: PairedComparison;
}

/**
 * Cross-validates the logistic regression on `pca` (rows in the order of the labelled samples)
 * with the folds of `latentCv`, and compares it with the latent logistic regression's scores.
 */
export function pcaClassifierBaseline(
  pca: Features,
  y: Int32Array,
  nClasses: number,
  settings: EnsembleSettings,
  latentCv: CrossValidationResult,
  rng: Rng,
): PcaClassifierBaseline {
  const latentScores = latentCv.foldScores.logistic;
  if (!latentScores) throw new Error('the PCA baseline requires the logistic regression among the learners, which the caller checks');
  const folds = latentCv.assignments[0].reduce((largest, fold) => Math.max(largest, fold), 0) + 1;
  const cv = crossValidate(
    pca,
    y,
    nClasses,
    { ...settings, learners: ['logistic'], stackingFolds: 0 },
    {
      folds,
      repeats: latentCv.assignments.length,
      importancePermutations: 0,
      importanceModel: 'voting',
      importanceMaxSamples: 0,
      assignments: latentCv.assignments,
    },
    rng,
    null,
  );
  const latent = foldSpread(latentScores);
  const pcaScores = cv.foldScores.logistic!;
  const baseline = foldSpread(pcaScores);
  return {
    learner: 'logistic',
    nComponents: pca.nCols,
    latent,
    pca: baseline,
    difference: latent.balancedAccuracy.mean - baseline.balancedAccuracy.mean,
    test: correctedPairedTest(
      latentScores.map((scores) => scores.balancedAccuracy),
      pcaScores.map((scores) => scores.balancedAccuracy),
      folds,
    ),
  };
}
