/** Likelihood of the decoder: Gaussian on normalized values, negative binomial or zero-inflated NB on raw counts. */
export type Likelihood = 'gaussian' | 'nb' | 'zinb';

/** Prior over the latent space: a standard normal, or a Gaussian mixture with learned means and variances. */
export type PriorKind = 'normal' | 'mixture';

/** Reconstruction target of the decoder: the genes, or the coordinates of the fixed input projection. */
export type ReconstructionTarget = 'genes' | 'projection';

/**
 * Decoder: hidden layers mirroring the encoder's; one linear layer from the latent to the genes
 * (scVI's LDVAE); or 'tied', a linear decoder whose weight matrix W [genes, d] is also the
 * encoder's (posterior mean x·W, decoded mean z·Wᵀ, posterior log-variance one parameter per
 * latent dimension). The tied model is probabilistic PCA written as a VAE, with the fewest
 * parameters a linear VAE can have.
 */
export type DecoderKind = 'mlp' | 'linear' | 'tied';

/**
 * A fixed random projection of the encoder's input: `dim` orthonormal directions in gene space,
 * drawn from `seed` and never trained. It depends on no data, so it costs no privacy and adds
 * no trainable parameters, and like any Johnson–Lindenstrauss map it keeps distances between
 * samples up to a small relative error.
 */
export interface InputProjection {
  dim: number;
  seed: number;
}

/**
 * Architecture of the VAE, saved with the model. The encoder reads normalized values
 * (02-normalize/X.arrow) whatever the likelihood; count likelihoods decode raw counts.
 */
export interface VaeConfig {
  /** Genes in the input and output layers, in var order. */
  nGenes: number;
  /** Widths of the encoder's hidden layers; the decoder uses them in reverse order. */
  hiddenDims: number[];
  latentDim: number;
  /** Dropout rate on the encoder's hidden layers during training (the decoder has none, as in scVI). */
  dropout: number;
  /** Layer normalization before each hidden ReLU, in encoder and decoder. */
  layerNorm: boolean;
  likelihood: Likelihood;
  prior: PriorKind;
  /** Components of the mixture prior; ignored for the normal prior. */
  mixtureComponents: number;
  /** Decoder kind; models saved before it existed have 'mlp'. */
  decoder?: DecoderKind;
  /** Fixed random projection in front of the encoder, or null (models saved before it existed have none). */
  inputProjection?: InputProjection | null;
  /**
   * What the decoder reconstructs: 'genes', or 'projection', the input projection's coordinates
   * (Gaussian likelihood only). Reconstructing the projection is a gene-space decoder confined
   * to the projection's span, with dim instead of genes outputs. Absent means 'genes'.
   */
  reconstruction?: ReconstructionTarget;
}

/** Variance floor added to exp(log-variance) of the posterior, as scVI does, so that log q stays finite. */
export const POSTERIOR_VARIANCE_FLOOR = 1e-4;

/** Floor inside logarithms of count-model means and dispersions (scVI uses the same value). */
export const LOG_EPSILON = 1e-8;

export function decoderKind(config: VaeConfig): DecoderKind {
  return config.decoder ?? 'mlp';
}

/** Width of the encoder's first trained layer's input: the projection's width, or the genes. */
export function encoderInputWidth(config: VaeConfig): number {
  return config.inputProjection ? config.inputProjection.dim : config.nGenes;
}

export function isCountLikelihood(likelihood: Likelihood): boolean {
  return likelihood === 'nb' || likelihood === 'zinb';
}

/** Returns whether the decoder reconstructs the input projection's coordinates rather than the genes. */
export function reconstructsProjection(config: VaeConfig): boolean {
  return config.reconstruction === 'projection';
}

/** Columns of the reconstruction target: the genes, or the projection's width. */
export function reconstructionWidth(config: VaeConfig): number {
  return reconstructsProjection(config) ? encoderInputWidth(config) : config.nGenes;
}

/** Width of the decoder's output layer: means, plus zero-inflation logits for ZINB. */
export function decoderOutputWidth(config: VaeConfig): number {
  const width = reconstructionWidth(config);
  return config.likelihood === 'zinb' ? 2 * width : width;
}

/** Returns whether the first trained layer reads the data itself, so that a batch needs [xᵀ; 1ᵀ] for its gradients. */
export function usesTransposedInput(config: VaeConfig): boolean {
  return !config.inputProjection && decoderKind(config) !== 'tied';
}

/** Throws when the architecture combines options that do not fit together. */
export function checkConfig(config: VaeConfig): void {
  if (decoderKind(config) === 'tied') {
    if (config.hiddenDims.length > 0) throw new Error('the tied linear VAE has no hidden layers');
    if (config.likelihood !== 'gaussian') throw new Error(`the tied linear VAE needs the gaussian likelihood, not ${config.likelihood}`);
    if (config.inputProjection) throw new Error('the tied linear VAE reads the genes themselves, without an input projection');
  }
  if (reconstructsProjection(config)) {
    if (!config.inputProjection) throw new Error('reconstructing the projection needs an input projection');
    if (config.likelihood !== 'gaussian') throw new Error(`reconstructing the projection needs the gaussian likelihood, not ${config.likelihood}`);
  }
}
