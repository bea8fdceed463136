import * as tf from '@tensorflow/tfjs-core';
import { reconstructionLoss } from '../../src/model/likelihood.js';
import type { BlockSpec, DenseSpec, NetworkLayout, ParameterSet } from '../../src/model/parameters.js';
import { mixtureKl, normalKl, posterior } from '../../src/model/prior.js';
import { reconstructsProjection, type VaeConfig } from '../../src/model/config.js';
import { LAYER_NORM_EPSILON } from '../../src/model/network.js';
import type { Batch } from '../../src/model/vae.js';
import { inScope } from '../../src/model/scope.js';

/**
 * The VAE's loss for one example written with plain tfjs ops and no hand-written backprop,
 * so that tf.grads gives an independent brute-force per-example gradient. `projection` is the
 * fixed input projection of a model that has one.
 */
export function referenceExampleGradient(
  config: VaeConfig,
  layout: NetworkLayout,
  parameters: ParameterSet,
  batch: Batch,
  example: number,
  klWeight: number,
  projection: Float32Array | null = null,
): Map<string, Float32Array> {
  return inScope(() => {
    const names = layout.parameters.map((spec) => spec.name);
    const values = layout.parameters.map((spec) => tf.tensor(parameters.get(spec.name), spec.shape));
    const genes = config.nGenes;
    const row = <T extends Float32Array>(array: T, width: number) => array.slice(example * width, (example + 1) * width);
    const x = tf.tensor2d(row(batch.x, genes), [1, genes]);
    const noise = tf.tensor2d(row(batch.noise, config.latentDim), [1, config.latentDim]);
    const count = config.likelihood !== 'gaussian';
    const projected = projection && layout.projection ? tf.matMul(x, tf.tensor2d(projection, layout.projection.shape as [number, number])) : x;
    let target = x;
    if (count) target = tf.tensor2d(row(batch.counts!, genes), [1, genes]);
    else if (reconstructsProjection(config)) target = projected;
    const logLibrary = count ? tf.tensor2d([batch.logLibrary![example]], [1, 1]) : null;
    const logFactorialSum = count ? tf.tensor1d([batch.logFactorialSum![example]]) : null;

    const loss = (...tensors: tf.Tensor[]) => {
      const p = new Map(names.map((name, i) => [name, tensors[i]]));
      const dense = (spec: DenseSpec, input: tf.Tensor) => tf.add(tf.matMul(input as tf.Tensor2D, p.get(spec.weight) as tf.Tensor2D), p.get(spec.bias)!);
      const block = (spec: BlockSpec, input: tf.Tensor, mask: Float32Array | null) => {
        let y = dense(spec.dense, input);
        if (spec.norm) {
          const { mean, variance } = tf.moments(y, 1, true);
          y = tf.add(tf.mul(tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPSILON))), p.get(spec.norm.gain)!), p.get(spec.norm.bias)!);
        }
        const h = tf.relu(y);
        return mask ? tf.mul(h, tf.tensor2d(row(mask, spec.dense.outputDim), [1, spec.dense.outputDim])) : h;
      };
      let h: tf.Tensor = projected;
      let q;
      let decoded: tf.Tensor2D;
      if (layout.tied) {
        const weight = p.get(layout.tied.weight) as tf.Tensor2D;
        const logVariance = tf.reshape(p.get(layout.tied.encoderLogVariance)!, [1, config.latentDim]);
        q = posterior(tf.concat([tf.matMul(h as tf.Tensor2D, weight), logVariance], 1), noise);
        decoded = tf.matMul(q.sample, tf.transpose(weight));
      } else {
        layout.encoderBlocks.forEach((spec, i) => (h = block(spec, h, batch.masks[i])));
        q = posterior(dense(layout.encoderHead!, h) as tf.Tensor2D, noise);
        h = q.sample;
        for (const spec of layout.decoderBlocks) h = block(spec, h, null);
        decoded = dense(layout.decoderHead!, h) as tf.Tensor2D;
      }
      const reconstruction = reconstructionLoss(config.likelihood, {
        decoded,
        target,
        geneParameter: p.get(layout.geneParameter)!,
        logLibrary,
        logFactorialSum,
      });
      const kl = layout.prior
        ? mixtureKl(q, noise, { means: p.get(layout.prior.means)!, logVariances: p.get(layout.prior.logVariances)! })
        : normalKl(q);
      return tf.sum(tf.add(reconstruction, tf.mul(kl, klWeight)));
    };
    const grads = tf.grads(loss)(values);
    return new Map(names.map((name, i) => [name, Float32Array.from(grads[i].dataSync() as Float32Array)]));
  });
}
