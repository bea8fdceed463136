import { makeNNDescent } from 'umap-js/dist/nn_descent.js';
import { makeForest, makeLeafArray } from 'umap-js/dist/tree.js';
import { toRowArrays, type DenseMatrix } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';

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

/** Brute-force kNN in O(n^2 d): exact, and fast enough below a few tens of thousands of samples. */
export function exactNeighbors(points: DenseMatrix, k: number): NeighborGraph {
  const n = points.nRows;
  const d = points.nCols;
  const data = points.data;
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  // Per-row candidate list kept sorted by insertion; k is small (about 15-30).
  const bestIndex = new Int32Array(k);
  const bestSquared = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    bestIndex[0] = i;
    bestSquared[0] = -1;
    let filled = 1;
    const offsetI = i * d;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const offsetJ = j * d;
      let squared = 0;
      for (let c = 0; c < d; c++) {
        const diff = data[offsetI + c] - data[offsetJ + c];
        squared += diff * diff;
      }
      if (filled === k && squared >= bestSquared[k - 1]) continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 1 && bestSquared[at - 1] > squared) {
        bestSquared[at] = bestSquared[at - 1];
        bestIndex[at] = bestIndex[at - 1];
        at--;
      }
      bestSquared[at] = squared;
      bestIndex[at] = j;
    }
    for (let r = 0; r < k; r++) {
      indices[i * k + r] = bestIndex[r];
      distances[i * k + r] = r === 0 ? 0 : Math.sqrt(bestSquared[r]);
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

/** Exact neighbours up to `exactMaxSamples` samples, NN-descent above. */
export function nearestNeighbors(points: DenseMatrix, k: number, exactMaxSamples: number, rng: Rng): NeighborGraph {
  const capped = Math.min(k, points.nRows);
  return points.nRows <= exactMaxSamples ? exactNeighbors(points, capped) : approximateNeighbors(points, capped, rng);
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

/** Rows as umap-js wants them for `setPrecomputedKNN`. */
export function toUmapNeighbors(graph: NeighborGraph): { indices: number[][]; distances: number[][] } {
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let i = 0; i < graph.n; i++) {
    indices.push(Array.from(graph.indices.subarray(i * graph.k, (i + 1) * graph.k)));
    distances.push(Array.from(graph.distances.subarray(i * graph.k, (i + 1) * graph.k)));
  }
  return { indices, distances };
}
