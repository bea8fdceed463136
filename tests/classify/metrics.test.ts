import { describe, expect, it } from 'vitest';
import {
  auroc,
  aurocOneVsRest,
  brierScore,
  calibration,
  confusionMatrix,
  meanAndSd,
  perClassScores,
  rocCurve,
  scorePredictions,
} from '../../src/classify/metrics.js';

describe('confusionMatrix', () => {
  it('puts truth in rows and predictions in columns', () => {
    const matrix = confusionMatrix(Int32Array.from([0, 0, 1, 2]), Int32Array.from([0, 1, 1, 1]), 3);
    expect(matrix).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [0, 1, 0],
    ]);
  });
});

describe('perClassScores', () => {
  it('gives zero precision to a class never predicted', () => {
    const scores = perClassScores([
      [2, 0],
      [1, 0],
    ]);
    expect(scores[1].precision).toBe(0);
    expect(scores[1].recall).toBe(0);
    expect(scores[0].precision).toBeCloseTo(2 / 3);
    expect(scores[0].f1).toBeCloseTo(0.8);
  });
});

describe('scorePredictions', () => {
  // Values checked against scikit-learn 1.2: balanced_accuracy_score and f1_score(average='macro').
  it('matches scikit-learn on an imbalanced case', () => {
    const truth = Int32Array.from([0, 0, 0, 0, 1, 1, 2]);
    const predicted = [0, 0, 0, 1, 1, 0, 2];
    const probabilities = new Float64Array(7 * 3);
    predicted.forEach((k, i) => {
      probabilities.fill(0.1, i * 3, i * 3 + 3);
      probabilities[i * 3 + k] = 0.8;
    });
    const scores = scorePredictions(truth, probabilities, 3);
    expect(scores.accuracy).toBeCloseTo(5 / 7);
    expect(scores.balancedAccuracy).toBeCloseTo((3 / 4 + 1 / 2 + 1) / 3);
    expect(scores.macroF1).toBeCloseTo((0.75 + 0.5 + 1) / 3);
  });
});

describe('auroc', () => {
  it('is 1 for a perfect ranking', () => {
    expect(auroc(Float64Array.from([0.1, 0.2, 0.8, 0.9]), [false, false, true, true])).toBe(1);
  });

  it('counts ties as one half', () => {
    expect(auroc(Float64Array.from([0.5, 0.5]), [false, true])).toBe(0.5);
  });

  it('matches the pairwise definition', () => {
    const scores = Float64Array.from([0.3, 0.7, 0.2, 0.9, 0.4, 0.4]);
    const positives = [true, false, false, true, true, false];
    let wins = 0;
    let pairs = 0;
    scores.forEach((s, i) => {
      scores.forEach((t, j) => {
        if (!positives[i] || positives[j]) return;
        pairs++;
        wins += s > t ? 1 : s === t ? 0.5 : 0;
      });
    });
    expect(auroc(scores, positives)).toBeCloseTo(wins / pairs);
  });

  it('is NaN without negatives', () => {
    expect(auroc(Float64Array.from([0.1, 0.2]), [true, true])).toBeNaN();
  });
});

describe('aurocOneVsRest', () => {
  it('equals the binary AUROC for two classes', () => {
    const truth = Int32Array.from([0, 1, 0, 1, 1]);
    const p1 = [0.2, 0.6, 0.7, 0.9, 0.4];
    const probabilities = Float64Array.from(p1.flatMap((p) => [1 - p, p]));
    expect(aurocOneVsRest(truth, probabilities, 2)).toBeCloseTo(auroc(Float64Array.from(p1), [false, true, false, true, true]));
  });
});

describe('brierScore', () => {
  it('sums squared errors over classes', () => {
    const truth = Int32Array.from([0, 1]);
    const probabilities = Float64Array.from([0.8, 0.2, 0.5, 0.5]);
    expect(brierScore(truth, probabilities, 2)).toBeCloseTo((0.04 + 0.04 + 0.25 + 0.25) / 2);
  });
});

describe('rocCurve', () => {
  it('runs from the origin to (1, 1)', () => {
    const curve = rocCurve(Float64Array.from([0.9, 0.8, 0.3, 0.1]), [true, false, true, false]);
    expect(curve.fpr[0]).toBe(0);
    expect(curve.tpr[0]).toBe(0);
    expect(curve.fpr.at(-1)).toBe(1);
    expect(curve.tpr.at(-1)).toBe(1);
    expect(curve.auc).toBeCloseTo(0.75);
  });

  it('thins long curves', () => {
    const n = 1000;
    const scores = Float64Array.from({ length: n }, (_, i) => i / n);
    const curve = rocCurve(scores, Array.from({ length: n }, (_, i) => i % 2 === 0), 50);
    expect(curve.fpr).toHaveLength(50);
    expect(curve.tpr.at(-1)).toBe(1);
  });
});

describe('calibration', () => {
  it('bins the top-label confidence', () => {
    const truth = Int32Array.from([0, 0, 1, 1]);
    const probabilities = Float64Array.from([0.95, 0.05, 0.65, 0.35, 0.6, 0.4, 0.05, 0.95]);
    const { bins, ece } = calibration(truth, probabilities, 2, 10);
    expect(bins[9].count).toBe(2);
    expect(bins[9].accuracy).toBe(1);
    expect(bins[6].count).toBe(2);
    expect(bins[6].accuracy).toBe(0.5);
    expect(ece).toBeCloseTo(0.5 * 0.05 + 0.5 * Math.abs(0.5 - 0.625));
  });
});

describe('meanAndSd', () => {
  it('uses the sample deviation', () => {
    expect(meanAndSd([1, 2, 3])).toEqual({ mean: 2, sd: 1 });
  });

  it('ignores NaN values', () => {
    expect(meanAndSd([NaN, 4]).mean).toBe(4);
  });
});
