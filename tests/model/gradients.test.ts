import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.js';
import type { VaeConfig } from '../../src/model/config.js';
import { lgammaNumber } from '../../src/model/likelihood.js';
import { drawProjection, initParameters } from '../../src/model/parameters.js';
import { VaeModel, type Batch } from '../../src/model/vae.js';
import { Rng } from '../../src/util/rng.js';
import { referenceExampleGradient } from './reference.js';

const BATCH = 6;

function randomBatch(config: VaeConfig, rng: Rng): Batch {
  const genes = config.nGenes;
  const x = Float32Array.from({ length: BATCH * genes }, () => rng.normal());
  const xTransposed = new Float32Array((genes + 1) * BATCH).fill(1);
  for (let i = 0; i < BATCH; i++) for (let g = 0; g < genes; g++) xTransposed[g * BATCH + i] = x[i * genes + g];
  const counts = Float32Array.from({ length: BATCH * genes }, () => rng.negativeBinomial(3, 2));
  const logLibrary = new Float32Array(BATCH);
  const logFactorialSum = new Float32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    let library = 0;
    for (let g = 0; g < genes; g++) {
      library += counts[i * genes + g];
      logFactorialSum[i] += lgammaNumber(counts[i * genes + g] + 1);
    }
    logLibrary[i] = Math.log(Math.max(library, 1));
  }
  const masks = config.hiddenDims.map((width) =>
    config.dropout > 0 ? Float32Array.from({ length: BATCH * width }, () => (rng.uniform() < config.dropout ? 0 : 1 / (1 - config.dropout))) : null,
  );
  return {
    size: BATCH,
    x,
    xTransposed,
    counts: config.likelihood === 'gaussian' ? null : counts,
    logLibrary,
    logFactorialSum,
    noise: Float32Array.from({ length: BATCH * config.latentDim }, () => rng.normal()),
    masks,
  };
}

const CASES: { label: string; config: VaeConfig }[] = [
  {
    label: 'gaussian, mixture prior, layer norm, dropout',
    config: { nGenes: 12, hiddenDims: [9, 7], latentDim: 3, dropout: 0.3, layerNorm: true, likelihood: 'gaussian', prior: 'mixture', mixtureComponents: 3 },
  },
  {
    label: 'nb, normal prior, no layer norm',
    config: { nGenes: 10, hiddenDims: [8], latentDim: 2, dropout: 0, layerNorm: false, likelihood: 'nb', prior: 'normal', mixtureComponents: 1 },
  },
  {
    label: 'zinb, mixture prior, layer norm',
    config: { nGenes: 10, hiddenDims: [8, 5], latentDim: 2, dropout: 0.2, layerNorm: true, likelihood: 'zinb', prior: 'mixture', mixtureComponents: 2 },
  },
  {
    label: 'gaussian, linear encoder and decoder',
    config: { nGenes: 7, hiddenDims: [], latentDim: 2, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1 },
  },
  {
    label: 'tied linear model, normal prior',
    config: { nGenes: 9, hiddenDims: [], latentDim: 3, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1, decoder: 'tied' },
  },
  {
    label: 'tied linear model, mixture prior',
    config: { nGenes: 8, hiddenDims: [], latentDim: 2, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'mixture', mixtureComponents: 3, decoder: 'tied' },
  },
  {
    label: 'nb, input projection, linear decoder',
    config: {
      nGenes: 11, hiddenDims: [6], latentDim: 2, dropout: 0.2, layerNorm: true, likelihood: 'nb', prior: 'normal', mixtureComponents: 1,
      decoder: 'linear', inputProjection: { dim: 5, seed: 3 },
    },
  },
  {
    label: 'gaussian, projection reconstructed, no hidden layer',
    config: {
      nGenes: 10, hiddenDims: [], latentDim: 2, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1,
      decoder: 'linear', inputProjection: { dim: 4, seed: 5 }, reconstruction: 'projection',
    },
  },
];

function norm(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v * v;
  return Math.sqrt(total);
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  const difference = actual.map((v, i) => v - expected[i]);
  return norm(difference) / Math.max(norm(expected), 1e-12);
}

await initBackend('wasm');

describe.each(CASES)('per-example gradients: $label', ({ config }) => {
  const rng = new Rng(7).fork(JSON.stringify(config));
  const { layout, parameters } = initParameters(config, rng);
  // Move gene-wise and norm parameters off their initial constants so every term is exercised.
  for (const spec of layout.parameters) {
    if (!spec.name.includes('.weight')) parameters.get(spec.name).forEach((v, i, a) => (a[i] = v + 0.3 * rng.normal()));
  }
  const batch = randomBatch(config, rng);
  const klWeight = 0.7;
  const projection = config.inputProjection ? drawProjection(config.nGenes, config.inputProjection) : null;
  const reference = Array.from({ length: BATCH }, (_, i) => referenceExampleGradient(config, layout, parameters, batch, i, klWeight, projection));
  const referenceNorms = reference.map((grads) => norm([...grads.values()].flatMap((g) => Array.from(g))));

  it.each(['wasm', 'cpu'] as const)('norms match brute force on %s', async (backend) => {
    await initBackend(backend);
    const model = new VaeModel(config, layout, parameters);
    const { norms } = model.gradients(batch, { klWeight, clipNorm: 1e12 });
    model.dispose();
    for (let i = 0; i < BATCH; i++) {
      expect(Math.abs(norms![i] - referenceNorms[i]) / referenceNorms[i]).toBeLessThan(1e-4);
    }
  });

  it.each(['wasm', 'cpu'] as const)('unclipped sum matches brute force on %s', async (backend) => {
    await initBackend(backend);
    const model = new VaeModel(config, layout, parameters);
    const { sums } = model.gradients(batch, { klWeight, clipNorm: null });
    model.dispose();
    for (const spec of layout.parameters) {
      const expected = new Float32Array(sums.get(spec.name)!.length);
      for (const grads of reference) grads.get(spec.name)!.forEach((v, j) => (expected[j] += v));
      expect(relativeError(sums.get(spec.name)!, expected), spec.name).toBeLessThan(1e-4);
    }
  });

  it.each(['wasm', 'cpu'] as const)('clipped sum bounds each example on %s', async (backend) => {
    await initBackend(backend);
    const clipNorm = Math.min(...referenceNorms) * 0.5 + Math.max(...referenceNorms) * 0.5;
    const model = new VaeModel(config, layout, parameters);
    const { sums } = model.gradients(batch, { klWeight, clipNorm });
    model.dispose();
    const factors = referenceNorms.map((n) => Math.min(1, clipNorm / (n + 1e-6)));
    for (let i = 0; i < BATCH; i++) expect(factors[i] * referenceNorms[i]).toBeLessThanOrEqual(clipNorm * (1 + 1e-6));
    expect(factors.some((f) => f < 1)).toBe(true);
    for (const spec of layout.parameters) {
      const expected = new Float32Array(sums.get(spec.name)!.length);
      reference.forEach((grads, i) => grads.get(spec.name)!.forEach((v, j) => (expected[j] += factors[i] * v)));
      expect(relativeError(sums.get(spec.name)!, expected), spec.name).toBeLessThan(1e-4);
    }
  });
});
