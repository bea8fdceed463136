import type { CsrMatrix } from '../matrix/csr.js';
import type { DenseMatrix } from '../matrix/dense.js';

/** Scales each row to sum to `targetSum`; rows summing to zero stay zero. Returns a new matrix. */
export function normalizeTotal(m: CsrMatrix, librarySizes: ArrayLike<number>, targetSum: number): CsrMatrix {
  const data = new Float32Array(m.data.length);
  for (let r = 0; r < m.nRows; r++) {
    const factor = librarySizes[r] > 0 ? targetSum / librarySizes[r] : 0;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) data[k] = m.data[k] * factor;
  }
  return { ...m, data };
}

/** Applies log1p to every stored value (zeros stay zero). Returns a new matrix. */
export function log1p(m: CsrMatrix): CsrMatrix {
  const data = new Float32Array(m.data.length);
  for (let k = 0; k < m.data.length; k++) data[k] = Math.log1p(m.data[k]);
  return { ...m, data };
}

/** Replaces negative stored values with zero; returns the new matrix and how many were replaced. */
export function clipNegative(m: CsrMatrix): { matrix: CsrMatrix; clipped: number } {
  const data = Float32Array.from(m.data);
  let clipped = 0;
  for (let k = 0; k < data.length; k++) {
    if (data[k] < 0) {
      data[k] = 0;
      clipped++;
    }
  }
  return { matrix: { ...m, data }, clipped };
}

/** Per-column mean and sample standard deviation (ddof = 1) of a sparse matrix, zeros included. */
export function columnMeanStd(m: CsrMatrix): { mean: Float64Array; std: Float64Array } {
  const sum = new Float64Array(m.nCols);
  const sumSquares = new Float64Array(m.nCols);
  for (let k = 0; k < m.data.length; k++) {
    sum[m.indices[k]] += m.data[k];
    sumSquares[m.indices[k]] += m.data[k] * m.data[k];
  }
  const n = m.nRows;
  const mean = new Float64Array(m.nCols);
  const std = new Float64Array(m.nCols);
  for (let j = 0; j < m.nCols; j++) {
    mean[j] = n > 0 ? sum[j] / n : 0;
    const variance = n > 1 ? (sumSquares[j] - n * mean[j] * mean[j]) / (n - 1) : 0;
    std[j] = Math.sqrt(Math.max(variance, 0));
  }
  return { mean, std };
}

export interface ScaleParameters {
  /** Subtracted from each column. */
  mean: Float64Array;
  /** Each column is divided by this; columns with zero spread use 1, as scanpy does. */
  std: Float64Array;
  /** Values are clipped to [-clip, clip] after scaling; null for none. */
  clip: number | null;
}

/**
 * Densifies `m` and scales each column to zero mean and unit variance, then clips. With
 * `center` false only the clipping applies. Returns the dense matrix and the clip count.
 */
export function scaleToDense(m: CsrMatrix, parameters: ScaleParameters, center: boolean): { matrix: DenseMatrix; clipped: number } {
  const width = m.nCols;
  const data = new Float32Array(m.nRows * width);
  const offset = new Float64Array(width);
  const divisor = new Float64Array(width).fill(1);
  if (center) {
    for (let j = 0; j < width; j++) {
      offset[j] = parameters.mean[j];
      divisor[j] = parameters.std[j] > 0 ? parameters.std[j] : 1;
    }
  }
  let clipped = 0;
  const limit = parameters.clip ?? Infinity;
  for (let r = 0; r < m.nRows; r++) {
    const row = data.subarray(r * width, (r + 1) * width);
    for (let j = 0; j < width; j++) row[j] = -offset[j] / divisor[j];
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const j = m.indices[k];
      row[j] = (m.data[k] - offset[j]) / divisor[j];
    }
    for (let j = 0; j < width; j++) {
      if (row[j] > limit) {
        row[j] = limit;
        clipped++;
      } else if (row[j] < -limit) {
        row[j] = -limit;
        clipped++;
      }
    }
  }
  return { matrix: { nRows: m.nRows, nCols: width, data }, clipped };
}
