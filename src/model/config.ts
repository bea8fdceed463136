/** Likelihood of the decoder: Gaussian on normalized values, negative binomial or zero-inflated NB on raw counts. */
export type Likelihood = 'gaussian' | 'nb' | 'zinb';

/** Prior over the latent space: a standard normal, or a Gaussian mixture with learned means and variances. */
export type PriorKind = 'normal' | 'mixture';

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
}

/** Variance floor added to exp(log-variance) of the posterior, as scVI does, so that log q stays finite. */
export const POSTERIOR_VARIANCE_FLOOR = 1e-4;

/** Floor inside logarithms of count-model means and dispersions (scVI uses the same value). */
export const LOG_EPSILON = 1e-8;

export function isCountLikelihood(likelihood: Likelihood): boolean {
  return likelihood === 'nb' || likelihood === 'zinb';
}

/** Width of the decoder's output layer: means, plus zero-inflation logits for ZINB. */
export function decoderOutputWidth(config: VaeConfig): number {
  return config.likelihood === 'zinb' ? 2 * config.nGenes : config.nGenes;
}
