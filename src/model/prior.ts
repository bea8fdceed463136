import * as tf from '@tensorflow/tfjs-core';
import { POSTERIOR_VARIANCE_FLOOR } from './config.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The approximate posterior q(z | x) of a batch, from the encoder output [mu | logVar]. */
export interface Posterior {
  mean: tf.Tensor2D;
  /** exp(logVar) + floor, [B, d]. */
  variance: tf.Tensor2D;
  /** Reparameterised sample mean + sqrt(variance) · noise, [B, d]. */
  sample: tf.Tensor2D;
}

/** Splits the encoder output and draws z = mu + sigma · noise (the reparameterisation trick). */
export function posterior(encoded: tf.Tensor2D, noise: tf.Tensor2D): Posterior {
  const latentDim = encoded.shape[1] / 2;
  const [mean, logVariance] = tf.split(encoded, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  if (noise.shape[1] !== latentDim) throw new Error(`noise has ${noise.shape[1]} columns, expected ${latentDim}`);
  const variance = tf.add(tf.exp(logVariance), POSTERIOR_VARIANCE_FLOOR) as tf.Tensor2D;
  const sample = tf.add(mean, tf.mul(tf.sqrt(variance), noise)) as tf.Tensor2D;
  return { mean, variance, sample };
}

/** KL(q(z | x) ‖ N(0, I)) per example, in closed form, [B]. */
export function normalKl(q: Posterior): tf.Tensor1D {
  const terms = tf.sub(tf.sub(tf.add(tf.square(q.mean), q.variance), 1), tf.log(q.variance));
  return tf.mul(tf.sum(terms, 1), 0.5) as tf.Tensor1D;
}

/** Mixture-prior parameters: means and log-variances [K, d], or [B, K, d] with a per-example probe added. */
export interface MixtureParameters {
  means: tf.Tensor;
  logVariances: tf.Tensor;
}

/** log N(z | component k) for every example and component, [B, K]. */
export function componentLogDensities(z: tf.Tensor2D, prior: MixtureParameters): tf.Tensor2D {
  const [batch, latentDim] = z.shape;
  const expanded = tf.reshape(z, [batch, 1, latentDim]);
  const squared = tf.mul(tf.square(tf.sub(expanded, prior.means)), tf.exp(tf.neg(prior.logVariances)));
  const terms = tf.add(squared, prior.logVariances);
  return tf.mul(tf.add(tf.sum(terms, 2), LOG_2PI * latentDim), -0.5) as tf.Tensor2D;
}

/**
 * KL(q(z | x) ‖ p(z)) per example for a Gaussian-mixture prior with equal weights, estimated
 * from the one reparameterised sample as log q(z | x) − log p(z) (the mixture has no closed
 * form). log q uses the noise directly: (z − mu)² / variance equals noise².
 */
export function mixtureKl(q: Posterior, noise: tf.Tensor2D, prior: MixtureParameters): tf.Tensor1D {
  const latentDim = noise.shape[1];
  const logQ = tf.mul(tf.add(tf.sum(tf.add(tf.square(noise), tf.log(q.variance)), 1), LOG_2PI * latentDim), -0.5);
  const components = componentLogDensities(q.sample, prior);
  const logP = tf.sub(tf.logSumExp(components, 1), Math.log(components.shape[1]));
  return tf.sub(logQ, logP) as tf.Tensor1D;
}

/** Most probable mixture component of each latent point (equal weights), [B] int32. */
export function assignComponents(z: tf.Tensor2D, prior: MixtureParameters): tf.Tensor1D {
  return tf.argMax(componentLogDensities(z, prior), 1) as tf.Tensor1D;
}
