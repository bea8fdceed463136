import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { TrainOptions } from '../../pipeline/train.js';
import { denseToTable, frameToTable, readFrame, readTable, tableToCsr, writeFrame, writeTable } from '../io/arrow.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { initBackend, type BackendInfo } from '../model/backend.js';
import { isCountLikelihood, type Likelihood, type VaeConfig } from '../model/config.js';
import { countStatistics, type TrainingData } from '../model/data.js';
import { selectDenseColumns, topDispersionColumns } from '../model/gene-subset.js';
import { readDenseColumn } from '../model/input.js';
import { geneLoadings } from '../model/loadings.js';
import { drawProjection, initParameters, type ParameterSet } from '../model/parameters.js';
import { saveModel, type SavedNormalization } from '../model/saved.js';
import { evaluateLosses, localEngine, stepsPerEpoch, train, type EpochRecord, type GradientEngine, type TrainingProgress } from '../model/trainer.js';
import { WorkerPool } from '../model/worker-pool.js';
import { VaeModel } from '../model/vae.js';
import { epsilonFor, noiseMultiplierFor } from '../privacy/accountant.js';
import { datasetFingerprint } from '../privacy/fingerprint.js';
import { PrivacyLedger } from '../privacy/ledger.js';
import { SecureRandom } from '../privacy/secure-random.js';
import { selectColumns } from '../matrix/csr.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { readStageSummary } from '../run/runner.js';
import { codeVersion } from '../run/versions.js';
import { InputError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';

/** Files of the train stage besides those named in FILES. */
export const TRAIN_FILES = {
  history: 'history.json',
  sampleLosses: 'sample_losses.arrow',
  geneLoadings: 'gene_loadings.arrow',
  model: 'model',
} as const;

/** Latent points used for the gene loadings; a seeded subsample keeps the cost bounded on large cohorts. */
const LOADING_SAMPLES = 2000;

/** Privacy parameters and spending of the training run, for the report and the audit. */
export interface TrainPrivacy {
  dp: boolean;
  /** Epsilon spent by the steps taken (null without DP). */
  epsilon: number | null;
  /** Epsilon the calibration aimed at for the planned steps (null when sigma was given or without DP). */
  targetEpsilon: number | null;
  delta: number | null;
  noiseMultiplier: number | null;
  clipNorm: number | null;
  samplingRate: number | null;
  steps: number;
  plannedSteps: number;
  accountant: 'rdp' | 'pld' | null;
  /** 'poisson' with DP (what the accountant assumes); 'shuffled' fixed-size batches without. */
  sampling: 'poisson' | 'shuffled';
  ledgerEntryId: string | null;
  /**
   * Source of batch sampling (and noise): 'system' is the operating system's CSPRNG, as the
   * ledger records it; 'seeded' is the run's seeded stream, used only without DP.
   */
  randomness: 'system' | 'seeded';
  /** Samples the guarantee is about (the training split) and what it leaves out. */
  protectedSamples: number;
  note: string;
}

/** Summary of the train stage (03-train/summary.json → summary). */
export interface TrainSummary {
  nSamples: number;
  nTrain: number;
  nValidation: number;
  nGenes: number;
  likelihood: Likelihood;
  /** Why this likelihood: set by option, or chosen from the input kind. */
  likelihoodReason: string;
  architecture: VaeConfig;
  parameterCount: number;
  epochsPlanned: number;
  epochsRun: number;
  /** Epoch whose weights were kept (best validation loss). */
  bestEpoch: number;
  /** Epoch after which early stopping ended training; null when every epoch ran. */
  earlyStopEpoch: number | null;
  klWarmupSteps: number;
  finalTrainLoss: number;
  finalValidationLoss: number | null;
  finalReconstruction: number;
  finalKl: number;
  backend: BackendInfo;
  workers: number;
  seconds: { total: number; training: number; perEpoch: number };
  privacy: TrainPrivacy;
}

interface LoadedInputs {
  sampleIds: string[];
  geneIds: string[];
  normalization: SavedNormalization;
  /** Genes normalize selected, of which the model uses `geneIds`. */
  genesAvailable: number;
  data: TrainingData;
  likelihood: Likelihood;
  likelihoodReason: string;
}

/**
 * Columns of X for a model of `count` genes: the highly variable genes that rank highest by
 * normalize's normalized dispersion in 02-normalize/var.arrow.
 */
function modelGeneColumns(ctx: StageContext, geneIds: string[], count: number): Int32Array {
  const varPath = ctx.inputPath('normalize', FILES.var);
  const genes = readFrame(varPath);
  const flags = genes.highly_variable as ArrayLike<boolean | null> | undefined;
  const dispersion = genes.dispersion_norm as ArrayLike<number | null> | undefined;
  if (!flags || !dispersion) {
    throw new InputError('var.arrow has no highly_variable or dispersion_norm column', { file: varPath }, 'rerun normalize, or leave --model-genes at 0 to use every gene');
  }
  const ids = (genes.gene_id as (string | null)[]).filter((_, j) => flags[j]).map(String);
  if (ids.length !== geneIds.length || ids.some((id, j) => id !== geneIds[j])) {
    throw new InputError('the highly variable genes in var.arrow differ from the genes of normalization.json', { file: varPath }, 'rerun normalize');
  }
  const ranked = Float64Array.from(Array.from(dispersion as ArrayLike<number | null>).filter((_, j) => flags[j]), (v) => (v === null ? Number.NaN : v));
  return topDispersionColumns(ranked, count);
}

/** The normalization restricted to the model's genes, so that `genevae encode` aligns and scales only those. */
function subsetNormalization(normalization: SavedNormalization, columns: Int32Array): SavedNormalization {
  const pick = <T>(values: T[]) => Array.from(columns, (j) => values[j]);
  return { ...normalization, geneIds: pick(normalization.geneIds), mean: pick(normalization.mean), std: pick(normalization.std) };
}

function validateOptions(options: TrainOptions): void {
  const check = (ok: boolean, message: string, hint: string) => {
    if (!ok) throw new InputError(message, {}, hint);
  };
  check(Number.isInteger(options.latentDim) && options.latentDim >= 1, `latent dimension must be a positive integer, got ${options.latentDim}`, 'set --latent-dim');
  check(options.hiddenDims.every((w) => Number.isInteger(w) && w >= 1), `hidden layer widths must be positive integers, got ${options.hiddenDims.join(',')}`, 'set --hidden-dims, e.g. 256,128');
  check(options.dropout >= 0 && options.dropout < 1, `dropout must be in [0, 1), got ${options.dropout}`, 'set --dropout');
  check(Number.isInteger(options.epochs) && options.epochs >= 1, `epochs must be a positive integer, got ${options.epochs}`, 'set --epochs');
  check(Number.isInteger(options.batchSize) && options.batchSize >= 1, `batch size must be a positive integer, got ${options.batchSize}`, 'set --batch-size');
  check(options.learningRate > 0, `learning rate must be positive, got ${options.learningRate}`, 'set --learning-rate');
  check(options.klWarmupFraction >= 0 && options.klWarmupFraction <= 1, `KL warm-up fraction must be in [0, 1], got ${options.klWarmupFraction}`, 'set --kl-warmup');
  check(options.beta >= 0, `beta must be >= 0, got ${options.beta}`, 'set --beta');
  check(options.validationFraction >= 0 && options.validationFraction < 1, `validation fraction must be in [0, 1), got ${options.validationFraction}`, 'set --validation-fraction');
  check(Number.isInteger(options.mixtureComponents) && options.mixtureComponents >= 1, `mixture components must be a positive integer, got ${options.mixtureComponents}`, 'set --mixture-components');
  check(options.clipNorm > 0, `clipping norm must be positive, got ${options.clipNorm}`, 'set --clip-norm');
  check(Number.isInteger(options.workers) && options.workers >= 1, `workers must be a positive integer, got ${options.workers}`, 'set --train-workers');
}

function resolveLikelihood(option: TrainOptions['likelihood'], hasCounts: boolean, countsPath: string): { likelihood: Likelihood; reason: string } {
  if (option === 'auto') {
    return hasCounts
      ? { likelihood: 'nb', reason: 'auto: the input holds raw counts, so a negative binomial on the counts' }
      : { likelihood: 'gaussian', reason: 'auto: the input is not counts, so a Gaussian on the normalized values' };
  }
  if (isCountLikelihood(option) && !hasCounts) {
    throw new InputError(
      `likelihood '${option}' needs raw counts, but normalize found no count input`,
      { file: countsPath },
      "use --likelihood gaussian, or --input-kind counts at normalize if the values are counts",
    );
  }
  return { likelihood: option, reason: 'set by --likelihood' };
}

function loadInputs(ctx: StageContext, options: TrainOptions): LoadedInputs {
  const normalizationPath = ctx.inputPath('normalize', 'normalization.json');
  if (!existsSync(normalizationPath)) {
    throw new InputError('normalization.json not found', { file: normalizationPath }, "run 'genevae normalize' on this run directory first");
  }
  const normalization = JSON.parse(readFileSync(normalizationPath, 'utf8')) as SavedNormalization;
  const obsPath = ctx.inputPath('normalize', FILES.obs);
  const sampleIds = (readFrame(obsPath).sample_id as (string | null)[]).map(String);
  const xPath = ctx.inputPath('normalize', FILES.X);
  let x = readDenseColumn(xPath, 'values');
  if (x.nRows !== sampleIds.length) {
    throw new InputError(`X has ${x.nRows} rows but obs has ${sampleIds.length} samples`, { file: xPath }, 'rerun normalize');
  }
  if (x.nCols !== normalization.geneIds.length) {
    throw new InputError(`X has ${x.nCols} columns but normalization.json lists ${normalization.geneIds.length} genes`, { file: xPath }, 'rerun normalize');
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      throw new InputError(`value ${x.data[i]} is not finite`, { file: xPath, sample: sampleIds[Math.floor(i / x.nCols)], gene: normalization.geneIds[i % x.nCols] }, 'rerun normalize');
    }
  }

  const subset = options.genes > 0 && options.genes < x.nCols ? modelGeneColumns(ctx, normalization.geneIds, options.genes) : null;
  if (subset) x = selectDenseColumns(x, subset);
  const modelNormalization = subset ? subsetNormalization(normalization, subset) : normalization;

  const countsPath = ctx.inputPath('normalize', FILES.counts);
  const { likelihood, reason } =
    options.reconstruction === 'projection' && options.likelihood === 'auto'
      ? { likelihood: 'gaussian' as const, reason: 'auto: the decoder reconstructs the input projection, which takes a Gaussian' }
      : resolveLikelihood(options.likelihood, existsSync(countsPath), countsPath);
  let counts = null;
  let statistics = null;
  if (isCountLikelihood(likelihood)) {
    counts = tableToCsr(readTable(countsPath), countsPath);
    if (counts.nRows !== x.nRows || counts.nCols !== normalization.geneIds.length) {
      throw new InputError(`counts are ${counts.nRows} x ${counts.nCols} but X is ${x.nRows} x ${normalization.geneIds.length}`, { file: countsPath }, 'rerun normalize');
    }
    if (subset) counts = selectColumns(counts, subset);
    statistics = countStatistics(counts);
  }
  return {
    sampleIds,
    geneIds: modelNormalization.geneIds,
    normalization: modelNormalization,
    genesAvailable: normalization.geneIds.length,
    data: {
      nSamples: x.nRows,
      nGenes: x.nCols,
      x: x.data,
      counts,
      logLibrary: statistics?.logLibrary ?? null,
      logFactorialSum: statistics?.logFactorialSum ?? null,
    },
    likelihood,
    likelihoodReason: reason,
  };
}

/** Seeded split into training and validation rows (each sorted); at least one validation sample when asked for. */
export function splitSamples(n: number, fraction: number, rng: Rng): { train: Int32Array; validation: Int32Array } {
  const nValidation = fraction > 0 && n >= 10 ? Math.max(1, Math.floor(fraction * n)) : 0;
  const order = rng.permutation(n);
  const validation = Int32Array.from(order.subarray(0, nValidation)).sort();
  const trainRows = Int32Array.from(order.subarray(nValidation)).sort();
  return { train: trainRows, validation };
}

/** Resolves delta: the user's, which must be below 1/n, or 1/(10 n). */
export function resolveDelta(delta: number | null, nSamples: number): number {
  if (delta === null) return 1 / (10 * nSamples);
  if (!(delta > 0 && delta < 1 / nSamples)) {
    throw new InputError(
      `delta ${delta} is not below 1/n = ${(1 / nSamples).toPrecision(3)} for this cohort of ${nSamples} samples`,
      {},
      'a delta at or above 1/n allows releasing a whole sample outright; leave --delta unset for 1/(10 n) or choose a smaller value',
    );
  }
  return delta;
}

/**
 * Trains the VAE on 02-normalize/X.arrow (and counts.arrow for count likelihoods), with
 * DP-SGD unless options.dp is false. Writes into the stage directory:
 * - latent.arrow: sample_id, z FixedSizeList<Float32>[latentDim] (posterior means, every
 *   sample), and prior_component int32 (most probable mixture component) with the mixture prior;
 * - history.json: one EpochRecord per epoch (train and validation loss, reconstruction, KL,
 *   KL weight, epsilon so far, seconds);
 * - sample_losses.arrow: sample_id, split ('train' | 'validation'), loss float64 (negative ELBO
 *   with KL weight 1 under the final model), for the membership-inference audit;
 * - gene_loadings.arrow: gene_id, loading FixedSizeList<Float32>[latentDim], the mean
 *   derivative of each gene's decoded mean with respect to each latent dimension;
 * - model/config.json and model/weights.bin: architecture, options, genes, normalization and
 *   weights, which `genevae encode` loads.
 * With DP it reserves a privacy-ledger entry before training and finalizes it (or voids it,
 * when training fails before the first noisy update) afterwards.
 */
export async function runTrain(ctx: StageContext, options: TrainOptions): Promise<StageResult> {
  const started = performance.now();
  validateOptions(options);
  const warnings: string[] = [];
  const backend = await initBackend(options.backend, ctx.log);
  ctx.log.info(`backend ${backend.name} (${backend.package}${backend.simd === null ? '' : backend.simd ? ', SIMD' : ', no SIMD'})`);

  // Fingerprint first, so the ingested matrix is garbage before X is loaded (one copy at a time).
  const fingerprint = options.dp ? ingestFingerprint(ctx) : null;
  const inputs = loadInputs(ctx, options);
  const { data, sampleIds } = inputs;
  if (data.nSamples < 2) {
    throw new InputError(`training needs at least 2 samples, found ${data.nSamples}`, { file: ctx.inputPath('normalize', FILES.obs) });
  }
  const rng = new Rng(ctx.seed).fork('train');
  const split = splitSamples(data.nSamples, options.validationFraction, rng.fork('split'));
  if (split.validation.length === 0) {
    warnings.push(
      options.validationFraction > 0
        ? `no validation split for ${data.nSamples} samples (fewer than 10): early stopping is off and the membership-inference audit has no held-out samples`
        : 'no validation split (--validation-fraction 0): early stopping is off',
    );
  }
  const config: VaeConfig = {
    nGenes: data.nGenes,
    hiddenDims: options.hiddenDims,
    latentDim: options.latentDim,
    dropout: options.dropout,
    layerNorm: options.layerNorm,
    likelihood: inputs.likelihood,
    prior: options.prior,
    mixtureComponents: options.prior === 'mixture' ? options.mixtureComponents : 1,
    decoder: options.decoder,
    inputProjection: options.inputProjection > 0 ? { dim: Math.min(options.inputProjection, data.nGenes), seed: deriveSeed(ctx.seed, 'input-projection') } : null,
    reconstruction: options.reconstruction,
  };
  const { layout, parameters } = initParameters(config, rng.fork('init'));
  const projection = config.inputProjection ? drawProjection(config.nGenes, config.inputProjection) : null;
  ctx.log.info(
    `VAE ${data.nGenes} genes → [${options.hiddenDims.join(', ')}] → ${options.latentDim} latent, ${inputs.likelihood} likelihood, ` +
      `${parameters.count()} parameters; ${split.train.length} training and ${split.validation.length} validation samples`,
  );

  const nTrain = split.train.length;
  const perEpoch = stepsPerEpoch(nTrain, options.batchSize, options.dp);
  const plannedSteps = perEpoch * options.epochs;
  let privacy: TrainPrivacy;
  let ledger: PrivacyLedger | null = null;
  let entryId: string | null = null;
  let dpSettings = null;
  if (options.dp) {
    const delta = resolveDelta(options.delta, data.nSamples);
    const samplingRate = Math.min(1, options.batchSize / nTrain);
    const noiseMultiplier =
      options.noiseMultiplier ??
      noiseMultiplierFor({ targetEpsilon: options.targetEpsilon, samplingRate, steps: plannedSteps, delta, accountant: options.accountant });
    const plannedEpsilon = epsilonFor({ samplingRate, noiseMultiplier, steps: plannedSteps, delta, accountant: options.accountant });
    ctx.log.info(
      `DP-SGD: q = ${samplingRate.toPrecision(3)}, sigma = ${noiseMultiplier.toPrecision(4)}, C = ${options.clipNorm}, ` +
        `${plannedSteps} steps planned, epsilon ≤ ${plannedEpsilon.toPrecision(4)} at delta = ${delta.toPrecision(3)} (${options.accountant})`,
    );
    ledger = new PrivacyLedger(resolve(options.privacyDir));
    const receipt = await ledger.reserve({
      runId: ctx.runId,
      datasetFingerprint: fingerprint!,
      datasetLabel: datasetLabel(ctx),
      mechanism: {
        samplingRate,
        noiseMultiplier,
        clipNorm: options.clipNorm,
        steps: plannedSteps,
        delta,
        sampling: 'poisson',
        accountant: options.accountant,
      },
      plannedEpsilon,
      codeVersion: codeVersion(),
      randomness: 'system',
    });
    entryId = receipt.entryId;
    warnings.push(...receipt.warnings);
    dpSettings = { clipNorm: options.clipNorm, noiseMultiplier, samplingRate, random: SecureRandom.fromSystem() };
    privacy = {
      dp: true,
      epsilon: null,
      targetEpsilon: options.noiseMultiplier === null ? options.targetEpsilon : null,
      delta,
      noiseMultiplier,
      clipNorm: options.clipNorm,
      samplingRate,
      steps: 0,
      plannedSteps,
      accountant: options.accountant,
      sampling: 'poisson',
      ledgerEntryId: entryId,
      randomness: 'system',
      protectedSamples: nTrain,
      note:
        'DP-SGD bounds what the weights reveal about any one training sample. Latents, losses and clusters of the training samples are computed from their data outside DP, ' +
        'and the held-out validation samples influence which epoch is kept and when training stops, which is not accounted for.',
    };
  } else {
    privacy = {
      dp: false,
      epsilon: null,
      targetEpsilon: null,
      delta: null,
      noiseMultiplier: null,
      clipNorm: null,
      samplingRate: null,
      steps: 0,
      plannedSteps,
      accountant: null,
      sampling: 'shuffled',
      ledgerEntryId: null,
      randomness: 'seeded',
      protectedSamples: 0,
      note: 'trained without differential privacy: the weights can reveal information about individual samples',
    };
    warnings.push('trained without differential privacy (--no-dp): the model and its outputs are not privacy-protected');
  }

  const selectOnValidation = split.validation.length > 0 && (options.earlyStopping === 'on' || (options.earlyStopping === 'auto' && !options.dp));
  const model = new VaeModel(config, layout, parameters, { projection: projection ?? undefined });
  let engine: GradientEngine = localEngine(model);
  let pool: WorkerPool | null = null;
  let trainedParameters = parameters;
  if (options.workers > 1) {
    // Workers train on shared-memory parameters; they are copied back when training ends.
    const started = await WorkerPool.start(options.workers, config, parameters, options.backend, { projection });
    pool = started.pool;
    engine = pool;
    trainedParameters = started.parameters;
    ctx.log.info(`${options.workers} worker threads compute each batch's gradients (${started.backends[0].name} backend each)`);
  }
  const progress: TrainingProgress = { stepsTaken: 0, noisyUpdateApplied: false };
  const epsilonAfter = (steps: number) =>
    dpSettings
      ? epsilonFor({ samplingRate: dpSettings.samplingRate, noiseMultiplier: dpSettings.noiseMultiplier, steps, delta: privacy.delta!, accountant: options.accountant })
      : 0;
  const bar = ctx.log.progress('epochs', options.epochs);
  const trainingStarted = performance.now();
  let result;
  try {
    result = await train(
      engine,
      config,
      trainedParameters,
      data,
      split.train,
      split.validation,
      {
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        klWarmupFraction: options.klWarmupFraction,
        beta: options.beta,
        selectOnValidation,
        earlyStoppingPatience: options.earlyStoppingPatience,
        dp: dpSettings,
      },
      {
        rng: rng.fork('training'),
        progress,
        epsilonAfter: dpSettings ? epsilonAfter : undefined,
        onEpoch: (record) => bar.update(record.epoch, epochStatus(record)),
      },
    );
  } catch (error) {
    model.dispose();
    await pool?.close();
    if (ledger && entryId) {
      if (progress.noisyUpdateApplied) {
        // Noisy updates were computed, so the budget they spent stays on record.
        await ledger.finalize(entryId, { stepsTaken: progress.stepsTaken, epsilon: epsilonAfter(progress.stepsTaken) });
      } else {
        await ledger.void(entryId, `training failed before the first noisy update: ${(error as Error).message}`);
      }
    }
    throw error;
  }
  const trainingSeconds = (performance.now() - trainingStarted) / 1000;
  if (pool) {
    await pool.close();
    for (const [name, values] of trainedParameters.values) parameters.get(name).set(values);
    model.upload(parameters);
  }
  if (ledger && entryId) {
    privacy.steps = result.stepsTaken;
    privacy.epsilon = epsilonAfter(result.stepsTaken);
    await ledger.finalize(entryId, { stepsTaken: result.stepsTaken, epsilon: privacy.epsilon });
  }
  bar.finish(result.stoppedEarlyAt ? `stopped early after epoch ${result.stoppedEarlyAt}, kept epoch ${result.bestEpoch}` : `kept epoch ${result.bestEpoch}`);

  await writeOutputs(ctx, inputs, config, model, split, options, parameters, projection, result.history, rng);
  model.dispose();

  const last = result.history[result.history.length - 1];
  const bestRecord = result.history[result.bestEpoch - 1] ?? last;
  const summary: TrainSummary = {
    nSamples: data.nSamples,
    nTrain,
    nValidation: split.validation.length,
    nGenes: data.nGenes,
    likelihood: inputs.likelihood,
    likelihoodReason: inputs.likelihoodReason,
    architecture: config,
    parameterCount: parameters.count(),
    epochsPlanned: options.epochs,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
    earlyStopEpoch: result.stoppedEarlyAt,
    klWarmupSteps: result.warmupSteps,
    finalTrainLoss: bestRecord.trainLoss,
    finalValidationLoss: bestRecord.validationLoss,
    finalReconstruction: bestRecord.reconstruction,
    finalKl: bestRecord.kl,
    backend,
    workers: options.workers,
    seconds: {
      total: (performance.now() - started) / 1000,
      training: trainingSeconds,
      perEpoch: trainingSeconds / Math.max(1, result.epochsRun),
    },
    privacy,
  };
  if (result.warmupSteps > result.stepsTaken) {
    warnings.push(`training stopped at step ${result.stepsTaken}, before the KL warm-up (${result.warmupSteps} steps) finished`);
  }
  return { summary: summary as unknown as Record<string, unknown>, warnings, notes: { backend } };
}

/**
 * Fingerprint of the dataset as ingested (sample ids and values before any filtering), the
 * key of its privacy budget. The ingested matrix is released before training loads X.
 */
function ingestFingerprint(ctx: StageContext): string {
  const ingestObs = readFrame(ctx.inputPath('ingest', FILES.obs));
  const ingestX = tableToCsr(readTable(ctx.inputPath('ingest', FILES.X)), ctx.inputPath('ingest', FILES.X));
  return datasetFingerprint((ingestObs.sample_id as (string | null)[]).map(String), ingestX);
}

/** Input file names from the ingest summary, for the ledger; the run id when they are unknown. */
function datasetLabel(ctx: StageContext): string {
  const summary = readStageSummary(ctx.runDir, 'ingest')?.summary as { files?: { path?: string }[] } | undefined;
  const names = (summary?.files ?? []).map((file) => (file.path ? basename(file.path) : null)).filter((name): name is string => name !== null);
  return names.length > 0 ? names.join(' + ') : ctx.runId;
}

function epochStatus(record: EpochRecord): string {
  const parts = [`loss ${record.trainLoss.toFixed(2)}`];
  if (record.validationLoss !== null) parts.push(`validation ${record.validationLoss.toFixed(2)}`);
  if (record.epsilon !== null) parts.push(`epsilon ${record.epsilon.toFixed(3)}`);
  return parts.join(', ');
}

async function writeOutputs(
  ctx: StageContext,
  inputs: LoadedInputs,
  config: VaeConfig,
  model: VaeModel,
  split: { train: Int32Array; validation: Int32Array },
  options: TrainOptions,
  parameters: ParameterSet,
  projection: Float32Array | null,
  history: EpochRecord[],
  rng: Rng,
): Promise<void> {
  const { data, sampleIds } = inputs;
  const latentDim = config.latentDim;

  // Posterior means of every sample, in chunks to bound backend memory.
  const latent = new Float32Array(data.nSamples * latentDim);
  const chunk = 1024;
  for (let start = 0; start < data.nSamples; start += chunk) {
    const rows = Math.min(chunk, data.nSamples - start);
    latent.set(model.encodeMeans(data.x.subarray(start * data.nGenes, (start + rows) * data.nGenes), rows), start * latentDim);
  }
  let latentTable = denseToTable({ nRows: data.nSamples, nCols: latentDim, data: latent }, 'z', { name: 'sample_id', values: sampleIds });
  if (config.prior === 'mixture') {
    latentTable = latentTable.assign(frameToTable({ prior_component: model.assignComponents(latent, data.nSamples) }));
  }
  writeTable(join(ctx.outputDir, FILES.latent), latentTable);
  writeJsonAtomic(join(ctx.outputDir, TRAIN_FILES.history), history);

  // Negative ELBO (KL weight 1) of every sample under the final model, with seeded noise.
  const allRows = Int32Array.from({ length: data.nSamples }, (_, i) => i);
  const losses = await evaluateLosses(localEngine(model), data, config, allRows, rng.fork('sample-losses'));
  const isValidation = new Uint8Array(data.nSamples);
  for (const row of split.validation) isValidation[row] = 1;
  writeFrame(join(ctx.outputDir, TRAIN_FILES.sampleLosses), {
    sample_id: sampleIds,
    split: Array.from(isValidation, (v) => (v ? 'validation' : 'train')),
    loss: Float64Array.from(losses.reconstruction, (r, i) => r + losses.kl[i]),
  });

  const loadingRows = loadingSample(data.nSamples, rng.fork('loadings'));
  const loadingLatent = new Float32Array(loadingRows.length * latentDim);
  loadingRows.forEach((row, i) => loadingLatent.set(latent.subarray(row * latentDim, (row + 1) * latentDim), i * latentDim));
  const loadings = geneLoadings(model, loadingLatent, loadingRows.length);
  writeTable(
    join(ctx.outputDir, TRAIN_FILES.geneLoadings),
    denseToTable({ nRows: data.nGenes, nCols: latentDim, data: loadings }, 'loading', { name: 'gene_id', values: inputs.geneIds }),
  );

  saveModel(join(ctx.outputDir, TRAIN_FILES.model), parameters, {
    writtenBy: codeVersion(),
    architecture: config,
    options: { ...options },
    genes: inputs.geneIds,
    normalization: inputs.normalization,
  }, projection);
}

function loadingSample(n: number, rng: Rng): Int32Array {
  if (n <= LOADING_SAMPLES) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(rng.permutation(n).subarray(0, LOADING_SAMPLES)).sort();
}
