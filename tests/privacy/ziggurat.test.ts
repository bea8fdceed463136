import erfc from '@stdlib/math-base-special-erfc';
import { describe, expect, it } from 'vitest';
import { SecureRandom } from '../../src/privacy/secure-random.js';
import { buildNormalZiggurat, NORMAL_ZIGGURAT, sampleNormalTail, zigguratSlowPath } from '../../src/privacy/ziggurat.js';

describe('buildNormalZiggurat', () => {
  it('matches the published 256-layer tail start', () => {
    // ZIG_NORM_R of rand_distr 0.5 (ziggurat_tables.rs), from Marsaglia and Tsang's construction.
    expect(NORMAL_ZIGGURAT.r).toBeCloseTo(3.654152885361008796, 12);
  });

  it('matches the published 128-layer constants', () => {
    // START_RIGHT_TAIL and V of @stdlib/random-base-improved-ziggurat (Doornik 2005, 128 layers).
    const table = buildNormalZiggurat(128);
    expect(table.r).toBeCloseTo(3.442619855899, 11);
    expect(table.area).toBeCloseTo(9.91256303526217e-3, 12);
  });

  it('gives every layer the same area', () => {
    const { layers, area, edges, heights, r } = NORMAL_ZIGGURAT;
    const tailArea = Math.sqrt(Math.PI / 2) * erfc(r * Math.SQRT1_2);
    expect(Math.abs(r * heights[1] + tailArea - area) / area, 'base layer').toBeLessThan(1e-12);
    for (let i = 1; i < layers; i++) {
      // Layer i is the rectangle [0, edges[i]] × [f(edges[i]), f(edges[i + 1])], with f(0) = 1 on top.
      const layerArea = edges[i] * (heights[i + 1] - heights[i]);
      expect(Math.abs(layerArea - area) / area, `layer ${i}`).toBeLessThan(1e-12);
    }
  });

  it('reports a top-layer error at rounding level', () => {
    expect(Math.abs(NORMAL_ZIGGURAT.topAreaError)).toBeLessThan(1e-12);
  });

  it('has decreasing edges ending at 0', () => {
    const { layers, edges } = NORMAL_ZIGGURAT;
    for (let i = 0; i < layers; i++) expect(edges[i + 1], `edge ${i + 1}`).toBeLessThan(edges[i]);
    expect(edges[layers]).toBe(0);
  });

  it('stores the ratios of adjacent edges', () => {
    const { layers, edges, innerRatios } = NORMAL_ZIGGURAT;
    for (let i = 0; i < layers; i++) expect(innerRatios[i], `layer ${i}`).toBe(edges[i + 1] / edges[i]);
  });

  it('rejects a layer count that is not a power of two', () => {
    expect(() => buildNormalZiggurat(100)).toThrow(/power of two/);
  });
});

describe('zigguratSlowPath', () => {
  it('accepts points inside the inner rectangle', () => {
    // Below edges[layer + 1] the density exceeds the rectangle's top, so the wedge test always accepts.
    const random = SecureRandom.insecureForTests(3);
    const layer = 100;
    const x = 0.999 * NORMAL_ZIGGURAT.edges[layer + 1];
    for (let k = 0; k < 1000; k++) expect(zigguratSlowPath(NORMAL_ZIGGURAT, layer, x, random)).toBe(x);
  });

  it('accepts a wedge point with its conditional probability', () => {
    // At x inside layer i's wedge, acceptance has probability (f(x) - f(edges[i])) / (f(edges[i+1]) - f(edges[i])).
    const random = SecureRandom.insecureForTests(4);
    const layer = 40;
    const { edges, heights } = NORMAL_ZIGGURAT;
    const x = 0.5 * (edges[layer] + edges[layer + 1]);
    const p = (Math.exp(-0.5 * x * x) - heights[layer]) / (heights[layer + 1] - heights[layer]);
    const rounds = 100_000;
    let accepted = 0;
    for (let k = 0; k < rounds; k++) if (!Number.isNaN(zigguratSlowPath(NORMAL_ZIGGURAT, layer, x, random))) accepted++;
    expect(Math.abs(accepted / rounds - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / rounds));
  });
});

describe('sampleNormalTail', () => {
  it('follows the normal tail beyond r', () => {
    const random = SecureRandom.insecureForTests(5);
    const r = 2;
    const n = 100_000;
    const sample = new Float64Array(n);
    for (let k = 0; k < n; k++) sample[k] = sampleNormalTail(r, random);
    sample.sort();
    // CDF of Z given Z > r: 1 - erfc(x/√2) / erfc(r/√2).
    const tailAtR = erfc(r * Math.SQRT1_2);
    let distance = 0;
    for (let k = 0; k < n; k++) {
      const p = 1 - erfc(sample[k] * Math.SQRT1_2) / tailAtR;
      distance = Math.max(distance, Math.abs(p - k / n), Math.abs(p - (k + 1) / n));
    }
    // Asymptotic Kolmogorov-Smirnov critical value at significance 0.001.
    expect(distance).toBeLessThan(1.9495 / Math.sqrt(n));
  });

  it('never returns below r', () => {
    const random = SecureRandom.insecureForTests(6);
    let smallest = Infinity;
    for (let k = 0; k < 10_000; k++) smallest = Math.min(smallest, sampleNormalTail(3, random));
    expect(smallest).toBeGreaterThanOrEqual(3);
  });
});
