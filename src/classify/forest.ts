import type { Rng } from '../util/rng.js';
import type { Features } from './features.js';
import type { Classifier, TrainingSet } from './learner.js';
import { accumulateTreeProba, growTree, presortColumns, type TreeState } from './tree.js';

export interface ForestOptions {
  /** Number of trees. */
  trees: number;
  /** Candidate features per split: 'sqrt' is floor(sqrt(d)), as scikit-learn's default. */
  maxFeatures: 'sqrt' | 'all';
  /** Maximum tree depth; 0 grows every tree until its leaves are pure. */
  maxDepth: number;
}

export interface ForestState {
  kind: 'forest';
  nClasses: number;
  trees: TreeState[];
}

/**
 * Random forest of bootstrapped CART trees with a feature draw at every split, as
 * scikit-learn's RandomForestClassifier with class_weight. The probabilities are the mean of
 * the trees' leaf class distributions, weighted by the sample weights.
 * Written by hand because ml-random-forest 2.1.0 draws one feature subset per tree instead of
 * per split, takes no class or sample weights, and returns vote shares for one label only.
 */
export class RandomForest implements Classifier {
  private state: ForestState | null = null;

  constructor(
    private readonly options: ForestOptions,
    private readonly rng: Rng,
  ) {}

  fit(train: TrainingSet): void {
    const { x, y, nClasses, sampleWeight } = train;
    const n = x.nRows;
    const maxFeatures = this.options.maxFeatures === 'sqrt' ? Math.max(1, Math.floor(Math.sqrt(x.nCols))) : x.nCols;
    const trees: TreeState[] = [];
    const weight = new Float64Array(n);
    const presorted = presortColumns(x);
    for (let t = 0; t < this.options.trees; t++) {
      // Bootstrap: each draw adds the sample's class weight once.
      weight.fill(0);
      for (let draw = 0; draw < n; draw++) {
        const i = this.rng.int(n);
        weight[i] += sampleWeight[i];
      }
      trees.push(
        growTree(
          x,
          y,
          weight,
          nClasses,
          {
            maxFeatures,
            maxDepth: this.options.maxDepth > 0 ? this.options.maxDepth : Infinity,
            minSamplesSplit: 2,
          },
          this.rng,
          presorted,
        ),
      );
    }
    this.state = { kind: 'forest', nClasses, trees };
  }

  predictProba(x: Features): Float64Array {
    const state = this.requireState();
    const out = new Float64Array(x.nRows * state.nClasses);
    for (const tree of state.trees) accumulateTreeProba(tree, x, state.nClasses, out);
    for (let i = 0; i < out.length; i++) out[i] /= state.trees.length;
    return out;
  }

  toJSON(): ForestState {
    return this.requireState();
  }

  static fromJSON(state: ForestState, options: ForestOptions, rng: Rng): RandomForest {
    const model = new RandomForest(options, rng);
    model.state = state;
    return model;
  }

  private requireState(): ForestState {
    if (!this.state) throw new Error('random forest: predict called before fit');
    return this.state;
  }
}
