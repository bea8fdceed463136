import type { DenseMatrix } from '../matrix/dense.js';
import { takeRows } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';
import { louvainCommunities, umapConnectivities, type WeightedEdges } from './graph.js';
import { fitKmeans, scanKmeans, type KmeansScan } from './kmeans.js';
import { nearestNeighbors, type NeighborGraph } from './neighbors.js';
import { scanResolutions, type ResolutionScan } from './resolution.js';
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
  /** Louvain resolution, or 'auto' to choose among `resolutions` by silhouette. */
  resolution: number | 'auto';
  /** Resolutions 'auto' scans. */
  resolutions: readonly number[];
  exactNeighborsMaxSamples: number;
}

/** k-means over k and Louvain on the kNN graph, for one representation of the samples. */
export interface SpacePartitions {
  scan: KmeansScan;
  louvain: Int32Array;
  modularity: number;
  /** Louvain resolution used: the fixed one, or the scan's choice. */
  resolution: number;
  /** The resolution scan; null when the resolution was fixed. */
  resolutionScan: ResolutionScan | null;
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

/** Returns the weighted clustering graph: UMAP connectivities of the first graphNeighbors neighbours. */
function clusteringGraph(neighbors: NeighborGraph, settings: PartitionSettings): WeightedEdges {
  return umapConnectivities(truncateNeighbors(neighbors, settings.graphNeighbors));
}

/** Louvain clusters of the samples from their kNN graph, at one resolution. */
export function graphClusters(
  points: DenseMatrix,
  settings: PartitionSettings,
  resolution: number,
  rng: Rng,
): { labels: Int32Array; modularity: number } {
  const neighbors = nearestNeighbors(points, Math.min(settings.graphNeighbors, points.nRows), settings.exactNeighborsMaxSamples, rng.fork('neighbors'));
  return louvainCommunities(clusteringGraph(neighbors, settings), resolution, rng.fork('louvain'));
}

/** Louvain on a precomputed kNN graph: at the fixed resolution, or the best of a resolution scan. */
function louvainPartition(
  points: DenseMatrix,
  neighbors: NeighborGraph,
  settings: PartitionSettings,
  rng: Rng,
): Pick<SpacePartitions, 'louvain' | 'modularity' | 'resolution' | 'resolutionScan'> {
  const edges = clusteringGraph(neighbors, settings);
  if (settings.resolution !== 'auto') {
    const result = louvainCommunities(edges, settings.resolution, rng.fork('louvain'));
    return { louvain: result.labels, modularity: result.modularity, resolution: settings.resolution, resolutionScan: null };
  }
  const scan = scanResolutions(points, edges, settings.resolutions, settings.silhouetteSampleSize, rng.fork('resolutions'));
  return { louvain: scan.labels, modularity: scan.modularity, resolution: scan.chosen, resolutionScan: scan };
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
  const graph = timed(timings, 'louvain', () => louvainPartition(points, neighbors, settings, rng));
  return { scan, ...graph, neighbors };
}

/** Reclustering by k-means with the chosen k, for subsample stability. */
export function kmeansRecluster(points: DenseMatrix, k: number, restarts: number): Recluster {
  return (rows, rng) => fitKmeans(takeRows(points, rows), Math.min(k, rows.length - 1), restarts, rng).labels;
}

/** Reclustering by Louvain at `resolution` on a fresh kNN graph of the subsample, for subsample stability. */
export function louvainRecluster(points: DenseMatrix, settings: PartitionSettings, resolution: number): Recluster {
  return (rows, rng) => graphClusters(takeRows(points, rows), settings, resolution, rng).labels;
}
