import { InputError, InterruptedError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { Adam } from './adam.js';
import { assembleBatch, type TrainingData } from './data.js';
import type { ParameterSet } from './parameters.js';
import type { Batch, BatchGradients, ExampleLosses, VaeModel } from './vae.js';
import { usesTransposedInput, type VaeConfig } from './config.js';
import { drawNoise, noisyAverage, type DpSettings } from './dpsgd.js';

export interface TrainerSettings {
  epochs: number;
  /** Batch size without DP; with DP the expected batch size, so q = batchSize / nTrain. */
  batchSize: number;
  learningRate: number;
  /** Fraction of the planned steps over which the KL weight rises linearly from 0 to beta. */
  klWarmupFraction: number;
  beta: number;
  /**
   * Whether the validation loss chooses the weights: keep the best epoch's and stop after
   * `earlyStoppingPatience` epochs without improvement. Off, every planned epoch runs and the
   * last weights are kept; the validation loss is still computed for the history.
   */
  selectOnValidation: boolean;
  /** Epochs after warm-up without a better validation loss before training stops; 0 never stops early. */
  earlyStoppingPatience: number;
  /** null trains without DP (shuffled fixed-size batches, mean gradient). */
  dp: DpSettings | null;
}

/** Computes a batch's gradient sums; the model itself, or a pool of workers each holding a copy. */
export interface GradientEngine {
  gradients(batch: Batch, options: { klWeight: number; clipNorm: number | null }): Promise<BatchGradients>;
  losses(batch: Batch): Promise<ExampleLosses>;
  upload(parameters: ParameterSet): Promise<void>;
}

/** Wraps a model as a GradientEngine on the calling thread. */
export function localEngine(model: VaeModel): GradientEngine {
  return {
    gradients: async (batch, options) => model.gradients(batch, options),
    losses: async (batch) => model.losses(batch),
    upload: async (parameters) => model.upload(parameters),
  };
}

/** One line of history.json. */
export interface EpochRecord {
  epoch: number;
  /** Optimizer steps taken so far. */
  steps: number;
  /** Mean per-example training loss (reconstruction + KL weight · KL) over the epoch's batches. */
  trainLoss: number;
  /** Mean per-example validation loss (reconstruction + beta · KL), or null without a validation split. */
  validationLoss: number | null;
  /** Mean per-example training reconstruction term and KL term. */
  reconstruction: number;
  kl: number;
  /** KL weight at the epoch's last step. */
  klWeight: number;
  /** Epsilon spent after this epoch; null without DP. */
  epsilon: number | null;
  /** Mean realised batch size (DP's Poisson batches vary). */
  meanBatchSize: number;
  /** Fraction of examples whose gradient norm exceeded the clipping norm; null without DP. */
  clippedFraction: number | null;
  seconds: number;
}

export interface TrainResult {
  history: EpochRecord[];
  stepsTaken: number;
  epochsRun: number;
  /** Epoch whose weights were kept (best validation loss), 1-based; the last epoch without validation-based selection. */
  bestEpoch: number;
  /** Epoch after which early stopping ended training, or null when all epochs ran. */
  stoppedEarlyAt: number | null;
  plannedSteps: number;
  warmupSteps: number;
  /** With DP, over the whole run: examples whose gradient norm exceeded C, examples seen, and their mean gradient norm before clipping. */
  clipping: { clipped: number; examples: number; meanNorm: number } | null;
}

/** Progress visible to the caller while training runs, so a failure can be recorded accurately. */
export interface TrainingProgress {
  stepsTaken: number;
  /** Whether any noisy update has been applied (from then on privacy budget is spent). */
  noisyUpdateApplied: boolean;
}

/** Returns the optimizer steps per epoch, one pass over the training samples on average. */
export function stepsPerEpoch(nTrain: number, batchSize: number, dp: boolean): number {
  if (nTrain === 0) return 0;
  return dp ? Math.max(1, Math.round(nTrain / Math.min(batchSize, nTrain))) : Math.ceil(nTrain / batchSize);
}

/** Returns the KL weight at a 1-based step: linear from 0 to beta over the warm-up steps, then beta. */
export function klWeightAt(step: number, warmupSteps: number, beta: number): number {
  return warmupSteps <= 0 ? beta : beta * Math.min(1, step / warmupSteps);
}

export interface TrainHooks {
  /** Seeded stream for batch order, reparameterisation noise and dropout. */
  rng: Rng;
  onEpoch?: (record: EpochRecord) => void;
  /** Epsilon after a number of steps; called once per epoch with DP. */
  epsilonAfter?: (steps: number) => number;
  progress?: TrainingProgress;
  /** Checked after every step; a returned reason stops training with an InterruptedError. */
  stopRequested?: () => string | null;
}

const EVALUATION_BATCH = 512;

/** Computes each row's reconstruction and KL terms in evaluation mode (no dropout), with noise from `noise`. */
export async function evaluateLosses(
  engine: GradientEngine,
  data: TrainingData,
  config: VaeConfig,
  rows: ArrayLike<number>,
  noise: Rng,
): Promise<{ reconstruction: Float64Array; kl: Float64Array }> {
  const reconstruction = new Float64Array(rows.length);
  const kl = new Float64Array(rows.length);
  for (let start = 0; start < rows.length; start += EVALUATION_BATCH) {
    const part = Array.from({ length: Math.min(EVALUATION_BATCH, rows.length - start) }, (_, i) => rows[start + i]);
    const batch = assembleBatch(data, config, part, { noise, dropout: null, transposed: false });
    const losses = await engine.losses(batch);
    reconstruction.set(losses.reconstruction, start);
    kl.set(losses.kl, start);
  }
  return { reconstruction, kl };
}

function mean(values: Float64Array, klValues: Float64Array, klWeight: number): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] + klWeight * klValues[i];
  return values.length > 0 ? total / values.length : Number.NaN;
}

/**
 * Trains the VAE. Without DP it takes seeded shuffled batches and the mean gradient. With
 * DP-SGD each step samples a Poisson batch (rate q) and clips each example's gradient to norm
 * C. It then adds N(0, (sigma·C)²) noise to the sum and divides by the expected batch size
 * q·nTrain, so an empty batch is a valid, noise-only step. Parameters end at the best
 * validation epoch when `selectOnValidation` is set, else at the last.
 */
export async function train(
  engine: GradientEngine,
  config: VaeConfig,
  parameters: ParameterSet,
  data: TrainingData,
  trainRows: Int32Array,
  validationRows: Int32Array,
  settings: TrainerSettings,
  hooks: TrainHooks,
): Promise<TrainResult> {
  const nTrain = trainRows.length;
  const dp = settings.dp;
  const perEpoch = stepsPerEpoch(nTrain, settings.batchSize, dp !== null);
  const plannedSteps = perEpoch * settings.epochs;
  const warmupSteps = Math.round(settings.klWarmupFraction * plannedSteps);
  const adam = new Adam({ learningRate: settings.learningRate });
  const progress = hooks.progress ?? { stepsTaken: 0, noisyUpdateApplied: false };
  const batchRng = hooks.rng.fork('batches');
  const noiseRng = hooks.rng.fork('reparameterisation');
  const dropoutRng = hooks.rng.fork('dropout');
  const noiseBuffers = new Map<string, Float32Array>();
  const expectedBatch = dp ? dp.samplingRate * nTrain : 0;

  const history: EpochRecord[] = [];
  let best: { loss: number; epoch: number; parameters: ParameterSet } | null = null;
  let epochsWithoutImprovement = 0;
  let stoppedEarlyAt: number | null = null;
  const clipping = dp ? { clipped: 0, examples: 0, meanNorm: 0 } : null;
  let normSum = 0;

  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const started = performance.now();
    let reconstructionSum = 0;
    let klSum = 0;
    let lossSum = 0;
    let examples = 0;
    let clipped = 0;
    let klWeight = 0;
    const order = dp ? null : batchRng.permutation(nTrain);

    for (let s = 0; s < perEpoch; s++) {
      const step = progress.stepsTaken + 1;
      klWeight = klWeightAt(step, warmupSteps, settings.beta);
      let rows: Int32Array;
      if (dp) {
        const sampled = dp.random.poissonBatch(nTrain, dp.samplingRate);
        rows = Int32Array.from(sampled, (i) => trainRows[i]);
      } else {
        const part = order!.subarray(s * settings.batchSize, Math.min(nTrain, (s + 1) * settings.batchSize));
        rows = Int32Array.from(part, (i) => trainRows[i]);
      }

      // Start the gradients, then draw the noise (which needs none) while workers compute.
      const pending = rows.length > 0
        ? engine.gradients(assembleBatch(data, config, rows, { noise: noiseRng, dropout: dropoutRng, transposed: usesTransposedInput(config) }), {
            klWeight,
            clipNorm: dp ? dp.clipNorm : null,
          })
        : null;
      const noise = dp ? drawNoise(parameters, dp, noiseBuffers) : null;
      const result = pending ? await pending : null;
      if (result) {
        reconstructionSum += result.reconstructionSum;
        klSum += result.klSum;
        lossSum += result.reconstructionSum + klWeight * result.klSum;
        examples += rows.length;
        if (dp && result.norms) {
          for (const n of result.norms) {
            if (n > dp.clipNorm) clipped++;
            normSum += n;
          }
          clipping!.examples += result.norms.length;
        }
      }

      if (!dp && !result) continue;
      let gradients: Map<string, Float32Array>;
      if (dp) {
        gradients = noisyAverage(parameters, result?.sums ?? null, noise!, expectedBatch);
      } else {
        gradients = result!.sums;
        for (const gradient of gradients.values()) for (let i = 0; i < gradient.length; i++) gradient[i] /= rows.length;
      }
      adam.update(parameters, gradients);
      await engine.upload(parameters);
      progress.stepsTaken = step;
      if (dp) progress.noisyUpdateApplied = true;
      const stopReason = hooks.stopRequested?.();
      if (stopReason) throw new InterruptedError(`training stopped after step ${step}: ${stopReason}`);
    }

    let validationLoss: number | null = null;
    if (validationRows.length > 0) {
      const losses = await evaluateLosses(engine, data, config, validationRows, hooks.rng.fork('validation-noise'));
      validationLoss = mean(losses.reconstruction, losses.kl, settings.beta);
    }
    const record: EpochRecord = {
      epoch,
      steps: progress.stepsTaken,
      trainLoss: examples > 0 ? lossSum / examples : Number.NaN,
      validationLoss,
      reconstruction: examples > 0 ? reconstructionSum / examples : Number.NaN,
      kl: examples > 0 ? klSum / examples : Number.NaN,
      klWeight,
      epsilon: dp && hooks.epsilonAfter ? hooks.epsilonAfter(progress.stepsTaken) : null,
      meanBatchSize: perEpoch > 0 ? examples / perEpoch : 0,
      clippedFraction: dp ? clipped / Math.max(examples, 1) : null,
      seconds: (performance.now() - started) / 1000,
    };
    if (clipping) clipping.clipped += clipped;
    history.push(record);
    hooks.onEpoch?.(record);
    if (examples > 0 && !Number.isFinite(record.trainLoss)) {
      throw new InputError(
        `training diverged in epoch ${epoch}: the training loss is ${record.trainLoss}`,
        {},
        'lower --learning-rate, or use --likelihood gaussian if the counts have extreme values',
      );
    }

    if (settings.selectOnValidation && validationLoss !== null && Number.isFinite(validationLoss)) {
      if (!best || validationLoss < best.loss) {
        best = { loss: validationLoss, epoch, parameters: parameters.clone() };
        epochsWithoutImprovement = 0;
      } else if (progress.stepsTaken >= warmupSteps) {
        // Patience counts only once the KL weight is full, so warm-up never stops a run.
        epochsWithoutImprovement++;
      }
      if (settings.earlyStoppingPatience > 0 && epochsWithoutImprovement >= settings.earlyStoppingPatience && epoch < settings.epochs) {
        stoppedEarlyAt = epoch;
        break;
      }
    }
    // Let log lines and signals through between epochs.
    await new Promise((resolve) => setImmediate(resolve));
  }

  if (best && best.epoch !== history.length) {
    for (const [name, values] of best.parameters.values) parameters.get(name).set(values);
    await engine.upload(parameters);
  }
  return {
    history,
    stepsTaken: progress.stepsTaken,
    epochsRun: history.length,
    bestEpoch: best ? best.epoch : history.length,
    stoppedEarlyAt,
    plannedSteps,
    warmupSteps,
    clipping: clipping ? { ...clipping, meanNorm: normSum / Math.max(clipping.examples, 1) } : null,
  };
}
