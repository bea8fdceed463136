/** Base learners the classify stage can train on the latents. */
export type ClassifierName = 'logistic' | 'forest' | 'knn' | 'svm';

/** Options of the classify stage. */
export interface ClassifyOptions {
  /** Folds of stratified cross-validation (reduced to the smallest class size when needed). Default 5. */
  folds: number;
  /**
   * Repeats of the cross-validation with different seeds. 'auto' repeats 10 times up to
   * AUTO_MANY_REPEATS_MAX_SAMPLES labelled samples, 3 times up to AUTO_REPEATS_MAX_SAMPLES and
   * once above. On small cohorts a test fold has a few dozen samples, so the fold-to-fold
   * spread is wide and three repeats leave the comparison of two models to chance. A repeat
   * there takes about a second. Above AUTO_REPEATS_MAX_SAMPLES each test fold alone contains
   * thousands of samples and a repeat takes minutes. Default 'auto'.
   */
  repeats: number | 'auto';
  /** Base learners, in the order the report lists them. Default all four: logistic, forest, knn, svm. */
  learners: ClassifierName[];
  /** 'balanced' weights each class by n / (classes * class size), so rare labels count as much as common ones; 'none' weights every sample 1. Default 'balanced'. */
  classWeight: 'balanced' | 'none';
  /**
   * Policy for a label with fewer members than `folds`: 'reduce-folds' lowers the folds to its
   * size (at least 2), 'drop' leaves its samples out of classification. A label with a single
   * member is always left out. Default 'reduce-folds'.
   */
  smallClasses: 'reduce-folds' | 'drop';
  /** Inverse L2 regularization strength C of the logistic regression (scikit-learn's C). Default 1. */
  logisticC: number;
  /** Trees in the random forest. Default 100. */
  forestTrees: number;
  /** Candidate latent dimensions per split: 'sqrt' draws floor(sqrt(d)), 'all' uses every one. Default 'sqrt'. */
  forestMaxFeatures: 'sqrt' | 'all';
  /** Maximum tree depth; 0 grows each tree until its leaves are pure. Default 0. */
  forestMaxDepth: number;
  /** Neighbours of the k-nearest-neighbours classifier. Default 5. */
  knnNeighbors: number;
  /** Penalty C of the RBF support vector machine. Default 1. */
  svmC: number;
  /** RBF kernel width gamma; 'scale' is 1 / (d * variance of the standardized training features). Default 'scale'. */
  svmGamma: 'scale' | number;
  /**
   * Largest SVM training set: a fit on more labelled rows trains on a stratified, seeded
   * subsample of this size (kernel SVM training grows at least quadratically with the rows);
   * 0 trains on every row. Default 5000.
   */
  svmMaxSamples: number;
  /** Inner folds that produce the stacking meta-learner's out-of-fold training data; 0 disables stacking. Default 5. */
  stackingFolds: number;
  /**
   * Stacking meta-learner: 'logistic' is a multinomial logistic regression on the stacked
   * probabilities (scikit-learn's StackingClassifier default); 'convex' learns one non-negative
   * weight per learner, summing to 1, by minimizing the out-of-fold log-loss. Default 'logistic'.
   */
  stackingMeta: 'logistic' | 'convex';
  /** Inverse L2 regularization strength C of the logistic stacking meta-learner. Default 1. */
  stackingC: number;
  /** The ensemble `genevae predict` reports and permutation importance measures: 'voting' (mean of the learners' probabilities) or 'stacking'. Default 'voting'. */
  ensemble: 'voting' | 'stacking';
  /** Shuffles of each latent dimension per test fold for permutation importance; 0 skips importance. Default 5. */
  importancePermutations: number;
  /**
   * Largest number of test-fold rows permutation importance scores, per fold: larger folds use a
   * stratified, seeded subsample (scikit-learn's permutation_importance max_samples); 0 uses every row.
   * Default 2000.
   */
  importanceMaxSamples: number;
  /** Equal-width bins of the reliability (calibration) diagram. Default 10. */
  calibrationBins: number;
  /**
   * Cross-validates the logistic regression also on the cluster stage's principal components
   * (04-cluster/pca.arrow), as many leading ones as latent dimensions, on the same folds. This
   * shows whether the latents keep the label signal of a linear summary of the genes. Skipped
   * when there is no pca.arrow or no logistic learner. Default true.
   */
  pcaBaseline: boolean;
}

/** Repeats of 'auto': 10 up to this many labelled samples. */
export const AUTO_MANY_REPEATS_MAX_SAMPLES = 500;
/** Repeats of 'auto': 3 up to this many labelled samples, 1 above. */
export const AUTO_REPEATS_MAX_SAMPLES = 10_000;

export const CLASSIFY_DEFAULTS: ClassifyOptions = {
  folds: 5,
  repeats: 'auto',
  learners: ['logistic', 'forest', 'knn', 'svm'],
  classWeight: 'balanced',
  smallClasses: 'reduce-folds',
  logisticC: 1,
  forestTrees: 100,
  forestMaxFeatures: 'sqrt',
  forestMaxDepth: 0,
  knnNeighbors: 5,
  svmC: 1,
  svmGamma: 'scale',
  svmMaxSamples: 5000,
  stackingFolds: 5,
  stackingMeta: 'logistic',
  stackingC: 1,
  ensemble: 'voting',
  importancePermutations: 5,
  importanceMaxSamples: 2000,
  calibrationBins: 10,
  pcaBaseline: true,
};
