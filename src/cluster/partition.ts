import type { DenseMatrix } from '../matrix/dense.js';
import { takeRows } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';
import { louvainCommunities, umapConnectivities } from './graph.js';
import { fitKmeans, scanKmeans, type KmeansScan } from './kmeans.js';
import { nearestNeighbors, type NeighborGraph } from './neighbors.js';
import type { Recluster } from './stability.js';

/** Settings shared by the latent clustering and the PCA baseline. */
export interface PartitionSettings {
  kMin: number;
  kMax: number;
  restarts: number;
  silhouetteSampleSize: number;
  scanSampleSize: number;
  /** Neighbours in the clustering graph, the sample itself included. */
  graphNeighbors: number;
  resolution: number;
  exactNeighborsMaxSamples: number;
}

/** k-means over k and Louvain on the kNN graph, for one representation of the samples. */
export interface SpacePartitions {
  scan: KmeansScan;
  louvain: Int32Array;
  modularity: number;
  /** kNN graph with max(graphNeighbors, extraNeighbors) neighbours per sample. */
  neighbors: NeighborGraph;
}

/** Keeps the first `k` neighbours of each row. */
export function truncateNeighbors(graph: NeighborGraph, k: number): NeighborGraph {
  if (k >= graph.k) return graph;
  const indices = new Int32Array(graph.n * k);
  const distances = new Float32Array(graph.n * k);
  for (let i = 0; i < graph.n; i++) {
    indices.set(graph.indices.subarray(i * graph.k, i * graph.k + k), i * k);
    distances.set(graph.distances.subarray(i * graph.k, i * graph.k + k), i * k);
  }
  return { ...graph, k, indices, distances };
}

/** Louvain clusters of the samples from their kNN graph. */
export function graphClusters(
  points: DenseMatrix,
  settings: PartitionSettings,
  rng: Rng,
  precomputed?: NeighborGraph,
): { labels: Int32Array; modularity: number } {
  const neighbors =
    precomputed ??
    nearestNeighbors(points, Math.min(settings.graphNeighbors, points.nRows), settings.exactNeighborsMaxSamples, rng.fork('neighbors'));
  const edges = umapConnectivities(truncateNeighbors(neighbors, settings.graphNeighbors));
  const result = louvainCommunities(edges, settings.resolution, rng.fork('louvain'));
  return { labels: result.labels, modularity: result.modularity };
}

/** Runs `work` and adds its wall-clock seconds to `timings[step]` when timings are collected. */
function timed<T>(timings: Record<string, number> | undefined, step: string, work: () => T): T {
  const start = performance.now();
  const result = work();
  if (timings) timings[step] = (performance.now() - start) / 1000;
  return result;
}

/**
 * Clusters one representation: k-means over the k range and Louvain, sharing one kNN graph.
 * With `timings`, records the seconds of the neighbour search, the k-means scan and Louvain.
 */
export function partitionSpace(
  points: DenseMatrix,
  settings: PartitionSettings,
  rng: Rng,
  extraNeighbors = 0,
  timings?: Record<string, number>,
): SpacePartitions {
  const k = Math.min(Math.max(settings.graphNeighbors, extraNeighbors), points.nRows);
  const neighbors = timed(timings, 'neighbors', () =>
    nearestNeighbors(points, k, settings.exactNeighborsMaxSamples, rng.fork('neighbors')),
  );
  const scan = timed(timings, 'kmeans', () =>
    scanKmeans(
      points,
      {
        kMin: settings.kMin,
        kMax: settings.kMax,
        restarts: settings.restarts,
        silhouetteSampleSize: settings.silhouetteSampleSize,
        scanSampleSize: settings.scanSampleSize,
      },
      rng.fork('kmeans'),
    ),
  );
  const graph = timed(timings, 'louvain', () => graphClusters(points, settings, rng, neighbors));
  return { scan, louvain: graph.labels, modularity: graph.modularity, neighbors };
}

/** Reclustering by k-means with the chosen k, for subsample stability. */
export function kmeansRecluster(points: DenseMatrix, k: number, restarts: number): Recluster {
  return (rows, rng) => fitKmeans(takeRows(points, rows), Math.min(k, rows.length - 1), restarts, rng).labels;
}

/** Reclustering by Louvain on a fresh kNN graph of the subsample, for subsample stability. */
export function louvainRecluster(points: DenseMatrix, settings: PartitionSettings): Recluster {
  return (rows, rng) => graphClusters(takeRows(points, rows), settings, rng).labels;
}
