import { Matrix, pseudoInverse } from 'ml-matrix';
import { principalComponents } from '../cluster/pca.js';
import type { Rng } from '../util/rng.js';

/** Samples the latent diagnostics use at most; larger cohorts use a seeded subsample. */
export const DIAGNOSTIC_MAX_SAMPLES = 2000;

/**
 * Trained latents against those of the same model at its initial weights, which no data has
 * touched, by the share of the model genes' variance that a least-squares linear map from the
 * latents explains (R²). An untrained linear encoder already explains some by chance. When
 * training learned little, because DP noise drowned a small cohort's signal, the two are close,
 * and the latents' structure comes from the choice of genes and the random initial weights.
 * Labels are not used, because the train stage never reads them (new labels never retrain it).
 */
export interface UntrainedComparison {
  samples: number;
  trainedExplainedVariance: number;
  untrainedExplainedVariance: number;
  /** Maximum share any latent space of this dimension explains linearly: the top principal components' share. */
  pcaExplainedVariance: number;
  /** Share of the gap between the untrained latents and the principal components that training closed. */
  gapClosed: number;
}

/** Draws a seeded, sorted subsample of at most `max` row indices, or returns all rows when there are fewer. */
export function diagnosticRows(n: number, max: number, rng: Rng): Int32Array {
  if (n <= max) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(rng.permutation(n).subarray(0, max)).sort();
}

/** Copies rows of a row-major [n, width] matrix. */
export function takeRows(values: Float32Array, width: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => out.set(values.subarray(row * width, (row + 1) * width), i * width));
  return out;
}

/**
 * R² of the least-squares fit x ≈ a + z·B over all columns of x: the share of x's total
 * variance (about its column means) in the span of the centred latents. z is [n, d], x is [n, g].
 */
export function explainedVariance(z: Float32Array, latentDim: number, x: Float32Array, genes: number): number {
  const n = z.length / latentDim;
  const zMean = new Float64Array(latentDim);
  const xMean = new Float64Array(genes);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < latentDim; k++) zMean[k] += z[i * latentDim + k] / n;
    for (let g = 0; g < genes; g++) xMean[g] += x[i * genes + g] / n;
  }
  const zz = new Float64Array(latentDim * latentDim);
  const zx = new Float64Array(latentDim * genes);
  let total = 0;
  const zc = new Float64Array(latentDim);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < latentDim; k++) zc[k] = z[i * latentDim + k] - zMean[k];
    for (let a = 0; a < latentDim; a++) for (let b = 0; b < latentDim; b++) zz[a * latentDim + b] += zc[a] * zc[b];
    for (let g = 0; g < genes; g++) {
      const value = x[i * genes + g] - xMean[g];
      total += value * value;
      for (let k = 0; k < latentDim; k++) zx[k * genes + g] += zc[k] * value;
    }
  }
  if (total <= 0) return 0;
  const inverse = scatterInverse(zz, latentDim);
  let explained = 0;
  for (let g = 0; g < genes; g++) {
    for (let a = 0; a < latentDim; a++) {
      let row = 0;
      for (let b = 0; b < latentDim; b++) row += inverse[a * latentDim + b] * zx[b * genes + g];
      explained += zx[a * genes + g] * row;
    }
  }
  return Math.min(1, Math.max(0, explained / total));
}

/**
 * Pseudo-inverse of the latents' scatter matrix (ml-matrix's SVD), dropping singular values
 * below 1e-10 of the largest: latent dimensions that collapsed to a constant carry no
 * information and must not make the fit singular.
 */
function scatterInverse(matrix: Float64Array, size: number): Float64Array {
  const rows = Array.from({ length: size }, (_, i) => Array.from(matrix.subarray(i * size, (i + 1) * size)));
  return Float64Array.from(pseudoInverse(new Matrix(rows), 1e-10 / size).to1DArray());
}

/** Compares trained and untrained latents of the same samples. `x` is the model's input over its genes, [n, genes]. */
export function compareWithUntrained(
  trained: Float32Array,
  untrained: Float32Array,
  latentDim: number,
  x: Float32Array,
  genes: number,
  rng: Rng,
): UntrainedComparison {
  const n = trained.length / latentDim;
  const trainedExplainedVariance = explainedVariance(trained, latentDim, x, genes);
  const untrainedExplainedVariance = explainedVariance(untrained, latentDim, x, genes);
  const pca = principalComponents({ nRows: n, nCols: genes, data: x }, { nComponents: latentDim }, rng);
  const pcaExplainedVariance = pca.explainedVarianceRatio.reduce((total, share) => total + share, 0);
  const gap = pcaExplainedVariance - untrainedExplainedVariance;
  return {
    samples: n,
    trainedExplainedVariance,
    untrainedExplainedVariance,
    pcaExplainedVariance,
    gapClosed: gap > 0 ? (trainedExplainedVariance - untrainedExplainedVariance) / gap : 0,
  };
}
