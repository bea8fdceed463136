import type { SvmConstructor } from 'libsvm-js';
import { Rng } from '../util/rng.js';
import {
  applyStandardScaler,
  classCounts,
  classWeights,
  fitStandardScaler,
  selectRows,
  type Features,
  type StandardScalerState,
} from './features.js';
import { splitFold, stratifiedFolds } from './folds.js';
import { KNearestNeighbors, type KnnState } from './knn.js';
import type { Classifier, LearnerName } from './learner.js';
import { LogisticRegression, type LogisticState } from './logistic.js';
import { RandomForest, type ForestState } from './forest.js';
import { SupportVectorMachine, type SvmOptions, type SvmState } from './svm.js';
import { ConvexStacker, type ConvexState } from './convex.js';

/** The ensembles built on top of the base learners. */
export const ENSEMBLE_NAMES = ['voting', 'stacking'] as const;
export type EnsembleName = (typeof ENSEMBLE_NAMES)[number];
/** A base learner or an ensemble: every model that cross-validation scores. */
export type ModelName = LearnerName | EnsembleName;

/** Settings of the base learners and ensembles (a subset of the classify options). */
export interface EnsembleSettings {
  learners: LearnerName[];
  classWeight: 'balanced' | 'none';
  logisticC: number;
  forestTrees: number;
  forestMaxFeatures: 'sqrt' | 'all';
  forestMaxDepth: number;
  knnNeighbors: number;
  svmC: number;
  svmGamma: 'scale' | number;
  /** Largest SVM training set; larger ones train on a stratified subsample of this size. 0 for no limit. */
  svmMaxSamples: number;
  /** Folds of the inner cross-validation that produces the meta-learner's training data; 0 disables stacking. */
  stackingFolds: number;
  /** Stacking meta-learner: 'logistic' on the stacked probabilities, or 'convex' learner weights. */
  stackingMeta: 'logistic' | 'convex';
  /** Inverse L2 strength of the logistic meta-learner. */
  stackingC: number;
}

/** Class probabilities of every model for the same rows, row-major rows x classes. */
export interface EnsemblePrediction {
  learners: Partial<Record<LearnerName, Float64Array>>;
  voting: Float64Array;
  /** Null when stacking was disabled or could not be trained (see `Ensemble.stackingSkipped`). */
  stacking: Float64Array | null;
}

/** Returns one model's probabilities from a prediction, or null when that model did not train. */
export function modelProbabilities(prediction: EnsemblePrediction, name: ModelName): Float64Array | null {
  if (name === 'voting') return prediction.voting;
  if (name === 'stacking') return prediction.stacking;
  return prediction.learners[name] ?? null;
}

type LearnerState = LogisticState | ForestState | KnnState | SvmState;

/** JSON form of a fitted ensemble, enough to predict new samples. */
export interface EnsembleState {
  nClasses: number;
  nFeatures: number;
  settings: EnsembleSettings;
  scaler: StandardScalerState;
  learners: { name: LearnerName; state: LearnerState }[];
  meta: LogisticState | ConvexState | null;
  stackingSkipped: string | null;
}

interface BaseModels {
  scaler: StandardScalerState;
  learners: { name: LearnerName; model: Classifier }[];
}

/**
 * Base learners on standardized features plus soft voting and stacking. The scaler is fitted
 * on the training rows only, so a test fold never shapes the standardization. Stacking's
 * meta-learner is trained on out-of-fold probabilities from an inner stratified k-fold
 * inside the training rows, so it is never trained on rows that the base learners were fitted on.
 */
export class Ensemble {
  private constructor(
    readonly nClasses: number,
    readonly nFeatures: number,
    readonly settings: EnsembleSettings,
    private readonly base: BaseModels,
    private readonly meta: MetaLearner | null,
    /** Reason stacking is unavailable, or null when it was trained. */
    readonly stackingSkipped: string | null,
  ) {}

  static fit(x: Features, y: Int32Array, nClasses: number, settings: EnsembleSettings, rng: Rng, SVM: SvmConstructor | null): Ensemble {
    const base = fitBaseModels(x, y, nClasses, settings, rng.fork('base'), SVM);
    let meta: MetaLearner | null = null;
    let stackingSkipped: string | null = null;
    if (settings.stackingFolds < 2) {
      stackingSkipped = 'stacking disabled (stacking folds < 2)';
    } else {
      const presentCounts = classCounts(y, nClasses).filter((count) => count > 0);
      const innerFolds = Math.min(settings.stackingFolds, ...presentCounts);
      if (innerFolds < 2) {
        stackingSkipped = 'a class has a single training sample, too few for the inner cross-validation';
      } else {
        meta = fitMetaLearner(x, y, nClasses, settings, innerFolds, rng.fork('stacking'), SVM);
      }
    }
    return new Ensemble(nClasses, x.nCols, settings, base, meta, stackingSkipped);
  }

  predict(x: Features): EnsemblePrediction {
    if (x.nCols !== this.nFeatures) {
      throw new Error(`ensemble fitted on ${this.nFeatures} features, given ${x.nCols}`);
    }
    const learners = predictBase(this.base, x);
    const probabilities = this.base.learners.map(({ name }) => learners[name]!);
    const voting = averageProbabilities(probabilities, x.nRows, this.nClasses);
    const stacking = this.meta ? predictMeta(this.meta, probabilities, x.nRows, this.nClasses) : null;
    return { learners, voting, stacking };
  }

  /** Frees memory held outside the JavaScript heap (libsvm models). */
  dispose(): void {
    disposeBase(this.base);
  }

  toJSON(): EnsembleState {
    return {
      nClasses: this.nClasses,
      nFeatures: this.nFeatures,
      settings: this.settings,
      scaler: this.base.scaler,
      learners: this.base.learners.map(({ name, model }) => ({ name, state: model.toJSON() as LearnerState })),
      meta: this.meta ? this.meta.toJSON() : null,
      stackingSkipped: this.stackingSkipped,
    };
  }

  static fromJSON(state: EnsembleState, SVM: SvmConstructor | null): Ensemble {
    const rng = new Rng(0);
    const learners = state.learners.map(({ name, state: learnerState }) => ({
      name,
      model: restoreLearner(name, learnerState, state.settings, rng, SVM),
    }));
    const meta = state.meta ? restoreMeta(state.meta, state.settings) : null;
    return new Ensemble(
      state.nClasses,
      state.nFeatures,
      state.settings,
      { scaler: state.scaler, learners },
      meta,
      state.stackingSkipped,
    );
  }
}

function createLearner(name: LearnerName, settings: EnsembleSettings, rng: Rng, SVM: SvmConstructor | null): Classifier {
  switch (name) {
    case 'logistic':
      return new LogisticRegression({ C: settings.logisticC, maxIterations: 1000 });
    case 'forest':
      return new RandomForest(
        { trees: settings.forestTrees, maxFeatures: settings.forestMaxFeatures, maxDepth: settings.forestMaxDepth },
        rng,
      );
    case 'knn':
      return new KNearestNeighbors({ k: settings.knnNeighbors });
    case 'svm':
      return new SupportVectorMachine(svmOptions(settings), requireLibsvm(SVM), rng);
  }
}

function restoreLearner(name: LearnerName, state: LearnerState, settings: EnsembleSettings, rng: Rng, SVM: SvmConstructor | null): Classifier {
  switch (name) {
    case 'logistic':
      return LogisticRegression.fromJSON(state as LogisticState, { C: settings.logisticC, maxIterations: 1000 });
    case 'forest':
      return RandomForest.fromJSON(
        state as ForestState,
        { trees: settings.forestTrees, maxFeatures: settings.forestMaxFeatures, maxDepth: settings.forestMaxDepth },
        rng,
      );
    case 'knn':
      return KNearestNeighbors.fromJSON(state as KnnState, { k: settings.knnNeighbors });
    case 'svm':
      return SupportVectorMachine.fromJSON(state as SvmState, svmOptions(settings), requireLibsvm(SVM), rng);
  }
}

function svmOptions(settings: EnsembleSettings): SvmOptions {
  // Models saved before the cap existed trained on every row.
  return { C: settings.svmC, gamma: settings.svmGamma, maxSamples: settings.svmMaxSamples ?? 0 };
}

function requireLibsvm(SVM: SvmConstructor | null): SvmConstructor {
  if (!SVM) throw new Error('the svm learner needs libsvm: call loadLibsvm() first');
  return SVM;
}

function fitBaseModels(
  x: Features,
  y: Int32Array,
  nClasses: number,
  settings: EnsembleSettings,
  rng: Rng,
  SVM: SvmConstructor | null,
): BaseModels {
  const scaler = fitStandardScaler(x);
  const scaled = applyStandardScaler(scaler, x);
  const weights = classWeights(y, nClasses, settings.classWeight);
  const sampleWeight = Float64Array.from(y, (label) => weights[label]);
  const learners = settings.learners.map((name) => {
    const model = createLearner(name, settings, rng.fork(name), SVM);
    model.fit({ x: scaled, y, nClasses, sampleWeight });
    return { name, model };
  });
  return { scaler, learners };
}

function predictBase(base: BaseModels, x: Features): Partial<Record<LearnerName, Float64Array>> {
  const scaled = applyStandardScaler(base.scaler, x);
  const out: Partial<Record<LearnerName, Float64Array>> = {};
  for (const { name, model } of base.learners) out[name] = model.predictProba(scaled);
  return out;
}

function disposeBase(base: BaseModels): void {
  for (const { model } of base.learners) {
    if (model instanceof SupportVectorMachine) model.free();
  }
}

type MetaLearner = LogisticRegression | ConvexStacker;

function predictMeta(meta: MetaLearner, probabilities: Float64Array[], nRows: number, nClasses: number): Float64Array {
  if (meta instanceof ConvexStacker) return meta.predictProba(probabilities);
  return meta.predictProba(stackFeatures(probabilities, nRows, nClasses));
}

function restoreMeta(state: LogisticState | ConvexState, settings: EnsembleSettings): MetaLearner {
  if (state.kind === 'convex') return ConvexStacker.fromJSON(state);
  return LogisticRegression.fromJSON(state, { C: settings.stackingC, maxIterations: 1000 });
}

/** Trains the meta-learner on out-of-fold base-learner probabilities from an inner k-fold. */
function fitMetaLearner(
  x: Features,
  y: Int32Array,
  nClasses: number,
  settings: EnsembleSettings,
  innerFolds: number,
  rng: Rng,
  SVM: SvmConstructor | null,
): MetaLearner {
  const nLearners = settings.learners.length;
  const outOfFold = new Float64Array(x.nRows * nLearners * nClasses);
  const assignment = stratifiedFolds(y, nClasses, innerFolds, rng.fork('folds'));
  for (let fold = 0; fold < innerFolds; fold++) {
    const { train, test } = splitFold(assignment, fold);
    const base = fitBaseModels(selectRows(x, train), y.filter((_, i) => assignment[i] !== fold), nClasses, settings, rng.fork(`fold-${fold}`), SVM);
    const predicted = predictBase(base, selectRows(x, test));
    disposeBase(base);
    const stacked = stackFeatures(
      settings.learners.map((name) => predicted[name]!),
      test.length,
      nClasses,
    );
    for (let r = 0; r < test.length; r++) {
      outOfFold.set(stacked.data.subarray(r * stacked.nCols, (r + 1) * stacked.nCols), test[r] * stacked.nCols);
    }
  }
  const weights = classWeights(y, nClasses, settings.classWeight);
  const sampleWeight = Float64Array.from(y, (label) => weights[label]);
  if (settings.stackingMeta === 'convex') {
    const meta = new ConvexStacker();
    meta.fit(unstackFeatures(outOfFold, x.nRows, nLearners, nClasses), y, nClasses, sampleWeight);
    return meta;
  }
  const meta = new LogisticRegression({ C: settings.stackingC, maxIterations: 1000 });
  meta.fit({ x: { nRows: x.nRows, nCols: nLearners * nClasses, data: outOfFold }, y, nClasses, sampleWeight });
  return meta;
}

/** Concatenates the learners' probabilities per row: the meta-learner's features. */
function stackFeatures(probabilities: Float64Array[], nRows: number, nClasses: number): Features {
  const width = probabilities.length * nClasses;
  const data = new Float64Array(nRows * width);
  for (let r = 0; r < nRows; r++) {
    probabilities.forEach((p, l) => data.set(p.subarray(r * nClasses, (r + 1) * nClasses), r * width + l * nClasses));
  }
  return { nRows, nCols: width, data };
}

/** Splits stacked features back into one probability matrix per learner. */
function unstackFeatures(stacked: Float64Array, nRows: number, nLearners: number, nClasses: number): Float64Array[] {
  const width = nLearners * nClasses;
  return Array.from({ length: nLearners }, (_, l) => {
    const out = new Float64Array(nRows * nClasses);
    for (let r = 0; r < nRows; r++) out.set(stacked.subarray(r * width + l * nClasses, r * width + (l + 1) * nClasses), r * nClasses);
    return out;
  });
}

function averageProbabilities(probabilities: Float64Array[], nRows: number, nClasses: number): Float64Array {
  const out = new Float64Array(nRows * nClasses);
  for (const p of probabilities) for (let i = 0; i < out.length; i++) out[i] += p[i];
  for (let i = 0; i < out.length; i++) out[i] /= probabilities.length;
  return out;
}
