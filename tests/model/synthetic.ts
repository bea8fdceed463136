import type { VaeConfig } from '../../src/model/config.js';
import type { DpRandomSource } from '../../src/model/dpsgd.js';
import { countStatistics, type TrainingData } from '../../src/model/data.js';
import { csrFromDense } from '../../src/matrix/csr.js';
import { Rng } from '../../src/util/rng.js';

/** Three groups of samples with different gene programmes, as normalized values and raw counts. */
export function syntheticCohort(nSamples: number, nGenes: number, seed = 1): { data: TrainingData; groups: Int32Array } {
  const rng = new Rng(seed);
  const groups = Int32Array.from({ length: nSamples }, (_, i) => i % 3);
  const counts = new Float32Array(nSamples * nGenes);
  for (let i = 0; i < nSamples; i++) {
    for (let g = 0; g < nGenes; g++) {
      const boosted = g % 3 === groups[i];
      counts[i * nGenes + g] = rng.negativeBinomial(boosted ? 20 : 4, 5);
    }
  }
  // log1p then per-gene standardisation, as normalize does.
  const x = Float32Array.from(counts, (c) => Math.log1p(c));
  for (let g = 0; g < nGenes; g++) {
    let mean = 0;
    for (let i = 0; i < nSamples; i++) mean += x[i * nGenes + g];
    mean /= nSamples;
    let variance = 0;
    for (let i = 0; i < nSamples; i++) variance += (x[i * nGenes + g] - mean) ** 2;
    const std = Math.sqrt(variance / nSamples) || 1;
    for (let i = 0; i < nSamples; i++) x[i * nGenes + g] = (x[i * nGenes + g] - mean) / std;
  }
  const matrix = csrFromDense(nSamples, nGenes, counts);
  const statistics = countStatistics(matrix);
  return {
    data: { nSamples, nGenes, x, counts: matrix, logLibrary: statistics.logLibrary, logFactorialSum: statistics.logFactorialSum },
    groups,
  };
}

/** The same cohort without counts, for the Gaussian likelihood. */
export function withoutCounts(data: TrainingData): TrainingData {
  return { ...data, counts: null, logLibrary: null, logFactorialSum: null };
}

export function smallConfig(nGenes: number, overrides: Partial<VaeConfig> = {}): VaeConfig {
  return {
    nGenes,
    hiddenDims: [16],
    latentDim: 2,
    dropout: 0.1,
    layerNorm: true,
    likelihood: 'gaussian',
    prior: 'normal',
    mixtureComponents: 1,
    ...overrides,
  };
}

/** A seeded stand-in for the secure source, for tests that need reproducible DP runs. */
export function seededDpRandom(seed: number, { empty = false } = {}): DpRandomSource {
  const rng = new Rng(seed);
  return {
    poissonBatch(n: number, q: number): Int32Array {
      if (empty) return new Int32Array(0);
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (rng.uniform() < q) rows.push(i);
      return Int32Array.from(rows);
    },
    fillGaussian(out: Float32Array, std: number): void {
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std);
    },
  };
}
