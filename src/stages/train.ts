import { basename, join, resolve } from 'node:path';
import { COMPACT_DEFAULTS, LATENT_DIM_DEFAULTS, SECOND_MOMENT_DEFAULTS, TRAIN_DEFAULTS, type TrainOptions } from '../../pipeline/train.js';
import { denseToTable, frameToTable, readFrame, readTable, tableToCsr, writeFrame, writeTable } from '../io/arrow.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { initBackend, type BackendInfo } from '../model/backend.js';
import { decoderKind, reconstructsProjection, type Likelihood, type VaeConfig } from '../model/config.js';
import type { TrainingData } from '../model/data.js';
import { compareWithUntrained, DIAGNOSTIC_MAX_SAMPLES, diagnosticRows, takeRows, type UntrainedComparison } from '../model/diagnostics.js';
import type { DpSettings } from '../model/dpsgd.js';
import { geneLoadings } from '../model/loadings.js';
import { drawProjection, initParameters, type NetworkLayout, type ParameterSet } from '../model/parameters.js';
import {
  noiseToSignal,
  parameterCount,
  checkDpMechanism,
  resolveArchitecture,
  resolveDpMechanism,
  resolveFitSchedule,
  resolveGenes,
  resolveLatentDim,
  resolveSchedule,
  SECOND_MOMENT_GENE_RULE,
  sgdOnlyFlags,
  standardOnlyFlags,
  type Architecture,
  type DpMechanismKind,
  type Resolved,
  type Schedule,
} from '../model/plan.js';
import { pseudoCohort, releaseNoiseEdge, releaseSecondMoment, tiedOptimum } from '../model/second-moment.js';
import { saveModel } from '../model/saved.js';
import { evaluateLosses, localEngine, stepsPerEpoch, train, type EpochRecord, type GradientEngine, type TrainingProgress } from '../model/trainer.js';
import { WorkerPool } from '../model/worker-pool.js';
import { VaeModel } from '../model/vae.js';
import { epsilonFor, noiseMultiplierFor } from '../privacy/accountant.js';
import { datasetFingerprint } from '../privacy/fingerprint.js';
import { PrivacyLedger } from '../privacy/ledger.js';
import { SecureRandom } from '../privacy/secure-random.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { readStageSummary } from '../run/runner.js';
import { codeVersion } from '../run/versions.js';
import { InputError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { loadNormalizedInputs, modelInputs, resolveLikelihood, type ModelInputs } from './train-inputs.js';

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
  /**
   * 'sgd' (DP-SGD), 'second-moment' (one noisy release of the training rows' second moment,
   * to which the model was fitted), or null without DP.
   */
  mechanism: DpMechanismKind | null;
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
  /**
   * Held-out validation samples whose losses chose the kept weights or stopped training, which
   * is outside the guarantee (their rows have split = validation in sample_losses.arrow); 0 when
   * the last weights were kept.
   */
  selectionSamples: number;
  note: string;
}

/** Values the 'auto' options resolved to for this run, with one sentence per choice. */
export interface ResolvedTraining {
  architecture: Architecture;
  genes: number;
  latentDim: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  /** Whether validation losses chose the kept weights and could stop training early. */
  earlyStopping: boolean;
  /** The DP mechanism; null without DP. */
  dpMechanism: DpMechanismKind | null;
  reasons: string[];
}

/** How much room the data had in each DP-SGD step. */
export interface DpDiagnostics {
  /**
   * Expected norm of the Gaussian noise in a step's averaged gradient divided by the clipping
   * norm C, that is sigma * sqrt(P) / (q * n). The clipped gradients' average is at most C, so
   * above about 1 the noise outweighs what the data contribute to any one step.
   */
  noiseToSignal: number;
  /** Share of per-example gradients whose norm exceeded C, over the whole run. */
  clippedFraction: number;
  /** Mean per-example gradient norm before clipping divided by C; far above 1, every example is scaled to norm C and C only sets the step size. */
  meanGradientNormToClip: number;
}

/** How much of the data's structure the second-moment release kept. */
export interface SecondMomentDiagnostics {
  /** Spectral norm of the release's noise relative to the trace of the noiseless matrix (releaseNoiseEdge). */
  noiseEdge: number;
  /** Share of the released matrix's absolute eigenvalue sum in negative eigenvalues, which only noise creates and the fit drops. */
  negativeShare: number;
  /** Largest eigenvalues of the scaled release divided by its trace, up to the latent size: the share each latent direction can carry. */
  leadingShares: number[];
  /** Pseudo-samples the model was fitted to, one per gene. */
  pseudoSamples: number;
}

/** Summary of the train stage (03-train/summary.json → summary). */
export interface TrainSummary {
  nSamples: number;
  nTrain: number;
  nValidation: number;
  /** Genes the model reads and reconstructs. */
  nGenes: number;
  /** Genes normalize selected, of which the model uses the nGenes most variable. */
  nGenesAvailable: number;
  likelihood: Likelihood;
  /** Why this likelihood: set by option, or chosen from the input kind. */
  likelihoodReason: string;
  architecture: VaeConfig;
  /** The model in words, e.g. for the report's methods paragraph. */
  modelDescription: string;
  resolved: ResolvedTraining;
  parameterCount: number;
  epochsPlanned: number;
  epochsRun: number;
  /** Epoch whose weights were kept: the best validation epoch with early stopping, else the last. */
  bestEpoch: number;
  /** 'best-validation' when validation losses chose the weights, 'last' when the last weights were kept. */
  weightsKept: 'best-validation' | 'last';
  /** Epoch after which early stopping ended training; null when every epoch ran. */
  earlyStopEpoch: number | null;
  klWarmupSteps: number;
  finalTrainLoss: number;
  finalValidationLoss: number | null;
  finalReconstruction: number;
  finalKl: number;
  /** DP-SGD's noise and clipping in this run; null without DP-SGD. */
  dpDiagnostics: DpDiagnostics | null;
  /** The second-moment release in this run; null without it. */
  secondMoment: SecondMomentDiagnostics | null;
  /** The trained latents against the same model's untrained latents (see UntrainedComparison). */
  untrainedComparison: UntrainedComparison;
  backend: BackendInfo;
  workers: number;
  seconds: { total: number; training: number; perEpoch: number };
  privacy: TrainPrivacy;
}

/** Rejects train options that are invalid whatever the data, so that a run can fail before its first stage. */
export function validateTrainOptions(options: TrainOptions): void {
  const check = (ok: boolean, message: string, hint: string) => {
    if (!ok) throw new InputError(message, {}, hint);
  };
  const autoOr = (value: number | 'auto', ok: (value: number) => boolean) => value === 'auto' || ok(value);
  check(
    options.latentDim === 'auto' || (Number.isInteger(options.latentDim) && options.latentDim >= 1),
    `latent dimension must be a positive integer or auto, got ${options.latentDim}`,
    'set --latent-dim',
  );
  check(autoOr(options.genes, (g) => Number.isInteger(g) && g >= 0), `model genes must be 'auto' or an integer >= 0, got ${options.genes}`, 'set --model-genes');
  check(options.hiddenDims.every((w) => Number.isInteger(w) && w >= 1), `hidden layer widths must be positive integers, got ${options.hiddenDims.join(',')}`, 'set --hidden-dims, e.g. 256,128');
  check(options.dropout >= 0 && options.dropout < 1, `dropout must be in [0, 1), got ${options.dropout}`, 'set --dropout');
  check(Number.isInteger(options.inputProjection) && options.inputProjection >= 0, `input projection width must be an integer >= 0, got ${options.inputProjection}`, 'set --input-projection');
  check(autoOr(options.epochs, (e) => Number.isInteger(e) && e >= 1), `epochs must be 'auto' or a positive integer, got ${options.epochs}`, 'set --epochs');
  check(autoOr(options.batchSize, (b) => Number.isInteger(b) && b >= 1), `batch size must be 'auto' or a positive integer, got ${options.batchSize}`, 'set --batch-size');
  check(autoOr(options.learningRate, (r) => r > 0), `learning rate must be 'auto' or positive, got ${options.learningRate}`, 'set --learning-rate');
  check(options.klWarmupFraction >= 0 && options.klWarmupFraction <= 1, `KL warm-up fraction must be in [0, 1], got ${options.klWarmupFraction}`, 'set --kl-warmup');
  check(options.beta >= 0, `beta must be >= 0, got ${options.beta}`, 'set --beta');
  check(options.validationFraction >= 0 && options.validationFraction < 1, `validation fraction must be in [0, 1), got ${options.validationFraction}`, 'set --validation-fraction');
  check(Number.isInteger(options.mixtureComponents) && options.mixtureComponents >= 1, `mixture components must be a positive integer, got ${options.mixtureComponents}`, 'set --mixture-components');
  check(options.clipNorm > 0, `clipping norm must be positive, got ${options.clipNorm}`, 'set --clip-norm');
  check(Number.isInteger(options.workers) && options.workers >= 1, `workers must be a positive integer, got ${options.workers}`, 'set --train-workers');
  if (options.reconstruction === 'projection') {
    check(options.inputProjection > 0, 'reconstructing the projection needs an input projection', 'set --input-projection, or --reconstruction genes');
  }
  if (options.dp) checkDpMechanism(options.dpMechanism, options.architecture, sgdOnlyFlags(options));
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
 *   KL weight, epsilon so far, clipped share, seconds);
 * - sample_losses.arrow: sample_id, split ('train' | 'validation'), loss float64 (negative ELBO
 *   with KL weight 1 under the final model), for the membership-inference audit;
 * - gene_loadings.arrow: gene_id, loading FixedSizeList<Float32>[latentDim], the mean
 *   derivative of each gene's decoded mean with respect to each latent dimension (the model's
 *   genes only);
 * - model/config.json and model/weights.bin: architecture, options, genes, normalization and
 *   weights, which `genevae encode` loads.
 * With DP it reserves a privacy-ledger entry before training and finalizes it (or voids it,
 * when training fails before the first noisy update) afterwards.
 */
export async function runTrain(ctx: StageContext, options: TrainOptions): Promise<StageResult> {
  const started = performance.now();
  validateTrainOptions(options);
  const warnings: string[] = [];
  const backend = await initBackend(options.backend, ctx.log);
  ctx.log.info(`backend ${backend.name} (${backend.package}${backend.simd === null ? '' : backend.simd ? ', SIMD' : ', no SIMD'})`);

  // Fingerprint first, so the ingested matrix is garbage before X is loaded (one copy at a time).
  const fingerprint = options.dp ? ingestFingerprint(ctx) : null;
  const inputs = loadNormalizedInputs(ctx);
  const nSamples = inputs.sampleIds.length;
  if (nSamples < 2) {
    throw new InputError(`training needs at least 2 samples, found ${nSamples}`, { file: ctx.inputPath('normalize', FILES.obs) });
  }
  const rng = new Rng(ctx.seed).fork('train');
  const split = splitSamples(nSamples, options.validationFraction, rng.fork('split'));
  if (split.validation.length === 0) {
    warnings.push(
      options.validationFraction > 0
        ? `no validation split for ${nSamples} samples (fewer than 10): early stopping is off and the membership-inference audit has no held-out samples`
        : 'no validation split (--validation-fraction 0): early stopping is off',
    );
  }
  const nTrain = split.train.length;

  // Resolve every 'auto' option before the privacy ledger records the mechanism.
  if (options.architecture === 'compact' && !inputs.normalization.scale) {
    throw new InputError(
      'the compact model needs genes centred and scaled by normalize, but normalize ran with --no-scale',
      { file: ctx.inputPath('normalize', 'normalization.json') },
      'rerun normalize without --no-scale, or use --architecture standard',
    );
  }
  const standardFlags = standardOnlyFlags(options);
  const architecture = resolveArchitecture(options.architecture, options.dp, inputs.normalization.scale, nTrain, standardFlags);
  const ignored = standardFlags.filter((flag) => !flag.startsWith('--likelihood'));
  if (architecture.value === 'compact' && ignored.length > 0) {
    warnings.push(`the compact model ignores ${ignored.join(', ')}; pass --architecture standard to use them`);
  }
  const { likelihood, reason: likelihoodReason } = resolveLikelihood(options.likelihood, architecture.value, inputs.hasCounts, ctx.inputPath('normalize', FILES.counts));
  const sgdSchedule = resolveSchedule(options, architecture.value, nTrain);
  const sgdSteps = stepsPerEpoch(nTrain, sgdSchedule.batchSize, options.dp) * sgdSchedule.epochs;
  const sgdMechanism = options.dp ? dpMechanism(options, sgdSchedule.batchSize, nTrain, nSamples, sgdSteps) : null;
  const configAt = (genes: number, dims: number) => modelConfig(options, architecture.value, genes, dims, likelihood, ctx.seed);
  // Genes for a gene option at a latent size, held by a DP-SGD mechanism's noise-to-signal target (none without DP).
  const sgdGenesAt = (sgd: DpMechanism | null, option: TrainOptions['genes'], dims: number) =>
    resolveGenes(option, inputs.x.nCols, architecture.value, (count) =>
      sgd ? noiseToSignal(sgd.noiseMultiplier, parameterCount(configAt(count, dims)), sgd.samplingRate, nTrain) : null,
    );
  const genesAt = (dims: number) => sgdGenesAt(sgdMechanism, options.genes, dims);
  // Only the compact model's 'auto' gene count under DP depends on the latent size.
  const budgetBound = sgdMechanism !== null && architecture.value === 'compact' && options.genes === 'auto';
  const geneLimit = Math.min(COMPACT_DEFAULTS.maxGenes, inputs.x.nCols);
  const sgdLatentDim = options.latentDim === 'auto' ? LATENT_DIM_DEFAULTS.usual : options.latentDim;
  const dpKind = options.dp
    ? resolveDpMechanism(
        options.dpMechanism,
        architecture.value,
        architecture.value === 'compact' ? sgdGenesAt(defaultSgdMechanism(options, nTrain, nSamples), 'auto', sgdLatentDim).value : null,
        geneLimit,
        sgdLatentDim,
        sgdOnlyFlags(options),
      )
    : null;
  if (!options.dp && options.dpMechanism !== TRAIN_DEFAULTS.dpMechanism) warnings.push(`--dp-mechanism ${options.dpMechanism} has no effect with --no-dp`);
  const secondMoment = dpKind?.value === 'second-moment';
  // The release is one full-batch Gaussian step of sensitivity 1 (src/model/second-moment.ts).
  const mechanism = secondMoment ? dpMechanism(options, nTrain, nTrain, nSamples, 1) : sgdMechanism;
  let latentDim: Resolved<number>;
  let genes: Resolved<number>;
  if (secondMoment) {
    latentDim =
      options.latentDim === 'auto'
        ? { value: LATENT_DIM_DEFAULTS.usual, reason: `auto: ${LATENT_DIM_DEFAULTS.usual}; the second-moment release's noise does not grow with the latent size` }
        : { value: options.latentDim, reason: `set by --latent-dim ${options.latentDim}` };
    genes = resolveGenes(options.genes, inputs.x.nCols, 'compact', (count) => releaseNoiseEdge(mechanism!.noiseMultiplier, count, nTrain), SECOND_MOMENT_GENE_RULE);
  } else {
    latentDim = resolveLatentDim(options.latentDim, budgetBound, (dims) => genesAt(dims).value, geneLimit);
    genes = genesAt(latentDim.value);
  }
  const schedule = secondMoment ? resolveFitSchedule(options, genes.value) : sgdSchedule;
  const plannedSteps = secondMoment ? 1 : sgdSteps;
  const configFor = (count: number) => configAt(count, latentDim.value);
  // The fit to a second-moment release never reads the validation samples, so they choose nothing.
  const selectOnValidation = !secondMoment && split.validation.length > 0 && (options.earlyStopping === 'on' || (options.earlyStopping === 'auto' && !options.dp));
  const resolved: ResolvedTraining = {
    architecture: architecture.value,
    genes: genes.value,
    batchSize: schedule.batchSize,
    epochs: schedule.epochs,
    learningRate: schedule.learningRate,
    earlyStopping: selectOnValidation,
    latentDim: latentDim.value,
    dpMechanism: dpKind?.value ?? null,
    reasons: [
      architecture.reason,
      ...(dpKind ? [`DP mechanism: ${dpKind.reason}`] : []),
      `genes: ${genes.reason}`,
      `latent dimensions: ${latentDim.reason}`,
      ...schedule.reasons,
      secondMoment ? 'early stopping: off, because the fit to the release reads only the released matrix' : earlyStoppingReason(options, selectOnValidation, split.validation.length),
    ],
  };

  const model = modelInputs(ctx, inputs, genes.value, likelihood);
  const { data } = model;
  const config = configFor(genes.value);
  const { layout, parameters } = initParameters(config, rng.fork('init'));
  const initialParameters = parameters.clone();
  const projection = config.inputProjection ? drawProjection(config.nGenes, config.inputProjection) : null;
  const description = describeModel(config, architecture.value, inputs.x.nCols);
  ctx.log.info(`${description}; ${parameters.count()} parameters; ${nTrain} training and ${split.validation.length} validation samples`);
  for (const reason of resolved.reasons) ctx.log.debug(reason);
  if (options.latentDim === 'auto' && latentDim.value !== LATENT_DIM_DEFAULTS.usual) ctx.log.info(`latent dimensions: ${latentDim.reason}`);
  if (dpKind && options.dpMechanism === 'auto') ctx.log.info(`DP mechanism: ${dpKind.reason}`);

  let privacy: TrainPrivacy;
  let ledger: PrivacyLedger | null = null;
  let entryId: string | null = null;
  let dpSettings: DpSettings | null = null;
  let ratio: number | null = null;
  // The release scales every row to norm 1, so its sensitivity is 1 whatever --clip-norm sets.
  const clipNorm = secondMoment ? 1 : options.clipNorm;
  // Relative noise of the release at the chosen genes; null without the release.
  const releaseEdge = mechanism && secondMoment ? releaseNoiseEdge(mechanism.noiseMultiplier, genes.value, nTrain) : null;
  if (mechanism && releaseEdge !== null) {
    ctx.log.info(
      `second-moment release: rows scaled to norm 1, sigma = ${mechanism.noiseMultiplier.toPrecision(4)}, one release, ` +
        `epsilon ≤ ${mechanism.plannedEpsilon.toPrecision(4)} at delta = ${mechanism.delta.toPrecision(3)} (${options.accountant}); ` +
        `noise ${releaseEdge.toFixed(3)} of the matrix's trace; the model is then fitted to the release`,
    );
    if (releaseEdge > SECOND_MOMENT_DEFAULTS.noiseEdgeTarget * (1 + 1e-9)) warnings.push(releaseNoiseWarning(releaseEdge, genes.value, options.genes === 'auto'));
  } else if (mechanism) {
    ratio = noiseToSignal(mechanism.noiseMultiplier, parameters.count(), mechanism.samplingRate, nTrain);
    ctx.log.info(
      `DP-SGD: q = ${mechanism.samplingRate.toPrecision(3)}, sigma = ${mechanism.noiseMultiplier.toPrecision(4)}, C = ${options.clipNorm}, ` +
        `${plannedSteps} steps planned, epsilon ≤ ${mechanism.plannedEpsilon.toPrecision(4)} at delta = ${mechanism.delta.toPrecision(3)} (${options.accountant}); ` +
        `noise-to-signal ratio per step ${ratio.toFixed(2)}`,
    );
    if (ratio > NOISE_TO_SIGNAL_WARNING) warnings.push(noiseWarning(ratio, architecture.value));
    if (mechanism.samplingRate >= 1) {
      // Not an error: small cohorts train full-batch on purpose, and the accountant charges q = 1 correctly.
      ctx.log.info(
        `the expected batch (${schedule.batchSize}) covers all ${nTrain} training samples, so every step uses every sample (q = 1): ` +
          'Poisson subsampling amplifies nothing here, and epsilon is that of the plain Gaussian mechanism composed over the steps',
      );
    }
  }
  if (mechanism) {
    ledger = new PrivacyLedger(resolve(options.privacyDir));
    const receipt = await ledger.reserve({
      runId: ctx.runId,
      datasetFingerprint: fingerprint!,
      datasetLabel: datasetLabel(ctx),
      mechanism: {
        samplingRate: mechanism.samplingRate,
        noiseMultiplier: mechanism.noiseMultiplier,
        clipNorm,
        steps: plannedSteps,
        delta: mechanism.delta,
        sampling: 'poisson',
        accountant: options.accountant,
        release: secondMoment ? 'second-moment' : 'gradients',
      },
      plannedEpsilon: mechanism.plannedEpsilon,
      codeVersion: codeVersion(),
      randomness: 'system',
    });
    entryId = receipt.entryId;
    warnings.push(...receipt.warnings);
    if (!secondMoment) {
      dpSettings = { clipNorm: options.clipNorm, noiseMultiplier: mechanism.noiseMultiplier, samplingRate: mechanism.samplingRate, random: SecureRandom.fromSystem() };
    }
    const selectionSamples = selectOnValidation ? split.validation.length : 0;
    privacy = {
      dp: true,
      mechanism: dpKind!.value,
      epsilon: null,
      targetEpsilon: options.noiseMultiplier === null ? options.targetEpsilon : null,
      delta: mechanism.delta,
      noiseMultiplier: mechanism.noiseMultiplier,
      clipNorm,
      samplingRate: mechanism.samplingRate,
      steps: 0,
      plannedSteps,
      accountant: options.accountant,
      sampling: 'poisson',
      ledgerEntryId: entryId,
      randomness: 'system',
      protectedSamples: nTrain,
      selectionSamples,
      note: dpNote(dpKind!.value, selectionSamples, genes.value, inputs.x.nCols),
    };
    if (selectionSamples > 0) {
      warnings.push(
        `early stopping is on with DP: the losses of the ${selectionSamples} validation samples (split = validation in ${TRAIN_FILES.sampleLosses}) ` +
          'chose the kept weights and when training stopped, and that influence is outside the privacy guarantee',
      );
    }
  } else {
    privacy = {
      dp: false,
      mechanism: null,
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
      selectionSamples: 0,
      note: 'trained without differential privacy: the weights can reveal information about individual samples',
    };
    warnings.push('trained without differential privacy (--no-dp): the model and its outputs are not privacy-protected');
  }

  const vae = new VaeModel(config, layout, parameters, { projection: projection ?? undefined });
  let engine: GradientEngine = localEngine(vae);
  let pool: WorkerPool | null = null;
  let trainedParameters = parameters;
  if (options.workers > 1) {
    // Workers train on shared-memory parameters; they are copied back when training ends.
    const pooled = await WorkerPool.start(options.workers, config, parameters, options.backend, { projection });
    pool = pooled.pool;
    engine = pool;
    trainedParameters = pooled.parameters;
    ctx.log.info(`${options.workers} worker threads compute each batch's gradients (${pooled.backends[0].name} backend each)`);
  }
  const progress: TrainingProgress = { stepsTaken: 0, noisyUpdateApplied: false };
  const epsilonAfter = (steps: number) =>
    mechanism
      ? epsilonFor({ samplingRate: mechanism.samplingRate, noiseMultiplier: mechanism.noiseMultiplier, steps, delta: mechanism.delta, accountant: options.accountant })
      : 0;
  const trainingStarted = performance.now();
  let ledgerClosed = false;
  let fitData = data;
  let fitTrainRows = split.train;
  let fitValidationRows = split.validation;
  let secondMomentDiagnostics: SecondMomentDiagnostics | null = null;
  if (secondMoment) {
    let release;
    try {
      release = releaseSecondMoment(data.x, data.nGenes, split.train, mechanism!.noiseMultiplier, SecureRandom.fromSystem());
    } catch (error) {
      vae.dispose();
      await pool?.close();
      await ledger!.void(entryId!, `the second-moment release failed before its noise was added: ${(error as Error).message}`);
      throw error;
    }
    // Everything after the release is post-processing: the budget is spent now, once.
    privacy.steps = 1;
    privacy.epsilon = epsilonAfter(1);
    await ledger!.finalize(entryId!, { stepsTaken: 1, epsilon: privacy.epsilon });
    ledgerClosed = true;
    const pseudo = pseudoCohort(release, nTrain, config.latentDim, mechanism!.noiseMultiplier);
    secondMomentDiagnostics = {
      noiseEdge: releaseEdge!,
      negativeShare: pseudo.negativeShare,
      leadingShares: Array.from(pseudo.eigenvalues, (value) => value / Math.max(pseudo.trace, Number.MIN_VALUE)),
      pseudoSamples: pseudo.data.nSamples,
    };
    // Start the fit at the model's optimum for the released second moment (tiedOptimum).
    const optimum = tiedOptimum(pseudo, config.latentDim, options.beta);
    trainedParameters.get(layout.tied!.weight).set(optimum.weight);
    trainedParameters.get(layout.tied!.encoderLogVariance).set(optimum.latentLogVariance);
    trainedParameters.get(layout.geneParameter).fill(optimum.geneLogVariance);
    await engine.upload(trainedParameters);
    fitData = pseudo.data;
    fitTrainRows = Int32Array.from({ length: pseudo.data.nSamples }, (_, i) => i);
    fitValidationRows = new Int32Array(0);
    ctx.log.info(`fitting the model to the release's ${config.latentDim} leading directions (${pseudo.data.nSamples} pseudo-samples)`);
  }
  const bar = ctx.log.progress('epochs', schedule.epochs);
  const interrupt = catchInterrupts(ctx, Boolean(dpSettings));
  let result;
  try {
    result = await train(
      engine,
      config,
      trainedParameters,
      fitData,
      fitTrainRows,
      fitValidationRows,
      {
        epochs: schedule.epochs,
        batchSize: schedule.batchSize,
        learningRate: schedule.learningRate,
        klWarmupFraction: secondMoment ? 0 : options.klWarmupFraction,
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
        stopRequested: interrupt.reason,
      },
    );
  } catch (error) {
    interrupt.release();
    vae.dispose();
    await pool?.close();
    if (ledger && entryId && !ledgerClosed) {
      if (progress.noisyUpdateApplied) {
        // Noisy updates were computed, so the budget they spent stays on record.
        await ledger.finalize(entryId, { stepsTaken: progress.stepsTaken, epsilon: epsilonAfter(progress.stepsTaken) });
      } else {
        await ledger.void(entryId, `training failed before the first noisy update: ${(error as Error).message}`);
      }
    }
    throw error;
  }
  interrupt.release();
  const trainingSeconds = (performance.now() - trainingStarted) / 1000;
  if (pool) {
    await pool.close();
    for (const [name, values] of trainedParameters.values) parameters.get(name).set(values);
    vae.upload(parameters);
  }
  if (ledger && entryId && !ledgerClosed) {
    privacy.steps = result.stepsTaken;
    privacy.epsilon = epsilonAfter(result.stepsTaken);
    await ledger.finalize(entryId, { stepsTaken: result.stepsTaken, epsilon: privacy.epsilon });
  }
  // The fit's epochs spend nothing; each record shows the budget the release already spent.
  if (secondMoment) for (const record of result.history) record.epsilon = privacy.epsilon;
  bar.finish(
    result.stoppedEarlyAt
      ? `stopped early after epoch ${result.stoppedEarlyAt}, kept epoch ${result.bestEpoch}`
      : selectOnValidation
        ? `kept epoch ${result.bestEpoch} (lowest validation loss)`
        : `kept the last weights (epoch ${result.bestEpoch})`,
  );

  const latent = encodeAll(vae, data);
  await writeOutputs(ctx, inputs.sampleIds, model, config, vae, latent, split, options, parameters, projection, result.history, rng);
  vae.dispose();

  const comparison = untrainedComparison(config, layout, initialParameters, projection, data, latent, rng.fork('diagnostics'));
  ctx.log.info(comparisonLine(comparison));
  const learnedWarning = learnedLittleWarning(comparison, options.dp);
  if (learnedWarning) warnings.push(learnedWarning);

  const last = result.history[result.history.length - 1];
  const keptRecord = result.history[result.bestEpoch - 1] ?? last;
  const summary: TrainSummary = {
    nSamples,
    nTrain,
    nValidation: split.validation.length,
    nGenes: data.nGenes,
    nGenesAvailable: inputs.x.nCols,
    likelihood,
    likelihoodReason,
    architecture: config,
    modelDescription: description,
    resolved,
    parameterCount: parameters.count(),
    epochsPlanned: schedule.epochs,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
    weightsKept: selectOnValidation ? 'best-validation' : 'last',
    earlyStopEpoch: result.stoppedEarlyAt,
    klWarmupSteps: result.warmupSteps,
    finalTrainLoss: keptRecord.trainLoss,
    finalValidationLoss: keptRecord.validationLoss,
    finalReconstruction: keptRecord.reconstruction,
    finalKl: keptRecord.kl,
    dpDiagnostics:
      ratio !== null && result.clipping
        ? {
            noiseToSignal: ratio,
            clippedFraction: result.clipping.clipped / Math.max(result.clipping.examples, 1),
            meanGradientNormToClip: result.clipping.meanNorm / options.clipNorm,
          }
        : null,
    secondMoment: secondMomentDiagnostics,
    untrainedComparison: comparison,
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
  return { summary: summary as unknown as Record<string, unknown>, warnings, notes: { backend, resolved } };
}

/** Planned noise-to-signal ratio above which a DP run warns that its noise drowns the data. */
const NOISE_TO_SIGNAL_WARNING = 3;

function noiseWarning(ratio: number, architecture: Architecture): string {
  const advice =
    architecture === 'compact'
      ? 'fewer --model-genes or a larger --target-epsilon would help, and the latents may carry little beyond the untrained model'
      : 'the compact model (--architecture compact) has far fewer parameters and usually learns much more under DP';
  return `the noise in each DP-SGD step is ${ratio.toFixed(1)} times the largest signal the clipped gradients can carry (C); ${advice}`;
}

function releaseNoiseWarning(edge: number, genes: number, autoGenes: boolean): string {
  const advice = autoGenes ? 'a larger --target-epsilon or more training samples would help' : 'fewer --model-genes, a larger --target-epsilon or more training samples would help';
  return (
    `the second-moment release's noise is ${edge.toFixed(2)} of the matrix's trace at ${genes} genes, above the target ${SECOND_MOMENT_DEFAULTS.noiseEdgeTarget}: ` +
    `structure holding less than about ${(edge / 2).toFixed(2)} of the trace is lost in the noise, and the latents may carry little; ${advice}`
  );
}

/** Builds the privacy note: what the guarantee covers and what it leaves out. */
function dpNote(kind: DpMechanismKind, selectionSamples: number, genes: number, genesAvailable: number): string {
  let note =
    kind === 'second-moment'
      ? 'The second-moment release bounds what the weights reveal about any one training sample: the model was fitted to one noisy release of the training rows\' ' +
        'second-moment matrix (each row scaled to norm 1), and the fit read nothing else from them.'
      : 'DP-SGD bounds what the weights reveal about any one training sample.';
  note += ' Latents, losses and clusters of the training samples are computed from their data outside DP.';
  if (genes < genesAvailable) {
    note += ` The model's ${genes} genes were chosen among normalize's ${genesAvailable} highly variable genes by their dispersion, which is computed from the private data outside DP, like normalize's own selection.`;
  }
  return selectionSamples > 0
    ? `${note} Early stopping was on, so the ${selectionSamples} held-out validation samples chose which epoch was kept and when training stopped, which is not accounted for.`
    : `${note} The held-out validation samples were not used in training or to choose the weights: the last weights were kept.`;
}

function earlyStoppingReason(options: TrainOptions, on: boolean, validationSamples: number): string {
  if (validationSamples === 0) return 'early stopping: off, no validation samples';
  if (options.earlyStopping !== 'auto') return `early stopping: ${options.earlyStopping}, set by --early-stopping`;
  return on
    ? 'early stopping: auto, on without DP (the best validation epoch is kept)'
    : 'early stopping: auto, off with DP, so validation samples do not steer the released weights (the last weights are kept)';
}

/**
 * Returns the compact model's DP-SGD mechanism with the schedule and noise at their 'auto'
 * values for the target epsilon. The 'auto' DP mechanism is chosen from the genes it allows.
 */
function defaultSgdMechanism(options: TrainOptions, nTrain: number, nSamples: number): DpMechanism {
  const plan: TrainOptions = { ...options, epochs: 'auto', batchSize: 'auto', noiseMultiplier: null };
  const schedule = resolveSchedule(plan, 'compact', nTrain);
  const steps = stepsPerEpoch(nTrain, schedule.batchSize, true) * schedule.epochs;
  return dpMechanism(plan, schedule.batchSize, nTrain, nSamples, steps);
}

/** Sampling rate, delta, sigma and planned epsilon of a run's DP mechanism. */
type DpMechanism = ReturnType<typeof dpMechanism>;

/** Resolves the run's DP-SGD mechanism: sampling rate, delta, and sigma as given or calibrated to the target epsilon. */
function dpMechanism(options: TrainOptions, batchSize: number, nTrain: number, nSamples: number, plannedSteps: number) {
  const delta = resolveDelta(options.delta, nSamples);
  const samplingRate = Math.min(1, batchSize / nTrain);
  const noiseMultiplier =
    options.noiseMultiplier ?? noiseMultiplierFor({ targetEpsilon: options.targetEpsilon, samplingRate, steps: plannedSteps, delta, accountant: options.accountant });
  const plannedEpsilon = epsilonFor({ samplingRate, noiseMultiplier, steps: plannedSteps, delta, accountant: options.accountant });
  return { delta, samplingRate, noiseMultiplier, plannedEpsilon };
}

/** Builds the VAE configuration for a gene count: the compact tied model, or the standard model the options describe. */
function modelConfig(options: TrainOptions, architecture: Architecture, genes: number, latentDim: number, likelihood: Likelihood, seed: number): VaeConfig {
  const common = {
    nGenes: genes,
    latentDim,
    likelihood,
    prior: options.prior,
    mixtureComponents: options.prior === 'mixture' ? options.mixtureComponents : 1,
  };
  if (architecture === 'compact') {
    return { ...common, hiddenDims: [], dropout: 0, layerNorm: false, decoder: 'tied', inputProjection: null, reconstruction: 'genes' };
  }
  return {
    ...common,
    hiddenDims: options.decoder === 'tied' ? [] : options.hiddenDims,
    dropout: options.dropout,
    layerNorm: options.layerNorm,
    decoder: options.decoder,
    inputProjection: options.inputProjection > 0 ? { dim: Math.min(options.inputProjection, genes), seed: deriveSeed(seed, 'input-projection') } : null,
    reconstruction: options.reconstruction,
  };
}

/** Describes the model in one phrase, for the log and the report. */
export function describeModel(config: VaeConfig, architecture: Architecture, genesAvailable: number): string {
  const genes = config.nGenes < genesAvailable ? `the ${config.nGenes} most variable of ${genesAvailable} genes` : `${config.nGenes} genes`;
  const likelihood = `${config.likelihood} likelihood`;
  if (decoderKind(config) === 'tied') {
    return `${architecture} model: tied linear VAE (probabilistic PCA form) on ${genes}, ${config.latentDim} latent dimensions, ${likelihood}`;
  }
  const encoder = config.hiddenDims.length > 0 ? `MLP encoder [${config.hiddenDims.join(', ')}]` : 'linear encoder';
  const decoder = decoderKind(config) === 'linear' ? 'linear decoder' : `MLP decoder [${[...config.hiddenDims].reverse().join(', ')}]`;
  const projection = config.inputProjection ? `, fixed random projection to ${config.inputProjection.dim} dimensions first` : '';
  const target = reconstructsProjection(config) ? ', reconstructing the projection' : '';
  return `${architecture} model: VAE with ${encoder}, ${config.latentDim} latent dimensions and ${decoder} on ${genes}${projection}${target}, ${likelihood}`;
}

/** Posterior means of every sample, [n, d], in chunks to bound backend memory. */
function encodeAll(model: VaeModel, data: TrainingData): Float32Array {
  const latentDim = model.config.latentDim;
  const latent = new Float32Array(data.nSamples * latentDim);
  const chunk = 1024;
  for (let start = 0; start < data.nSamples; start += chunk) {
    const rows = Math.min(chunk, data.nSamples - start);
    latent.set(model.encodeMeans(data.x.subarray(start * data.nGenes, (start + rows) * data.nGenes), rows), start * latentDim);
  }
  return latent;
}

/** Compares the trained latents with those of the same model at its initial weights, on at most DIAGNOSTIC_MAX_SAMPLES samples. */
function untrainedComparison(
  config: VaeConfig,
  layout: NetworkLayout,
  initial: ParameterSet,
  projection: Float32Array | null,
  data: TrainingData,
  latent: Float32Array,
  rng: Rng,
): UntrainedComparison {
  const untrainedModel = new VaeModel(config, layout, initial, { training: false, projection: projection ?? undefined });
  const rows = diagnosticRows(data.nSamples, DIAGNOSTIC_MAX_SAMPLES, rng.fork('rows'));
  const x = takeRows(data.x, data.nGenes, rows);
  let untrained: Float32Array;
  try {
    untrained = untrainedModel.encodeMeans(x, rows.length);
  } finally {
    untrainedModel.dispose();
  }
  const latentDim = config.latentDim;
  return compareWithUntrained(takeRows(latent, latentDim, rows), untrained, latentDim, x, data.nGenes, rng.fork('pca'));
}

function comparisonLine(comparison: UntrainedComparison): string {
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  return (
    `latents explain ${percent(comparison.trainedExplainedVariance)} of the model genes' variance, against ${percent(comparison.untrainedExplainedVariance)} ` +
    `for the untrained model and ${percent(comparison.pcaExplainedVariance)} for as many principal components`
  );
}

/**
 * Share of the gap between the untrained latents and the principal components that training
 * must close not to be flagged. In the DP runs behind COMPACT_DEFAULTS, training closed 0.75 to
 * 0.83 of it on the cohorts where it clearly beat the untrained model on labels. It closed 0.33
 * to 0.39 on the one where it beat it modestly, and 0.25 to 0.26 on the one where it did not.
 */
const LEARNED_GAP_SHARE = 0.3;

/** Returns a warning when training left the latents close to the untrained model's, or null. */
function learnedLittleWarning(comparison: UntrainedComparison, dp: boolean): string | null {
  if (comparison.gapClosed >= LEARNED_GAP_SHARE) return null;
  const cause = dp ? 'DP noise may have drowned what the data could teach the model, so ' : '';
  return (
    `training closed only ${(100 * Math.max(0, comparison.gapClosed)).toFixed(0)}% of the gap between the untrained model and the principal components: the latents explain ` +
    `${(100 * comparison.trainedExplainedVariance).toFixed(1)}% of the model genes' variance against ${(100 * comparison.untrainedExplainedVariance).toFixed(1)}% untrained ` +
    `and ${(100 * comparison.pcaExplainedVariance).toFixed(1)}% for as many principal components; ` +
    `${cause}structure in the latents may come from the choice of genes and the random initial weights rather than from training` +
    (dp
      ? '. Training under DP learns more with more training samples or a larger --target-epsilon; ' +
        "'genevae privacy noise' shows the noise a setting needs before any budget is spent"
      : '')
  );
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
  sampleIds: string[],
  inputs: ModelInputs,
  config: VaeConfig,
  model: VaeModel,
  latent: Float32Array,
  split: { train: Int32Array; validation: Int32Array },
  options: TrainOptions,
  parameters: ParameterSet,
  projection: Float32Array | null,
  history: EpochRecord[],
  rng: Rng,
): Promise<void> {
  const { data } = inputs;
  const latentDim = config.latentDim;
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

  saveModel(
    join(ctx.outputDir, TRAIN_FILES.model),
    parameters,
    { writtenBy: codeVersion(), architecture: config, options: { ...options }, genes: inputs.geneIds, normalization: inputs.normalization },
    projection,
  );
}

function loadingSample(n: number, rng: Rng): Int32Array {
  if (n <= LOADING_SAMPLES) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(rng.permutation(n).subarray(0, LOADING_SAMPLES)).sort();
}

/**
 * Turns the first SIGINT or SIGTERM during training into a clean stop after the current step,
 * so that the ledger records the steps actually taken instead of keeping the whole planned
 * epsilon reserved. A second signal exits at once, leaving the reservation open (audit then
 * counts it at its planned epsilon).
 */
function catchInterrupts(ctx: StageContext, dp: boolean): { reason: () => string | null; release: () => void } {
  let received: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      ctx.log.error(`${signal} again: exiting now; the ledger keeps this run's reservation at its planned epsilon`);
      process.exit(130);
    }
    received = `${signal} received`;
    ctx.log.warn(
      `${signal} received: stopping after the current step${dp ? ' to record the privacy spent so far' : ''}; send it again to exit at once`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    reason: () => received,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
