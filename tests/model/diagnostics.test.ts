import { describe, expect, it } from 'vitest';
import { compareWithUntrained, explainedVariance } from '../../src/model/diagnostics.js';
import { Rng } from '../../src/util/rng.js';

/** n samples of g genes: two independent factors of unit variance spread over the genes, plus small noise. */
function factorData(n: number, genes: number, rng: Rng): { x: Float32Array; factors: Float32Array } {
  const factors = Float32Array.from({ length: n * 2 }, () => rng.normal());
  const loadings = Float32Array.from({ length: 2 * genes }, () => rng.normal());
  const x = new Float32Array(n * genes);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < genes; g++) x[i * genes + g] = factors[i * 2] * loadings[g] + factors[i * 2 + 1] * loadings[genes + g] + 0.01 * rng.normal();
  }
  return { x, factors };
}

describe('explainedVariance', () => {
  it('is about 1 for latents that generate the data', () => {
    const { x, factors } = factorData(200, 12, new Rng(1));
    expect(explainedVariance(factors, 2, x, 12)).toBeGreaterThan(0.999);
  });

  it('is the column share for a latent equal to one column', () => {
    // Gene 0 is the latent (sum of squares 5); gene 1 is uncorrelated with it (sum of squares 4).
    const x = Float32Array.from([1, 1, 2, -1, 3, -1, 4, 1]);
    const latent = Float32Array.from([1, 2, 3, 4]);
    expect(explainedVariance(latent, 1, x, 2)).toBeCloseTo(5 / 9, 6);
  });

  it('ignores a collapsed latent dimension', () => {
    const { x, factors } = factorData(100, 8, new Rng(2));
    const withConstant = new Float32Array(100 * 3);
    for (let i = 0; i < 100; i++) withConstant.set([factors[i * 2], factors[i * 2 + 1], 0.5], i * 3);
    expect(explainedVariance(withConstant, 3, x, 8)).toBeCloseTo(explainedVariance(factors, 2, x, 8), 6);
  });
});

describe('compareWithUntrained', () => {
  it('places the principal components above any latents', () => {
    const rng = new Rng(3);
    const { x, factors } = factorData(150, 10, rng);
    const random = Float32Array.from({ length: 150 * 2 }, () => rng.normal());
    const comparison = compareWithUntrained(factors, random, 2, x, 10, new Rng(4));
    expect(comparison.pcaExplainedVariance).toBeGreaterThanOrEqual(comparison.trainedExplainedVariance - 1e-6);
    expect(comparison.trainedExplainedVariance).toBeGreaterThan(comparison.untrainedExplainedVariance);
    expect(comparison.gapClosed).toBeGreaterThan(0.99);
  });
});
