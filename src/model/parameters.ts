import type { Rng } from '../util/rng.js';
import { decoderOutputWidth, type VaeConfig } from './config.js';

/** A named trainable tensor. Dense weights are [in, out] row-major, so a layer computes a·W + b. */
export interface ParameterSpec {
  name: string;
  shape: number[];
}

/** One dense layer of the network and the names of its parameters. */
export interface DenseSpec {
  weight: string;
  bias: string;
  inputDim: number;
  outputDim: number;
}

/** One hidden block: dense, optional layer normalization, ReLU, optional dropout. */
export interface BlockSpec {
  dense: DenseSpec;
  /** Layer-norm gain and bias names, or null without layer normalization. */
  norm: { gain: string; bias: string } | null;
  dropout: number;
}

/** The network's layout: which parameters exist and how they connect. */
export interface NetworkLayout {
  encoderBlocks: BlockSpec[];
  /** Encoder output layer: posterior means and log-variances, [mu | logVar]. */
  encoderHead: DenseSpec;
  decoderBlocks: BlockSpec[];
  /** Decoder output layer: Gaussian means, or NB logits of the gene proportions, plus ZINB zero-inflation logits. */
  decoderHead: DenseSpec;
  /** Gene-wise parameter of the likelihood: log-variance (Gaussian) or log inverse dispersion log(theta) (NB, ZINB). */
  geneParameter: string;
  /** Mixture-prior means [K, d] and log-variances [K, d], or null for the normal prior. */
  prior: { means: string; logVariances: string } | null;
  parameters: ParameterSpec[];
}

function dense(name: string, inputDim: number, outputDim: number, specs: ParameterSpec[]): DenseSpec {
  const spec = { weight: `${name}.weight`, bias: `${name}.bias`, inputDim, outputDim };
  specs.push({ name: spec.weight, shape: [inputDim, outputDim] }, { name: spec.bias, shape: [outputDim] });
  return spec;
}

function block(name: string, inputDim: number, outputDim: number, config: VaeConfig, dropout: number, specs: ParameterSpec[]): BlockSpec {
  const denseSpec = dense(`${name}.dense`, inputDim, outputDim, specs);
  let norm: BlockSpec['norm'] = null;
  if (config.layerNorm) {
    norm = { gain: `${name}.norm.gain`, bias: `${name}.norm.bias` };
    specs.push({ name: norm.gain, shape: [outputDim] }, { name: norm.bias, shape: [outputDim] });
  }
  return { dense: denseSpec, norm, dropout };
}

/** Lists the parameters of a VAE with this configuration, in a fixed order (the order of the saved weights). */
export function networkLayout(config: VaeConfig): NetworkLayout {
  const specs: ParameterSpec[] = [];
  const encoderBlocks: BlockSpec[] = [];
  let width = config.nGenes;
  config.hiddenDims.forEach((hidden, i) => {
    encoderBlocks.push(block(`encoder.${i}`, width, hidden, config, config.dropout, specs));
    width = hidden;
  });
  const encoderHead = dense('encoder.head', width, 2 * config.latentDim, specs);

  const decoderBlocks: BlockSpec[] = [];
  width = config.latentDim;
  [...config.hiddenDims].reverse().forEach((hidden, i) => {
    decoderBlocks.push(block(`decoder.${i}`, width, hidden, config, 0, specs));
    width = hidden;
  });
  const decoderHead = dense('decoder.head', width, decoderOutputWidth(config), specs);

  const geneParameter = config.likelihood === 'gaussian' ? 'likelihood.logVariance' : 'likelihood.logTheta';
  specs.push({ name: geneParameter, shape: [config.nGenes] });

  let prior: NetworkLayout['prior'] = null;
  if (config.prior === 'mixture') {
    prior = { means: 'prior.means', logVariances: 'prior.logVariances' };
    specs.push(
      { name: prior.means, shape: [config.mixtureComponents, config.latentDim] },
      { name: prior.logVariances, shape: [config.mixtureComponents, config.latentDim] },
    );
  }
  return { encoderBlocks, encoderHead, decoderBlocks, decoderHead, geneParameter, prior, parameters: specs };
}

export function elementCount(shape: number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** The values of every parameter as Float32Arrays, keyed by name, in layout order. */
export class ParameterSet {
  readonly values = new Map<string, Float32Array>();

  constructor(readonly specs: ParameterSpec[], values?: Map<string, Float32Array>) {
    for (const spec of specs) {
      const size = elementCount(spec.shape);
      const given = values?.get(spec.name);
      if (given && given.length !== size) {
        throw new Error(`parameter ${spec.name}: ${given.length} values for shape [${spec.shape.join(', ')}]`);
      }
      this.values.set(spec.name, given ?? new Float32Array(size));
    }
  }

  get(name: string): Float32Array {
    const value = this.values.get(name);
    if (!value) throw new Error(`unknown parameter ${name}`);
    return value;
  }

  shape(name: string): number[] {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`unknown parameter ${name}`);
    return spec.shape;
  }

  /** Total number of trainable scalars. */
  count(): number {
    let total = 0;
    for (const value of this.values.values()) total += value.length;
    return total;
  }

  clone(): ParameterSet {
    const copy = new Map<string, Float32Array>();
    for (const [name, value] of this.values) copy.set(name, value.slice());
    return new ParameterSet(this.specs, copy);
  }
}

/**
 * Initialises parameters as PyTorch's nn.Linear does (weights and biases uniform in
 * ±1/sqrt(fan_in)), layer-norm gains at 1 and biases at 0, gene-wise log parameters at 0
 * (unit variance, theta = 1), and mixture means from a standard normal so components start apart.
 */
export function initParameters(config: VaeConfig, rng: Rng): { layout: NetworkLayout; parameters: ParameterSet } {
  const layout = networkLayout(config);
  const parameters = new ParameterSet(layout.parameters);
  const denses = [
    ...layout.encoderBlocks.map((b) => b.dense),
    layout.encoderHead,
    ...layout.decoderBlocks.map((b) => b.dense),
    layout.decoderHead,
  ];
  for (const spec of denses) {
    const bound = 1 / Math.sqrt(spec.inputDim);
    for (const name of [spec.weight, spec.bias]) {
      const values = parameters.get(name);
      for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * bound;
    }
  }
  for (const b of [...layout.encoderBlocks, ...layout.decoderBlocks]) {
    if (b.norm) parameters.get(b.norm.gain).fill(1);
  }
  if (layout.prior) {
    const means = parameters.get(layout.prior.means);
    for (let i = 0; i < means.length; i++) means[i] = rng.normal();
  }
  return { layout, parameters };
}
