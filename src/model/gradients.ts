import * as tf from '@tensorflow/tfjs-core';
import type { ExampleGradient } from './network.js';
import type { NetworkLayout } from './parameters.js';

/**
 * Squared L2 norm of each example's gradient over all parameters, [B], computed exactly
 * without forming per-example gradients of dense layers ("ghost norms"): for z = a·W + b on
 * one example, ‖∂L/∂W‖² = ‖a‖²·‖∂L/∂z‖² and ‖∂L/∂b‖² = ‖∂L/∂z‖², because ∂L/∂W is the outer
 * product aᵀ·∂L/∂z. A shared weight's gradient is a sum of such outer products, whose squared norm
 * follows from the dot products of their factors. Elementwise parameters contribute the squared
 * norm of their per-example gradient.
 */
export function perExampleSquaredNorms(records: ExampleGradient[], batchSize: number): tf.Tensor1D {
  let total: tf.Tensor1D = tf.zeros([batchSize]);
  for (const record of records) {
    if (record.kind === 'dense') {
      const inputNorms = tf.sum(tf.square(record.input), 1);
      const outputNorms = tf.sum(tf.square(record.outputGrad), 1);
      total = tf.add(total, tf.mul(tf.add(inputNorms, 1), outputNorms));
    } else if (record.kind === 'shared') {
      // ‖Σ_t a_t ⊗ g_t‖² = Σ_s Σ_t (a_s · a_t)(g_s · g_t) per example.
      record.terms.forEach((left, i) => {
        record.terms.forEach((right, j) => {
          if (j < i) return;
          const products = tf.mul(tf.sum(tf.mul(left.input, right.input), 1), tf.sum(tf.mul(left.outputGrad, right.outputGrad), 1));
          total = tf.add(total, i === j ? products : tf.mul(products, 2));
        });
      });
    } else {
      const flat = tf.reshape(record.perExample, [batchSize, -1]);
      total = tf.add(total, tf.sum(tf.square(flat), 1));
    }
  }
  return total;
}

/** Per-example clipping factors min(1, C / (‖g_i‖ + 1e-6)), as Opacus computes them, [B]. */
export function clipFactors(norms: tf.Tensor1D, clipNorm: number): tf.Tensor1D {
  return tf.minimum(1, tf.div(clipNorm, tf.add(norms, 1e-6)));
}

function weightRows(tensor: tf.Tensor, weights: tf.Tensor1D | null): tf.Tensor {
  if (!weights) return tensor;
  const shape = [weights.shape[0], ...tensor.shape.slice(1).map(() => 1)];
  return tf.mul(tensor, tf.reshape(weights, shape));
}

/**
 * Σ_i w_i · (example i's gradient) for every parameter, downloaded; w = null sums without
 * weights. For a dense layer this is [aᵀ; 1ᵀ]·(w ⊙ ∂L/∂z), one untransposed product per layer
 * like ordinary backprop, whose last row is the bias gradient.
 */
export function weightedGradientSums(records: ExampleGradient[], weights: tf.Tensor1D | null): Map<string, Float32Array> {
  const sums = new Map<string, Float32Array>();
  const put = (name: string, value: Float32Array) => {
    if (sums.has(name)) throw new Error(`parameter ${name} has two gradient records`);
    sums.set(name, value);
  };
  for (const record of records) {
    if (record.kind === 'dense') {
      const weighted = weightRows(record.outputGrad, weights) as tf.Tensor2D;
      const batch = record.input.shape[0];
      const augmented = record.augmentedInputTransposed ?? tf.concat([tf.transpose(record.input), tf.ones([1, batch])], 0);
      const values = tf.matMul(augmented, weighted).dataSync() as Float32Array;
      const weightSize = record.layer.inputDim * record.layer.outputDim;
      put(record.layer.weight, values.slice(0, weightSize));
      put(record.layer.bias, values.slice(weightSize));
    } else if (record.kind === 'shared') {
      let total: tf.Tensor | null = null;
      for (const term of record.terms) {
        const part = tf.matMul(term.input, weightRows(term.outputGrad, weights) as tf.Tensor2D, true, false);
        total = total ? tf.add(total, part) : part;
      }
      put(record.name, Float32Array.from(total!.dataSync() as Float32Array));
    } else {
      put(record.name, Float32Array.from(tf.sum(weightRows(record.perExample, weights), 0).dataSync() as Float32Array));
    }
  }
  return sums;
}

/** Throws unless the records cover every parameter of the layout exactly once. */
export function checkCoverage(layout: NetworkLayout, sums: Map<string, Float32Array>): void {
  const missing = layout.parameters.filter((spec) => !sums.has(spec.name)).map((spec) => spec.name);
  if (missing.length > 0) throw new Error(`no per-example gradient for parameters ${missing.join(', ')}`);
  if (sums.size !== layout.parameters.length) throw new Error('gradient records name parameters outside the layout');
}
