import { kmeans } from 'ml-kmeans';
import { takeRows, toRowArrays, type DenseMatrix } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';
import { silhouetteScore } from './silhouette.js';

/** One k-means partition. */
export interface KmeansFit {
  /** Requested number of clusters. */
  k: number;
  /** Cluster of each sample, 0 = largest cluster; fewer than k codes when a cluster emptied. */
  labels: Int32Array;
  /** Sum of squared Euclidean distances from each sample to its cluster's centroid. */
  inertia: number;
  /** Seed given to ml-kmeans for the restart that won. */
  seed: number;
}

/** Criterion values of one k, for the elbow and silhouette curves. */
export interface KmeansCurvePoint {
  k: number;
  /** Mean silhouette (on a seeded subsample when the cohort is larger than the sample size). */
  silhouette: number;
  inertia: number;
  /** Clusters that kept at least one sample. */
  nonEmptyClusters: number;
}

export interface KmeansScan {
  curve: KmeansCurvePoint[];
  /** k with the highest silhouette; ties go to the smaller k. */
  chosenK: number;
  best: KmeansFit;
  /** Samples the silhouette was computed on (all samples when not subsampled). */
  silhouetteSamples: number;
}

/** Renumbers cluster codes so that 0 is the largest cluster (ties by smaller old code). */
export function relabelBySize(labels: ArrayLike<number>): Int32Array {
  const sizes = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) sizes.set(labels[i], (sizes.get(labels[i]) ?? 0) + 1);
  const order = [...sizes.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).map(([code]) => code);
  const remap = new Map(order.map((code, rank) => [code, rank]));
  return Int32Array.from(labels, (label) => remap.get(label)!);
}

/** Sum of squared distances of each sample to the mean of its cluster. */
export function inertiaOf(points: DenseMatrix, labels: ArrayLike<number>): number {
  const d = points.nCols;
  const k = Math.max(...Array.from(labels)) + 1;
  const centroids = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  for (let i = 0; i < points.nRows; i++) {
    sizes[labels[i]] += 1;
    for (let c = 0; c < d; c++) centroids[labels[i] * d + c] += points.data[i * d + c];
  }
  for (let g = 0; g < k; g++) for (let c = 0; c < d; c++) centroids[g * d + c] /= Math.max(sizes[g], 1);
  let inertia = 0;
  for (let i = 0; i < points.nRows; i++) {
    for (let c = 0; c < d; c++) {
      const diff = points.data[i * d + c] - centroids[labels[i] * d + c];
      inertia += diff * diff;
    }
  }
  return inertia;
}

/**
 * Runs k-means++ initialised Lloyd iterations (ml-kmeans) `restarts` times with seeds from
 * `rng` and keeps the partition with the lowest inertia, as scikit-learn's `n_init` does.
 */
export function fitKmeans(
  points: DenseMatrix,
  k: number,
  restarts: number,
  rng: Rng,
  rows: number[][] = toRowArrays(points),
  maxIterations = 300,
): KmeansFit {
  let best: KmeansFit | null = null;
  for (let r = 0; r < restarts; r++) {
    const seed = rng.int(2 ** 31 - 1) + 1;
    const result = kmeans(rows, k, { seed, initialization: 'kmeans++', maxIterations, tolerance: 1e-6 });
    const labels = relabelBySize(result.clusters);
    const inertia = inertiaOf(points, labels);
    if (!best || inertia < best.inertia) best = { k, labels, inertia, seed };
  }
  return best!;
}

export interface KmeansScanOptions {
  kMin: number;
  kMax: number;
  restarts: number;
  /** Largest number of samples the silhouette is computed on; larger cohorts are subsampled. */
  silhouetteSampleSize: number;
  /** Largest number of samples the scan over k fits on; larger cohorts are subsampled (see scanKmeans). */
  scanSampleSize: number;
}

/** Means of the samples of each cluster, k x d row-major. */
function centroidsOf(points: DenseMatrix, labels: ArrayLike<number>, k: number): Float64Array {
  const d = points.nCols;
  const centroids = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  for (let i = 0; i < points.nRows; i++) {
    sizes[labels[i]] += 1;
    for (let c = 0; c < d; c++) centroids[labels[i] * d + c] += points.data[i * d + c];
  }
  for (let g = 0; g < k; g++) for (let c = 0; c < d; c++) centroids[g * d + c] /= Math.max(sizes[g], 1);
  return centroids;
}

/** Assigns every sample to its nearest centroid; returns the labels and the inertia of that assignment. */
function assignNearest(points: DenseMatrix, centroids: Float64Array, k: number): { labels: Int32Array; inertia: number } {
  const d = points.nCols;
  const labels = new Int32Array(points.nRows);
  let inertia = 0;
  for (let i = 0; i < points.nRows; i++) {
    let best = 0;
    let bestSquared = Infinity;
    for (let g = 0; g < k; g++) {
      let squared = 0;
      for (let c = 0; c < d; c++) {
        const diff = points.data[i * d + c] - centroids[g * d + c];
        squared += diff * diff;
      }
      if (squared < bestSquared) {
        bestSquared = squared;
        best = g;
      }
    }
    labels[i] = best;
    inertia += bestSquared;
  }
  return { labels, inertia };
}

/**
 * Fits k-means for every k in [kMin, kMax] and picks the k with the highest mean silhouette.
 * The silhouette subsample is drawn once, so every k is judged on the same samples.
 *
 * Above `scanSampleSize` samples, each k is fitted (with restarts) on one seeded subsample, and
 * every sample is then assigned to the nearest of its centroids. The curve's inertia and
 * silhouette describe that assignment of all samples. The chosen k is then refitted on all samples, starting
 * from the subsample's centroids, so the final partition is a full Lloyd solution.
 */
export function scanKmeans(points: DenseMatrix, options: KmeansScanOptions, rng: Rng): KmeansScan {
  const n = points.nRows;
  const kMax = Math.min(options.kMax, n - 1);
  if (options.kMin < 2 || options.kMin > kMax) {
    throw new Error(`k-means range [${options.kMin}, ${options.kMax}] is empty for ${n} samples (k must be in [2, n - 1])`);
  }
  const sampleRng = rng.fork('silhouette-sample');
  const subsample =
    n > options.silhouetteSampleSize
      ? Array.from(sampleRng.permutation(n).subarray(0, options.silhouetteSampleSize)).sort((a, b) => a - b)
      : undefined;
  const scanRows = n > options.scanSampleSize ? rng.fork('scan-sample').permutation(n).subarray(0, options.scanSampleSize).sort() : null;
  const scanPoints = scanRows ? takeRows(points, scanRows) : points;
  const rows = toRowArrays(scanPoints);
  const curve: KmeansCurvePoint[] = [];
  let best: KmeansFit | null = null;
  let bestSilhouette = -Infinity;
  for (let k = options.kMin; k <= kMax; k++) {
    let fit = fitKmeans(scanPoints, k, options.restarts, rng.fork(`k=${k}`), rows);
    if (scanRows) {
      const assigned = assignNearest(points, centroidsOf(scanPoints, fit.labels, k), k);
      fit = { k, labels: relabelBySize(assigned.labels), inertia: assigned.inertia, seed: fit.seed };
    }
    const nonEmpty = new Set(fit.labels).size;
    const sampledCodes = subsample ? new Set(subsample.map((i) => fit.labels[i])).size : nonEmpty;
    const sampleSize = subsample ? subsample.length : n;
    // A silhouette needs 2 <= clusters <= samples - 1; a partition outside that range scores -1.
    const silhouette =
      sampledCodes >= 2 && sampledCodes <= sampleSize - 1 ? silhouetteScore(points, fit.labels, subsample) : -1;
    curve.push({ k, silhouette, inertia: fit.inertia, nonEmptyClusters: nonEmpty });
    if (silhouette > bestSilhouette) {
      bestSilhouette = silhouette;
      best = fit;
    }
  }
  if (scanRows) best = refitFromLabels(points, best!);
  return { curve, chosenK: best!.k, best: best!, silhouetteSamples: subsample ? subsample.length : n };
}

/** Refits k-means on all samples with one ml-kmeans run started from the centroids of `fit`. */
function refitFromLabels(points: DenseMatrix, fit: KmeansFit, maxIterations = 300): KmeansFit {
  const d = points.nCols;
  const nClusters = Math.max(...Array.from(fit.labels)) + 1;
  const centroids = centroidsOf(points, fit.labels, nClusters);
  const initialization = Array.from({ length: nClusters }, (_, g) => Array.from(centroids.subarray(g * d, (g + 1) * d)));
  const result = kmeans(toRowArrays(points), nClusters, { initialization, maxIterations, tolerance: 1e-6 });
  const labels = relabelBySize(result.clusters);
  return { k: fit.k, labels, inertia: inertiaOf(points, labels), seed: fit.seed };
}
