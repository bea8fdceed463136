import * as tf from '@tensorflow/tfjs-core';
import { LOG_EPSILON, type Likelihood } from './config.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Coefficients of the Lanczos approximation (g = 5, n = 6) from Numerical Recipes' gammln. */
const LANCZOS = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];

/**
 * log Γ(x) for x > 0 from tfjs ops, so that autodiff provides its gradient (tfjs has no
 * lgamma kernel). Absolute error in float32 is about 1e-7 relative to |log Γ(x)|, as torch.lgamma.
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  const shifted = tf.add(x, 5.5);
  const tmp = tf.sub(shifted, tf.mul(tf.add(x, 0.5), tf.log(shifted)));
  let series: tf.Tensor = tf.scalar(1.000000000190015);
  LANCZOS.forEach((coefficient, j) => {
    series = tf.add(series, tf.div(coefficient, tf.add(x, j + 1)));
  });
  return tf.sub(tf.log(tf.div(tf.mul(series, 2.5066282746310005), x)), tmp);
}

/**
 * ψ(x) = d log Γ(x) / dx for x > 0 from tfjs ops: the recurrence ψ(x) = ψ(x + 6) − Σ_k 1/(x + k)
 * moves the argument to at least 6, where the asymptotic series to 1/x⁶ is accurate to float32.
 */
export function digamma(x: tf.Tensor): tf.Tensor {
  let shift: tf.Tensor = tf.div(1, x);
  for (let k = 1; k < 6; k++) shift = tf.add(shift, tf.div(1, tf.add(x, k)));
  const w = tf.add(x, 6);
  const inverse = tf.div(1, w);
  const inverseSquare = tf.square(inverse);
  // log w − 1/(2w) − 1/(12w²) + 1/(120w⁴) − 1/(252w⁶), the last three in Horner form.
  const tail = tf.mul(inverseSquare, tf.sub(1 / 12, tf.mul(inverseSquare, tf.sub(1 / 120, tf.mul(inverseSquare, 1 / 252)))));
  const asymptotic = tf.sub(tf.sub(tf.log(w), tf.mul(inverse, 0.5)), tail);
  return tf.sub(asymptotic, shift);
}

/** log Γ(x) in double precision, for constants such as log(x!) that need no gradient. */
export function lgammaNumber(x: number): number {
  let y = x;
  const shifted = x + 5.5;
  const tmp = shifted - (x + 0.5) * Math.log(shifted);
  let series = 1.000000000190015;
  for (const coefficient of LANCZOS) series += coefficient / ++y;
  return -tmp + Math.log((2.5066282746310005 * series) / x);
}

/** Inputs of the reconstruction term for one batch. */
export interface ReconstructionInputs {
  /** Decoder output, [B, G] or [B, 2G] for ZINB. */
  decoded: tf.Tensor2D;
  /** Reconstruction target: normalized values (Gaussian) or raw counts (NB, ZINB), [B, G]. */
  target: tf.Tensor2D;
  /** Gene-wise log-variance (Gaussian) or log theta (NB, ZINB): [G], or [B, G] with a per-example probe added. */
  geneParameter: tf.Tensor;
  /** log of each example's library size (sum of its modelled counts), [B, 1]; count likelihoods only. */
  logLibrary: tf.Tensor2D | null;
  /** Σ_g log(x_g!) per example, [B]; count likelihoods only. A constant that keeps the loss a true log-likelihood. */
  logFactorialSum: tf.Tensor1D | null;
}

/** Negative log-likelihood of each example, [B] (summed over genes). */
export function reconstructionLoss(likelihood: Likelihood, inputs: ReconstructionInputs): tf.Tensor1D {
  switch (likelihood) {
    case 'gaussian':
      return gaussianLoss(inputs);
    case 'nb':
      return countLoss(inputs, false);
    case 'zinb':
      return countLoss(inputs, true);
  }
}

/** Gaussian with gene-wise learned variance: ½ Σ_g [(x − μ)²/σ²_g + log σ²_g + log 2π]. */
function gaussianLoss({ decoded, target, geneParameter }: ReconstructionInputs): tf.Tensor1D {
  const residual = tf.sub(target, decoded);
  const terms = tf.add(tf.mul(tf.square(residual), tf.exp(tf.neg(geneParameter))), geneParameter);
  return tf.mul(tf.add(tf.sum(terms, 1), LOG_2PI * decoded.shape[1]), 0.5) as tf.Tensor1D;
}

/**
 * Negative binomial (and zero-inflated NB) as in scVI: the mean is the library size times a
 * softmax over genes, theta is gene-wise; ZINB adds a per-gene zero-inflation logit from the decoder.
 */
function countLoss({ decoded, target, geneParameter, logLibrary, logFactorialSum }: ReconstructionInputs, zeroInflated: boolean): tf.Tensor1D {
  if (!logLibrary || !logFactorialSum) throw new Error('count likelihoods need library sizes and log-factorials');
  const nGenes = target.shape[1];
  const [logits, inflationLogits] = zeroInflated ? tf.split(decoded, [nGenes, nGenes], 1) : [decoded, null];
  const logMean = tf.add(tf.logSoftmax(logits), logLibrary);
  const mean = tf.exp(logMean);
  const logTheta = geneParameter;
  const theta = tf.exp(logTheta);
  const logThetaMean = tf.log(tf.add(tf.add(theta, mean), LOG_EPSILON));
  const thetaTerm = tf.mul(theta, tf.sub(logTheta, logThetaMean));
  const countTerm = tf.add(
    tf.mul(target, tf.sub(logMean, logThetaMean)),
    tf.sub(lgamma(tf.add(target, theta)), lgamma(theta)),
  );

  let logLikelihood: tf.Tensor;
  if (!inflationLogits) {
    logLikelihood = tf.add(thetaTerm, countTerm);
  } else {
    // log π = −softplus(−logit), log(1 − π) = −softplus(logit); zeros mix both components.
    const softplusNegative = tf.softplus(tf.neg(inflationLogits));
    const zeroLogit = tf.add(tf.neg(inflationLogits), thetaTerm);
    const zeroCase = tf.sub(tf.softplus(zeroLogit), softplusNegative);
    const nonZeroCase = tf.add(tf.sub(zeroLogit, softplusNegative), countTerm);
    const isZero = tf.cast(tf.lessEqual(target, 0), 'float32');
    logLikelihood = tf.add(tf.mul(isZero, zeroCase), tf.mul(tf.sub(1, isZero), nonZeroCase));
  }
  return tf.add(tf.neg(tf.sum(logLikelihood, 1)), logFactorialSum) as tf.Tensor1D;
}

/** The Gaussian term of a batch with its gradients, computed by hand (about a third of autodiff's ops). */
export interface GaussianTerms {
  /** Negative log-likelihood per example, [B]. */
  perExample: tf.Tensor1D;
  /** ∂/∂(decoded mean) of the summed loss, [B, G]. */
  decodedGrad: tf.Tensor2D;
  /** Each example's gradient with respect to the gene-wise log-variance, [B, G]. */
  logVarianceGrad: tf.Tensor2D;
}

/**
 * gaussianLoss and its gradients: with r = μ − x and w = exp(−log σ²), the example's loss is
 * ½ Σ_g (r² w + log σ²_g + log 2π), so ∂/∂μ = r w and ∂/∂log σ²_g = ½ (1 − r² w).
 */
export function gaussianTerms(decoded: tf.Tensor2D, target: tf.Tensor2D, logVariance: tf.Tensor1D): GaussianTerms {
  const genes = decoded.shape[1];
  const residual = tf.sub(decoded, target);
  const decodedGrad = tf.mul(residual, tf.exp(tf.neg(logVariance))) as tf.Tensor2D;
  const weightedSquares = tf.mul(residual, decodedGrad);
  const constant = tf.mul(tf.add(tf.sum(logVariance), LOG_2PI * genes), 0.5);
  const perExample = tf.add(tf.mul(tf.sum(weightedSquares, 1), 0.5), constant) as tf.Tensor1D;
  const logVarianceGrad = tf.sub(0.5, tf.mul(weightedSquares, 0.5)) as tf.Tensor2D;
  return { perExample, decodedGrad, logVarianceGrad };
}

/** The negative-binomial term of a batch with its gradients, computed by hand. */
export interface NegativeBinomialTerms {
  /** Negative log-likelihood per example, [B]. */
  perExample: tf.Tensor1D;
  /** ∂/∂(decoder logits) of the summed loss, [B, G]. */
  decodedGrad: tf.Tensor2D;
  /** Each example's gradient with respect to the gene-wise log theta, [B, G]. */
  logThetaGrad: tf.Tensor2D;
}

/**
 * The negative binomial of countLoss with its gradients written out, which costs about half
 * of autodiff's work. With mean μ = library · softmax(logits), inverse dispersion θ and
 * counts x, the log-likelihood is θ log(θ / (θ + μ)) + x log(μ / (θ + μ)) + log Γ(x + θ) −
 * log Γ(θ) − log x!. Its derivatives are, with u = x − (x + θ) μ / (θ + μ):
 * ∂/∂logit_j = u_j − softmax_j Σ_g u_g, and
 * ∂/∂log θ = θ [log(θ / (θ + μ)) + (μ − x) / (θ + μ) + ψ(x + θ) − ψ(θ)].
 */
export function negativeBinomialTerms(
  logits: tf.Tensor2D,
  counts: tf.Tensor2D,
  logLibrary: tf.Tensor2D,
  logTheta: tf.Tensor1D,
  logFactorialSum: tf.Tensor1D,
): NegativeBinomialTerms {
  const logProportion = tf.logSoftmax(logits);
  const proportion = tf.exp(logProportion);
  const logMean = tf.add(logProportion, logLibrary);
  const mean = tf.exp(logMean);
  const theta = tf.exp(logTheta);
  const thetaPlusMean = tf.add(tf.add(mean, theta), LOG_EPSILON);
  const logThetaPlusMean = tf.log(thetaPlusMean);
  const countsPlusTheta = tf.add(counts, theta);
  const logThetaShare = tf.sub(logTheta, logThetaPlusMean);

  const logLikelihood = tf.add(
    tf.add(tf.mul(theta, logThetaShare), tf.mul(counts, tf.sub(logMean, logThetaPlusMean))),
    tf.sub(lgamma(countsPlusTheta), lgamma(theta)),
  );
  const perExample = tf.add(tf.neg(tf.sum(logLikelihood, 1)), logFactorialSum) as tf.Tensor1D;

  const inverse = tf.div(1, thetaPlusMean);
  const u = tf.sub(counts, tf.mul(tf.mul(countsPlusTheta, mean), inverse));
  const decodedGrad = tf.sub(tf.mul(proportion, tf.sum(u, 1, true)), u) as tf.Tensor2D;
  const thetaDerivative = tf.add(
    tf.add(logThetaShare, tf.mul(tf.sub(mean, counts), inverse)),
    tf.sub(digamma(countsPlusTheta), digamma(theta)),
  );
  const logThetaGrad = tf.neg(tf.mul(theta, thetaDerivative)) as tf.Tensor2D;
  return { perExample, decodedGrad, logThetaGrad };
}

/** Decoded mean expression on the scale the loadings use: normalized values, or log1p(1e4 · proportion) for counts. */
export function decodedMean(likelihood: Likelihood, decoded: tf.Tensor2D, nGenes: number): tf.Tensor2D {
  if (likelihood === 'gaussian') return decoded;
  const logits = likelihood === 'zinb' ? tf.slice(decoded, [0, 0], [-1, nGenes]) : decoded;
  return tf.log1p(tf.mul(tf.softmax(logits), 1e4)) as tf.Tensor2D;
}
