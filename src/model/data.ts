import type { CsrMatrix } from '../matrix/csr.js';
import type { Rng } from '../util/rng.js';
import type { VaeConfig } from './config.js';
import { lgammaNumber } from './likelihood.js';
import type { Batch } from './vae.js';

/** A cohort in the form the VAE trains on; `x` may be a view into a memory-mapped Arrow buffer. */
export interface TrainingData {
  nSamples: number;
  nGenes: number;
  /** Encoder input (normalized values), [N, G] row-major. */
  x: Float32Array;
  /** Raw counts of the same genes, for count likelihoods; null otherwise. */
  counts: CsrMatrix | null;
  /** log of each sample's library size (its counts summed over the modelled genes, at least 1). */
  logLibrary: Float32Array | null;
  /** Σ_g log(x_g!) per sample. */
  logFactorialSum: Float32Array | null;
}

const FACTORIAL_TABLE_SIZE = 4096;
const logFactorialTable = Float64Array.from({ length: FACTORIAL_TABLE_SIZE }, (_, k) => lgammaNumber(k + 1));

function logFactorial(value: number): number {
  return Number.isInteger(value) && value < FACTORIAL_TABLE_SIZE ? logFactorialTable[value] : lgammaNumber(value + 1);
}

/**
 * Computes library sizes and log-factorial sums of raw counts. As in scVI with observed library
 * sizes, the library is the sum over the modelled genes. An all-zero sample gets library 1 so
 * that its logarithm stays finite, and its likelihood is then that of all-zero counts.
 */
export function countStatistics(counts: CsrMatrix): { logLibrary: Float32Array; logFactorialSum: Float32Array } {
  const logLibrary = new Float32Array(counts.nRows);
  const logFactorialSum = new Float32Array(counts.nRows);
  for (let r = 0; r < counts.nRows; r++) {
    let library = 0;
    let factorials = 0;
    for (let k = counts.indptr[r]; k < counts.indptr[r + 1]; k++) {
      library += counts.data[k];
      factorials += logFactorial(counts.data[k]);
    }
    logLibrary[r] = Math.log(Math.max(library, 1));
    logFactorialSum[r] = factorials;
  }
  return { logLibrary, logFactorialSum };
}

/** Random sources and layout of one batch: dropout masks only in training, the transposed copy only for gradients. */
export interface BatchOptions {
  /** Source of the reparameterisation noise. */
  noise: Rng;
  /** Source of dropout masks, or null for evaluation (no dropout). */
  dropout: Rng | null;
  /** Also build xᵀ with a row of ones, [G + 1, B], for the first layer's weight and bias gradients. */
  transposed: boolean;
}

/** [xᵀ; 1ᵀ], [G + 1, B]: the input transposed with a final row of ones, so one product gives weight and bias gradients. */
export function augmentedTranspose(x: Float32Array, size: number, genes: number): Float32Array {
  const out = new Float32Array((genes + 1) * size);
  for (let i = 0; i < size; i++) {
    const offset = i * genes;
    for (let g = 0; g < genes; g++) out[g * size + i] = x[offset + g];
  }
  out.fill(1, genes * size);
  return out;
}

/** Adds the augmented transposed input to a batch that lacks it. */
export function withTransposedInput(batch: Batch): Batch {
  if (batch.xTransposed) return batch;
  return { ...batch, xTransposed: augmentedTranspose(batch.x, batch.size, batch.x.length / Math.max(batch.size, 1)) };
}

/** Gathers the rows given into a Batch, drawing noise and dropout masks from the seeded streams. */
export function assembleBatch(data: TrainingData, config: VaeConfig, rows: ArrayLike<number>, options: BatchOptions): Batch {
  const size = rows.length;
  const genes = data.nGenes;
  const x = new Float32Array(size * genes);
  for (let i = 0; i < size; i++) x.set(data.x.subarray(rows[i] * genes, (rows[i] + 1) * genes), i * genes);

  const xTransposed = options.transposed ? augmentedTranspose(x, size, genes) : null;

  let counts: Float32Array | null = null;
  let logLibrary: Float32Array | null = null;
  let logFactorialSum: Float32Array | null = null;
  if (data.counts && data.logLibrary && data.logFactorialSum) {
    const matrix = data.counts;
    counts = new Float32Array(size * genes);
    logLibrary = new Float32Array(size);
    logFactorialSum = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const r = rows[i];
      for (let k = matrix.indptr[r]; k < matrix.indptr[r + 1]; k++) counts[i * genes + matrix.indices[k]] = matrix.data[k];
      logLibrary[i] = data.logLibrary[r];
      logFactorialSum[i] = data.logFactorialSum[r];
    }
  }

  const noise = new Float32Array(size * config.latentDim);
  for (let k = 0; k < noise.length; k++) noise[k] = options.noise.normal();

  const masks = config.hiddenDims.map((width) => {
    if (!options.dropout || config.dropout <= 0) return null;
    const keep = 1 / (1 - config.dropout);
    const mask = new Float32Array(size * width);
    for (let k = 0; k < mask.length; k++) mask[k] = options.dropout.uniform() < config.dropout ? 0 : keep;
    return mask;
  });

  return { size, x, xTransposed, counts, logLibrary, logFactorialSum, noise, masks };
}
