import type { DenseMatrix } from '../matrix/dense.js';

/**
 * Columns of the `count` highly variable genes that rank highest by normalized dispersion
 * (scanpy's 'seurat' statistic that normalize used to select them), returned in their
 * original order. Genes whose dispersion is not a number rank last, and ties keep column order.
 */
export function topDispersionColumns(dispersionNorm: ArrayLike<number>, count: number): Int32Array {
  const columns = Array.from({ length: dispersionNorm.length }, (_, j) => j);
  const score = (j: number) => (Number.isFinite(dispersionNorm[j]) ? dispersionNorm[j] : -Infinity);
  columns.sort((a, b) => score(b) - score(a) || a - b);
  return Int32Array.from(columns.slice(0, Math.min(count, columns.length))).sort();
}

/** Copies the given columns of a dense matrix into a new one, in the order given. */
export function selectDenseColumns(matrix: DenseMatrix, columns: Int32Array): DenseMatrix {
  const width = columns.length;
  const data = new Float32Array(matrix.nRows * width);
  for (let r = 0; r < matrix.nRows; r++) {
    const offset = r * matrix.nCols;
    for (let j = 0; j < width; j++) data[r * width + j] = matrix.data[offset + columns[j]];
  }
  return { nRows: matrix.nRows, nCols: width, data };
}
