import * as tf from '@tensorflow/tfjs-core';
import { denseLayers, type BlockSpec, type DenseSpec, type NetworkLayout, type ParameterSet } from './parameters.js';

/** Added to the variance in layer normalization, as torch.nn.LayerNorm's default eps. */
export const LAYER_NORM_EPSILON = 1e-5;

/**
 * Parameter tensors on the tfjs backend. Dense layers whose input gradient is needed also
 * keep W transposed, because the wasm backend multiplies with a transposed operand about 15
 * times slower than without one. One transpose per update costs far less than a transposed
 * product in every backward pass.
 */
export class DeviceParameters {
  readonly tensors = new Map<string, tf.Tensor>();
  readonly transposed = new Map<string, tf.Tensor2D>();
  /** The fixed input projection [genes, dim], uploaded once; null without one. */
  private projectionTensor: tf.Tensor2D | null = null;

  constructor(
    private readonly layout: NetworkLayout,
    private readonly withTransposes: boolean,
    projection: Float32Array | null = null,
  ) {
    if (layout.projection) {
      if (!projection) throw new Error('the layout has an input projection but no values were given');
      const [genes, dim] = layout.projection.shape;
      this.projectionTensor = tf.tensor2d(projection, [genes, dim]);
    }
  }

  get projection(): tf.Tensor2D | null {
    return this.projectionTensor;
  }

  /** Replaces every parameter tensor with the current values (after an optimizer step). */
  upload(parameters: ParameterSet): void {
    this.disposeParameters();
    for (const spec of this.layout.parameters) {
      this.tensors.set(spec.name, tf.tensor(parameters.get(spec.name), spec.shape));
    }
    if (!this.withTransposes) return;
    for (const denseSpec of denseLayersNeedingInputGradient(this.layout)) {
      this.transposed.set(denseSpec.weight, tf.transpose(this.weight(denseSpec)));
    }
  }

  get(name: string): tf.Tensor {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`parameter ${name} is not on the device`);
    return tensor;
  }

  weight(spec: DenseSpec): tf.Tensor2D {
    return this.get(spec.weight) as tf.Tensor2D;
  }

  weightTransposed(spec: DenseSpec): tf.Tensor2D {
    const tensor = this.transposed.get(spec.weight);
    if (!tensor) throw new Error(`no transposed copy of ${spec.weight}`);
    return tensor;
  }

  dispose(): void {
    this.disposeParameters();
    this.projectionTensor?.dispose();
    this.projectionTensor = null;
  }

  private disposeParameters(): void {
    for (const tensor of this.tensors.values()) tensor.dispose();
    for (const tensor of this.transposed.values()) tensor.dispose();
    this.tensors.clear();
    this.transposed.clear();
  }
}

/** Lists every dense layer except the first encoder layer, whose input (the data or its fixed projection) needs no gradient. */
export function denseLayersNeedingInputGradient(layout: NetworkLayout): DenseSpec[] {
  return denseLayers(layout).slice(1);
}

/**
 * The gradient of the summed loss for each example, in a form from which per-example norms
 * and clipped sums follow without materialising a gradient per example for dense layers.
 */
export type ExampleGradient =
  | {
      kind: 'dense';
      layer: DenseSpec;
      /** Layer input a, [B, in]. Example i's weight gradient is the outer product a_iᵀ·g_i. */
      input: tf.Tensor2D;
      /** [aᵀ; 1ᵀ], [in + 1, B], when the caller has it already (the data batch); else built on use. */
      augmentedInputTransposed?: tf.Tensor2D;
      /** g = dL/dz for the pre-activation z = a·W + b, [B, out]; also each example's bias gradient. */
      outputGrad: tf.Tensor2D;
    }
  | {
      /**
       * A weight used in several places (the tied model's W): example i's gradient is
       * Σ_t outer(input_t[i], outputGrad_t[i]), [in, out].
       */
      kind: 'shared';
      name: string;
      terms: { input: tf.Tensor2D; outputGrad: tf.Tensor2D }[];
    }
  | {
      kind: 'elementwise';
      name: string;
      /** Each example's gradient of the parameter, [B, ...parameter shape]. */
      perExample: tf.Tensor;
    };

/** Forward-pass values that a hidden block's backward pass needs. */
export interface BlockCache {
  input: tf.Tensor2D;
  /** Layer-normalized pre-activations and 1/std per example, when the block normalizes. */
  normalized: tf.Tensor2D | null;
  inverseStd: tf.Tensor2D | null;
  /** ReLU output before dropout; positive exactly where the ReLU passed its input. */
  activated: tf.Tensor2D;
  /** Dropout mask already scaled by 1 / (1 - rate), or null. */
  mask: tf.Tensor2D | null;
}

/**
 * Costs besides the arithmetic of a product a·b [m, k]·[k, n] on the wasm backend, in ns per
 * element. XNNPack packs b into its own layout on every product with a new b (weights change
 * every step, activations every batch), and tf.transpose copies. Both were measured on a
 * shared 2-core x86-64 machine at the benchmark's shapes, and only their ratio matters.
 */
const PACK_NS_PER_ELEMENT = 9.4;
const TRANSPOSE_NS_PER_ELEMENT = 3.3;

/**
 * a·b, computed as (bᵀ·aᵀ)ᵀ when packing aᵀ and the transposes cost less than packing b. On
 * the wasm backend this turns the packing of a 2000 × 256 weight matrix into the packing of a
 * 2000 × 128 activation block. `bTransposed` is bᵀ when the caller keeps it (a weight's copy).
 * Other backends multiply directly.
 */
export function product(a: tf.Tensor2D, b: tf.Tensor2D, bTransposed?: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b) as tf.Tensor2D;
  const direct = PACK_NS_PER_ELEMENT * k * n;
  const swapped = PACK_NS_PER_ELEMENT * k * m + TRANSPOSE_NS_PER_ELEMENT * (m * k + m * n + (bTransposed ? 0 : k * n));
  if (swapped >= direct) return tf.matMul(a, b) as tf.Tensor2D;
  return tf.transpose(tf.matMul(bTransposed ?? tf.transpose(b), tf.transpose(a))) as tf.Tensor2D;
}

export function denseForward(p: DeviceParameters, spec: DenseSpec, input: tf.Tensor2D): tf.Tensor2D {
  const transposed = p.transposed.get(spec.weight);
  const weight = p.weight(spec);
  if (tf.getBackend() === 'wasm' && transposed) {
    const [m, k] = input.shape;
    const n = spec.outputDim;
    // The swapped product adds the bias as its own op, which costs about a transpose of the output.
    const swapped = PACK_NS_PER_ELEMENT * k * m + TRANSPOSE_NS_PER_ELEMENT * (m * k + 2 * m * n);
    if (swapped < PACK_NS_PER_ELEMENT * k * n) return tf.add(product(input, weight, transposed), p.get(spec.bias));
  }
  return tf.fused.matMul({ a: input, b: weight, bias: p.get(spec.bias) }) as tf.Tensor2D;
}

/** Dense → optional layer normalization → ReLU → optional dropout (mask given by the caller). */
export function blockForward(
  p: DeviceParameters,
  spec: BlockSpec,
  input: tf.Tensor2D,
  mask: tf.Tensor2D | null,
): { output: tf.Tensor2D; cache: BlockCache } {
  let normalized: tf.Tensor2D | null = null;
  let inverseStd: tf.Tensor2D | null = null;
  let activated: tf.Tensor2D;
  if (spec.norm) {
    const z = denseForward(p, spec.dense, input);
    const centered = tf.sub(z, tf.mean(z, 1, true));
    const variance = tf.mean(tf.square(centered), 1, true);
    inverseStd = tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON)) as tf.Tensor2D;
    normalized = tf.mul(centered, inverseStd) as tf.Tensor2D;
    const y = tf.add(tf.mul(normalized, p.get(spec.norm.gain)), p.get(spec.norm.bias));
    activated = tf.relu(y) as tf.Tensor2D;
  } else {
    activated = tf.fused.matMul({
      a: input,
      b: p.weight(spec.dense),
      bias: p.get(spec.dense.bias),
      activation: 'relu',
    }) as tf.Tensor2D;
  }
  const output = mask ? (tf.mul(activated, mask) as tf.Tensor2D) : activated;
  return { output, cache: { input, normalized, inverseStd, activated, mask } };
}

/**
 * Back-propagates through a hidden block by hand, recording each example's gradients of the
 * block's parameters in `records`. Returns dL/d(input), or null when `needInputGradient` is false.
 */
export function blockBackward(
  p: DeviceParameters,
  spec: BlockSpec,
  cache: BlockCache,
  outputGrad: tf.Tensor2D,
  needInputGradient: boolean,
  records: ExampleGradient[],
  augmentedInputTransposed?: tf.Tensor2D,
): tf.Tensor2D | null {
  const activatedGrad: tf.Tensor2D = cache.mask ? tf.mul(outputGrad, cache.mask) : outputGrad;
  // ReLU passes the gradient where its output is positive.
  const preActivationGrad = tf.mul(activatedGrad, tf.step(cache.activated)) as tf.Tensor2D;
  let denseGrad: tf.Tensor2D = preActivationGrad;
  if (spec.norm && cache.normalized && cache.inverseStd) {
    const n = cache.normalized;
    records.push({ kind: 'elementwise', name: spec.norm.gain, perExample: tf.mul(preActivationGrad, n) });
    records.push({ kind: 'elementwise', name: spec.norm.bias, perExample: preActivationGrad });
    // dz = (1/std)·(dn − mean(dn) − n·mean(dn ⊙ n)), per example over the features.
    const normalizedGrad = tf.mul(preActivationGrad, p.get(spec.norm.gain));
    const meanGrad = tf.mean(normalizedGrad, 1, true);
    const meanProjection = tf.mean(tf.mul(normalizedGrad, n), 1, true);
    denseGrad = tf.mul(cache.inverseStd, tf.sub(tf.sub(normalizedGrad, meanGrad), tf.mul(n, meanProjection))) as tf.Tensor2D;
  }
  records.push({ kind: 'dense', layer: spec.dense, input: cache.input, augmentedInputTransposed, outputGrad: denseGrad });
  return needInputGradient ? product(denseGrad, p.weightTransposed(spec.dense), p.weight(spec.dense)) : null;
}

/** Back-propagates through an output layer (no activation): records it and returns dL/d(input). */
export function denseBackward(
  p: DeviceParameters,
  spec: DenseSpec,
  input: tf.Tensor2D,
  outputGrad: tf.Tensor2D,
  records: ExampleGradient[],
): tf.Tensor2D {
  records.push({ kind: 'dense', layer: spec, input, outputGrad });
  return product(outputGrad, p.weightTransposed(spec), p.weight(spec));
}
