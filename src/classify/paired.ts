import tCdf from '@stdlib/stats-base-dists-t-cdf';

/** Outcome of comparing two models' scores over the same test folds. */
export interface PairedComparison {
  /** Mean over the test folds of the model's score minus the reference's. */
  difference: number;
  /** Standard error of `difference`, corrected for the overlap of the training sets. */
  standardError: number;
  /** Corrected t statistic; null when every fold gave the same difference. */
  t: number | null;
  degreesOfFreedom: number;
  /** Two-sided p-value of a zero mean difference. */
  pValue: number;
  /** 'better' or 'worse' when the p-value is below `alpha`, else 'no significant difference'. */
  verdict: 'better' | 'worse' | 'no significant difference';
  /** Significance level of the verdict. */
  alpha: number;
}

/**
 * Compares two models scored on the same test folds (repeats x folds values each) with the
 * corrected resampled t-test of Nadeau and Bengio ("Inference for the Generalization Error").
 * Bouckaert and Frank ("Evaluating the replicability of significance tests for comparing
 * learning algorithms") recommend it for repeated k-fold cross-validation.
 * The folds' training sets overlap, so the plain paired t-test's variance s^2 / J is too small.
 * The correction uses (1 / J + n_test / n_train) * s^2 instead, and n_test / n_train is
 * 1 / (folds - 1) for k-fold.
 */
export function correctedPairedTest(model: readonly number[], reference: readonly number[], folds: number, alpha = 0.05): PairedComparison {
  if (model.length !== reference.length || model.length < 2) {
    throw new Error(`the paired test needs two equal score lists of at least 2 folds, got ${model.length} and ${reference.length}`);
  }
  if (folds < 2) throw new Error(`the paired test needs at least 2 folds, got ${folds}`);
  const differences = model.map((value, i) => value - reference[i]);
  const count = differences.length;
  const mean = differences.reduce((sum, d) => sum + d, 0) / count;
  const variance = differences.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (count - 1);
  const standardError = Math.sqrt((1 / count + 1 / (folds - 1)) * variance);
  const degreesOfFreedom = count - 1;

  // Rounding leaves tiny variances when every difference is equal, so those count as zero.
  const constant = variance <= 1e-24;
  let t: number | null = null;
  let pValue: number;
  if (constant) {
    pValue = Math.abs(mean) > 1e-12 ? 0 : 1;
  } else {
    t = mean / standardError;
    pValue = Math.min(1, 2 * tCdf(-Math.abs(t), degreesOfFreedom));
  }
  let verdict: PairedComparison['verdict'] = 'no significant difference';
  if (pValue < alpha) verdict = mean > 0 ? 'better' : 'worse';
  return { difference: mean, standardError, t, degreesOfFreedom, pValue, verdict, alpha };
}
