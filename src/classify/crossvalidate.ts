import type { SvmConstructor } from 'libsvm-js';
import type { Progress } from '../util/log.js';
import type { Rng } from '../util/rng.js';
import { Ensemble, modelProbabilities, type EnsembleSettings, type ModelName } from './ensemble.js';
import { selectRows, type Features } from './features.js';
import { splitFold, stratifiedFolds } from './folds.js';
import { argmaxRows } from './learner.js';
import { stratifiedSubsample } from './subsample.js';
import { scorePredictions, type Scores } from './metrics.js';

export interface CrossValidationSettings {
  folds: number;
  repeats: number;
  /** Shuffles per latent dimension and test fold for permutation importance; 0 skips importance. */
  importancePermutations: number;
  /** The model whose balanced accuracy permutation importance measures. */
  importanceModel: ModelName;
  /** Largest number of test rows importance scores per fold (a stratified subsample above it); 0 for every row. */
  importanceMaxSamples: number;
  /** Fold assignment of each repeat to use instead of drawing one (for comparisons on fixed folds). */
  assignments?: Int32Array[];
}

/** Everything cross-validation produced, for metrics, tables and the summary. */
export interface CrossValidationResult {
  /** Models that were scored: the learners, 'voting', and 'stacking' when it trained in every fold. */
  models: ModelName[];
  /** Test fold of each labelled sample, per repeat. */
  assignments: Int32Array[];
  /** Out-of-fold probabilities per model and repeat, row-major samples x classes. */
  outOfFold: Partial<Record<ModelName, Float64Array[]>>;
  /** Scores on each test fold, per model, in the order repeat-major then fold. */
  foldScores: Partial<Record<ModelName, Scores[]>>;
  /** Drop in balanced accuracy per latent dimension, one array per test fold; empty when importance was skipped. */
  importance: Float64Array[];
  /** Test rows importance was scored on, per test fold (fewer than the fold when subsampled). */
  importanceRows: number[];
  /** The model permutation importance measured: the requested one, or 'voting' when stacking was skipped. */
  importanceModel: ModelName;
  /** Reasons stacking was skipped in some fold (empty when it always trained). */
  stackingSkipped: string[];
}

/**
 * Repeated stratified k-fold cross-validation of the ensemble. Each repeat draws its own
 * fold assignment; every fit (scaler, learners, stacking's inner folds) uses only the
 * training rows of its fold, and the test rows are scored once per repeat.
 */
export function crossValidate(
  x: Features,
  y: Int32Array,
  nClasses: number,
  ensemble: EnsembleSettings,
  settings: CrossValidationSettings,
  rng: Rng,
  SVM: SvmConstructor | null,
  progress?: Progress,
): CrossValidationResult {
  const n = x.nRows;
  const candidates: ModelName[] = [...ensemble.learners, 'voting', 'stacking'];
  const outOfFold: Partial<Record<ModelName, Float64Array[]>> = {};
  const foldScores: Partial<Record<ModelName, Scores[]>> = {};
  for (const name of candidates) {
    outOfFold[name] = [];
    foldScores[name] = [];
  }
  const assignments: Int32Array[] = [];
  const importance: Float64Array[] = [];
  const importanceRows: number[] = [];
  const stackingSkipped: string[] = [];
  let done = 0;
  for (let repeat = 0; repeat < settings.repeats; repeat++) {
    const fixedAssignment = settings.assignments?.[repeat];
    assignments.push(fixedAssignment ?? stratifiedFolds(y, nClasses, settings.folds, rng.fork(`repeat-${repeat}`).fork('folds')));
  }
  // Stacking needs two training members of every class for its inner folds. When an outer fold
  // lacks them, importance measures soft voting in every fold, so that the folds stay comparable.
  const stackingFeasible = ensemble.stackingFolds >= 2 && assignments.every((assignment) => minTrainingClassCount(assignment, y, nClasses, settings.folds) >= 2);
  const importanceModel: ModelName = settings.importanceModel === 'stacking' && !stackingFeasible ? 'voting' : settings.importanceModel;

  for (let repeat = 0; repeat < settings.repeats; repeat++) {
    const repeatRng = rng.fork(`repeat-${repeat}`);
    const assignment = assignments[repeat];
    for (const name of candidates) outOfFold[name]!.push(new Float64Array(n * nClasses));

    for (let fold = 0; fold < settings.folds; fold++) {
      const { train, test } = splitFold(assignment, fold);
      const yTrain = Int32Array.from(train, (i) => y[i]);
      const yTest = Int32Array.from(test, (i) => y[i]);
      const xTest = selectRows(x, test);
      const model = Ensemble.fit(selectRows(x, train), yTrain, nClasses, ensemble, repeatRng.fork(`fold-${fold}`), SVM);
      try {
        if (model.stackingSkipped) stackingSkipped.push(`repeat ${repeat + 1}, fold ${fold + 1}: ${model.stackingSkipped}`);
        const prediction = model.predict(xTest);
        for (const name of candidates) {
          const probabilities = modelProbabilities(prediction, name);
          if (!probabilities) continue;
          const target = outOfFold[name]![repeat];
          for (let r = 0; r < test.length; r++) {
            target.set(probabilities.subarray(r * nClasses, (r + 1) * nClasses), test[r] * nClasses);
          }
          foldScores[name]!.push(scorePredictions(yTest, probabilities, nClasses));
        }
        if (settings.importancePermutations > 0) {
          const importanceRng = repeatRng.fork(`importance-${fold}`);
          const rows =
            settings.importanceMaxSamples > 0 && test.length > settings.importanceMaxSamples
              ? stratifiedSubsample(yTest, nClasses, settings.importanceMaxSamples, importanceRng.fork('rows'))
              : null;
          importance.push(
            permutationImportance(
              (features) => modelProbabilities(model.predict(features), importanceModel)!,
              rows ? selectRows(xTest, rows) : xTest,
              rows ? Int32Array.from(rows, (r) => yTest[r]) : yTest,
              nClasses,
              settings.importancePermutations,
              importanceRng,
            ),
          );
          importanceRows.push(rows ? rows.length : test.length);
        }
      } finally {
        model.dispose();
      }
      progress?.update(++done, `repeat ${repeat + 1}, fold ${fold + 1}`);
    }
  }

  const models = candidates.filter((name) => name !== 'stacking' || stackingSkipped.length === 0);
  if (stackingSkipped.length > 0) {
    delete outOfFold.stacking;
    delete foldScores.stacking;
  }
  return { models, assignments, outOfFold, foldScores, importance, importanceRows, importanceModel, stackingSkipped };
}

/** Smallest number of training members of any class over the folds of one assignment. */
function minTrainingClassCount(assignment: Int32Array, y: Int32Array, nClasses: number, folds: number): number {
  const total = new Array<number>(nClasses).fill(0);
  const inFold = Array.from({ length: folds }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < y.length; i++) {
    total[y[i]]++;
    inFold[assignment[i]][y[i]]++;
  }
  let min = Infinity;
  for (let f = 0; f < folds; f++) {
    for (let k = 0; k < nClasses; k++) if (total[k] > 0) min = Math.min(min, total[k] - inFold[f][k]);
  }
  return min;
}

/**
 * Permutation importance on a test fold: for each column, the mean drop in balanced accuracy
 * when that column is shuffled across the test rows, over `permutations` shuffles.
 */
export function permutationImportance(
  predict: (x: Features) => Float64Array,
  x: Features,
  y: Int32Array,
  nClasses: number,
  permutations: number,
  rng: Rng,
): Float64Array {
  const baseline = scorePredictions(y, predict(x), nClasses).balancedAccuracy;
  const drops = new Float64Array(x.nCols);
  const shuffled = { nRows: x.nRows, nCols: x.nCols, data: Float64Array.from(x.data) };
  for (let column = 0; column < x.nCols; column++) {
    let sum = 0;
    for (let p = 0; p < permutations; p++) {
      const order = rng.permutation(x.nRows);
      for (let r = 0; r < x.nRows; r++) shuffled.data[r * x.nCols + column] = x.data[order[r] * x.nCols + column];
      sum += baseline - scorePredictions(y, predict(shuffled), nClasses).balancedAccuracy;
    }
    drops[column] = sum / permutations;
    for (let r = 0; r < x.nRows; r++) shuffled.data[r * x.nCols + column] = x.data[r * x.nCols + column];
  }
  return drops;
}

/** Predicted classes of out-of-fold probabilities. */
export function predictedClasses(probabilities: Float64Array, nClasses: number): Int32Array {
  return argmaxRows(probabilities, nClasses);
}
