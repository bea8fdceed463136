import * as tf from '@tensorflow/tfjs-core';
import type { VaeModel } from './vae.js';

/** Step of the central differences, in latent units (posterior means have roughly unit scale). */
const FINITE_DIFFERENCE_STEP = 1e-2;
const CHUNK = 256;

/**
 * Sensitivity of each gene's decoded mean to each latent dimension, averaged over the latent
 * points given: loading[g, k] = mean_i ∂m_g(z_i)/∂z_k, by central differences (tfjs has no
 * forward-mode autodiff, and reverse mode would need one backward pass per gene). The decoded
 * mean is on the scale of `decodedMean`. Returns [G, d] row-major.
 */
export function geneLoadings(model: VaeModel, latent: Float32Array, rows: number): Float32Array {
  const { nGenes, latentDim } = model.config;
  const totals = new Float64Array(nGenes * latentDim);
  for (let start = 0; start < rows; start += CHUNK) {
    const size = Math.min(CHUNK, rows - start);
    const chunk = latent.subarray(start * latentDim, (start + size) * latentDim);
    for (let k = 0; k < latentDim; k++) {
      const columnSums = tf.tidy(() => {
        const z = tf.tensor2d(chunk, [size, latentDim]);
        const direction = tf.mul(tf.oneHot(tf.fill([size], k, 'int32'), latentDim), FINITE_DIFFERENCE_STEP);
        const forward = model.decodeMeans(tf.add(z, direction) as tf.Tensor2D);
        const backward = model.decodeMeans(tf.sub(z, direction) as tf.Tensor2D);
        return tf.sum(tf.sub(forward, backward), 0);
      });
      const sums = columnSums.dataSync();
      columnSums.dispose();
      for (let g = 0; g < nGenes; g++) totals[g * latentDim + k] += sums[g];
    }
  }
  const loadings = new Float32Array(nGenes * latentDim);
  const scale = 1 / (2 * FINITE_DIFFERENCE_STEP * Math.max(rows, 1));
  for (let i = 0; i < loadings.length; i++) loadings[i] = totals[i] * scale;
  return loadings;
}
