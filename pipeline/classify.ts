/** Options of the classify stage. */
export interface ClassifyOptions {
  /** Folds of stratified cross-validation (reduced to the smallest class size when needed). Default 5. */
  folds: number;
  /** Repeats of the cross-validation with different seeds. Default 3. */
  repeats: number;
}

export const CLASSIFY_DEFAULTS: ClassifyOptions = {
  folds: 5,
  repeats: 3,
};
