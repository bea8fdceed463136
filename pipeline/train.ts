/** Options of the train stage: the VAE and its differentially private training. */
export interface TrainOptions {
  /**
   * Genes the model reads and reconstructs: the highly variable genes with the highest
   * normalized dispersion (normalize's ranking); 0 for every gene normalize selected. Default 0.
   */
  genes: number;
  /** Latent dimensions. Default 10. */
  latentDim: number;
  /** Widths of the encoder's hidden layers; the decoder uses them in reverse order. Default [128]. */
  hiddenDims: number[];
  /** Dropout rate on the encoder's hidden layers during training, in [0, 1). Default 0.1 (as scVI). */
  dropout: number;
  /** Layer normalization before each hidden ReLU (never batch normalization, which mixes examples). Default true. */
  layerNorm: boolean;
  /**
   * Decoder: 'mlp' mirrors the encoder's hidden layers; 'linear' maps the latent straight to the
   * genes (scVI's LDVAE); 'tied' shares one weight matrix between a linear encoder and a linear
   * decoder (probabilistic PCA as a VAE; Gaussian likelihood, no hidden layers).
   */
  decoder: 'mlp' | 'linear' | 'tied';
  /** Width of a fixed random projection of the genes in front of the encoder (drawn from the seed, never trained); 0 for none. */
  inputProjection: number;
  /** What the decoder reconstructs: 'genes', or 'projection' (the input projection's coordinates, Gaussian likelihood only). */
  reconstruction: 'genes' | 'projection';
  /**
   * Likelihood of the data: 'gaussian' on normalized values, 'nb' or 'zinb' on raw counts with
   * the library size as offset. 'auto' takes 'nb' when normalize kept raw counts, else 'gaussian'.
   * Default 'auto'.
   */
  likelihood: 'auto' | 'gaussian' | 'nb' | 'zinb';
  /** Prior over the latent space: 'normal' (standard normal) or 'mixture' (Gaussian mixture with learned means and variances). Default 'normal'. */
  prior: 'normal' | 'mixture';
  /** Components of the mixture prior. Default 10. */
  mixtureComponents: number;
  /** Passes over the training samples (the maximum when early stopping ends training sooner). Default 100. */
  epochs: number;
  /** Batch size; with DP the expected batch size of Poisson sampling, so the rate is batchSize / training samples. Default 128. */
  batchSize: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate: number;
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
  /** Train with DP-SGD. Default true; --no-dp turns it off. */
  dp: boolean;
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
  genes: 0,
  latentDim: 10,
  hiddenDims: [128],
  dropout: 0.1,
  layerNorm: true,
  decoder: 'mlp',
  inputProjection: 0,
  reconstruction: 'genes',
  likelihood: 'auto',
  prior: 'normal',
  mixtureComponents: 10,
  epochs: 100,
  batchSize: 128,
  learningRate: 1e-3,
  klWarmupFraction: 0.25,
  beta: 1,
  validationFraction: 0.1,
  earlyStopping: 'auto',
  earlyStoppingPatience: 10,
  dp: true,
  clipNorm: 1,
  noiseMultiplier: null,
  targetEpsilon: 8,
  delta: null,
  accountant: 'rdp',
  privacyDir: 'privacy',
  backend: 'auto',
  workers: 1,
};
