import { Rng } from '../util/rng.js';
import { checkConfig, decoderKind, decoderOutputWidth, encoderInputWidth, reconstructionWidth, type InputProjection, type VaeConfig } from './config.js';

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

/** The weights of the tied linear VAE (see DecoderKind 'tied'). */
export interface TiedSpec {
  /** W [genes, d]: posterior means x·W, decoded means z·Wᵀ. */
  weight: string;
  /** Posterior log-variance per latent dimension, [d], the same for every sample. */
  encoderLogVariance: string;
  genes: number;
  latentDim: number;
}

/** Name of the fixed input projection's tensor, [genes, dim], in saved weights. */
export const PROJECTION_TENSOR = 'encoder.projection';

/** The network's layout: which parameters exist and how they connect. */
export interface NetworkLayout {
  /** The fixed input projection [genes, dim] (not a parameter: never trained, never noised), or null. */
  projection: ParameterSpec | null;
  encoderBlocks: BlockSpec[];
  /** Encoder output layer: posterior means and log-variances, [mu | logVar]; null for the tied model. */
  encoderHead: DenseSpec | null;
  decoderBlocks: BlockSpec[];
  /**
   * Decoder output layer: Gaussian means, or NB logits of the gene proportions, plus ZINB
   * zero-inflation logits; null for the tied model.
   */
  decoderHead: DenseSpec | null;
  /** The tied model's weights, or null for a model of dense layers. */
  tied: TiedSpec | null;
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
  checkConfig(config);
  const specs: ParameterSpec[] = [];
  const projection = config.inputProjection ? { name: PROJECTION_TENSOR, shape: [config.nGenes, config.inputProjection.dim] } : null;
  if (decoderKind(config) === 'tied') {
    const tied: TiedSpec = { weight: 'tied.weight', encoderLogVariance: 'encoder.logVariance', genes: config.nGenes, latentDim: config.latentDim };
    specs.push({ name: tied.weight, shape: [config.nGenes, config.latentDim] }, { name: tied.encoderLogVariance, shape: [config.latentDim] });
    const geneParameter = geneParameterName(config);
    specs.push({ name: geneParameter, shape: [config.nGenes] });
    const prior = priorParameters(config, specs);
    return { projection, encoderBlocks: [], encoderHead: null, decoderBlocks: [], decoderHead: null, tied, geneParameter, prior, parameters: specs };
  }
  const encoderBlocks: BlockSpec[] = [];
  let width = encoderInputWidth(config);
  config.hiddenDims.forEach((hidden, i) => {
    encoderBlocks.push(block(`encoder.${i}`, width, hidden, config, config.dropout, specs));
    width = hidden;
  });
  const encoderHead = dense('encoder.head', width, 2 * config.latentDim, specs);

  const decoderBlocks: BlockSpec[] = [];
  width = config.latentDim;
  const decoderWidths = decoderKind(config) === 'linear' ? [] : [...config.hiddenDims].reverse();
  decoderWidths.forEach((hidden, i) => {
    decoderBlocks.push(block(`decoder.${i}`, width, hidden, config, 0, specs));
    width = hidden;
  });
  const decoderHead = dense('decoder.head', width, decoderOutputWidth(config), specs);

  const geneParameter = geneParameterName(config);
  specs.push({ name: geneParameter, shape: [reconstructionWidth(config)] });
  const prior = priorParameters(config, specs);
  return { projection, encoderBlocks, encoderHead, decoderBlocks, decoderHead, tied: null, geneParameter, prior, parameters: specs };
}

function geneParameterName(config: VaeConfig): string {
  return config.likelihood === 'gaussian' ? 'likelihood.logVariance' : 'likelihood.logTheta';
}

/** Adds the mixture prior's means and log-variances to `specs`, or returns null for the normal prior. */
function priorParameters(config: VaeConfig, specs: ParameterSpec[]): NetworkLayout['prior'] {
  if (config.prior !== 'mixture') return null;
  const prior = { means: 'prior.means', logVariances: 'prior.logVariances' };
  specs.push(
    { name: prior.means, shape: [config.mixtureComponents, config.latentDim] },
    { name: prior.logVariances, shape: [config.mixtureComponents, config.latentDim] },
  );
  return prior;
}

/**
 * Draws the fixed input projection: `dim` orthonormal columns in gene space, [genes, dim]
 * row-major, from Gaussian columns made orthonormal by modified Gram–Schmidt (a uniformly
 * random orthonormal frame). Orthonormal columns keep each projected coordinate at the scale of
 * one scaled gene, and distances shrink by about sqrt(dim / genes) for every pair alike.
 */
export function drawProjection(nGenes: number, projection: InputProjection): Float32Array {
  const { dim } = projection;
  if (!(Number.isInteger(dim) && dim >= 1 && dim <= nGenes)) {
    throw new Error(`input projection width ${dim} must be an integer from 1 to the ${nGenes} genes`);
  }
  const rng = new Rng(projection.seed).fork('input-projection');
  const columns: Float64Array[] = [];
  for (let j = 0; j < dim; j++) {
    const column = new Float64Array(nGenes);
    for (let attempt = 0; ; attempt++) {
      for (let g = 0; g < nGenes; g++) column[g] = rng.normal();
      for (const previous of columns) {
        let dot = 0;
        for (let g = 0; g < nGenes; g++) dot += column[g] * previous[g];
        for (let g = 0; g < nGenes; g++) column[g] -= dot * previous[g];
      }
      let norm = 0;
      for (let g = 0; g < nGenes; g++) norm += column[g] * column[g];
      norm = Math.sqrt(norm);
      // A Gaussian draw almost never lies in the span of the earlier columns; redraw if it does.
      if (norm > 1e-6) {
        for (let g = 0; g < nGenes; g++) column[g] /= norm;
        break;
      }
      if (attempt > 10) throw new Error('could not draw an orthonormal input projection');
    }
    columns.push(column);
  }
  const out = new Float32Array(nGenes * dim);
  for (let g = 0; g < nGenes; g++) for (let j = 0; j < dim; j++) out[g * dim + j] = columns[j][g];
  return out;
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
  for (const spec of denseLayers(layout)) {
    const bound = 1 / Math.sqrt(spec.inputDim);
    for (const name of [spec.weight, spec.bias]) {
      const values = parameters.get(name);
      for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * bound;
    }
  }
  for (const b of [...layout.encoderBlocks, ...layout.decoderBlocks]) {
    if (b.norm) parameters.get(b.norm.gain).fill(1);
  }
  if (layout.tied) {
    // N(0, 1/genes) entries: each latent coordinate of a standardized sample starts near unit scale.
    const weight = parameters.get(layout.tied.weight);
    const scale = 1 / Math.sqrt(layout.tied.genes);
    for (let i = 0; i < weight.length; i++) weight[i] = rng.normal() * scale;
  }
  if (layout.prior) {
    const means = parameters.get(layout.prior.means);
    for (let i = 0; i < means.length; i++) means[i] = rng.normal();
  }
  return { layout, parameters };
}

/** Lists every dense layer of the network in forward order (none for the tied model). */
export function denseLayers(layout: NetworkLayout): DenseSpec[] {
  const all = [...layout.encoderBlocks.map((b) => b.dense), layout.encoderHead, ...layout.decoderBlocks.map((b) => b.dense), layout.decoderHead];
  return all.filter((spec): spec is DenseSpec => spec !== null);
}
