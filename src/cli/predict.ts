import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TRAIN_DEFAULTS } from '../../pipeline/train.js';
import { Ensemble, modelProbabilities } from '../classify/ensemble.js';
import { evaluateHoldout, type HoldoutEvaluation } from '../classify/holdout.js';
import { argmaxRows } from '../classify/learner.js';
import { loadLibsvm } from '../classify/svm.js';
import { buildTable } from '../classify/tables.js';
import { writeTable } from '../io/arrow.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { BackendChoice } from '../model/backend.js';
import { countSeen, encodeCohort, type GeneAlignment } from '../model/encode.js';
import { readStageSummary } from '../run/runner.js';
import { STAGE_DIRS } from '../run/layout.js';
import { CLASSIFY_FILES, type ClassifierModelFile } from '../stages/classify.js';
import { InputError } from '../util/errors.js';
import { Logger } from '../util/log.js';
import { addIngestOptions, addLikeModelOption, newCohortIngestOptions, withRunLayoutHint } from './ingest.js';
import { parseChoice } from './parse.js';

/** Predicted classes of a new cohort. */
export interface CohortPrediction {
  sampleIds: string[];
  classes: string[];
  /** The ensemble that produced the probabilities ('voting' or 'stacking'). */
  ensemble: 'voting' | 'stacking';
  predicted: string[];
  /** Row-major samples x classes. */
  probabilities: Float64Array;
  alignment: GeneAlignment;
  warnings: string[];
  /** Known labels of the new samples (from --label-column or --metadata), else null. */
  labels: (string | null)[] | null;
  /** Scores against those labels, else null. */
  evaluation: HoldoutEvaluation | null;
  /** Per sample, whether its values equal those of a sample the model's run trained on; null when unknown. */
  seenInTraining: boolean[] | null;
}

/** Reads the classifier saved by a run's classify stage, explaining why when there is none. */
export function readClassifierModel(runDir: string): ClassifierModelFile {
  const path = join(runDir, STAGE_DIRS.classify, CLASSIFY_FILES.model);
  if (existsSync(path)) {
    const model = JSON.parse(readFileSync(path, 'utf8')) as ClassifierModelFile;
    if (model.format !== 'genevae-classifier' || model.version !== 1) {
      throw new InputError(`not a genevae classifier (format ${model.format}, version ${model.version})`, { file: path });
    }
    return model;
  }
  const summary = readStageSummary(runDir, 'classify')?.summary as { skipReason?: string | null } | undefined;
  if (summary?.skipReason) {
    throw new InputError(`the run has no classifier because classification was skipped: ${summary.skipReason}`, { file: runDir });
  }
  throw new InputError(`no classifier found (${path} is missing)`, { file: runDir }, `run 'genevae classify ${runDir}' first`);
}

/**
 * Predicts labels for a new cohort: embeds it with the run's normalization and VAE
 * (`encodeCohort`), then applies the ensemble that the classify stage refitted on every
 * labelled sample of the run.
 */
export async function predictCohort(
  runDir: string,
  input: string,
  ingestOptions: Parameters<typeof encodeCohort>[2],
  { backend = 'auto' as BackendChoice, log = new Logger('predict') } = {},
): Promise<CohortPrediction> {
  const saved = readClassifierModel(runDir);
  const encoded = await encodeCohort(runDir, input, ingestOptions, { backend, log });
  if (encoded.latent.nCols !== saved.latentDim) {
    throw new InputError(
      `the classifier expects ${saved.latentDim} latent dimensions but the model encodes ${encoded.latent.nCols}`,
      { file: runDir },
      'rerun the classify stage after retraining',
    );
  }
  const usesSvm = saved.model.learners.some((learner) => learner.name === 'svm');
  const ensemble = Ensemble.fromJSON(saved.model, usesSvm ? await loadLibsvm() : null);
  try {
    const x = { nRows: encoded.latent.nRows, nCols: encoded.latent.nCols, data: Float64Array.from(encoded.latent.data) };
    const probabilities = modelProbabilities(ensemble.predict(x), saved.ensemble);
    if (!probabilities) throw new Error(`the saved classifier has no ${saved.ensemble} ensemble`);
    const predicted = Array.from(argmaxRows(probabilities, saved.classes.length), (k) => saved.classes[k]);
    return {
      sampleIds: encoded.sampleIds,
      classes: saved.classes,
      ensemble: saved.ensemble,
      predicted,
      probabilities,
      alignment: encoded.alignment,
      warnings: encoded.warnings,
      labels: encoded.labels,
      evaluation: encoded.labels ? evaluateHoldout(encoded.labels, saved.classes, probabilities) : null,
      seenInTraining: encoded.seenInTraining,
    };
  } finally {
    ensemble.dispose();
  }
}

/** Returns the seen-in-training flags as 1/0 when any sample was seen in training, else null (the column is then left out). */
function seenColumn(prediction: CohortPrediction): Int32Array | null {
  const seen = prediction.seenInTraining;
  return seen && seen.some(Boolean) ? Int32Array.from(seen, (flag) => (flag ? 1 : 0)) : null;
}

/**
 * Tab-separated sample_id, predicted_label and one probability column per class (p_<class>),
 * plus the known label (true_label, empty where missing) when the cohort came with labels, and
 * seen_in_training (1 or 0) when some samples equal samples the model was trained on.
 */
export function predictionTsv(prediction: CohortPrediction): string {
  const { classes, probabilities, labels } = prediction;
  const seen = seenColumn(prediction);
  const known = labels ? ['true_label'] : [];
  const flag = seen ? ['seen_in_training'] : [];
  const lines = [['sample_id', 'predicted_label', ...known, ...flag, ...classes.map((label) => `p_${label}`)].join('\t')];
  prediction.sampleIds.forEach((id, i) => {
    const row = Array.from(probabilities.subarray(i * classes.length, (i + 1) * classes.length), (p) => p.toPrecision(6));
    lines.push([id, prediction.predicted[i], ...(labels ? [labels[i] ?? ''] : []), ...(seen ? [String(seen[i])] : []), ...row].join('\t'));
  });
  return lines.join('\n') + '\n';
}

function writePrediction(path: string, prediction: CohortPrediction): void {
  const seen = seenColumn(prediction);
  if (extname(path).toLowerCase() !== '.arrow') {
    writeFileAtomic(path, predictionTsv(prediction));
    return;
  }
  writeTable(
    path,
    buildTable(
      [
        { name: 'sample_id', kind: 'utf8', values: prediction.sampleIds },
        { name: 'predicted_label', kind: 'utf8', values: prediction.predicted },
        ...(prediction.labels ? [{ name: 'true_label', kind: 'utf8' as const, values: prediction.labels }] : []),
        ...(seen ? [{ name: 'seen_in_training', kind: 'int32' as const, values: seen }] : []),
        { name: 'probabilities', kind: 'list', width: prediction.classes.length, values: Float32Array.from(prediction.probabilities) },
      ],
      { 'genevae.classes': JSON.stringify(prediction.classes), 'genevae.ensemble': prediction.ensemble },
    ),
  );
}

const PREVIEW = 10;

function preview(genes: string[]): string {
  return genes.slice(0, PREVIEW).join(', ') + (genes.length > PREVIEW ? `, … (${genes.length - PREVIEW} more)` : '');
}

/** Logs how the prediction compares with the labels the new cohort came with. */
function reportEvaluation(evaluation: HoldoutEvaluation, reference: CrossValidatedReference | null, log: Logger): void {
  const unknown = Object.entries(evaluation.unknownLabels);
  if (unknown.length > 0) {
    log.warn(
      `${unknown.reduce((sum, [, count]) => sum + count, 0)} samples carry labels the classifier was not trained on and are not scored: ` +
        unknown.map(([label, count]) => `${label} (${count})`).join(', '),
    );
  }
  if (evaluation.unlabelled > 0) log.info(`${evaluation.unlabelled} samples have no label and are not scored`);
  const { scores } = evaluation;
  if (!scores) {
    log.warn(`no sample has one of the classifier's labels (${evaluation.classes.join(', ')}), so the predictions cannot be scored`);
    return;
  }
  log.info(
    `against the known labels of ${evaluation.scored} samples: balanced accuracy ${scores.balancedAccuracy.toFixed(3)}, ` +
      `accuracy ${scores.accuracy.toFixed(3)}, macro-F1 ${scores.macroF1.toFixed(3)}, ` +
      `AUROC (one-vs-rest, macro) ${Number.isNaN(scores.aurocMacro) ? 'n/a' : scores.aurocMacro.toFixed(3)}, ` +
      `Brier score (summed over classes, 0 to 2) ${scores.brier.toFixed(3)}`,
  );
  const recalls = evaluation.perClass.filter((c) => c.support > 0).map((c) => `${c.label} ${(100 * c.recall).toFixed(0)}% of ${c.support}`);
  log.info(`recall per class: ${recalls.join(', ')}`);
  if (reference) {
    log.info(
      `for comparison, the run's cross-validated balanced accuracy of ${reference.ensemble} was ${reference.balancedAccuracy.mean.toFixed(3)} ` +
        `± ${reference.balancedAccuracy.sd.toFixed(3)}; a cohort from another site or batch often scores lower`,
    );
  }
}

/** The run's cross-validated balanced accuracy of the ensemble predict used, for context beside the new cohort's score. */
export interface CrossValidatedReference {
  ensemble: 'voting' | 'stacking';
  balancedAccuracy: { mean: number; sd: number };
}

/** Reads the cross-validated balanced accuracy of `ensemble` from the run's classify summary, or null when it is not recorded. */
export function crossValidatedReference(runDir: string, ensemble: 'voting' | 'stacking'): CrossValidatedReference | null {
  const summary = readStageSummary(runDir, 'classify')?.summary as
    | { results?: Partial<Record<string, { folds?: { balancedAccuracy?: { mean: number; sd: number } } }>> }
    | undefined;
  const balancedAccuracy = summary?.results?.[ensemble]?.folds?.balancedAccuracy;
  return balancedAccuracy ? { ensemble, balancedAccuracy } : null;
}

/** Adds `genevae predict --model <run-dir> <input>`. */
export function registerPredict(program: Command): void {
  addLikeModelOption(addIngestOptions(
    program
      .command('predict')
      .argument('<input>', 'matrix of the new cohort: CSV, TSV (optionally gzipped), Arrow/Feather, a Cell Ranger matrix directory or a GEO MINiML series, read as ingest reads')
      .description(
        "predict labels of a new cohort with a run's normalization, VAE and final classifier ensemble; " +
          'when --label-column or --metadata gives the cohort known labels, the predictions are also scored against them',
      )
      .requiredOption('--model <run-dir>', 'run directory whose train and classify stages have completed')
      .option(
        '--out <file>',
        'output: .arrow for an Arrow table (sample_id, predicted_label, true_label when known, probabilities), anything else for ' +
          'tab-separated text; gene alignment goes to <file>.genes.json and scores against known labels to <file>.scores.json ' +
          '(default: TSV on stdout)',
      )
      .option(
        '--backend <name>',
        `TensorFlow.js backend for the encoder: auto, wasm, cpu or tensorflow (default: ${TRAIN_DEFAULTS.backend})`,
        parseChoice(['auto', 'wasm', 'cpu', 'tensorflow'] as const),
      ),
  )).action(async (input: string, parsed: Record<string, unknown>) => {
    const log = new Logger('predict');
    const runDir = resolve(parsed.model as string);
    const ingestOptions = newCohortIngestOptions(runDir, parsed, resolve(input));
    const prediction = await withRunLayoutHint(runDir, resolve(input), ingestOptions, log, () =>
      predictCohort(runDir, resolve(input), ingestOptions, { backend: (parsed.backend as BackendChoice | undefined) ?? TRAIN_DEFAULTS.backend, log }),
    );
    const { alignment } = prediction;
    log.info(`${alignment.matched} of the model's ${alignment.modelGenes} genes matched by id; ${prediction.sampleIds.length} samples predicted by ${prediction.ensemble}`);
    if (alignment.missing.length > 0) log.info(`${alignment.missing.length} model genes missing, set to the training mean: ${preview(alignment.missing)}`);
    if (alignment.extra.length > 0) log.info(`${alignment.extra.length} genes of the new cohort not in the model, ignored: ${preview(alignment.extra)}`);
    for (const warning of prediction.warnings) log.warn(warning);
    const counts = new Map<string, number>();
    for (const label of prediction.predicted) counts.set(label, (counts.get(label) ?? 0) + 1);
    log.info(`predicted labels: ${[...counts].map(([label, count]) => `${label} ${count}`).join(', ')}`);
    const reference = crossValidatedReference(runDir, prediction.ensemble);
    if (prediction.evaluation) reportEvaluation(prediction.evaluation, reference, log);

    const out = parsed.out as string | undefined;
    if (out) {
      writePrediction(resolve(out), prediction);
      writeJsonAtomic(`${resolve(out)}.genes.json`, alignment);
      if (prediction.evaluation) {
        writeJsonAtomic(`${resolve(out)}.scores.json`, {
          model: runDir,
          ensemble: prediction.ensemble,
          crossValidated: reference,
          samplesSeenInTraining: countSeen(prediction.seenInTraining),
          ...prediction.evaluation,
        });
      }
      const scores = prediction.evaluation ? `; scores against the known labels to ${resolve(out)}.scores.json` : '';
      log.info(`predictions written to ${resolve(out)}; gene alignment to ${resolve(out)}.genes.json${scores}`);
    } else {
      process.stdout.write(predictionTsv(prediction));
    }
  });
}
