import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { TrainingData } from './data.js';
import type { DpRandomSource } from './dpsgd.js';

/**
 * The second-moment release: the compact model's DP mechanism for small cohorts.
 *
 * The tied linear VAE's expected loss with a Gaussian likelihood is a quadratic function of each
 * sample, so over a cohort it depends on the data only through the second-moment matrix Σ x xᵀ.
 * Releasing that matrix once with Gaussian noise (the "Analyze Gauss" mechanism of Dwork,
 * Talwar, Thakurta and Zhang, 2014) and fitting the model to it afterwards is therefore a DP
 * fit of the same model. The fit reads only the released matrix, so it is post-processing and
 * costs no further privacy.
 *
 * Each training row is scaled to unit norm first, so one sample's outer product x xᵀ has
 * Frobenius norm 1 and its upper triangle (diagonal included) at most 1. Adding or
 * removing one sample therefore moves the released upper triangle by at most 1 in L2 norm: the
 * Gaussian mechanism with sensitivity 1, which the accountants charge as one full-batch
 * (q = 1) step of noise multiplier σ.
 */

/** The noisy sum Σ x̂ x̂ᵀ + E over the given rows, x̂ = x / ‖x‖, as a dense symmetric [p, p] matrix. */
export interface SecondMomentRelease {
  genes: number;
  /** Row-major [genes, genes], symmetric. */
  matrix: Float64Array;
}

/**
 * Sums the unit-scaled outer products of `rows` of `x` ([n, genes], row-major) and adds
 * N(0, noiseStd²) to every entry of the upper triangle, diagonal included, mirrored below.
 * The noise comes from `random`, never from the run's seed.
 */
export function releaseSecondMoment(x: Float32Array, genes: number, rows: ArrayLike<number>, noiseStd: number, random: DpRandomSource): SecondMomentRelease {
  const matrix = new Float64Array(genes * genes);
  const unit = new Float64Array(genes);
  for (let r = 0; r < rows.length; r++) {
    const offset = rows[r] * genes;
    let squared = 0;
    for (let g = 0; g < genes; g++) squared += x[offset + g] * x[offset + g];
    if (squared === 0) continue;
    const scale = 1 / Math.sqrt(squared);
    for (let g = 0; g < genes; g++) unit[g] = x[offset + g] * scale;
    for (let i = 0; i < genes; i++) {
      const ui = unit[i];
      if (ui === 0) continue;
      const line = i * genes;
      for (let j = i; j < genes; j++) matrix[line + j] += ui * unit[j];
    }
  }
  const upper = (genes * (genes + 1)) / 2;
  const noise = new Float32Array(upper);
  random.fillGaussian(noise, noiseStd);
  let k = 0;
  for (let i = 0; i < genes; i++) {
    for (let j = i; j < genes; j++) {
      const value = matrix[i * genes + j] + noise[k++];
      matrix[i * genes + j] = value;
      matrix[j * genes + i] = value;
    }
  }
  return { genes, matrix };
}

/**
 * Spectral norm of the release's noise relative to the trace of the noiseless matrix, about
 * 2σ√p / n for p genes and n training samples (the edge of the semicircle law). The trace is n,
 * one per unit-norm row, and each latent dimension's signal is a share of it. Structure whose
 * eigenvalue is below about half this edge is lost in the noise.
 */
export function releaseNoiseEdge(noiseMultiplier: number, genes: number, trainingSamples: number): number {
  return (2 * noiseMultiplier * Math.sqrt(genes)) / trainingSamples;
}

/** The pseudo-samples a model is fitted to, and what the release's spectrum looked like. */
export interface PseudoCohort {
  data: TrainingData;
  /** The leading eigenvalues of the scaled release, in decreasing order, one per latent dimension. */
  eigenvalues: Float64Array;
  /** Their unit eigenvectors, row k for eigenvalue k: [latent dimensions, genes], row-major. */
  directions: Float64Array;
  /** Variance given to each kept direction: the noise-corrected eigenvalue, or UNRESOLVED_VARIANCE. */
  variances: Float64Array;
  /** Variance given to every other direction, so that the variances add up to the number of genes. */
  remainder: number;
  /** Edge of the noise's eigenvalue spectrum in the scaled release: eigenvalues below it cannot be distinguished from noise. */
  noiseEdge: number;
  /** Trace of the scaled release (about the number of genes). */
  trace: number;
  /** Share of the scaled release's absolute eigenvalue sum in negative eigenvalues, which only the noise creates. */
  negativeShare: number;
}

/**
 * Variance given to a leading direction whose eigenvalue the noise could have produced alone:
 * twice a standardized gene's. The tied VAE then keeps the direction in its latents, where the
 * real samples' spread along it decides how much it counts. Measured on Golub's 65 training
 * samples at epsilon 8, the leading directions of the release were all of this kind, yet k-means
 * on the samples' projections onto them still separated ALL from AML.
 */
export const UNRESOLVED_VARIANCE = 2;

/**
 * Turns a release into pseudo-samples for a model of `latentDim` dimensions, and records the
 * release's spectrum. The release is scaled to the model's input, by p / n: a standardized row
 * has squared norm about p, while the release used unit-norm rows. Its noise then has per-entry
 * standard deviation t = noiseStd · p / n, and by the semicircle law its eigenvalues fill
 * [−2t√p, 2t√p]. The `latentDim` leading eigenvectors v_k are kept. A leading eigenvalue ℓ above
 * that edge R comes from structure of variance θ = (ℓ + √(ℓ² − R²)) / 2 (the inverse of the
 * spiked-Wigner shift ℓ = θ + R² / (4θ)); one below it is given UNRESOLVED_VARIANCE. Every other
 * direction gets the same variance, chosen so that the total is p, the trace of the
 * standardized data (each gene has unit variance). Keeping the raw eigenvalues instead
 * would inflate the total several times over with noise, and the tied VAE's KL term would then
 * collapse every latent dimension (see tiedOptimum). The p pseudo-samples √(p μ_j) u_j over the
 * eigenpairs (μ_j, u_j) of the resulting matrix have it as their mean outer product.
 */
export function pseudoCohort(release: SecondMomentRelease, trainingSamples: number, latentDim: number, noiseStd: number): PseudoCohort {
  const p = release.genes;
  const scale = p / trainingSamples;
  const rows: number[][] = [];
  for (let i = 0; i < p; i++) rows.push(Array.from(release.matrix.subarray(i * p, (i + 1) * p), (v) => v * scale));
  const decomposition = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const values = decomposition.realEigenvalues;
  const vectors = decomposition.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  let trace = 0;
  let absolute = 0;
  let negative = 0;
  for (const value of values) {
    trace += value;
    absolute += Math.abs(value);
    if (value < 0) negative -= value;
  }
  const leading = Math.min(latentDim, p);
  // releaseNoiseEdge is relative to the unscaled trace n; the scaled release's trace is p.
  const edge = releaseNoiseEdge(noiseStd, p, trainingSamples) * p;
  const variances = Float64Array.from(order.slice(0, leading), (column) => {
    const value = values[column];
    return value > edge ? Math.max(UNRESOLVED_VARIANCE, (value + Math.sqrt(value * value - edge * edge)) / 2) : UNRESOLVED_VARIANCE;
  });
  const leadingTotal = variances.reduce((total, value) => total + value, 0);
  // A floor keeps the remainder positive when the kept directions already account for every gene's variance.
  const remainder = leading < p ? Math.max(REMAINDER_FLOOR, (p - leadingTotal) / (p - leading)) : 0;
  const x = new Float32Array(p * p);
  const directions = new Float64Array(leading * p);
  order.forEach((column, j) => {
    const length = Math.sqrt(p * (j < leading ? variances[j] : remainder));
    for (let g = 0; g < p; g++) {
      const value = vectors.get(g, column);
      x[j * p + g] = length * value;
      if (j < leading) directions[j * p + g] = value;
    }
  });
  return {
    data: { nSamples: p, nGenes: p, x, counts: null, logLibrary: null, logFactorialSum: null },
    eigenvalues: Float64Array.from(order.slice(0, leading), (i) => values[i]),
    directions,
    variances,
    remainder,
    noiseEdge: edge,
    trace,
    negativeShare: absolute > 0 ? negative / absolute : 0,
  };
}

/** Smallest variance given to the directions outside the kept ones. */
const REMAINDER_FLOOR = 0.05;

/** Weights of the tied linear VAE at its optimum for a pseudo-cohort (see tiedOptimum). */
export interface TiedWeights {
  /** [genes, latentDim], row-major: column k is √b_k times direction k. */
  weight: Float32Array;
  /** Posterior log-variance per latent dimension. */
  latentLogVariance: Float32Array;
  /** The Gaussian likelihood's log-variance, the same for every gene. */
  geneLogVariance: number;
}

/**
 * Computes the tied linear VAE's optimum for the pseudo-cohort's second moment. With
 * weight column k = a_k v_k along the kept direction v_k of variance λ_k, one noise variance ψ
 * per gene and posterior variance s_k², the expected loss per sample splits by direction. Along
 * v_k it is ((1 − b)² λ + b s²) / (2ψ) + β (s² + b λ − 1 − log s²) / 2 with b = a_k², whose
 * stationary point is s² = βψ / (βψ + b) and b = 1 − βψ/2 − s² / (2λ), and b = 0 when that is
 * negative (the dimension is unused). ψ is the mean residual variance over the genes: the
 * remainder variance in each of the p − d other directions, plus (1 − b)² λ + b s² along each
 * kept one. The three
 * equations are iterated to a fixed point from ψ = 1.
 *
 * Fitting by gradient descent instead can stall where every ψ_g has grown above 2β. There,
 * encoding any direction costs more KL than it saves in reconstruction, so the fit collapses
 * the latents. This happened with the release's ten near-equal leading eigenvalues.
 */
export function tiedOptimum(pseudo: PseudoCohort, latentDim: number, beta: number): TiedWeights {
  const p = pseudo.data.nGenes;
  const leading = pseudo.eigenvalues.length;
  const lambda = pseudo.variances;
  const b = new Float64Array(leading);
  const s2 = new Float64Array(leading).fill(1);
  let psi = 1;
  for (let iteration = 0; iteration < 500; iteration++) {
    let residual = (p - leading) * pseudo.remainder;
    for (let k = 0; k < leading; k++) {
      s2[k] = beta > 0 ? (beta * psi) / (beta * psi + b[k]) : 1;
      b[k] = Math.max(0, 1 - (beta * psi) / 2 - s2[k] / (2 * lambda[k]));
      residual += (1 - b[k]) ** 2 * lambda[k] + b[k] * s2[k];
    }
    const next = residual / p;
    const settled = Math.abs(next - psi) < 1e-12 * psi;
    psi = next;
    if (settled) break;
  }
  const weight = new Float32Array(p * latentDim);
  const latentLogVariance = new Float32Array(latentDim);
  for (let k = 0; k < latentDim; k++) {
    if (k >= leading) continue;
    const a = Math.sqrt(b[k]);
    for (let g = 0; g < p; g++) weight[g * latentDim + k] = a * pseudo.directions[k * p + g];
    latentLogVariance[k] = Math.log(s2[k]);
  }
  return { weight, latentLogVariance, geneLogVariance: Math.log(psi) };
}
