import { resolve } from 'node:path';
import type { Command } from 'commander';
import { COMPACT_AUTO_MAX_SAMPLES, COMPACT_DEFAULTS, LATENT_DIM_DEFAULTS, SECOND_MOMENT_DEFAULTS, STANDARD_SCHEDULE, TRAIN_DEFAULTS, type TrainOptions } from '../../pipeline/train.js';
import { PIPELINE_DEFAULTS } from '../../pipeline/index.js';
import { runTrain } from '../stages/train.js';
import { parseChoice, parseInteger, parseIntegerList, parseNumber, pickDefined } from './parse.js';
import { runStandaloneStage } from './standalone.js';

const d = TRAIN_DEFAULTS;

/** Parses --hidden-dims: comma-separated positive widths, or 'none' for no hidden layer. */
function parseHiddenDims(raw: string): number[] {
  return raw.trim().toLowerCase() === 'none' ? [] : parseIntegerList(raw);
}

/** Wraps a number parser so that it also accepts 'auto'. */
function orAuto(parse: (raw: string) => number) {
  return (raw: string): number | 'auto' => (raw.trim().toLowerCase() === 'auto' ? 'auto' : parse(raw));
}

/** Adds the train stage's options; `genevae run` composes them with the other stages'. */
export function addTrainOptions(command: Command): Command {
  return command
    .option(
      '--architecture <kind>',
      `model size: standard (the MLP VAE the options below describe), compact (tied linear VAE on the most variable genes, ` +
        `a few hundred to a few thousand parameters), or auto (compact with DP, and without DP up to ${COMPACT_AUTO_MAX_SAMPLES} ` +
        `training samples; standard otherwise) (default: ${d.architecture})`,
      parseChoice(['auto', 'standard', 'compact'] as const),
    )
    .option(
      '--model-genes <n>',
      `genes the VAE reads and reconstructs: the n highly variable genes with the highest normalized dispersion, 0 for all that normalize selected, ` +
        `or auto (all for the standard model; for the compact model the most, up to ${COMPACT_DEFAULTS.maxGenes}, that keep DP-SGD's noise-to-signal ratio at or below ` +
        `${COMPACT_DEFAULTS.noiseToSignalTarget}, or the second-moment release's relative noise at or below ${SECOND_MOMENT_DEFAULTS.noiseEdgeTarget}) (default: ${d.genes})`,
      orAuto(parseInteger(0)),
    )
    .option(
      '--latent-dim <dims>',
      `latent dimensions of the VAE, or auto (${LATENT_DIM_DEFAULTS.usual}; ${LATENT_DIM_DEFAULTS.budgetLimited} only under DP-SGD when its noise-to-signal target ` +
        `holds the compact model's auto gene count below its limit, where --dp-mechanism auto takes the second-moment release instead) (default: ${d.latentDim})`,
      orAuto(parseInteger(1)),
    )
    .option(
      '--hidden-dims <widths>',
      `standard model: comma-separated widths of the encoder's hidden layers, or 'none' for a linear encoder; an mlp decoder mirrors them (default: ${d.hiddenDims.join(',')})`,
      parseHiddenDims,
    )
    .option('--dropout <rate>', `dropout rate on the encoder's hidden layers, in [0, 1) (default: ${d.dropout})`, parseNumber(0, 0.99))
    .option(
      '--decoder <kind>',
      `standard model's decoder: mlp (mirrors the encoder's hidden layers), linear (latent straight to genes, as scVI's LDVAE) or tied (linear encoder and decoder sharing one weight matrix, probabilistic PCA as a VAE) (default: ${d.decoder})`,
      parseChoice(['mlp', 'linear', 'tied'] as const),
    )
    .option(
      '--input-projection <width>',
      `experimental, standard model: width of a fixed random projection of the genes in front of the encoder, drawn from the seed and never trained; ` +
        `it lost most of the structure of cohorts whose signal lies in few genes; 0 for none (default: ${d.inputProjection})`,
      parseInteger(0),
    )
    .option(
      '--reconstruction <target>',
      `experimental, standard model: what the decoder reconstructs: genes, or projection (the input projection's coordinates, with a Gaussian likelihood) (default: ${d.reconstruction})`,
      parseChoice(['genes', 'projection'] as const),
    )
    .option('--no-layer-norm', 'do not apply layer normalization in the hidden layers (default: apply it)')
    .option(
      '--likelihood <kind>',
      `decoder likelihood: gaussian on normalized values, nb or zinb on raw counts, or auto (gaussian for the compact model; otherwise nb when the input holds counts, else gaussian) (default: ${d.likelihood})`,
      parseChoice(['auto', 'gaussian', 'nb', 'zinb'] as const),
    )
    .option('--prior <kind>', `latent prior: normal, or mixture (Gaussian mixture with learned means and variances) (default: ${d.prior})`, parseChoice(['normal', 'mixture'] as const))
    .option('--mixture-components <k>', `components of the mixture prior (default: ${d.mixtureComponents})`, parseInteger(1))
    .option(
      '--epochs <n>',
      `maximum passes over the training samples (with the second-moment release: steps of the fit to the release, which spend no privacy), or auto ` +
        `(${STANDARD_SCHEDULE.epochs} for the standard model, about ${COMPACT_DEFAULTS.steps} optimizer steps for the compact one, ${SECOND_MOMENT_DEFAULTS.fitSteps} fit steps for the release) (default: ${d.epochs})`,
      orAuto(parseInteger(1)),
    )
    .option(
      '--batch-size <n>',
      `batch size, with DP-SGD the expected size of each Poisson batch, with the second-moment release the pseudo-samples per step of the fit, or auto ` +
        `(${STANDARD_SCHEDULE.batchSize} for the standard model; for the compact one the larger of ${COMPACT_DEFAULTS.minBatchSize} and half the training samples; ` +
        `for the release every pseudo-sample) (default: ${d.batchSize})`,
      orAuto(parseInteger(1)),
    )
    .option(
      '--learning-rate <rate>',
      `Adam learning rate, or auto (${STANDARD_SCHEDULE.learningRate} for the standard model, ${COMPACT_DEFAULTS.learningRate} for the compact one) (default: ${d.learningRate})`,
      orAuto(parseNumber(0, Infinity, { exclusiveMin: true })),
    )
    .option('--kl-warmup <fraction>', `fraction of the planned steps over which the KL weight rises from 0 to beta (default: ${d.klWarmupFraction})`, parseNumber(0, 1))
    .option('--beta <weight>', `weight of the KL term after warm-up (default: ${d.beta})`, parseNumber(0))
    .option('--validation-fraction <fraction>', `fraction of samples held out for the validation ELBO, the membership-inference audit and early stopping, 0 for none (default: ${d.validationFraction})`, parseNumber(0, 0.9))
    .option(
      '--early-stopping <mode>',
      `early stopping and best-epoch selection on the validation loss: on, off, or auto (off with DP, where the validation samples would steer the weights outside the guarantee; on without) (default: ${d.earlyStopping})`,
      parseChoice(['auto', 'on', 'off'] as const),
    )
    .option('--early-stopping-patience <epochs>', `with early stopping on, epochs without a better validation loss before training stops, 0 to only keep the best epoch (default: ${d.earlyStoppingPatience})`, parseInteger(0))
    .option('--no-dp', 'train without differential privacy (the model is then not privacy-protected)')
    .option(
      '--dp-mechanism <kind>',
      'how DP protects the training samples: sgd (DP-SGD: clipped per-sample gradients plus noise at every step), second-moment (compact model only: ' +
        'one noisy release of the samples\' second-moment matrix, to which the model is then fitted), or auto (second-moment for the compact model when ' +
        'DP-SGD at this --target-epsilon, with its default schedule, would hold it to fewer genes than its limit, as on cohorts of a few dozen samples; ' +
        `sgd otherwise, and whenever --clip-norm is set) (default: ${d.dpMechanism})`,
      parseChoice(['auto', 'sgd', 'second-moment'] as const),
    )
    .option('--clip-norm <norm>', `per-example gradient clipping norm C of DP-SGD (default: ${d.clipNorm})`, parseNumber(0, Infinity, { exclusiveMin: true }))
    .option(
      '--noise-multiplier <sigma>',
      'noise standard deviation divided by the sensitivity: by C for DP-SGD, by 1 for the second-moment release (default: calibrated from --target-epsilon)', parseNumber(0, Infinity, { exclusiveMin: true }))
    .option('--target-epsilon <epsilon>', `epsilon that the calibrated noise reaches after the planned steps or the release (default: ${d.targetEpsilon})`, parseNumber(0, Infinity, { exclusiveMin: true }))
    .option('--delta <delta>', 'delta of (epsilon, delta)-DP; must be below 1 / number of samples (default: 1 / (10 x samples))', parseNumber(0, 1, { exclusiveMin: true }))
    .option('--accountant <name>', `privacy accountant: rdp or pld (default: ${d.accountant})`, parseChoice(['rdp', 'pld'] as const))
    .option('--backend <name>', `TensorFlow.js backend: auto (tfjs-node-gpu, tfjs-node, wasm, cpu, the first installed), wasm, cpu or tensorflow (default: ${d.backend})`, parseChoice(['auto', 'wasm', 'cpu', 'tensorflow'] as const))
    .option('--train-workers <n>', `worker threads computing each batch's gradients, one backend each (default: ${d.workers})`, parseInteger(1, 64));
}

/** Collects the train options set on the command line; unset ones are left out so that the defaults apply. */
export function trainOptionsFrom(parsed: Record<string, unknown>): Partial<TrainOptions> {
  const out = pickDefined<TrainOptions>(parsed, [
    'architecture',
    'latentDim',
    'hiddenDims',
    'dropout',
    'decoder',
    'inputProjection',
    'reconstruction',
    'likelihood',
    'prior',
    'mixtureComponents',
    'epochs',
    'batchSize',
    'learningRate',
    'beta',
    'validationFraction',
    'earlyStopping',
    'earlyStoppingPatience',
    'dpMechanism',
    'clipNorm',
    'noiseMultiplier',
    'targetEpsilon',
    'delta',
    'accountant',
    'backend',
  ]);
  if (parsed.modelGenes !== undefined) out.genes = parsed.modelGenes as number | 'auto';
  if (parsed.klWarmup !== undefined) out.klWarmupFraction = parsed.klWarmup as number;
  if (parsed.trainWorkers !== undefined) out.workers = parsed.trainWorkers as number;
  if (parsed.layerNorm === false) out.layerNorm = false;
  if (parsed.dp === false) out.dp = false;
  return out;
}

export function registerTrain(program: Command): void {
  addTrainOptions(
    program
      .command('train')
      .argument('<run-dir>', 'run directory whose normalize stage has completed')
      .description('train the VAE with DP-SGD and write latents, history and the model (writes 03-train/)')
      .option('--privacy-dir <dir>', `directory of the privacy ledger and budget policy (default: ${PIPELINE_DEFAULTS.privacyDir})`)
      .option('--force', 'rerun even when inputs and options are unchanged'),
  ).action(async (runDir: string, parsed: Record<string, unknown>) => {
    const privacyDir = resolve((parsed.privacyDir as string | undefined) ?? d.privacyDir);
    const options: TrainOptions = { ...d, ...trainOptionsFrom(parsed), privacyDir };
    await runStandaloneStage(runDir, 'train', options, runTrain, { force: Boolean(parsed.force) });
  });
}
