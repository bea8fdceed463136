import { confusionMatrix, perClassScores, scorePredictions, type ClassScores, type Scores } from './metrics.js';
import { selectRows } from './features.js';
import { argmaxRows } from './learner.js';

/**
 * Scores of a saved classifier on a new cohort with known labels. No stage of the run saw these
 * samples, so unlike the run's cross-validation this is an independent test.
 */
export interface HoldoutEvaluation {
  /** Samples scored: those whose label is one of the classifier's classes. */
  scored: number;
  /** Samples without a label. */
  unlabelled: number;
  /** Sample count per label that the classifier never saw. These samples are not scored. */
  unknownLabels: Record<string, number>;
  /** The classifier's classes, in the order of the confusion matrix and `perClass`. */
  classes: string[];
  /** Null when no sample could be scored. The Brier score is summed over classes, so it runs from 0 to 2. */
  scores: Scores | null;
  /** Counts with true labels in rows and predicted labels in columns, both in the order of `classes`. */
  confusion: number[][];
  confusionLayout: 'rows: true label, columns: predicted label';
  perClass: (ClassScores & { label: string })[];
}

/**
 * Scores predicted probabilities (row-major samples x classes) against known labels. Samples
 * without a label, or with one outside `classes`, are counted and left out.
 */
export function evaluateHoldout(labels: readonly (string | null)[], classes: readonly string[], probabilities: Float64Array): HoldoutEvaluation {
  const nClasses = classes.length;
  const codeOf = new Map(classes.map((label, k) => [label, k]));
  const rows: number[] = [];
  const truth: number[] = [];
  const unknownLabels: Record<string, number> = {};
  let unlabelled = 0;

  labels.forEach((label, i) => {
    if (label === null) {
      unlabelled++;
      return;
    }
    const code = codeOf.get(label);
    if (code === undefined) {
      unknownLabels[label] = (unknownLabels[label] ?? 0) + 1;
      return;
    }
    rows.push(i);
    truth.push(code);
  });

  const subset = selectRows({ nRows: labels.length, nCols: nClasses, data: probabilities }, rows).data;
  const codes = Int32Array.from(truth);
  const confusion = confusionMatrix(codes, argmaxRows(subset, nClasses), nClasses);
  return {
    scored: rows.length,
    unlabelled,
    unknownLabels,
    classes: [...classes],
    scores: rows.length > 0 ? scorePredictions(codes, subset, nClasses) : null,
    confusion,
    confusionLayout: 'rows: true label, columns: predicted label',
    perClass: perClassScores(confusion).map((scores, k) => ({ label: classes[k], ...scores })),
  };
}
