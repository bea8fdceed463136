import * as tf from '@tensorflow/tfjs-core';
// The umbrella package's Node bundle registers every op's gradient; tfjs-core alone registers few,
// and its per-gradient ES modules use extensionless imports that Node cannot load.
import '@tensorflow/tfjs';
import { isCountLikelihood, reconstructionWidth, reconstructsProjection, type VaeConfig } from './config.js';
import { checkCoverage, clipFactors, perExampleSquaredNorms, weightedGradientSums } from './gradients.js';
import { decodedMean, gaussianTerms, negativeBinomialTerms, reconstructionLoss } from './likelihood.js';
import {
  blockBackward,
  blockForward,
  denseBackward,
  denseForward,
  DeviceParameters,
  product,
  type BlockCache,
  type ExampleGradient,
} from './network.js';
import { drawProjection, type NetworkLayout, type ParameterSet } from './parameters.js';
import { inScope } from './scope.js';
import { assignComponents, mixtureKl, normalKl, posterior, type MixtureParameters, type Posterior } from './prior.js';

/** One batch as row-major typed arrays, assembled on the JS side (see data.ts). */
export interface Batch {
  size: number;
  /** Encoder input (normalized values), [B, G]. */
  x: Float32Array;
  /**
   * The same values transposed with a final row of ones, [G + 1, B], so that the first layer's
   * weight and bias gradients come from one untransposed product.
   */
  xTransposed: Float32Array | null;
  /** Raw counts, [B, G], for count likelihoods; null for the Gaussian, which reconstructs x. */
  counts: Float32Array | null;
  /** log library size per example, [B]; count likelihoods only. */
  logLibrary: Float32Array | null;
  /** Σ_g log(x_g!) per example, [B]; count likelihoods only. */
  logFactorialSum: Float32Array | null;
  /** Standard normal noise of the reparameterisation, [B, d]. */
  noise: Float32Array;
  /** Dropout masks per encoder block, [B, h], scaled by 1 / (1 − rate); null where the block has no dropout. */
  masks: (Float32Array | null)[];
}

/** Gradient sums and loss sums of one batch. */
export interface BatchGradients {
  /** Σ_i c_i · ∂L_i/∂θ per parameter (c_i = 1 without clipping), in the parameter's layout. */
  sums: Map<string, Float32Array>;
  reconstructionSum: number;
  klSum: number;
  /** Per-example gradient norms before clipping; null without clipping. */
  norms: Float32Array | null;
}

/** Per-example terms of the negative ELBO, for validation and the membership-inference audit. */
export interface ExampleLosses {
  reconstruction: Float32Array;
  kl: Float32Array;
}

interface BatchTensors {
  x: tf.Tensor2D;
  /** Input of the encoder's first trained layer: x, or x times the fixed projection. */
  encoderInput: tf.Tensor2D;
  xTransposed: tf.Tensor2D | undefined;
  target: tf.Tensor2D;
  logLibrary: tf.Tensor2D | null;
  logFactorialSum: tf.Tensor1D | null;
  noise: tf.Tensor2D;
  masks: (tf.Tensor2D | null)[];
}

/**
 * The VAE as a pure module over device tensors: forward passes, per-example gradients by
 * hand-written backprop through the dense stacks and tfjs autodiff through the loss terms.
 * It owns no optimizer state; `Trainer` updates the ParameterSet and calls `upload`.
 */
export class VaeModel {
  readonly device: DeviceParameters;

  constructor(
    readonly config: VaeConfig,
    readonly layout: NetworkLayout,
    parameters: ParameterSet,
    { training = true, projection }: { training?: boolean; projection?: Float32Array } = {},
  ) {
    const fixed = config.inputProjection ? (projection ?? drawProjection(config.nGenes, config.inputProjection)) : null;
    this.device = new DeviceParameters(layout, training, fixed);
    this.device.upload(parameters);
  }

  upload(parameters: ParameterSet): void {
    this.device.upload(parameters);
  }

  dispose(): void {
    this.device.dispose();
  }

  private tensors(batch: Batch): BatchTensors {
    const { size } = batch;
    const genes = this.config.nGenes;
    const x = tf.tensor2d(batch.x, [size, genes]);
    const count = isCountLikelihood(this.config.likelihood);
    if (count && (!batch.counts || !batch.logLibrary || !batch.logFactorialSum)) {
      throw new Error(`likelihood ${this.config.likelihood} needs counts, library sizes and log-factorials in each batch`);
    }
    const encoderInput = this.encoderInput(x);
    let target = x;
    if (count) target = tf.tensor2d(batch.counts!, [size, genes]);
    else if (reconstructsProjection(this.config)) target = encoderInput;
    return {
      x,
      encoderInput,
      xTransposed: batch.xTransposed ? tf.tensor2d(batch.xTransposed, [genes + 1, size]) : undefined,
      target,
      logLibrary: count ? tf.tensor2d(batch.logLibrary!, [size, 1]) : null,
      logFactorialSum: count ? tf.tensor1d(batch.logFactorialSum!) : null,
      noise: tf.tensor2d(batch.noise, [size, this.config.latentDim]),
      masks: this.layout.encoderBlocks.map((block, i) => {
        const mask = batch.masks[i];
        return mask ? tf.tensor2d(mask, [size, block.dense.outputDim]) : null;
      }),
    };
  }

  private mixture(probes?: [tf.Tensor, tf.Tensor]): MixtureParameters | null {
    if (!this.layout.prior) return null;
    const means = this.device.get(this.layout.prior.means);
    const logVariances = this.device.get(this.layout.prior.logVariances);
    if (!probes) return { means, logVariances };
    return { means: tf.add(means, probes[0]), logVariances: tf.add(logVariances, probes[1]) };
  }

  private kl(q: Posterior, noise: tf.Tensor2D, probes?: [tf.Tensor, tf.Tensor]): tf.Tensor1D {
    const prior = this.mixture(probes);
    return prior ? mixtureKl(q, noise, prior) : normalKl(q);
  }

  private encoderInput(x: tf.Tensor2D): tf.Tensor2D {
    const projection = this.device.projection;
    return projection ? product(x, projection) : x;
  }

  private encode(t: Pick<BatchTensors, 'encoderInput' | 'masks'>, useMasks: boolean): { encoded: tf.Tensor2D; caches: BlockCache[]; headInput: tf.Tensor2D } {
    const tied = this.layout.tied;
    if (tied) {
      const mean = product(t.encoderInput, this.device.get(tied.weight) as tf.Tensor2D);
      const logVariance = tf.add(tf.zerosLike(mean), this.device.get(tied.encoderLogVariance)) as tf.Tensor2D;
      return { encoded: tf.concat([mean, logVariance], 1), caches: [], headInput: t.encoderInput };
    }
    let hidden = t.encoderInput;
    const caches: BlockCache[] = [];
    this.layout.encoderBlocks.forEach((block, i) => {
      const { output, cache } = blockForward(this.device, block, hidden, useMasks ? t.masks[i] : null);
      caches.push(cache);
      hidden = output;
    });
    return { encoded: denseForward(this.device, this.layout.encoderHead!, hidden), caches, headInput: hidden };
  }

  private decode(z: tf.Tensor2D): { decoded: tf.Tensor2D; caches: BlockCache[]; headInput: tf.Tensor2D } {
    const tied = this.layout.tied;
    if (tied) return { decoded: tf.matMul(z, this.device.get(tied.weight) as tf.Tensor2D, false, true), caches: [], headInput: z };
    let hidden = z;
    const caches: BlockCache[] = [];
    for (const block of this.layout.decoderBlocks) {
      const { output, cache } = blockForward(this.device, block, hidden, null);
      caches.push(cache);
      hidden = output;
    }
    return { decoded: denseForward(this.device, this.layout.decoderHead!, hidden), caches, headInput: hidden };
  }

  private reconstruction(t: BatchTensors, decoded: tf.Tensor2D, geneProbe?: tf.Tensor): tf.Tensor1D {
    const base = this.device.get(this.layout.geneParameter);
    return reconstructionLoss(this.config.likelihood, {
      decoded,
      target: t.target,
      geneParameter: geneProbe ? tf.add(base, geneProbe) : base,
      logLibrary: t.logLibrary,
      logFactorialSum: t.logFactorialSum,
    });
  }

  /**
   * Computes each example's gradient of loss_i = reconstruction_i + klWeight · KL_i, summed over the
   * batch with weights c_i. With `clipNorm` set, c_i = min(1, C / ‖∂loss_i/∂θ‖) from exact
   * per-example norms, so no example's contribution exceeds C; without it, c_i = 1.
   */
  gradients(batch: Batch, { klWeight, clipNorm }: { klWeight: number; clipNorm: number | null }): BatchGradients {
    return inScope(() => {
      const t = this.tensors(batch);
      const size = batch.size;
      const records: ExampleGradient[] = [];

      const encoder = this.encode(t, true);
      const q = posterior(encoder.encoded, t.noise);
      const decoder = this.decode(q.sample);

      // Reconstruction: the gradient to the decoder output, and each example's gradient of the
      // gene-wise parameter. The Gaussian and NB are written out by hand. ZINB uses autodiff
      // with a zero probe added to the gene-wise parameter broadcast per example, because the
      // probe's gradient is each example's gradient of that parameter.
      let reconstructionSum: tf.Tensor;
      let decodedGrad: tf.Tensor;
      let geneGrad: tf.Tensor;
      if (this.config.likelihood === 'gaussian') {
        const terms = gaussianTerms(decoder.decoded, t.target, this.device.get(this.layout.geneParameter) as tf.Tensor1D);
        reconstructionSum = tf.sum(terms.perExample);
        decodedGrad = terms.decodedGrad;
        geneGrad = terms.logVarianceGrad;
      } else if (this.config.likelihood === 'nb') {
        const terms = negativeBinomialTerms(
          decoder.decoded,
          t.target,
          t.logLibrary!,
          this.device.get(this.layout.geneParameter) as tf.Tensor1D,
          t.logFactorialSum!,
        );
        reconstructionSum = tf.sum(terms.perExample);
        decodedGrad = terms.decodedGrad;
        geneGrad = terms.logThetaGrad;
      } else {
        const geneProbe = tf.zeros([size, this.config.nGenes]);
        const reconstructionTerm = tf.valueAndGrads((decoded: tf.Tensor, probe: tf.Tensor) =>
          tf.sum(this.reconstruction(t, decoded as tf.Tensor2D, probe)),
        )([decoder.decoded, geneProbe]);
        reconstructionSum = reconstructionTerm.value;
        [decodedGrad, geneGrad] = reconstructionTerm.grads;
      }
      records.push({ kind: 'elementwise', name: this.layout.geneParameter, perExample: geneGrad });

      const tied = this.layout.tied;
      let sampleGrad: tf.Tensor2D;
      if (tied) {
        // The tied decoder z·Wᵀ passes dL/dz = dL/d(decoded)·W; its weight gradient is recorded with the encoder's.
        sampleGrad = product(decodedGrad as tf.Tensor2D, this.device.get(tied.weight) as tf.Tensor2D);
      } else {
        let grad: tf.Tensor2D = denseBackward(this.device, this.layout.decoderHead!, decoder.headInput, decodedGrad as tf.Tensor2D, records);
        for (let i = this.layout.decoderBlocks.length - 1; i >= 0; i--) {
          grad = blockBackward(this.device, this.layout.decoderBlocks[i], decoder.caches[i], grad, true, records)!;
        }
        sampleGrad = grad;
      }

      // KL and the path through z: f(E) = klWeight · Σ KL_i + Σ ⟨∂L/∂z_i, z_i(E)⟩ has the
      // encoder-output gradient of the whole loss, because z depends on E only through the sample.
      const priorProbes: tf.Tensor[] = this.layout.prior
        ? [tf.zeros([size, this.config.mixtureComponents, this.config.latentDim]), tf.zeros([size, this.config.mixtureComponents, this.config.latentDim])]
        : [];
      const encoderTerm = tf.grads((encoded: tf.Tensor, ...probes: tf.Tensor[]) => {
        const qInner = posterior(encoded as tf.Tensor2D, t.noise);
        const kl = this.kl(qInner, t.noise, probes.length === 2 ? [probes[0], probes[1]] : undefined);
        return tf.add(tf.mul(tf.sum(kl), klWeight), tf.sum(tf.mul(sampleGrad, qInner.sample)));
      })([encoder.encoded, ...priorProbes]);
      const [encodedGrad, ...priorGrads] = encoderTerm;
      if (this.layout.prior) {
        records.push({ kind: 'elementwise', name: this.layout.prior.means, perExample: priorGrads[0] });
        records.push({ kind: 'elementwise', name: this.layout.prior.logVariances, perExample: priorGrads[1] });
      }
      const klSum = tf.sum(this.kl(q, t.noise));

      // [xᵀ; 1ᵀ] serves the first trained layer only when that layer reads the data itself.
      const firstInputTransposed = this.device.projection ? undefined : t.xTransposed;
      const blocks = this.layout.encoderBlocks;
      if (tied) {
        const latentDim = this.config.latentDim;
        const meanGrad = tf.slice(encodedGrad, [0, 0], [-1, latentDim]) as tf.Tensor2D;
        records.push({
          kind: 'shared',
          name: tied.weight,
          terms: [
            { input: encoder.headInput, outputGrad: meanGrad },
            { input: decodedGrad as tf.Tensor2D, outputGrad: q.sample },
          ],
        });
        records.push({ kind: 'elementwise', name: tied.encoderLogVariance, perExample: tf.slice(encodedGrad, [0, latentDim], [-1, latentDim]) });
      } else if (blocks.length === 0) {
        records.push({ kind: 'dense', layer: this.layout.encoderHead!, input: encoder.headInput, augmentedInputTransposed: firstInputTransposed, outputGrad: encodedGrad as tf.Tensor2D });
      } else {
        let grad = denseBackward(this.device, this.layout.encoderHead!, encoder.headInput, encodedGrad as tf.Tensor2D, records);
        for (let i = blocks.length - 1; i >= 0; i--) {
          const first = i === 0;
          grad = blockBackward(this.device, blocks[i], encoder.caches[i], grad, !first, records, first ? firstInputTransposed : undefined)!;
        }
      }

      let weights: tf.Tensor1D | null = null;
      let norms: Float32Array | null = null;
      if (clipNorm !== null) {
        const normTensor = tf.sqrt(perExampleSquaredNorms(records, size)) as tf.Tensor1D;
        weights = clipFactors(normTensor, clipNorm);
        norms = normTensor.dataSync() as Float32Array;
      }
      const sums = weightedGradientSums(records, weights);
      checkCoverage(this.layout, sums);
      return {
        sums,
        reconstructionSum: reconstructionSum.dataSync()[0],
        klSum: klSum.dataSync()[0],
        norms: norms ? Float32Array.from(norms) : null,
      };
    });
  }

  /** Per-example reconstruction and KL terms in evaluation mode (no dropout), with the batch's noise. */
  losses(batch: Batch): ExampleLosses {
    return inScope(() => {
      const t = this.tensors(batch);
      const { encoded } = this.encode(t, false);
      const q = posterior(encoded, t.noise);
      const { decoded } = this.decode(q.sample);
      return {
        reconstruction: Float32Array.from(this.reconstruction(t, decoded).dataSync() as Float32Array),
        kl: Float32Array.from(this.kl(q, t.noise).dataSync() as Float32Array),
      };
    });
  }

  /** Posterior means of a batch of encoder inputs ([n, G] row-major), [n, d]. */
  encodeMeans(x: Float32Array, rows: number): Float32Array {
    return inScope(() => {
      const input = tf.tensor2d(x, [rows, this.config.nGenes]);
      const { encoded } = this.encode({ encoderInput: this.encoderInput(input), masks: [] }, false);
      const [mean] = tf.split(encoded, 2, 1);
      return Float32Array.from(mean.dataSync() as Float32Array);
    });
  }

  /** Most probable mixture component of latent points [n, d]; throws for the normal prior. */
  assignComponents(z: Float32Array, rows: number): Int32Array {
    const prior = this.mixture();
    if (!prior) throw new Error('component assignment needs the mixture prior');
    return tf.tidy(() => Int32Array.from(assignComponents(tf.tensor2d(z, [rows, this.config.latentDim]), prior).dataSync()));
  }

  /**
   * Decoded mean expression of latent points [n, d] on the loadings' scale (see `decodedMean`),
   * [n, G]. A decoder of the projection's coordinates is mapped back to genes through the
   * projection's orthonormal columns, which gives the gene-space point in their span.
   */
  decodeMeans(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const mean = decodedMean(this.config.likelihood, this.decode(z).decoded, reconstructionWidth(this.config));
      const projection = this.device.projection;
      return reconstructsProjection(this.config) && projection ? (tf.matMul(mean, projection, false, true) as tf.Tensor2D) : mean;
    });
  }
}
