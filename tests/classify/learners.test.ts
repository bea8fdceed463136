import { describe, expect, it } from 'vitest';
import { ConvexStacker } from '../../src/classify/convex.js';
import { Ensemble } from '../../src/classify/ensemble.js';
import { applyStandardScaler, classWeights, fitStandardScaler, type Features } from '../../src/classify/features.js';
import { RandomForest } from '../../src/classify/forest.js';
import { KNearestNeighbors } from '../../src/classify/knn.js';
import { argmaxRows, type Classifier, type TrainingSet } from '../../src/classify/learner.js';
import { LogisticRegression } from '../../src/classify/logistic.js';
import { scorePredictions } from '../../src/classify/metrics.js';
import { SupportVectorMachine, loadLibsvm } from '../../src/classify/svm.js';
import { CLASSIFY_DEFAULTS } from '../../pipeline/classify.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

function trainingSet(x: Features, y: Int32Array, nClasses: number, weighted = false): TrainingSet {
  const weights = classWeights(y, nClasses, weighted ? 'balanced' : 'none');
  return { x, y, nClasses, sampleWeight: Float64Array.from(y, (k) => weights[k]) };
}

async function learners(): Promise<Record<string, () => Classifier>> {
  const SVM = await loadLibsvm();
  return {
    logistic: () => new LogisticRegression({ C: 1, maxIterations: 500 }),
    forest: () => new RandomForest({ trees: 40, maxFeatures: 'sqrt', maxDepth: 0 }, new Rng(3)),
    knn: () => new KNearestNeighbors({ k: 5 }),
    svm: () => new SupportVectorMachine({ C: 1, gamma: 'scale', maxSamples: 0 }, SVM, new Rng(4)),
  };
}

describe('base learners', () => {
  const train = blobs([40, 40, 40], 5, 4, 11);
  const test = blobs([20, 20, 20], 5, 4, 12);

  it('separate well-separated blobs', async () => {
    for (const [name, make] of Object.entries(await learners())) {
      const model = make();
      model.fit(trainingSet(train.x, train.y, 3));
      const scores = scorePredictions(test.y, model.predictProba(test.x), 3);
      expect(scores.balancedAccuracy, name).toBeGreaterThan(0.9);
    }
  });

  it('return probabilities that sum to one', async () => {
    for (const [name, make] of Object.entries(await learners())) {
      const model = make();
      model.fit(trainingSet(train.x, train.y, 3));
      const p = model.predictProba(test.x);
      for (let i = 0; i < test.x.nRows; i++) {
        const sum = p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2];
        expect(sum, `${name} row ${i}`).toBeCloseTo(1, 6);
      }
    }
  });

  it('survive a JSON round trip', async () => {
    const SVM = await loadLibsvm();
    const restore: Record<string, (state: unknown) => Classifier> = {
      logistic: (s) => LogisticRegression.fromJSON(s as never, { C: 1, maxIterations: 500 }),
      forest: (s) => RandomForest.fromJSON(s as never, { trees: 40, maxFeatures: 'sqrt', maxDepth: 0 }, new Rng(0)),
      knn: (s) => KNearestNeighbors.fromJSON(s as never, { k: 5 }),
      svm: (s) => SupportVectorMachine.fromJSON(s as never, { C: 1, gamma: 'scale', maxSamples: 0 }, SVM, new Rng(0)),
    };
    for (const [name, make] of Object.entries(await learners())) {
      const model = make();
      model.fit(trainingSet(train.x, train.y, 3));
      const restored = restore[name](JSON.parse(JSON.stringify(model.toJSON())));
      const before = model.predictProba(test.x);
      const after = restored.predictProba(test.x);
      // libsvm's text serialization rounds the model's numbers, so allow 1e-6.
      for (let i = 0; i < before.length; i++) expect(after[i], `${name} value ${i}`).toBeCloseTo(before[i], 6);
    }
  });

  it('give zero probability to a class absent from training', async () => {
    const y = Int32Array.from(train.y, (k) => (k === 2 ? 1 : k));
    for (const [name, make] of Object.entries(await learners())) {
      if (name === 'logistic') continue;
      const model = make();
      model.fit(trainingSet(train.x, y, 3));
      const p = model.predictProba(test.x);
      expect(Math.max(...Array.from({ length: test.x.nRows }, (_, i) => p[i * 3 + 2])), name).toBe(0);
    }
  });
});

describe('KNearestNeighbors', () => {
  /** Brute-force vote shares: neighbours by (squared distance, training index), votes weighted per class. */
  function bruteForceProba(train: TrainingSet, x: Features, k: number): Float64Array {
    const { nCols: d } = x;
    const out = new Float64Array(x.nRows * train.nClasses);
    for (let i = 0; i < x.nRows; i++) {
      const order = Array.from({ length: train.x.nRows }, (_, t) => {
        let squared = 0;
        for (let c = 0; c < d; c++) squared += (x.data[i * d + c] - train.x.data[t * d + c]) ** 2;
        return { t, squared };
      }).sort((a, b) => a.squared - b.squared || a.t - b.t);
      let total = 0;
      for (const { t } of order.slice(0, k)) {
        out[i * train.nClasses + train.y[t]] += train.sampleWeight[t];
        total += train.sampleWeight[t];
      }
      for (let c = 0; c < train.nClasses; c++) out[i * train.nClasses + c] /= total;
    }
    return out;
  }

  it('matches brute force with tied distances', () => {
    // Coordinates rounded to whole numbers, so that many neighbours tie in distance.
    const rounded = (f: Features): Features => ({ ...f, data: f.data.map(Math.round) });
    const train = trainingSet(rounded(blobs([80, 60, 30], 3, 2, 31).x), blobs([80, 60, 30], 3, 2, 31).y, 3, true);
    const test = rounded(blobs([30, 30, 30], 3, 2, 32).x);
    const model = new KNearestNeighbors({ k: 7 });
    model.fit(train);
    expect(Array.from(model.predictProba(test))).toEqual(Array.from(bruteForceProba(train, test, 7)));
  });
});

describe('SupportVectorMachine', () => {
  it('trains on a stratified subsample above the cap', async () => {
    const { x, y } = blobs([150, 100, 50], 4, 3, 33);
    const model = new SupportVectorMachine({ C: 1, gamma: 'scale', maxSamples: 60 }, await loadLibsvm(), new Rng(5));
    model.fit(trainingSet(x, y, 3, true));
    expect(model.toJSON().trainedOn).toBe(60);
    const scores = scorePredictions(blobs([20, 20, 20], 4, 3, 34).y, model.predictProba(blobs([20, 20, 20], 4, 3, 34).x), 3);
    expect(scores.balancedAccuracy).toBeGreaterThan(0.9);
    model.free();
  });

  it('trains on every row without a cap', async () => {
    const { x, y } = blobs([40, 30], 4, 3, 35);
    const model = new SupportVectorMachine({ C: 1, gamma: 'scale', maxSamples: 0 }, await loadLibsvm(), new Rng(6));
    model.fit(trainingSet(x, y, 2));
    expect(model.toJSON().trainedOn).toBe(70);
    model.free();
  });
});

describe('class weights', () => {
  it('balance each class to the same total', () => {
    const y = Int32Array.from([0, 0, 0, 1]);
    const weights = classWeights(y, 2, 'balanced');
    expect(weights[0] * 3).toBeCloseTo(weights[1] * 1);
    expect(weights[1]).toBeCloseTo(2);
  });

  it('raise the recall of a rare class', () => {
    // A rare class that overlaps the common one: unweighted fits favour the common class.
    const { x, y } = blobs([200, 20], 4, 1.2, 5);
    const held = blobs([200, 20], 4, 1.2, 6);
    const recall = (weighted: boolean) => {
      const model = new LogisticRegression({ C: 1, maxIterations: 500 });
      model.fit(trainingSet(x, y, 2, weighted));
      const predicted = argmaxRows(model.predictProba(held.x), 2);
      let hits = 0;
      for (let i = 0; i < held.y.length; i++) if (held.y[i] === 1 && predicted[i] === 1) hits++;
      return hits / 20;
    };
    expect(recall(true)).toBeGreaterThan(recall(false));
  });
});

describe('LogisticRegression', () => {
  it('shrinks coefficients with a smaller C', () => {
    const { x, y } = blobs([50, 50], 3, 2, 8);
    const norm = (C: number) => {
      const model = new LogisticRegression({ C, maxIterations: 500 });
      model.fit(trainingSet(x, y, 2));
      return model.toJSON().coefficients.reduce((sum, b) => sum + b * b, 0);
    };
    expect(norm(0.01)).toBeLessThan(norm(1));
  });

  it('reaches a stationary point of the penalized loss', () => {
    // For the multinomial L2 objective, the coefficients of each feature sum to zero over classes.
    const { x, y } = blobs([30, 30, 30], 3, 2, 9);
    const model = new LogisticRegression({ C: 1, maxIterations: 1000 });
    model.fit(trainingSet(x, y, 3));
    const { coefficients } = model.toJSON();
    for (let j = 0; j < 3; j++) {
      expect(coefficients[j] + coefficients[3 + j] + coefficients[6 + j], `feature ${j}`).toBeCloseTo(0, 4);
    }
  });
});

describe('standard scaler', () => {
  it('centres and scales the training columns', () => {
    const x: Features = { nRows: 3, nCols: 2, data: Float64Array.from([1, 10, 2, 10, 3, 10]) };
    const scaled = applyStandardScaler(fitStandardScaler(x), x);
    expect(Array.from(scaled.data).map((v) => Number(v.toFixed(6)))).toEqual([-1.224745, 0, 0, 0, 1.224745, 0]);
  });
});

describe('Ensemble', () => {
  const settings = {
    ...CLASSIFY_DEFAULTS,
    learners: CLASSIFY_DEFAULTS.learners,
    forestTrees: 30,
  };

  it('averages the learners for soft voting', async () => {
    const { x, y } = blobs([30, 30], 4, 2, 13);
    const model = Ensemble.fit(x, y, 2, settings, new Rng(1), await loadLibsvm());
    const prediction = model.predict(x);
    for (let i = 0; i < 6; i++) {
      const mean = (['logistic', 'forest', 'knn', 'svm'] as const).reduce((sum, name) => sum + prediction.learners[name]![i], 0) / 4;
      expect(prediction.voting[i]).toBeCloseTo(mean, 12);
    }
    model.dispose();
  });

  it('round-trips through JSON', async () => {
    const SVM = await loadLibsvm();
    const { x, y } = blobs([30, 30, 20], 4, 2, 14);
    const model = Ensemble.fit(x, y, 3, settings, new Rng(1), SVM);
    const restored = Ensemble.fromJSON(JSON.parse(JSON.stringify(model.toJSON())), SVM);
    const before = model.predict(x);
    const after = restored.predict(x);
    for (let i = 0; i < before.voting.length; i++) {
      expect(after.voting[i], `voting ${i}`).toBeCloseTo(before.voting[i], 6);
      expect(after.stacking![i], `stacking ${i}`).toBeCloseTo(before.stacking![i], 6);
    }
    model.dispose();
    restored.dispose();
  });

  it('stacks with convex weights on request', async () => {
    const SVM = await loadLibsvm();
    const { x, y } = blobs([30, 30, 20], 4, 2, 16);
    const model = Ensemble.fit(x, y, 3, { ...settings, stackingMeta: 'convex' }, new Rng(1), SVM);
    const state = model.toJSON();
    expect(state.meta!.kind).toBe('convex');
    const restored = Ensemble.fromJSON(JSON.parse(JSON.stringify(state)), SVM);
    expect(restored.predict(x).stacking![0]).toBeCloseTo(model.predict(x).stacking![0], 6);
    model.dispose();
    restored.dispose();
  });

  it('skips stacking when a class has one member', async () => {
    const { x, y } = blobs([20, 1], 3, 2, 15);
    const model = Ensemble.fit(x, y, 2, settings, new Rng(1), await loadLibsvm());
    expect(model.stackingSkipped).toContain('single training sample');
    expect(model.predict(x).stacking).toBeNull();
    model.dispose();
  });
});

describe('ConvexStacker', () => {
  it('puts its weight on the informative learner', () => {
    const y = Int32Array.from({ length: 60 }, (_, i) => i % 2);
    // Learner 0 is right with probability 0.9; learner 1 is uninformative.
    const good = Float64Array.from({ length: 120 }, (_, j) => ((j % 2) === y[Math.floor(j / 2)] ? 0.9 : 0.1));
    const useless = new Float64Array(120).fill(0.5);
    const stacker = new ConvexStacker();
    stacker.fit([good, useless], y, 2, new Float64Array(60).fill(1));
    const { weights } = stacker.toJSON();
    expect(weights[0] + weights[1]).toBeCloseTo(1, 12);
    expect(weights[0]).toBeGreaterThan(0.95);
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(0);
  });

  it('mixes probabilities with its weights', () => {
    const stacker = ConvexStacker.fromJSON({ kind: 'convex', weights: [0.25, 0.75] });
    const mixed = stacker.predictProba([Float64Array.from([1, 0]), Float64Array.from([0, 1])]);
    expect(Array.from(mixed)).toEqual([0.25, 0.75]);
  });
});
