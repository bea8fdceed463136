import { KdTree } from '../cluster/kdtree.js';
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
 * Written by hand because ml-knn 3.0.0 returns only labels, not probabilities. The neighbours
 * come from an exact kd-tree search, with ties in distance going to the lower training index,
 * so the result equals a brute-force scan's while a query costs about O(log n) in a latent
 * space of ten or so dimensions instead of O(n).
 */
export class KNearestNeighbors implements Classifier {
  private state: KnnState | null = null;
  /** Search tree over the training rows, built on the first prediction. */
  private tree: KdTree | null = null;

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
    this.tree = null;
  }

  predictProba(x: Features): Float64Array {
    const state = this.requireState();
    const { k, nClasses, nFeatures: d } = state;
    if (x.nCols !== d) throw new Error(`k-nearest neighbours fitted on ${d} features, given ${x.nCols}`);
    this.tree ??= KdTree.build({ nRows: state.y.length, nCols: d, data: Float64Array.from(state.x) });
    const out = new Float64Array(x.nRows * nClasses);
    const neighbors = { indices: new Int32Array(k), squared: new Float64Array(k), count: 0 };
    for (let i = 0; i < x.nRows; i++) {
      this.tree.query(x.data.subarray(i * d, (i + 1) * d), k, -1, neighbors);
      let total = 0;
      for (let r = 0; r < neighbors.count; r++) {
        const label = state.y[neighbors.indices[r]];
        const vote = state.classVote[label];
        out[i * nClasses + label] += vote;
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
