import type { Rng } from '../util/rng.js';
import { contingency } from './metrics.js';

/** Reproducibility of one cluster when the samples are resampled and reclustered. */
export interface ClusterStability {
  cluster: number;
  size: number;
  /** Mean over resamples of the best Jaccard similarity between the cluster and a new cluster. */
  meanJaccard: number;
  /** Fraction of resamples in which the best Jaccard was at most 0.5 (the cluster dissolved). */
  dissolved: number;
  /** Fraction of resamples in which the best Jaccard was at least 0.75 (the cluster was recovered). */
  recovered: number;
  /** Resamples that contained at least one member of the cluster. */
  resamples: number;
}

/** Reclusters the samples at `rows` (sorted indices into the cohort) and returns one code per row. */
export type Recluster = (rows: Int32Array, rng: Rng) => Int32Array;

/**
 * Measures per-cluster Jaccard stability under subsampling, as fpc's `clusterboot` (Hennig 2007)
 * does with its subsetting scheme. Each resample draws `samplesPerResample` samples without
 * replacement and reclusters them. For each original cluster it takes the best Jaccard similarity
 * with a new cluster, restricted to the drawn samples. Subsampling rather than the bootstrap keeps duplicate samples out of kNN graphs.
 * Hennig reads a mean below 0.6 as an unstable cluster and above 0.85 as a highly stable one.
 */
export function subsampleStability(
  labels: Int32Array,
  recluster: Recluster,
  resamples: number,
  samplesPerResample: number,
  rng: Rng,
): ClusterStability[] {
  const n = labels.length;
  const nClusters = Math.max(...Array.from(labels)) + 1;
  const sizes = new Array<number>(nClusters).fill(0);
  for (const label of labels) sizes[label] += 1;
  const sums = new Array<number>(nClusters).fill(0);
  const dissolved = new Array<number>(nClusters).fill(0);
  const recovered = new Array<number>(nClusters).fill(0);
  const counted = new Array<number>(nClusters).fill(0);
  const m = Math.min(n, Math.max(3, samplesPerResample));

  for (let b = 0; b < resamples; b++) {
    const resampleRng = rng.fork(`resample-${b}`);
    const rows = resampleRng.permutation(n).subarray(0, m).sort();
    const fresh = recluster(rows, resampleRng);
    const original = Int32Array.from(rows, (row) => labels[row]);
    const table = contingency(original, fresh);
    const freshSizes = table.columns.map((_, j) => table.counts.reduce((total, row) => total + row[j], 0));
    table.rows.forEach((cluster, i) => {
      const ownSize = table.counts[i].reduce((total, count) => total + count, 0);
      let best = 0;
      table.counts[i].forEach((shared, j) => {
        best = Math.max(best, shared / (ownSize + freshSizes[j] - shared));
      });
      sums[cluster] += best;
      counted[cluster] += 1;
      if (best <= 0.5) dissolved[cluster] += 1;
      if (best >= 0.75) recovered[cluster] += 1;
    });
  }

  return sizes.map((size, cluster) => ({
    cluster,
    size,
    meanJaccard: counted[cluster] > 0 ? sums[cluster] / counted[cluster] : 0,
    dissolved: counted[cluster] > 0 ? dissolved[cluster] / counted[cluster] : 1,
    recovered: counted[cluster] > 0 ? recovered[cluster] / counted[cluster] : 0,
    resamples: counted[cluster],
  }));
}
