import { COMPACT_AUTO_MAX_SAMPLES, COMPACT_DEFAULTS, LATENT_DIM_DEFAULTS, SECOND_MOMENT_DEFAULTS, STANDARD_SCHEDULE, TRAIN_DEFAULTS, type TrainOptions } from '../../pipeline/train.js';
import type { VaeConfig } from './config.js';
import { elementCount, networkLayout } from './parameters.js';
import { stepsPerEpoch } from './trainer.js';
import { InputError } from '../util/errors.js';

/** The model size a run uses. */
export type Architecture = 'standard' | 'compact';

/** A resolved choice and the sentence that explains it, for the summary and the report. */
export interface Resolved<T> {
  value: T;
  reason: string;
}

/** Options only the standard model reads, with the flag that sets each. */
const STANDARD_ONLY_FLAGS: [keyof TrainOptions, string][] = [
  ['hiddenDims', '--hidden-dims'],
  ['dropout', '--dropout'],
  ['layerNorm', '--no-layer-norm'],
  ['decoder', '--decoder'],
  ['inputProjection', '--input-projection'],
  ['reconstruction', '--reconstruction'],
];

/** Returns the flags of standard-model options that differ from their defaults, and --likelihood when it selects a count model. */
export function standardOnlyFlags(options: TrainOptions): string[] {
  const flags = STANDARD_ONLY_FLAGS.filter(([key]) => JSON.stringify(options[key]) !== JSON.stringify(TRAIN_DEFAULTS[key])).map(([, flag]) => flag);
  if (options.likelihood !== 'auto' && options.likelihood !== 'gaussian') flags.push(`--likelihood ${options.likelihood}`);
  return flags;
}

/**
 * Resolves the 'auto' architecture. Standardized input gets the compact model with DP, and
 * without DP when the training split has at most COMPACT_AUTO_MAX_SAMPLES samples. Every other
 * case gets the standard model, and so does a non-private run whose `standardFlags` (from
 * standardOnlyFlags) set options that only the standard model reads.
 */
export function resolveArchitecture(
  option: TrainOptions['architecture'],
  dp: boolean,
  standardized: boolean,
  nTrain: number,
  standardFlags: readonly string[] = [],
): Resolved<Architecture> {
  if (option !== 'auto') return { value: option, reason: `set by --architecture ${option}` };
  if (!dp && nTrain > COMPACT_AUTO_MAX_SAMPLES) {
    return { value: 'standard', reason: `auto: without DP and with ${nTrain} training samples (more than ${COMPACT_AUTO_MAX_SAMPLES}) the standard MLP VAE is used` };
  }
  if (!dp && standardFlags.length > 0) {
    return { value: 'standard', reason: `auto: without DP the standard MLP VAE is used, because ${standardFlags.join(', ')} set options of that model` };
  }
  if (!standardized) {
    return {
      value: 'standard',
      reason: 'auto: the compact model needs genes centred and scaled by normalize, and this run used --no-scale, so the standard model is used',
    };
  }
  if (!dp) {
    return {
      value: 'compact',
      reason:
        `auto: with ${nTrain} training samples (at most ${COMPACT_AUTO_MAX_SAMPLES}) the compact model (tied linear VAE on the most variable genes) is used, ` +
        'because the standard model has far more parameters than such a cohort can fit',
    };
  }
  return {
    value: 'compact',
    reason: 'auto: with DP the compact model (tied linear VAE on the most variable genes) is used, because the noise DP needs grows with the size of the model',
  };
}

/** Batch size, epochs and learning rate after 'auto' is resolved. */
export interface Schedule {
  batchSize: number;
  epochs: number;
  learningRate: number;
  reasons: string[];
}

/** Resolves the 'auto' batch size, epochs and learning rate for the architecture and training split. */
export function resolveSchedule(options: Pick<TrainOptions, 'batchSize' | 'epochs' | 'learningRate' | 'dp'>, architecture: Architecture, nTrain: number): Schedule {
  const reasons: string[] = [];
  let batchSize: number;
  if (options.batchSize !== 'auto') {
    batchSize = options.batchSize;
  } else if (architecture === 'compact') {
    batchSize = Math.max(1, Math.min(nTrain, Math.max(COMPACT_DEFAULTS.minBatchSize, Math.ceil(nTrain / 2))));
    let share = 'half of the';
    if (batchSize === nTrain) share = 'all';
    else if (batchSize === COMPACT_DEFAULTS.minBatchSize) share = `${COMPACT_DEFAULTS.minBatchSize} of the`;
    reasons.push(`batch size ${batchSize}: auto for the compact model, ${share} ${nTrain} training samples per expected batch`);
  } else {
    batchSize = STANDARD_SCHEDULE.batchSize;
  }

  let epochs: number;
  if (options.epochs !== 'auto') {
    epochs = options.epochs;
  } else if (architecture === 'compact') {
    const perEpoch = Math.max(1, stepsPerEpoch(nTrain, batchSize, options.dp));
    epochs = Math.max(1, Math.ceil(COMPACT_DEFAULTS.steps / perEpoch));
    reasons.push(`${epochs} epochs: auto for the compact model, about ${COMPACT_DEFAULTS.steps} optimizer steps of ${perEpoch} per epoch`);
  } else {
    epochs = STANDARD_SCHEDULE.epochs;
  }

  let learningRate: number;
  if (options.learningRate !== 'auto') {
    learningRate = options.learningRate;
  } else {
    learningRate = architecture === 'compact' ? COMPACT_DEFAULTS.learningRate : STANDARD_SCHEDULE.learningRate;
    if (architecture === 'compact') reasons.push(`learning rate ${learningRate}: auto for the compact model`);
  }
  return { batchSize, epochs, learningRate, reasons };
}

/**
 * Schedule of the fit to a second-moment release. The fit reads no private data, so its steps
 * cost nothing: 'auto' epochs take SECOND_MOMENT_DEFAULTS.fitSteps full-batch steps, and the
 * 'auto' batch contains every pseudo-sample (one per gene).
 */
export function resolveFitSchedule(options: Pick<TrainOptions, 'batchSize' | 'epochs' | 'learningRate'>, genes: number): Schedule {
  const reasons: string[] = [];
  const batchSize = options.batchSize === 'auto' ? genes : options.batchSize;
  if (options.batchSize === 'auto') reasons.push('batch size: auto for the fit to the release, every pseudo-sample in each step');
  const epochs = options.epochs === 'auto' ? SECOND_MOMENT_DEFAULTS.fitSteps : options.epochs;
  if (options.epochs === 'auto') reasons.push(`${epochs} steps (epochs of one step each): auto for the fit to the release, which reads no private data and so spends no privacy`);
  const learningRate = options.learningRate === 'auto' ? COMPACT_DEFAULTS.learningRate : options.learningRate;
  if (options.learningRate === 'auto') reasons.push(`learning rate ${learningRate}: auto for the compact model`);
  return { batchSize, epochs, learningRate, reasons };
}

/** Trainable parameters of a model with this configuration. */
export function parameterCount(config: VaeConfig): number {
  return networkLayout(config).parameters.reduce((total, spec) => total + elementCount(spec.shape), 0);
}

/**
 * Expected norm of the noise in one DP-SGD step's averaged gradient, divided by the clipping
 * norm C: sigma * sqrt(P) / (q * n). The clipped gradients' average has norm at most C, so above
 * 1 the noise outweighs everything the data can contribute to a step.
 */
export function noiseToSignal(noiseMultiplier: number, parameters: number, samplingRate: number, nTrain: number): number {
  return (noiseMultiplier * Math.sqrt(parameters)) / (samplingRate * nTrain);
}

/**
 * Resolves the 'auto' latent dimensions. `genesAt(dims)` resolves the gene count for a latent
 * size, and `limit` is the most genes the compact model may take. With DP, when the
 * noise-to-signal target keeps the 'auto' gene count below that limit at the usual size, the
 * smaller size is used, because it halves the parameters each gene adds.
 */
export function resolveLatentDim(
  option: TrainOptions['latentDim'],
  budgetBound: boolean,
  genesAt: (dims: number) => number,
  limit: number,
): Resolved<number> {
  if (option !== 'auto') return { value: option, reason: `set by --latent-dim ${option}` };
  const usual = LATENT_DIM_DEFAULTS.usual;
  if (!budgetBound) return { value: usual, reason: `auto: ${usual}` };
  const atUsual = genesAt(usual);
  if (atUsual >= limit) return { value: usual, reason: `auto: ${usual}, because the noise-to-signal target leaves the compact model all ${limit} genes it may take` };
  const smaller = LATENT_DIM_DEFAULTS.budgetLimited;
  return {
    value: smaller,
    reason:
      `auto: ${smaller}, because at ${usual} dimensions the noise-to-signal target would hold the compact model to ${atUsual} of ${limit} genes, ` +
      `and at ${smaller} it reads ${genesAt(smaller)}`,
  };
}

/** A DP mechanism the train stage can run. */
export type DpMechanismKind = 'sgd' | 'second-moment';

/**
 * Resolves the 'auto' DP mechanism. `genesUnderSgd` is the compact model's 'auto' gene count
 * under DP-SGD at `latentDim` dimensions, with the schedule and noise at their 'auto' values for
 * the target epsilon, or null for the standard model. So --epochs, --batch-size,
 * --noise-multiplier and --model-genes do not change the choice. `limit` is the most genes it may take.
 * `sgdFlags` (from sgdOnlyFlags) makes 'auto' keep DP-SGD and an explicit release fail. The second-moment release is chosen when DP-SGD's
 * noise-to-signal target would hold the model below its limit.
 */
export function resolveDpMechanism(
  option: TrainOptions['dpMechanism'],
  architecture: Architecture,
  genesUnderSgd: number | null,
  limit: number,
  latentDim: number = LATENT_DIM_DEFAULTS.usual,
  sgdFlags: readonly string[] = [],
): Resolved<DpMechanismKind> {
  checkDpMechanism(option, architecture, sgdFlags);
  if (option !== 'auto') return { value: option, reason: `set by --dp-mechanism ${option}` };
  if (architecture !== 'compact' || genesUnderSgd === null) return { value: 'sgd', reason: 'auto: DP-SGD, the only mechanism the standard model can use' };
  if (sgdFlags.length > 0) return { value: 'sgd', reason: `auto: DP-SGD, because ${sgdFlags.join(', ')} sets an option only DP-SGD reads` };
  if (genesUnderSgd >= limit) {
    return { value: 'sgd', reason: `auto: DP-SGD, because at this target epsilon its noise-to-signal target leaves the compact model all ${limit} genes it may take` };
  }
  return {
    value: 'second-moment',
    reason:
      `auto: the second-moment release, because at this target epsilon DP-SGD's noise-to-signal target would hold the compact model to ${genesUnderSgd} of ${limit} genes ` +
      `at ${latentDim} latent dimensions; one noisy release of the second-moment matrix, whose noise does not grow with the latent size, ` +
      'loses less of the structure on such small cohorts',
  };
}

/**
 * Rejects an explicit second-moment release that cannot run: with the standard model, or with
 * `sgdFlags` (from sgdOnlyFlags) set. `architecture` may be the option itself, so that the
 * pipeline can check before any stage runs.
 */
export function checkDpMechanism(option: TrainOptions['dpMechanism'], architecture: TrainOptions['architecture'], sgdFlags: readonly string[]): void {
  if (option !== 'second-moment') return;
  if (architecture === 'standard') {
    throw new InputError(
      'the second-moment release fits only the compact model (a tied linear VAE, whose loss depends on the data only through its second moment)',
      {},
      'use --architecture compact (or auto with DP), or --dp-mechanism sgd',
    );
  }
  if (sgdFlags.length > 0) {
    throw new InputError(
      `${sgdFlags.join(', ')} applies only to DP-SGD, and the second-moment release scales every training row to norm 1 instead`,
      {},
      `drop ${sgdFlags.join(', ')}, or use --dp-mechanism sgd`,
    );
  }
}

/** Flags of options that only DP-SGD reads, when they differ from their defaults. */
export function sgdOnlyFlags(options: Pick<TrainOptions, 'clipNorm'>): string[] {
  return options.clipNorm !== TRAIN_DEFAULTS.clipNorm ? ['--clip-norm'] : [];
}

/** The budget rule behind a compact model's 'auto' gene count: the quantity, its target, and how to name it. */
export interface GeneBudgetRule {
  target: number;
  /** Name of the bounded quantity, for the reason text. */
  quantity: string;
}

/** DP-SGD's rule: the planned noise-to-signal ratio per step. */
export const SGD_GENE_RULE: GeneBudgetRule = { target: COMPACT_DEFAULTS.noiseToSignalTarget, quantity: 'planned noise-to-signal ratio' };

/** The second-moment release's rule: the noise edge relative to the matrix's trace (releaseNoiseEdge). */
export const SECOND_MOMENT_GENE_RULE: GeneBudgetRule = { target: SECOND_MOMENT_DEFAULTS.noiseEdgeTarget, quantity: "second-moment release's relative noise" };

/**
 * Resolves the gene count. An explicit count is capped at the genes available (0 takes all).
 * 'auto' takes all for the standard model. For the compact model it takes the largest count in
 * [minGenes, maxGenes] whose `ratioFor(genes)` (the quantity `rule` bounds, or null without
 * DP) is at most the rule's target, and the smallest count when none is.
 */
export function resolveGenes(
  option: TrainOptions['genes'],
  available: number,
  architecture: Architecture,
  ratioFor: (genes: number) => number | null,
  rule: GeneBudgetRule = SGD_GENE_RULE,
): Resolved<number> {
  if (option !== 'auto') {
    if (option === 0 || option >= available) return { value: available, reason: `all ${available} genes selected by normalize (--model-genes ${option})` };
    return { value: option, reason: `the ${option} most variable genes (--model-genes ${option})` };
  }
  if (architecture === 'standard') return { value: available, reason: `auto: all ${available} genes selected by normalize` };

  const upper = Math.min(COMPACT_DEFAULTS.maxGenes, available);
  const lower = Math.min(COMPACT_DEFAULTS.minGenes, upper);
  if (ratioFor(upper) === null) {
    return { value: upper, reason: `auto: the ${upper} most variable genes (the compact model's limit is ${COMPACT_DEFAULTS.maxGenes})` };
  }
  // The ratio grows with the gene count, so a binary search finds the largest count within the target.
  const within = (genes: number) => (ratioFor(genes) as number) <= rule.target;
  if (!within(lower)) {
    return {
      value: lower,
      reason:
        `auto: the ${lower} most variable genes, the fewest the compact model uses; even so the ${rule.quantity} ` +
        `${(ratioFor(lower) as number).toFixed(2)} is above the target ${rule.target}`,
    };
  }
  let low = lower;
  let high = upper;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (within(middle)) low = middle;
    else high = middle - 1;
  }
  const limit = low === upper ? `the compact model's limit of ${COMPACT_DEFAULTS.maxGenes} or the genes available` : `the most that keep the ${rule.quantity} at or below ${rule.target}`;
  return { value: low, reason: `auto: the ${low} most variable genes, ${limit}` };
}
