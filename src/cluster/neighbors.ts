import { makeNNDescent } from 'umap-js/dist/nn_descent.js';
import { makeForest, makeLeafArray } from 'umap-js/dist/tree.js';
import { toRowArrays, type DenseMatrix } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';
import { KdTree } from './kdtree.js';

/**
 * k nearest neighbours of every sample, the sample itself first (distance 0), then the others
 * by increasing Euclidean distance: row i is indices[i * k .. (i + 1) * k).
 */
export interface NeighborGraph {
  n: number;
  /** Neighbours per row, the sample itself included. */
  k: number;
  indices: Int32Array;
  distances: Float32Array;
  /** 'exact' for brute force, 'nndescent' for the approximate index. */
  method: 'exact' | 'nndescent';
}

/**
 * Exact kNN by a kd-tree search ({@link KdTree}): the same neighbours, in the same order, as a
 * brute-force scan that sorts by (distance, index). A query costs about O(log n) in the ten or
 * so dimensions of a latent space and approaches O(n) in many more.
 */
export function exactNeighbors(points: DenseMatrix, k: number): NeighborGraph {
  const n = points.nRows;
  const d = points.nCols;
  const tree = KdTree.build(points);
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  const found = { indices: new Int32Array(k), squared: new Float64Array(k), count: 0 };
  for (let i = 0; i < n; i++) {
    tree.query(points.data.subarray(i * d, (i + 1) * d), k, i, found);
    for (let r = 0; r < k; r++) {
      // A cohort of fewer than k samples repeats its farthest neighbour.
      const at = Math.min(r, found.count - 1);
      indices[i * k + r] = found.indices[at];
      distances[i * k + r] = Math.sqrt(found.squared[at]);
    }
  }
  return { n, k, indices, distances, method: 'exact' };
}

/**
 * Approximate kNN by NN-descent over a random-projection forest (umap-js 1.4's port of
 * pynndescent, the index umap-learn and scanpy use), with tree and iteration counts as
 * umap-js sets them for its own UMAP. Every random draw comes from `rng`.
 */
export function approximateNeighbors(points: DenseMatrix, k: number, rng: Rng): NeighborGraph {
  const n = points.nRows;
  const rows = toRowArrays(points);
  const random = () => rng.uniform();
  const euclidean = (x: number[], y: number[]) => {
    let squared = 0;
    for (let c = 0; c < x.length; c++) squared += (x[c] - y[c]) ** 2;
    return Math.sqrt(squared);
  };
  const nTrees = 5 + Math.floor(Math.round(Math.sqrt(n) / 20));
  const nIterations = Math.max(5, Math.round(Math.log2(n)));
  const forest = makeForest(rows, k, nTrees, random);
  const descent = makeNNDescent(euclidean, random);
  const result = descent(rows, makeLeafArray(forest), k, nIterations);

  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    // Put the sample itself first even where the search returned it elsewhere or not at all.
    const others: Array<[number, number]> = [];
    for (let r = 0; r < k; r++) {
      const j = result.indices[i][r];
      if (j !== i && j >= 0) others.push([j, result.weights[i][r]]);
    }
    others.sort((a, b) => a[1] - b[1]);
    indices[i * k] = i;
    distances[i * k] = 0;
    for (let r = 1; r < k; r++) {
      // A row short of neighbours (NN-descent found fewer than k - 1 others) repeats its last one.
      const [j, distance] = others[Math.min(r - 1, others.length - 1)] ?? [i, 0];
      indices[i * k + r] = j;
      distances[i * k + r] = distance;
    }
  }
  return { n, k, indices, distances, method: 'nndescent' };
}

/**
 * Dimensions up to which the kd-tree search stays far cheaper than a brute-force scan at any
 * cohort size, so that exact neighbours are used however many samples there are.
 * NOTE: set from two measurements on a 2-core machine. 15 neighbours of 50,000 samples in 10
 * latent dimensions took 8 s by kd-tree (NN-descent: 10 s). 20,000 samples in 50 principal
 * components took 16 s by kd-tree against 6 s by NN-descent. The crossover between is unmeasured.
 */
export const KD_TREE_MAX_DIMENSIONS = 16;

/** Exact neighbours up to `exactMaxSamples` samples or KD_TREE_MAX_DIMENSIONS dimensions, NN-descent above both. */
export function nearestNeighbors(points: DenseMatrix, k: number, exactMaxSamples: number, rng: Rng): NeighborGraph {
  const capped = Math.min(k, points.nRows);
  const exact = points.nRows <= exactMaxSamples || points.nCols <= KD_TREE_MAX_DIMENSIONS;
  return exact ? exactNeighbors(points, capped) : approximateNeighbors(points, capped, rng);
}

/** Fraction of the true neighbours (self excluded) that `approximate` found; 1 is a perfect index. */
export function neighborRecall(approximate: NeighborGraph, exact: NeighborGraph): number {
  let found = 0;
  let total = 0;
  for (let i = 0; i < exact.n; i++) {
    const truth = new Set(exact.indices.subarray(i * exact.k + 1, (i + 1) * exact.k));
    for (let r = 1; r < approximate.k; r++) if (truth.has(approximate.indices[i * approximate.k + r])) found++;
    total += truth.size;
  }
  return total === 0 ? 1 : found / total;
}
