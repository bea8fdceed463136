/**
 * Model size preset. 'standard' is the MLP VAE the other options describe. 'compact' is the
 * tied linear VAE (probabilistic PCA as a VAE) on at most 256 of the most variable genes, with
 * a Gaussian likelihood on the standardized values. It has genes x (latent dimensions + 1) +
 * latent dimensions trainable parameters, a few hundred to a few thousand, instead of about half
 * a million. DP-SGD needs that, because its noise grows with the square root of the parameter count.
 */
export type ArchitectureChoice = 'auto' | 'standard' | 'compact';

/** Options of the train stage: the VAE and its differentially private training. */
export interface TrainOptions {
  /**
   * Model size preset. 'auto' takes 'compact' with DP, and without DP when the training split
   * has at most COMPACT_AUTO_MAX_SAMPLES samples; 'standard' otherwise. The compact model
   * ignores hiddenDims, dropout, layerNorm, decoder, inputProjection and reconstruction. It
   * needs standardized input (normalize's default scaling), so with --no-scale 'auto' takes
   * 'standard'. Default 'auto'.
   */
  architecture: ArchitectureChoice;
  /**
   * Genes the model reads and reconstructs: the highly variable genes with the highest
   * normalized dispersion (normalize's ranking). 0 takes every gene normalize selected. 'auto'
   * takes every gene for the standard model. For the compact model it takes the most genes,
   * within COMPACT_DEFAULTS' bounds, whose planned noise-to-signal ratio stays at or below its
   * target. Default 'auto'.
   */
  genes: number | 'auto';
  /**
   * Latent dimensions, or 'auto': LATENT_DIM_DEFAULTS.usual, except with DP when the compact
   * model's 'auto' gene count is held below its limit by the noise-to-signal target, where it
   * takes LATENT_DIM_DEFAULTS.budgetLimited. Default 'auto'.
   */
  latentDim: number | 'auto';
  /** Widths of the encoder's hidden layers; the decoder uses them in reverse order. Standard model only. Default [128]. */
  hiddenDims: number[];
  /** Dropout rate on the encoder's hidden layers during training, in [0, 1). Default 0.1 (as scVI). */
  dropout: number;
  /** Layer normalization before each hidden ReLU (never batch normalization, which mixes examples). Default true. */
  layerNorm: boolean;
  /**
   * Decoder of the standard model: 'mlp' mirrors the encoder's hidden layers; 'linear' maps the
   * latent straight to the genes (scVI's LDVAE); 'tied' shares one weight matrix between a
   * linear encoder and a linear decoder (the compact model's form; Gaussian, no hidden layers).
   * Default 'mlp'.
   */
  decoder: 'mlp' | 'linear' | 'tied';
  /**
   * EXPERIMENTAL. Width of a fixed random projection of the genes in front of the encoder (drawn
   * from the seed, never trained); 0 for none. Measured on the demo cohort, a 64-wide projection
   * lost most of the structure, whose signal lies in a few genes. Default 0.
   */
  inputProjection: number;
  /** EXPERIMENTAL. What the decoder reconstructs: 'genes', or 'projection' (the input projection's coordinates, Gaussian likelihood only). Default 'genes'. */
  reconstruction: 'genes' | 'projection';
  /**
   * Likelihood of the data: 'gaussian' on normalized values, 'nb' or 'zinb' on raw counts with
   * the library size as offset. 'auto' takes 'gaussian' for the compact model, else 'nb' when
   * normalize kept raw counts and 'gaussian' otherwise. Default 'auto'.
   */
  likelihood: 'auto' | 'gaussian' | 'nb' | 'zinb';
  /** Prior over the latent space: 'normal' (standard normal) or 'mixture' (Gaussian mixture with learned means and variances). Default 'normal'. */
  prior: 'normal' | 'mixture';
  /** Components of the mixture prior. Default 10. */
  mixtureComponents: number;
  /**
   * Passes over the training samples (the maximum when early stopping ends training sooner).
   * 'auto' takes STANDARD_SCHEDULE.epochs for the standard model, and for the compact model as
   * many as give COMPACT_DEFAULTS.steps optimizer steps. Default 'auto'.
   */
  epochs: number | 'auto';
  /**
   * Batch size; with DP the expected batch size of Poisson sampling, so the rate is batchSize /
   * training samples. 'auto' takes STANDARD_SCHEDULE.batchSize for the standard model, and for
   * the compact model the larger of COMPACT_DEFAULTS.minBatchSize and half the training samples
   * (all of them when there are fewer). Default 'auto'.
   */
  batchSize: number | 'auto';
  /** Adam learning rate; 'auto' takes STANDARD_SCHEDULE.learningRate or COMPACT_DEFAULTS.learningRate. Default 'auto'. */
  learningRate: number | 'auto';
  /** Fraction of the planned optimizer steps over which the KL weight rises linearly from 0 to beta. Default 0.25. */
  klWarmupFraction: number;
  /** Weight of the KL term at the end of warm-up (beta-VAE). Default 1. */
  beta: number;
  /** Fraction of samples held out (seeded) to monitor the validation ELBO; 0 for none. Default 0.1. */
  validationFraction: number;
  /**
   * Early stopping and best-epoch selection on the validation loss. 'auto' turns them off with
   * DP, because the validation samples would then steer the released weights outside the
   * guarantee: every planned step runs and the last weights are kept. Without DP 'auto' turns
   * them on. The validation loss is computed either way. Default 'auto'.
   */
  earlyStopping: 'auto' | 'on' | 'off';
  /** Epochs after warm-up without a better validation loss before training stops, when early stopping is on; 0 only selects the best epoch. Default 10. */
  earlyStoppingPatience: number;
  /** Train with differential privacy. Default true; --no-dp turns it off. */
  dp: boolean;
  /**
   * Mechanism that protects the training samples. 'sgd' is DP-SGD: every step clips each sample's
   * gradient and adds Gaussian noise. 'second-moment' (compact model only) releases the training
   * samples' second-moment matrix once with Gaussian noise and fits the model to it, which is
   * post-processing (src/model/second-moment.ts). 'auto' takes 'second-moment' for the compact
   * model when DP-SGD's noise-to-signal target would hold it below its gene limit at
   * LATENT_DIM_DEFAULTS.usual dimensions (cohorts of a few dozen samples), and 'sgd' otherwise.
   * Default 'auto'.
   */
  dpMechanism: 'auto' | 'sgd' | 'second-moment';
  /** Per-example gradient clipping norm C. Default 1. */
  clipNorm: number;
  /** Noise multiplier sigma; noise standard deviation is sigma * C. Null: calibrate from targetEpsilon. */
  noiseMultiplier: number | null;
  /** Epsilon to reach at the end of the planned steps when noiseMultiplier is not given. Default 8. */
  targetEpsilon: number;
  /** Delta of (epsilon, delta)-DP; must be below 1 / number of samples. Null: 1 / (10 n). */
  delta: number | null;
  /** Privacy accountant. Default 'rdp'. */
  accountant: 'rdp' | 'pld';
  /** Directory of the privacy ledger and budget policy, relative to the working directory. Default 'privacy'. */
  privacyDir: string;
  /** TensorFlow.js backend; 'auto' picks the fastest installed (tfjs-node-gpu, tfjs-node, wasm, cpu). Default 'auto'. */
  backend: 'auto' | 'wasm' | 'cpu' | 'tensorflow';
  /** Worker threads that compute a batch's gradients in parallel, each with its own backend; 1 uses the main thread. Default 1. */
  workers: number;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  architecture: 'auto',
  genes: 'auto',
  latentDim: 'auto',
  hiddenDims: [128],
  dropout: 0.1,
  layerNorm: true,
  decoder: 'mlp',
  inputProjection: 0,
  reconstruction: 'genes',
  likelihood: 'auto',
  prior: 'normal',
  mixtureComponents: 10,
  epochs: 'auto',
  batchSize: 'auto',
  learningRate: 'auto',
  klWarmupFraction: 0.25,
  beta: 1,
  validationFraction: 0.1,
  earlyStopping: 'auto',
  earlyStoppingPatience: 10,
  dp: true,
  dpMechanism: 'auto',
  clipNorm: 1,
  noiseMultiplier: null,
  targetEpsilon: 8,
  delta: null,
  accountant: 'rdp',
  privacyDir: 'privacy',
  backend: 'auto',
  workers: 1,
};

/**
 * Largest training split for which 'auto' takes the compact model without DP. On the demo cohort
 * and four public cohorts of 57 to 630 training samples, the standard model (up to half a million
 * parameters) clustered the latents worse than the compact model did. The compact model matched
 * or beat it, with the numbers in docs/training.md. Single-cell cohorts of thousands of cells are
 * where a nonlinear count model like scVI's pays off.
 * NOTE: the bound is an estimate: no cohort between 630 and 50,000 samples was measured.
 */
export const COMPACT_AUTO_MAX_SAMPLES = 1000;

/** Values of the 'auto' batch size, epochs and learning rate for the standard model. */
export const STANDARD_SCHEDULE = {
  batchSize: 128,
  epochs: 100,
  learningRate: 1e-3,
} as const;

/**
 * Latent dimensions that 'auto' chooses from. Under DP at epsilon 8 the noise-to-signal target
 * held the gene count down on cohorts of 49 to 65 training samples. There, 5 dimensions let the
 * compact model read about twice the genes and closed more of the gap to PCA than 10
 * (measurements in docs/training.md).
 */
export const LATENT_DIM_DEFAULTS = {
  usual: 10,
  budgetLimited: 5,
} as const;

/**
 * The rules behind the compact model's 'auto' values. They were chosen by measuring DP runs at
 * epsilon 8 on the demo cohort and four labelled public cohorts of 63 to 700 samples (the
 * numbers are in docs/training.md).
 * - Few, large steps: the noise added to each step's average gradient grows with the square
 *   root of the steps for a fixed epsilon, so 60 steps over large Poisson batches learn more
 *   than hundreds of small ones. Full-batch steps suit cohorts of a few hundred samples.
 * - Genes: the noise-to-signal ratio of a step is sigma * sqrt(P) / (q * n) for P trainable
 *   parameters, q the sampling rate and n training samples. Runs whose planned ratio was above
 *   about 3.5 learned less than the untrained model, so the gene count is the largest that keeps
 *   it at or below 2, and never more than 256 (the most variable genes carry the structure).
 */
export const COMPACT_DEFAULTS = {
  /** Optimizer steps planned when epochs is 'auto'. */
  steps: 60,
  /** Smallest expected batch when batchSize is 'auto' (all training samples when there are fewer). */
  minBatchSize: 256,
  learningRate: 1e-2,
  /** Bounds of the 'auto' gene count. */
  minGenes: 16,
  maxGenes: 256,
  /** Largest planned noise-to-signal ratio the 'auto' gene count accepts. */
  noiseToSignalTarget: 2,
} as const;

/**
 * The rules of the second-moment release (dpMechanism 'second-moment'), chosen from DP runs at
 * epsilon 8 on the labelled public cohorts (numbers in docs/training.md).
 * - Genes: the release's noise has spectral norm about 2 sigma sqrt(p) / n relative to the
 *   matrix's trace, for p genes and n training samples (releaseNoiseEdge). The 'auto' gene
 *   count is the largest in the compact model's bounds that keeps it at or below the target.
 * - The fit to the released matrix reads no private data, so its steps cost no privacy. It uses
 *   the compact model's learning rate and every pseudo-sample in each step.
 */
export const SECOND_MOMENT_DEFAULTS = {
  /** Largest noise edge (releaseNoiseEdge) the 'auto' gene count accepts. */
  noiseEdgeTarget: 0.22,
  /** Optimizer steps of the fit when epochs is 'auto'. */
  fitSteps: 50,
} as const;
