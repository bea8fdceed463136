/** Options of the train stage: the VAE and its differentially private training. */
export interface TrainOptions {
  /** Latent dimensions. Default 10. */
  latentDim: number;
  /** Widths of the encoder's hidden layers; the decoder mirrors them. Default [128]. */
  hiddenDims: number[];
  /** Dropout rate on hidden layers during training, in [0, 1). Default 0. */
  dropout: number;
  /** Layer normalization after each hidden layer (never batch normalization, which mixes examples). Default true. */
  layerNorm: boolean;
  /** Likelihood of the data: 'gaussian' on normalized values, 'nb' or 'zinb' on raw counts. Default 'gaussian'. */
  likelihood: 'gaussian' | 'nb' | 'zinb';
  /** Passes over the data. Default 100. */
  epochs: number;
  /** Expected batch size; with Poisson sampling the rate is batchSize / nSamples. Default 64. */
  batchSize: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate: number;
  /** Fraction of the epochs over which the KL weight rises linearly from 0 to beta. Default 0.25. */
  klWarmupFraction: number;
  /** Weight of the KL term at the end of warm-up. Default 1. */
  beta: number;
  /** Train with DP-SGD. Default true; --no-dp turns it off. */
  dp: boolean;
  /** Per-example gradient clipping norm C. Default 1. */
  clipNorm: number;
  /** Noise multiplier sigma; noise standard deviation is sigma * C. Null: calibrate from targetEpsilon. */
  noiseMultiplier: number | null;
  /** Epsilon to reach at the end of training when noiseMultiplier is not given. Default 8. */
  targetEpsilon: number;
  /** Delta of (epsilon, delta)-DP. Null: 1 / (10 n), below 1 / n as required. */
  delta: number | null;
  /** Privacy accountant. Default 'rdp'. */
  accountant: 'rdp' | 'pld';
  /** TensorFlow.js backend; 'auto' picks the fastest installed. Default 'auto'. */
  backend: 'auto' | 'wasm' | 'cpu' | 'tensorflow';
}

export const TRAIN_DEFAULTS: TrainOptions = {
  latentDim: 10,
  hiddenDims: [128],
  dropout: 0,
  layerNorm: true,
  likelihood: 'gaussian',
  epochs: 100,
  batchSize: 64,
  learningRate: 1e-3,
  klWarmupFraction: 0.25,
  beta: 1,
  dp: true,
  clipNorm: 1,
  noiseMultiplier: null,
  targetEpsilon: 8,
  delta: null,
  accountant: 'rdp',
  backend: 'auto',
};
