import { argmaxRows } from './learner.js';

/** Scores of one set of predictions against the true classes. */
export interface Scores {
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  /** Mean one-vs-rest AUROC over classes that have both positives and negatives; NaN when none do. */
  aurocMacro: number;
  /** Multiclass Brier score: mean over samples of sum over classes of (p - onehot)^2, in [0, 2]. */
  brier: number;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** True members of the class. */
  support: number;
}

/** Counts with true classes in rows and predicted classes in columns. */
export function confusionMatrix(truth: Int32Array, predicted: Int32Array, nClasses: number): number[][] {
  const matrix = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < truth.length; i++) matrix[truth[i]][predicted[i]]++;
  return matrix;
}

/**
 * Precision, recall and F1 per class; a class never predicted gets precision 0, and a class
 * without true members gets recall 0 (scikit-learn's zero_division=0).
 */
export function perClassScores(confusion: number[][]): ClassScores[] {
  const n = confusion.length;
  return confusion.map((row, k) => {
    const truePositive = row[k];
    const support = row.reduce((a, b) => a + b, 0);
    let predictedCount = 0;
    for (let j = 0; j < n; j++) predictedCount += confusion[j][k];
    const precision = predictedCount > 0 ? truePositive / predictedCount : 0;
    const recall = support > 0 ? truePositive / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/**
 * Scores probabilities (row-major samples x classes) against the true classes; the predicted
 * class is the most probable one. Balanced accuracy and macro-F1 average over the classes that occur in
 * `truth` or in the predictions, as scikit-learn does.
 */
export function scorePredictions(truth: Int32Array, probabilities: Float64Array, nClasses: number): Scores {
  const predicted = argmaxRows(probabilities, nClasses);
  const confusion = confusionMatrix(truth, predicted, nClasses);
  const perClass = perClassScores(confusion);
  let correct = 0;
  for (let k = 0; k < nClasses; k++) correct += confusion[k][k];
  const withTruth = perClass.filter((c) => c.support > 0);
  const occurring = perClass.filter((c, k) => c.support > 0 || confusion.some((row) => row[k] > 0));
  return {
    accuracy: correct / truth.length,
    balancedAccuracy: mean(withTruth.map((c) => c.recall)),
    macroF1: mean(occurring.map((c) => c.f1)),
    aurocMacro: aurocOneVsRest(truth, probabilities, nClasses),
    brier: brierScore(truth, probabilities, nClasses),
  };
}

export function brierScore(truth: Int32Array, probabilities: Float64Array, nClasses: number): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    for (let k = 0; k < nClasses; k++) {
      const target = truth[i] === k ? 1 : 0;
      sum += (probabilities[i * nClasses + k] - target) ** 2;
    }
  }
  return sum / truth.length;
}

/** Macro mean of one-vs-rest AUROC over classes with both positives and negatives. */
export function aurocOneVsRest(truth: Int32Array, probabilities: Float64Array, nClasses: number): number {
  const values: number[] = [];
  for (let k = 0; k < nClasses; k++) {
    const scores = Float64Array.from(truth, (_, i) => probabilities[i * nClasses + k]);
    const positives = Array.from(truth, (label) => label === k);
    const auc = auroc(scores, positives);
    if (!Number.isNaN(auc)) values.push(auc);
  }
  return values.length > 0 ? mean(values) : NaN;
}

/**
 * Area under the ROC curve by the Mann-Whitney statistic with mid-ranks for ties; NaN when
 * there are no positives or no negatives.
 */
export function auroc(scores: Float64Array, positives: boolean[]): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const midRank = (start + end + 1) / 2;
    for (let p = start; p < end; p++) ranks[order[p]] = midRank;
    start = end;
  }
  let nPositive = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (positives[i]) {
      nPositive++;
      rankSum += ranks[i];
    }
  }
  const nNegative = n - nPositive;
  if (nPositive === 0 || nNegative === 0) return NaN;
  return (rankSum - (nPositive * (nPositive + 1)) / 2) / (nPositive * nNegative);
}

/** Points of a ROC curve: false and true positive rates at each distinct threshold, from (0,0) to (1,1). */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  auc: number;
}

/** ROC curve of one class against the rest, thinned to at most `maxPoints` points. */
export function rocCurve(scores: Float64Array, positives: boolean[], maxPoints = 200): RocCurve {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const nPositive = positives.filter(Boolean).length;
  const nNegative = positives.length - nPositive;
  const fpr = [0];
  const tpr = [0];
  let truePositives = 0;
  let falsePositives = 0;
  for (let p = 0; p < order.length; p++) {
    if (positives[order[p]]) truePositives++;
    else falsePositives++;
    const lastOfTie = p === order.length - 1 || scores[order[p + 1]] !== scores[order[p]];
    if (lastOfTie) {
      fpr.push(nNegative > 0 ? falsePositives / nNegative : 0);
      tpr.push(nPositive > 0 ? truePositives / nPositive : 0);
    }
  }
  const auc = auroc(scores, positives);
  if (fpr.length <= maxPoints) return { fpr, tpr, auc };
  // Keep evenly spaced points plus both ends; the curve is only drawn, the AUC is exact.
  const keep = new Set<number>([0, fpr.length - 1]);
  for (let i = 0; i < maxPoints - 2; i++) keep.add(Math.round(((i + 1) * (fpr.length - 1)) / (maxPoints - 1)));
  const indices = [...keep].sort((a, b) => a - b);
  return { fpr: indices.map((i) => fpr[i]), tpr: indices.map((i) => tpr[i]), auc };
}

/** One bin of a reliability diagram over the top-label confidence. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability of the predicted class; null for an empty bin. */
  meanConfidence: number | null;
  /** Share of the bin's samples whose predicted class is right; null for an empty bin. */
  accuracy: number | null;
}

export interface Calibration {
  bins: ReliabilityBin[];
  /** Expected calibration error: count-weighted mean |accuracy - confidence| over bins. */
  ece: number;
}

/** Reliability bins of the top-label confidence over equal-width bins on [0, 1]. */
export function calibration(truth: Int32Array, probabilities: Float64Array, nClasses: number, nBins = 10): Calibration {
  const predicted = argmaxRows(probabilities, nClasses);
  const sums = new Float64Array(nBins);
  const hits = new Float64Array(nBins);
  const counts = new Float64Array(nBins);
  for (let i = 0; i < truth.length; i++) {
    const confidence = probabilities[i * nClasses + predicted[i]];
    const bin = Math.min(nBins - 1, Math.floor(confidence * nBins));
    sums[bin] += confidence;
    hits[bin] += predicted[i] === truth[i] ? 1 : 0;
    counts[bin]++;
  }
  let ece = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const count = counts[b];
    const meanConfidence = count > 0 ? sums[b] / count : null;
    const accuracy = count > 0 ? hits[b] / count : null;
    if (count > 0) ece += (count / truth.length) * Math.abs(accuracy! - meanConfidence!);
    bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count, meanConfidence, accuracy });
  }
  return { bins, ece };
}

/** Mean and sample standard deviation (n - 1); the deviation is 0 for a single value. */
export function meanAndSd(values: number[]): { mean: number; sd: number } {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { mean: NaN, sd: NaN };
  const m = mean(finite);
  if (finite.length === 1) return { mean: m, sd: 0 };
  const variance = finite.reduce((sum, v) => sum + (v - m) ** 2, 0) / (finite.length - 1);
  return { mean: m, sd: Math.sqrt(variance) };
}

function mean(values: number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
