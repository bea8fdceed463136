import type { Features } from './features.js';
import type { Classifier, TrainingSet } from './learner.js';

export interface KnnOptions {
  /** Number of neighbours (capped at the number of training samples). */
  k: number;
}

export interface KnnState {
  kind: 'knn';
  k: number;
  nClasses: number;
  nFeatures: number;
  /** Training rows, row-major. */
  x: number[];
  y: number[];
  /** Vote weight of each class: its class weight, so balanced weighting evens out the votes. */
  classVote: number[];
}

/**
 * k-nearest neighbours with Euclidean distance. The class probabilities are the shares of the
 * votes of the k nearest training samples, each vote weighted by its class weight. Unweighted,
 * every vote counts 1, which is scikit-learn's uniform KNeighborsClassifier.
 * Written by hand because ml-knn 3.0.0 returns only labels, not probabilities; brute force is
 * fast at latent sizes (tens of dimensions, thousands of samples).
 */
export class KNearestNeighbors implements Classifier {
  private state: KnnState | null = null;

  constructor(private readonly options: KnnOptions) {}

  fit(train: TrainingSet): void {
    const classVote = new Array<number>(train.nClasses).fill(0);
    // sampleWeight is the class weight of each sample's class (or 1 when unweighted).
    for (let i = 0; i < train.y.length; i++) classVote[train.y[i]] = train.sampleWeight[i];
    this.state = {
      kind: 'knn',
      k: Math.max(1, Math.min(this.options.k, train.x.nRows)),
      nClasses: train.nClasses,
      nFeatures: train.x.nCols,
      x: Array.from(train.x.data),
      y: Array.from(train.y),
      classVote,
    };
  }

  predictProba(x: Features): Float64Array {
    const state = this.requireState();
    const { k, nClasses, nFeatures: d } = state;
    const nTrain = state.y.length;
    const out = new Float64Array(x.nRows * nClasses);
    const distances = new Float64Array(nTrain);
    const order = new Int32Array(nTrain);
    for (let i = 0; i < x.nRows; i++) {
      for (let t = 0; t < nTrain; t++) {
        let sum = 0;
        for (let j = 0; j < d; j++) {
          const diff = x.data[i * d + j] - state.x[t * d + j];
          sum += diff * diff;
        }
        distances[t] = sum;
        order[t] = t;
      }
      // Ties in distance go to the lower training index, so results do not depend on the sort.
      const nearest = Array.from(order)
        .sort((a, b) => distances[a] - distances[b] || a - b)
        .slice(0, k);
      let total = 0;
      for (const t of nearest) {
        const vote = state.classVote[state.y[t]];
        out[i * nClasses + state.y[t]] += vote;
        total += vote;
      }
      for (let c = 0; c < nClasses; c++) out[i * nClasses + c] = total > 0 ? out[i * nClasses + c] / total : 1 / nClasses;
    }
    return out;
  }

  toJSON(): KnnState {
    return this.requireState();
  }

  static fromJSON(state: KnnState, options: KnnOptions): KNearestNeighbors {
    const model = new KNearestNeighbors(options);
    model.state = state;
    return model;
  }

  private requireState(): KnnState {
    if (!this.state) throw new Error('k-nearest neighbours: predict called before fit');
    return this.state;
  }
}
