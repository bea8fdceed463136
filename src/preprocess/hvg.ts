import type { CsrMatrix } from '../matrix/csr.js';

/** Per-gene statistics behind highly-variable-gene selection. */
export interface GeneDispersion {
  /** log1p of the mean of expm1(values), as scanpy's 'seurat' flavour reports it. */
  mean: Float64Array;
  /** log of variance / mean of expm1(values); NaN where undefined. */
  dispersion: Float64Array;
  /** Dispersion z-scored within its mean bin; NaN where undefined. */
  dispersionNorm: Float64Array;
  /** Mean bin (0-based) of each gene. */
  bin: Int32Array;
}

/** Mean bins of the 'seurat' flavour (scanpy's default n_bins). */
const N_BINS = 20;

/**
 * Computes the 'seurat'-flavour dispersion statistics (as scanpy.pp.highly_variable_genes)
 * on log1p-scale data: each gene's dispersion is z-scored against genes of similar mean, so
 * selection does not simply favour highly expressed genes.
 */
export function geneDispersion(logData: CsrMatrix): GeneDispersion {
  const n = logData.nRows;
  const g = logData.nCols;
  const sum = new Float64Array(g);
  const sumSquares = new Float64Array(g);
  for (let k = 0; k < logData.data.length; k++) {
    const v = Math.expm1(logData.data[k]);
    const j = logData.indices[k];
    sum[j] += v;
    sumSquares[j] += v * v;
  }
  const mean = new Float64Array(g);
  const dispersion = new Float64Array(g);
  for (let j = 0; j < g; j++) {
    let m = sum[j] / n;
    // Sample variance (ddof = 1), as scanpy.
    const variance = n > 1 ? (sumSquares[j] - n * m * m) / (n - 1) : 0;
    if (m === 0) m = 1e-12;
    const d = variance / m;
    dispersion[j] = d > 0 ? Math.log(d) : NaN;
    mean[j] = Math.log1p(m);
  }

  // Equal-width bins over the observed range of means, as pandas.cut.
  let low = Infinity;
  let high = -Infinity;
  for (let j = 0; j < g; j++) {
    if (mean[j] < low) low = mean[j];
    if (mean[j] > high) high = mean[j];
  }
  const width = (high - low) / N_BINS || 1;
  const bin = new Int32Array(g);
  for (let j = 0; j < g; j++) bin[j] = Math.min(N_BINS - 1, Math.floor((mean[j] - low) / width));

  const binSum = new Float64Array(N_BINS);
  const binSumSquares = new Float64Array(N_BINS);
  const binCount = new Int32Array(N_BINS);
  for (let j = 0; j < g; j++) {
    if (Number.isNaN(dispersion[j])) continue;
    binSum[bin[j]] += dispersion[j];
    binSumSquares[bin[j]] += dispersion[j] * dispersion[j];
    binCount[bin[j]]++;
  }
  const dispersionNorm = new Float64Array(g);
  for (let j = 0; j < g; j++) {
    const b = bin[j];
    if (Number.isNaN(dispersion[j])) {
      dispersionNorm[j] = NaN;
      continue;
    }
    if (binCount[b] === 1) {
      // A gene alone in its bin has no peers to compare with; scanpy scores it 1.
      dispersionNorm[j] = 1;
      continue;
    }
    const binMean = binSum[b] / binCount[b];
    const binVariance = (binSumSquares[b] - binCount[b] * binMean * binMean) / (binCount[b] - 1);
    const binStd = Math.sqrt(Math.max(binVariance, 0));
    dispersionNorm[j] = binStd > 0 ? (dispersion[j] - binMean) / binStd : 0;
  }
  return { mean, dispersion, dispersionNorm, bin };
}

/** Indices of the `nTop` genes with the highest normalized dispersion, in ascending gene order. */
export function selectHighlyVariable(stats: GeneDispersion, nTop: number): Int32Array {
  const order = Array.from(stats.dispersionNorm.keys()).sort((a, b) => {
    const da = stats.dispersionNorm[a];
    const db = stats.dispersionNorm[b];
    if (Number.isNaN(da)) return Number.isNaN(db) ? a - b : 1;
    if (Number.isNaN(db)) return -1;
    return db - da || a - b;
  });
  const chosen = order.slice(0, Math.min(nTop, order.length));
  return Int32Array.from(chosen.sort((a, b) => a - b));
}
