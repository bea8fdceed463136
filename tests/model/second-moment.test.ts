import { describe, expect, it } from 'vitest';
import { pseudoCohort, releaseNoiseEdge, releaseSecondMoment, tiedOptimum, UNRESOLVED_VARIANCE, type PseudoCohort } from '../../src/model/second-moment.js';
import { SecureRandom } from '../../src/privacy/secure-random.js';
import { Rng } from '../../src/util/rng.js';

/** A source whose noise is all zeros, so the release is the exact sum of outer products. */
const NO_NOISE = { poissonBatch: () => new Int32Array(0), fillGaussian: (out: Float32Array) => out.fill(0) };

function standardized(n: number, genes: number, seed: number, spike = 0): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * genes);
  for (let i = 0; i < n; i++) {
    const factor = rng.normal() * spike;
    for (let g = 0; g < genes; g++) x[i * genes + g] = rng.normal() + (g < genes / 2 ? factor : -factor);
  }
  return x;
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Upper triangle, diagonal included, of x̂ x̂ᵀ for one row scaled to unit norm. */
function upperTriangle(row: Float32Array): number[] {
  const norm = Math.hypot(...row);
  const out: number[] = [];
  for (let i = 0; i < row.length; i++) for (let j = i; j < row.length; j++) out.push((row[i] * row[j]) / (norm * norm));
  return out;
}

/** Mean outer product of a pseudo-cohort's rows, [p, p]. */
function meanOuterProduct(pseudo: PseudoCohort): Float64Array {
  const { nSamples: m, nGenes: p, x } = pseudo.data;
  const out = new Float64Array(p * p);
  for (let r = 0; r < m; r++) for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) out[i * p + j] += (x[r * p + i] * x[r * p + j]) / m;
  return out;
}

describe('releaseSecondMoment', () => {
  it('sums the unit-scaled outer products when no noise is added', () => {
    const genes = 5;
    const x = standardized(8, genes, 1);
    const release = releaseSecondMoment(x, genes, allRows(8), 1, NO_NOISE);
    for (let i = 0; i < genes; i++) {
      for (let j = 0; j < genes; j++) {
        let expected = 0;
        for (let r = 0; r < 8; r++) {
          const row = x.subarray(r * genes, (r + 1) * genes);
          expected += (row[i] * row[j]) / row.reduce((total, v) => total + v * v, 0);
        }
        expect(release.matrix[i * genes + j]).toBeCloseTo(expected, 10);
      }
    }
  });

  it('uses only the rows given and skips all-zero rows', () => {
    const genes = 4;
    const x = standardized(6, genes, 2);
    x.fill(0, 5 * genes);
    const some = releaseSecondMoment(x, genes, [0, 2, 5], 1, NO_NOISE);
    const two = releaseSecondMoment(x, genes, [0, 2], 1, NO_NOISE);
    expect(Array.from(some.matrix)).toEqual(Array.from(two.matrix));
    let trace = 0;
    for (let g = 0; g < genes; g++) trace += two.matrix[g * genes + g];
    expect(trace).toBeCloseTo(2, 10);
  });

  it('bounds one added sample to L2 norm 1', () => {
    const genes = 7;
    const x = standardized(30, genes, 3);
    for (let r = 0; r < 30; r++) {
      const scale = 10 ** ((r % 7) - 3);
      const row = x.subarray(r * genes, (r + 1) * genes).map((v) => v * scale);
      const norm = Math.hypot(...upperTriangle(row));
      expect(norm).toBeLessThanOrEqual(1 + 1e-6);
      const without = releaseSecondMoment(x, genes, allRows(r), 1, NO_NOISE);
      const withRow = releaseSecondMoment(x, genes, allRows(r + 1), 1, NO_NOISE);
      let squared = 0;
      for (let i = 0; i < genes; i++) for (let j = i; j < genes; j++) squared += (withRow.matrix[i * genes + j] - without.matrix[i * genes + j]) ** 2;
      expect(Math.sqrt(squared)).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('adds symmetric noise of the given standard deviation to every upper entry', () => {
    const genes = 60;
    const x = new Float32Array(genes);
    const release = releaseSecondMoment(x, genes, [], 0.5, SecureRandom.insecureForTests(5));
    const upper: number[] = [];
    for (let i = 0; i < genes; i++) {
      for (let j = 0; j < genes; j++) expect(release.matrix[i * genes + j]).toBe(release.matrix[j * genes + i]);
      for (let j = i; j < genes; j++) upper.push(release.matrix[i * genes + j]);
    }
    const mean = upper.reduce((a, b) => a + b, 0) / upper.length;
    const sd = Math.sqrt(upper.reduce((a, b) => a + (b - mean) ** 2, 0) / upper.length);
    // 1,830 draws: the standard error of the standard deviation is about 0.5 / sqrt(2 × 1830) = 0.008.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(0.47);
    expect(sd).toBeLessThan(0.53);
  });
});

describe('pseudoCohort', () => {
  it('keeps leading directions without noise', () => {
    const genes = 12;
    const n = 400;
    const x = standardized(n, genes, 6, 2);
    const release = releaseSecondMoment(x, genes, allRows(n), 0, NO_NOISE);
    const pseudo = pseudoCohort(release, n, 2, 0);
    expect(pseudo.noiseEdge).toBe(0);
    expect(pseudo.data.nSamples).toBe(genes);
    // Without noise the corrected variance is the eigenvalue itself.
    expect(pseudo.variances[0]).toBeCloseTo(pseudo.eigenvalues[0], 8);
    expect(pseudo.eigenvalues[0]).toBeGreaterThan(pseudo.eigenvalues[1]);
    const keptTotal = pseudo.variances[0] + pseudo.variances[1];
    expect(pseudo.remainder).toBeCloseTo((genes - keptTotal) / (genes - 2), 8);
    const moment = meanOuterProduct(pseudo);
    let trace = 0;
    for (let g = 0; g < genes; g++) trace += moment[g * genes + g];
    expect(trace).toBeCloseTo(genes, 3);
    // The first direction is the spike: half the genes up, half down.
    const first = pseudo.directions.subarray(0, genes);
    for (let g = 1; g < genes / 2; g++) expect(Math.sign(first[g])).toBe(Math.sign(first[0]));
    for (let g = genes / 2; g < genes; g++) expect(Math.sign(first[g])).toBe(-Math.sign(first[0]));
    // Along each kept direction the pseudo-cohort has the variance it was given.
    for (let k = 0; k < 2; k++) {
      const v = pseudo.directions.subarray(k * genes, (k + 1) * genes);
      let quadratic = 0;
      for (let i = 0; i < genes; i++) for (let j = 0; j < genes; j++) quadratic += v[i] * moment[i * genes + j] * v[j];
      expect(quadratic).toBeCloseTo(pseudo.variances[k], 3);
    }
  });

  it('gives directions inside the noise edge the unresolved variance', () => {
    const genes = 40;
    const n = 20;
    const x = standardized(n, genes, 7);
    const release = releaseSecondMoment(x, genes, allRows(n), 2, SecureRandom.insecureForTests(8));
    const pseudo = pseudoCohort(release, n, 3, 2);
    expect(pseudo.noiseEdge).toBeCloseTo(2 * 2 * (genes / n) * Math.sqrt(genes), 10);
    for (let k = 0; k < 3; k++) {
      if (pseudo.eigenvalues[k] <= pseudo.noiseEdge) expect(pseudo.variances[k]).toBe(UNRESOLVED_VARIANCE);
    }
    expect(pseudo.eigenvalues[0]).toBeLessThan(pseudo.noiseEdge * 1.2);
    expect(pseudo.negativeShare).toBeGreaterThan(0.3);
  });
});

describe('releaseNoiseEdge', () => {
  it('is 2 sigma sqrt(p) / n', () => {
    expect(releaseNoiseEdge(0.5, 256, 64)).toBeCloseTo(0.25, 12);
  });
});

/** Expected negative ELBO per sample of the tied model along its directions (see tiedOptimum). */
function expectedLoss(pseudo: PseudoCohort, b: number[], s2: number[], psi: number, beta: number): number {
  const p = pseudo.data.nGenes;
  let residual = (p - b.length) * pseudo.remainder;
  let kl = 0;
  b.forEach((bk, k) => {
    const lambda = pseudo.variances[k];
    residual += (1 - bk) ** 2 * lambda + bk * s2[k];
    kl += 0.5 * (s2[k] + bk * lambda - 1 - Math.log(s2[k]));
  });
  return 0.5 * p * Math.log(2 * Math.PI * psi) + residual / (2 * psi) + beta * kl;
}

describe('tiedOptimum', () => {
  const genes = 20;
  const n = 500;
  const pseudo = pseudoCohort(releaseSecondMoment(standardized(n, genes, 9, 1.5), genes, allRows(n), 0, NO_NOISE), n, 3, 0);

  function parts(latentDim: number, beta: number) {
    const optimum = tiedOptimum(pseudo, latentDim, beta);
    const b = Array.from({ length: 3 }, (_, k) => {
      let squared = 0;
      for (let g = 0; g < genes; g++) squared += optimum.weight[g * latentDim + k] ** 2;
      return squared;
    });
    return { optimum, b, s2: Array.from(optimum.latentLogVariance.subarray(0, 3), Math.exp), psi: Math.exp(optimum.geneLogVariance) };
  }

  it('puts each weight column along its direction', () => {
    const { optimum } = parts(3, 1);
    for (let k = 0; k < 3; k++) {
      const column = Array.from({ length: genes }, (_, g) => optimum.weight[g * 3 + k]);
      const norm = Math.hypot(...column);
      if (norm === 0) continue;
      const cosine = column.reduce((total, w, g) => total + (w / norm) * pseudo.directions[k * genes + g], 0);
      expect(Math.abs(cosine)).toBeCloseTo(1, 6);
    }
  });

  it('is a minimum of the expected loss', () => {
    for (const beta of [1, 0.5]) {
      const { b, s2, psi } = parts(3, beta);
      const best = expectedLoss(pseudo, b, s2, psi, beta);
      const rng = new Rng(10);
      for (let trial = 0; trial < 200; trial++) {
        const jitter = () => 1 + 0.05 * rng.normal();
        const bt = b.map((v) => Math.max(0, v * jitter() + (v === 0 ? 0.01 * Math.abs(rng.normal()) : 0)));
        const st = s2.map((v) => v * jitter());
        expect(expectedLoss(pseudo, bt, st, psi * jitter(), beta)).toBeGreaterThanOrEqual(best - 1e-9);
      }
    }
  });

  it('leaves extra latent dimensions empty', () => {
    const { optimum } = parts(5, 1);
    for (let g = 0; g < genes; g++) for (const k of [3, 4]) expect(optimum.weight[g * 5 + k]).toBe(0);
  });
});
