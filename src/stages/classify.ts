import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AUTO_MANY_REPEATS_MAX_SAMPLES, AUTO_REPEATS_MAX_SAMPLES, type ClassifyOptions } from '../../pipeline/classify.js';
import { readLabels, readLatents } from '../cluster/inputs.js';
import { pcaClassifierBaseline, type PcaClassifierBaseline } from '../classify/baseline.js';
import { crossValidate, type CrossValidationResult } from '../classify/crossvalidate.js';
import { Ensemble, modelProbabilities, type EnsembleSettings, type EnsembleState, type ModelName } from '../classify/ensemble.js';
import { selectRows, type Features } from '../classify/features.js';
import {
  IMPORTANCE_SOURCE,
  geneScores,
  readGeneLoadings,
  readSymbols,
  summarizeDimensions,
  type DimensionImportance,
  type GeneImportance,
} from '../classify/importance.js';
import { planLabels, type LabelPlan } from '../classify/labels.js';
import { correctedPairedTest, type PairedComparison } from '../classify/paired.js';
import { argmaxRows, type LearnerName } from '../classify/learner.js';
import { reportModel, type ModelReport } from '../classify/summary.js';
import { loadLibsvm } from '../classify/svm.js';
import { buildTable, type TableColumn } from '../classify/tables.js';
import { writeTable } from '../io/arrow.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { Rng } from '../util/rng.js';

/** Files the classify stage writes besides predictions.arrow and summary.json. */
export const CLASSIFY_FILES = {
  /** The final ensemble refitted on every labelled sample, for `genevae predict`. */
  model: 'model.json',
  /** Gene-level permutation importance (the biomarker export's classifier rows). */
  importance: 'importance.arrow',
  /** Permutation importance per latent dimension. */
  latentImportance: 'latent_importance.arrow',
} as const;

/** Contents of model.json: everything `genevae predict` needs after the VAE's encoder. */
export interface ClassifierModelFile {
  format: 'genevae-classifier';
  version: 1;
  classes: string[];
  latentDim: number;
  /** The ensemble `predict` reports. */
  ensemble: 'voting' | 'stacking';
  /** Labelled samples the final model was fitted on. */
  trainedOn: number;
  model: EnsembleState;
}

/** Statement on which steps saw the test folds, for the report. */
export interface ValidationStatement {
  scheme: string;
  /** Steps fitted inside each training fold only. */
  fittedPerFold: string[];
  /** Steps fitted once on every sample, test folds included (without labels). */
  fittedOnAllSamples: string[];
  labelsUsedUpstream: false;
  /** Plain-language statement for the report. */
  statement: string;
}

/** The classify stage's summary, as the report reads it from 05-classify/summary.json. */
export interface ClassifySummary {
  status: 'done' | 'skipped';
  /** Reason classification did not run; null when it ran. */
  skipReason: string | null;
  nSamples: number;
  /** Samples that took part in classification. */
  nLabelled: number;
  /** Samples without a label (used by the VAE, not by the classifiers). */
  nUnlabelled: number;
  /** Classes left out of classification, with their size and the reason. */
  droppedClasses: { label: string; count: number; reason: string }[];
  classes: string[];
  classCounts: number[];
  latentDim: number;
  requestedFolds: number;
  folds: number;
  /** Repeats run: the requested number, or the one 'auto' chose. */
  repeats: number;
  /** Repeats requested: a number, or 'auto'. */
  repeatsRequested: number | 'auto';
  learners: LearnerName[];
  /** Every scored model: the learners, then 'voting', then 'stacking' when it trained. */
  models: ModelName[];
  classWeight: 'balanced' | 'none';
  /** Null when stacking ran in every fold; otherwise why it did not. */
  stackingSkipped: string | null;
  /** The ensemble `genevae predict` uses. */
  ensemble: 'voting' | 'stacking';
  /** Chance level of balanced accuracy: 1 / number of classes; null when skipped. */
  chanceBalancedAccuracy: number | null;
  /** Cross-validated results per model. */
  results: Partial<Record<ModelName, ModelReport>>;
  /** The base learner with the highest mean balanced accuracy over test folds. */
  bestLearner: LearnerName | null;
  /** Whether each ensemble's mean balanced accuracy is at least the best learner's. */
  ensembleAtLeastBest: Partial<Record<'voting' | 'stacking', boolean>>;
  /** Each ensemble's balanced accuracy against the best learner's on the same folds (corrected resampled t-test). */
  ensembleComparison: Partial<Record<'voting' | 'stacking', PairedComparison & { reference: LearnerName }>>;
  validation: ValidationStatement | null;
  importance: {
    /** The model whose balanced accuracy was measured. */
    model: ModelName;
    permutations: number;
    metric: 'balanced accuracy drop';
    dimensions: DimensionImportance[];
    /** Highest-scoring genes (at most 50); importance.arrow contains them all. */
    topGenes: GeneImportance[];
    /** Reason genes are missing (no loadings, no helpful dimension), or null. */
    genesMissingReason: string | null;
  } | null;
  /** Caps that keep large cohorts affordable, and which of them applied. */
  scaling: {
    /** Largest SVM training set (0: no cap). */
    svmMaxSamples: number;
    /** Rows the final model's SVM trained on; null without an SVM. */
    svmFinalTrainedOn: number | null;
    /** Largest number of test rows permutation importance scores per fold (0: no cap). */
    importanceMaxSamples: number;
    /** Minimum and maximum test rows importance scored in one fold; null when importance was skipped. */
    importanceRows: { min: number; max: number } | null;
    /** One sentence per cap or reduction that changed the computation; empty when none did. */
    notes: string[];
  };
  /** Scores of the same logistic regression on the latents and on principal components; null when not compared. */
  pcaBaseline: PcaClassifierBaseline | null;
  /** Reason the PCA comparison is missing, or null. */
  pcaBaselineSkipped: string | null;
  /** Seconds spent in cross-validation and in the final refit. */
  timings: { crossValidation: number; finalFit: number };
}

/** Repeats to run: the requested number, or what 'auto' gives for this many labelled samples (see ClassifyOptions.repeats). */
export function resolveRepeats(requested: number | 'auto', nLabelled: number): number {
  if (requested !== 'auto') return requested;
  if (nLabelled <= AUTO_MANY_REPEATS_MAX_SAMPLES) return 10;
  return nLabelled <= AUTO_REPEATS_MAX_SAMPLES ? 3 : 1;
}

/**
 * Predicts the labels from the latents with base learners (multinomial logistic regression,
 * random forest, k-nearest neighbours, RBF SVM), soft voting and stacking. Repeated stratified
 * k-fold cross-validation scores them, and the ensemble is then refitted on every labelled
 * sample for `genevae predict`.
 *
 * Reads 03-train/latent.arrow (sample_id, z), the labels of 01-ingest/obs.arrow (column
 * `label`, null for unlabelled samples), and when present 03-train/gene_loadings.arrow
 * (gene_id, loading) and 02-normalize/var.arrow (gene_id, symbol).
 *
 * Writes into 05-classify/:
 * - predictions.arrow: sample_id, label, repeat, fold, then per model M (learners, `voting`,
 *   `stacking`) `M_label` (utf8) and `M_proba` (FixedSizeList<Float32>[classes], in the order of
 *   schema metadata `genevae.classes`, a JSON array). Cross-validation rows have repeat >= 0 and
 *   the sample's test fold; samples outside classification (unlabelled or of a left-out class)
 *   get one row with repeat = fold = -1 and the final model's predictions.
 * - latent_importance.arrow: dimension, importance_mean, importance_sd (balanced-accuracy drop
 *   over test folds).
 * - importance.arrow: gene_id, symbol, score, rank, source = 'classifier-permutation'.
 * - model.json: the final ensemble (ClassifierModelFile).
 * Without a label column, or with fewer than two usable classes, it writes only the summary,
 * whose skipReason says why.
 */
export async function runClassify(ctx: StageContext, options: ClassifyOptions): Promise<StageResult> {
  const latentPath = ctx.inputPath('train', FILES.latent);
  const latents = readLatents(latentPath);
  const obsPath = ctx.inputPath('ingest', FILES.obs);
  const labels = readLabels(obsPath, latents.sampleIds);
  const n = latents.z.nRows;
  const d = latents.z.nCols;
  const warnings: string[] = [];

  const base = {
    nSamples: n,
    latentDim: d,
    requestedFolds: options.folds,
    repeats: resolveRepeats(options.repeats, n),
    repeatsRequested: options.repeats,
    learners: options.learners,
    classWeight: options.classWeight,
    ensemble: options.ensemble,
  };
  if (!labels) {
    return skipped(base, n, 0, [], `${obsPath} has no 'label' column; pass --label-column or --metadata to ingest`, warnings);
  }

  const plan = planLabels(labels, options.folds, options.smallClasses);
  warnings.push(...plan.warnings);
  if (plan.unlabelled > 0) {
    warnings.push(`${plan.unlabelled} of ${n} samples have no label: the VAE used them, the classifiers did not`);
  }
  if (plan.skipReason) return skipped(base, n - plan.unlabelled, plan.unlabelled, plan.dropped, plan.skipReason, warnings);
  const repeats = resolveRepeats(options.repeats, plan.rows.length);
  base.repeats = repeats;

  const x: Features = { nRows: n, nCols: d, data: Float64Array.from(latents.z.data) };
  const xLabelled = selectRows(x, plan.rows);
  const nClasses = plan.classes.length;
  const settings: EnsembleSettings = {
    learners: options.learners,
    classWeight: options.classWeight,
    logisticC: options.logisticC,
    forestTrees: options.forestTrees,
    forestMaxFeatures: options.forestMaxFeatures,
    forestMaxDepth: options.forestMaxDepth,
    knnNeighbors: options.knnNeighbors,
    svmC: options.svmC,
    svmGamma: options.svmGamma,
    svmMaxSamples: options.svmMaxSamples,
    stackingFolds: options.stackingFolds,
    stackingMeta: options.stackingMeta,
    stackingC: options.stackingC,
  };
  const SVM = options.learners.includes('svm') ? await loadLibsvm() : null;
  const rng = new Rng(ctx.seed).fork('classify');

  ctx.log.info(
    `${repeats} x ${plan.folds}-fold cross-validation of ${options.learners.join(', ')}, voting` +
      `${options.stackingFolds >= 2 ? ' and stacking' : ''} on ${plan.rows.length} samples, ${nClasses} classes, ${d} latent dimensions`,
  );
  const started = performance.now();
  const progress = ctx.log.progress('cross-validation folds', repeats * plan.folds);
  const cv = crossValidate(
    xLabelled,
    plan.y,
    nClasses,
    settings,
    {
      folds: plan.folds,
      repeats,
      importancePermutations: options.importancePermutations,
      importanceModel: options.ensemble,
      importanceMaxSamples: options.importanceMaxSamples,
    },
    rng.fork('cross-validation'),
    SVM,
    progress,
  );
  progress.finish();
  const crossValidationSeconds = (performance.now() - started) / 1000;
  const stackingSkipped = cv.stackingSkipped.length > 0 ? cv.stackingSkipped[0] : null;
  if (stackingSkipped && options.stackingFolds >= 2) {
    warnings.push(`stacking was left out of the results because in ${cv.stackingSkipped.length} fold(s) ${stackingSkipped}`);
  }

  const baseline = comparePca(ctx, options, latents.sampleIds, d, plan, settings, cv, rng.fork('pca-baseline'), warnings);

  const results: Partial<Record<ModelName, ModelReport>> = {};
  for (const name of cv.models) results[name] = reportModel(name, cv, plan.y, plan.classes, options.calibrationBins);

  // Final model on every labelled sample, for `genevae predict` and for samples outside CV.
  const fitStarted = performance.now();
  const final = Ensemble.fit(xLabelled, plan.y, nClasses, settings, rng.fork('final'), SVM);
  const finalSeconds = (performance.now() - fitStarted) / 1000;
  const ensemble = options.ensemble === 'stacking' && final.stackingSkipped ? 'voting' : options.ensemble;
  if (ensemble !== options.ensemble) {
    warnings.push(`the final model uses soft voting because stacking could not be trained: ${final.stackingSkipped}`);
  }
  const modelFile: ClassifierModelFile = {
    format: 'genevae-classifier',
    version: 1,
    classes: plan.classes,
    latentDim: d,
    ensemble,
    trainedOn: plan.rows.length,
    model: final.toJSON(),
  };
  // Compact JSON: indentation tripled the file (280 MB against 92 MB at 50,000 samples, mostly forest nodes).
  writeFileAtomic(join(ctx.outputDir, CLASSIFY_FILES.model), JSON.stringify(modelFile) + '\n');

  writePredictions(ctx, latents.sampleIds, labels, x, plan, cv, final);
  final.dispose();

  const importance = writeImportance(ctx, cv.importance, d, options, cv.importanceModel, warnings);

  const learnerMeans = options.learners.map((name) => results[name]!.folds.balancedAccuracy.mean);
  const bestIndex = learnerMeans.indexOf(Math.max(...learnerMeans));
  const bestLearner = options.learners[bestIndex] ?? null;
  const ensembleAtLeastBest: ClassifySummary['ensembleAtLeastBest'] = {};
  const ensembleComparison: ClassifySummary['ensembleComparison'] = {};
  const balancedAccuracies = (name: ModelName) => cv.foldScores[name]!.map((scores) => scores.balancedAccuracy);
  for (const name of ['voting', 'stacking'] as const) {
    const report = results[name];
    if (!report || !bestLearner) continue;
    ensembleAtLeastBest[name] = report.folds.balancedAccuracy.mean >= learnerMeans[bestIndex] - 1e-12;
    ensembleComparison[name] = { reference: bestLearner, ...correctedPairedTest(balancedAccuracies(name), balancedAccuracies(bestLearner), plan.folds) };
  }

  const summary: ClassifySummary = {
    status: 'done',
    skipReason: null,
    ...base,
    nLabelled: plan.rows.length,
    nUnlabelled: plan.unlabelled,
    droppedClasses: plan.dropped,
    classes: plan.classes,
    classCounts: plan.classCounts,
    folds: plan.folds,
    models: cv.models,
    stackingSkipped,
    ensemble,
    chanceBalancedAccuracy: 1 / nClasses,
    results,
    bestLearner,
    ensembleAtLeastBest,
    ensembleComparison,
    validation: validationStatement(n, plan.folds, repeats),
    importance,
    scaling: scalingNotes(options, plan, repeats, cv, modelFile),
    pcaBaseline: baseline.result,
    pcaBaselineSkipped: baseline.skipped,
    timings: { crossValidation: crossValidationSeconds, finalFit: finalSeconds },
  };
  ctx.log.info(
    `balanced accuracy (mean over test folds): ` +
      cv.models.map((name) => `${name} ${results[name]!.folds.balancedAccuracy.mean.toFixed(3)}`).join(', '),
  );
  return { summary: summary as unknown as Record<string, unknown>, warnings };
}

/** Copies the first `k` columns of `x` at `rows` into classifier features. */
function leadingColumns(x: DenseMatrix, k: number, rows: Int32Array): Features {
  const data = new Float64Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) {
    for (let c = 0; c < k; c++) data[i * k + c] = x.data[rows[i] * x.nCols + c];
  }
  return { nRows: rows.length, nCols: k, data };
}

/** Balanced accuracy the latents may lose against the principal components before the stage warns. */
const PCA_BASELINE_WARNING_MARGIN = 0.05;

/**
 * Runs the PCA classifier baseline when requested and possible, else returns the reason it
 * did not run. The cluster stage writes pca.arrow with latent.arrow's samples in its order.
 *
 * The baseline reads as many leading components as the latents have dimensions, so both
 * feature sets have the same size. With all of them, up to n - 1 components of n samples, the
 * standardized scores would whiten the data: every sample equally far from every other, which
 * leaves a linear classifier no signal at all.
 */
function comparePca(
  ctx: StageContext,
  options: ClassifyOptions,
  sampleIds: readonly string[],
  latentDim: number,
  plan: LabelPlan,
  settings: EnsembleSettings,
  cv: CrossValidationResult,
  rng: Rng,
  warnings: string[],
): { result: PcaClassifierBaseline | null; skipped: string | null } {
  if (!options.pcaBaseline) return { result: null, skipped: 'turned off (--no-classify-pca-baseline)' };
  if (!options.learners.includes('logistic')) return { result: null, skipped: 'the logistic regression is not among the learners' };
  const path = ctx.inputPath('cluster', FILES.pca);
  if (!existsSync(path)) {
    return {
      result: null,
      skipped:
        `${path} not found: the cluster stage ran without a PCA baseline, or before genevae wrote pca.arrow ` +
        `(run 'genevae cluster <run-dir> --force' and then 'genevae classify <run-dir>' to add it)`,
    };
  }
  const pca = readLatents(path);
  if (pca.sampleIds.length !== sampleIds.length || pca.sampleIds.some((id, i) => id !== sampleIds[i])) {
    return { result: null, skipped: `the samples of ${path} differ from the latents'; rerun the cluster stage` };
  }
  const features = leadingColumns(pca.z, Math.min(latentDim, pca.z.nCols), plan.rows);
  const result = pcaClassifierBaseline(features, plan.y, plan.classes.length, settings, cv, rng);
  ctx.log.info(
    `logistic regression, balanced accuracy: latents ${result.latent.balancedAccuracy.mean.toFixed(3)}, ` +
      `${result.nComponents} principal components ${result.pca.balancedAccuracy.mean.toFixed(3)}`,
  );
  if (result.difference < -PCA_BASELINE_WARNING_MARGIN) {
    warnings.push(
      `the latents predict the labels less well than ${result.nComponents} principal components of the genes ` +
        `(logistic regression, balanced accuracy ${result.latent.balancedAccuracy.mean.toFixed(3)} against ` +
        `${result.pca.balancedAccuracy.mean.toFixed(3)} on the same folds; corrected t-test p = ${result.test.pValue.toFixed(3)}, ` +
        `${result.test.verdict === 'worse' ? 'significant' : 'not significant'} at the ${result.test.alpha} level)`,
    );
  }
  return { result, skipped: null };
}

function skipped(
  base: Pick<ClassifySummary, 'nSamples' | 'latentDim' | 'requestedFolds' | 'repeats' | 'repeatsRequested' | 'learners' | 'classWeight' | 'ensemble'>,
  nLabelled: number,
  nUnlabelled: number,
  droppedClasses: ClassifySummary['droppedClasses'],
  reason: string,
  warnings: string[],
): StageResult {
  const summary: ClassifySummary = {
    status: 'skipped',
    skipReason: reason,
    ...base,
    nLabelled,
    nUnlabelled,
    droppedClasses,
    classes: [],
    classCounts: [],
    folds: 0,
    models: [],
    stackingSkipped: null,
    chanceBalancedAccuracy: null,
    results: {},
    bestLearner: null,
    ensembleAtLeastBest: {},
    ensembleComparison: {},
    validation: null,
    importance: null,
    scaling: { svmMaxSamples: 0, svmFinalTrainedOn: null, importanceMaxSamples: 0, importanceRows: null, notes: [] },
    pcaBaseline: null,
    pcaBaselineSkipped: reason,
    timings: { crossValidation: 0, finalFit: 0 },
  };
  return { summary: summary as unknown as Record<string, unknown>, warnings: [...warnings, `classification skipped: ${reason}`] };
}

/** States every cap or reduction that changed what cross-validation computed, for the summary and the report. */
function scalingNotes(
  options: ClassifyOptions,
  plan: LabelPlan,
  repeats: number,
  cv: CrossValidationResult,
  modelFile: ClassifierModelFile,
): ClassifySummary['scaling'] {
  const notes: string[] = [];
  const nLabelled = plan.rows.length;
  const foldSize = Math.round(nLabelled / plan.folds);
  if (options.repeats === 'auto' && repeats < 3) {
    notes.push(
      `Cross-validation ran ${repeats === 1 ? 'once' : `${repeats} times`} instead of 3 times because more than ` +
        `${AUTO_REPEATS_MAX_SAMPLES.toLocaleString('en-US')} samples are labelled: each test fold contains about ` +
        `${foldSize.toLocaleString('en-US')} samples, so the spread over folds is already measured on large folds. ` +
        'Set --classify-repeats to repeat it.',
    );
  }

  const svm = modelFile.model.learners.find((learner) => learner.name === 'svm');
  const svmFinalTrainedOn = svm && svm.state.kind === 'svm' ? svm.state.trainedOn : null;
  const trainingRows = nLabelled - foldSize;
  if (svm && options.svmMaxSamples > 0 && nLabelled > options.svmMaxSamples) {
    notes.push(
      `The RBF SVM trained on a stratified, seeded subsample of about ${options.svmMaxSamples.toLocaleString('en-US')} rows ` +
        `in every fit with more training rows (about ${trainingRows.toLocaleString('en-US')} per cross-validation fold, ` +
        `${nLabelled.toLocaleString('en-US')} for the final model), because kernel SVM training grows at least quadratically ` +
        'with the rows. The other learners saw every training row. Set --svm-max-samples 0 to train on all rows.',
    );
  }

  const rows = cv.importanceRows;
  const importanceRows = rows.length > 0 ? { min: Math.min(...rows), max: Math.max(...rows) } : null;
  if (importanceRows && options.importanceMaxSamples > 0 && foldSize > options.importanceMaxSamples) {
    notes.push(
      `Permutation importance scored a stratified, seeded subsample of ${importanceRows.min.toLocaleString('en-US')}` +
        `${importanceRows.max !== importanceRows.min ? `–${importanceRows.max.toLocaleString('en-US')}` : ''} rows of each test fold ` +
        `(of about ${foldSize.toLocaleString('en-US')}), as scikit-learn's permutation_importance does with max_samples. ` +
        'Set --importance-max-samples 0 to score every row.',
    );
  }

  return {
    svmMaxSamples: options.svmMaxSamples,
    svmFinalTrainedOn,
    importanceMaxSamples: options.importanceMaxSamples,
    importanceRows,
    notes,
  };
}

function validationStatement(nSamples: number, folds: number, repeats: number): ValidationStatement {
  return {
    scheme:
      repeats === 1
        ? `stratified ${folds}-fold cross-validation, run once`
        : `stratified ${folds}-fold cross-validation, repeated ${repeats} times with different shuffles`,
    fittedPerFold: [
      'feature standardization',
      'base learners',
      'stacking meta-learner (on out-of-fold probabilities of an inner cross-validation)',
    ],
    fittedOnAllSamples: ['normalization statistics', 'highly variable gene selection', 'VAE'],
    labelsUsedUpstream: false,
    statement:
      `Normalization, gene selection and the VAE were fitted once on all ${nSamples} samples, test folds included, ` +
      'without looking at the labels. The classifiers, their feature scaling and the stacking meta-learner saw only ' +
      'the training folds. The scores are therefore transductive: they measure how well the labels can be predicted ' +
      'for samples that took part in building the latent space. They are optimistic for new patients only insofar as ' +
      "the test samples' expression shaped that space; `genevae predict` on an independent cohort measures that case.",
  };
}

function writePredictions(
  ctx: StageContext,
  sampleIds: string[],
  labels: (string | null)[],
  x: Features,
  plan: LabelPlan,
  cv: CrossValidationResult,
  final: Ensemble,
): void {
  const nClasses = plan.classes.length;
  const inPlan = new Set(plan.rows);
  const outside = Int32Array.from(sampleIds.map((_, i) => i).filter((i) => !inPlan.has(i)));
  const finalPrediction = outside.length > 0 ? final.predict(selectRows(x, outside)) : null;

  const nCv = plan.rows.length * cv.assignments.length;
  const nRows = nCv + outside.length;
  const ids: string[] = [];
  const truth: (string | null)[] = [];
  const repeat = new Int32Array(nRows);
  const fold = new Int32Array(nRows);
  cv.assignments.forEach((assignment, r) => {
    plan.rows.forEach((row, i) => {
      ids.push(sampleIds[row]);
      truth.push(labels[row]);
      repeat[r * plan.rows.length + i] = r;
      fold[r * plan.rows.length + i] = assignment[i];
    });
  });
  outside.forEach((row, i) => {
    ids.push(sampleIds[row]);
    truth.push(labels[row]);
    repeat[nCv + i] = -1;
    fold[nCv + i] = -1;
  });

  const columns: TableColumn[] = [
    { name: 'sample_id', kind: 'utf8', values: ids },
    { name: 'label', kind: 'utf8', values: truth },
    { name: 'repeat', kind: 'int32', values: repeat },
    { name: 'fold', kind: 'int32', values: fold },
  ];
  for (const name of cv.models) {
    const probabilities = new Float32Array(nRows * nClasses);
    cv.outOfFold[name]!.forEach((p, r) => probabilities.set(p, r * plan.rows.length * nClasses));
    if (finalPrediction) {
      const p = modelProbabilities(finalPrediction, name);
      if (p) probabilities.set(p, nCv * nClasses);
    }
    const predicted = argmaxRows(Float64Array.from(probabilities), nClasses);
    columns.push({ name: `${name}_label`, kind: 'utf8', values: Array.from(predicted, (k) => plan.classes[k]) });
    columns.push({ name: `${name}_proba`, kind: 'list', width: nClasses, values: probabilities });
  }
  writeTable(
    join(ctx.outputDir, FILES.predictions),
    buildTable(columns, { 'genevae.classes': JSON.stringify(plan.classes), 'genevae.models': JSON.stringify(cv.models) }),
  );
}

function writeImportance(
  ctx: StageContext,
  perFold: Float64Array[],
  d: number,
  options: ClassifyOptions,
  model: ModelName,
  warnings: string[],
): ClassifySummary['importance'] {
  if (options.importancePermutations <= 0 || perFold.length === 0) return null;
  const dimensions = summarizeDimensions(perFold, d);
  writeTable(
    join(ctx.outputDir, CLASSIFY_FILES.latentImportance),
    buildTable([
      { name: 'dimension', kind: 'int32', values: Int32Array.from(dimensions, (dim) => dim.dimension) },
      { name: 'importance_mean', kind: 'float64', values: Float64Array.from(dimensions, (dim) => dim.mean) },
      { name: 'importance_sd', kind: 'float64', values: Float64Array.from(dimensions, (dim) => dim.sd) },
    ]),
  );

  let genes: GeneImportance[] = [];
  let genesMissingReason: string | null = null;
  const loadingsPath = ctx.inputPath('train', 'gene_loadings.arrow');
  const loadings = readGeneLoadings(loadingsPath);
  if (!loadings) {
    genesMissingReason = `${loadingsPath} not found, so latent importance could not be mapped to genes`;
  } else if (loadings.loadings.nCols !== d) {
    genesMissingReason = `gene loadings have ${loadings.loadings.nCols} dimensions but the latents have ${d}`;
  } else {
    const symbols = readSymbols(ctx.inputPath('normalize', FILES.var));
    genes = geneScores(dimensions, loadings.geneIds, loadings.loadings, symbols);
    if (genes.length === 0) genesMissingReason = 'no latent dimension lowered balanced accuracy when shuffled';
  }
  if (genesMissingReason) warnings.push(`no gene importance: ${genesMissingReason}`);
  writeTable(
    join(ctx.outputDir, CLASSIFY_FILES.importance),
    buildTable([
      { name: 'gene_id', kind: 'utf8', values: genes.map((g) => g.gene_id) },
      { name: 'symbol', kind: 'utf8', values: genes.map((g) => g.symbol) },
      { name: 'score', kind: 'float64', values: Float64Array.from(genes, (g) => g.score) },
      { name: 'rank', kind: 'int32', values: Int32Array.from(genes, (_, i) => i + 1) },
      { name: 'source', kind: 'utf8', values: genes.map(() => IMPORTANCE_SOURCE) },
    ]),
  );
  return {
    model,
    permutations: options.importancePermutations,
    metric: 'balanced accuracy drop',
    dimensions,
    topGenes: genes.slice(0, 50),
    genesMissingReason,
  };
}
