import { UndirectedGraph } from 'graphology';
import louvainModule from 'graphology-communities-louvain';
import type { Rng } from '../util/rng.js';
import { relabelBySize } from './kmeans.js';
import type { NeighborGraph } from './neighbors.js';

/** Symmetric weighted edges i < j of the sample graph. */
export interface WeightedEdges {
  n: number;
  sources: Int32Array;
  targets: Int32Array;
  weights: Float64Array;
}

/**
 * Fuzzy-union connectivities of a kNN graph, as umap-learn's `fuzzy_simplicial_set` and
 * scanpy's `pp.neighbors(method='umap')` compute them: w_ij = exp(-(d_ij - rho_i) / sigma_i),
 * where rho_i is the distance to the nearest other sample and sigma_i solves
 * sum_j w_ij = log2(k); then w = w + w^T - w * w^T.
 */
export function umapConnectivities(graph: NeighborGraph): WeightedEdges {
  const { n, k } = graph;
  const target = Math.log2(k);
  const directed = new Map<number, number>();
  const key = (i: number, j: number) => i * n + j;
  for (let i = 0; i < n; i++) {
    const row = graph.distances.subarray(i * k + 1, (i + 1) * k);
    let rho = Infinity;
    for (const distance of row) if (distance > 0) rho = Math.min(rho, distance);
    if (!Number.isFinite(rho)) rho = 0;
    const sigma = solveSigma(row, rho, target);
    for (let r = 1; r < k; r++) {
      const j = graph.indices[i * k + r];
      if (j === i) continue;
      const weight = Math.exp(-Math.max(0, row[r - 1] - rho) / sigma);
      directed.set(key(i, j), Math.max(directed.get(key(i, j)) ?? 0, weight));
    }
  }
  const sources: number[] = [];
  const targets: number[] = [];
  const weights: number[] = [];
  for (const [code, forward] of directed) {
    const i = Math.floor(code / n);
    const j = code % n;
    const backward = directed.get(key(j, i)) ?? 0;
    // Each unordered pair once: from the smaller index, or from the only direction present.
    if (backward > 0 && j < i) continue;
    sources.push(Math.min(i, j));
    targets.push(Math.max(i, j));
    weights.push(forward + backward - forward * backward);
  }
  return { n, sources: Int32Array.from(sources), targets: Int32Array.from(targets), weights: Float64Array.from(weights) };
}

/** Binary search for sigma as umap-learn's `smooth_knn_dist` does (64 steps, tolerance 1e-5, floor 1e-3 of the mean distance). */
function solveSigma(distances: Float32Array, rho: number, target: number): number {
  let low = 0;
  let high = Infinity;
  let mid = 1;
  for (let step = 0; step < 64; step++) {
    let total = 0;
    for (const distance of distances) total += Math.exp(-Math.max(0, distance - rho) / mid);
    if (Math.abs(total - target) < 1e-5) break;
    if (total > target) {
      high = mid;
      mid = (low + high) / 2;
    } else {
      low = mid;
      mid = Number.isFinite(high) ? (low + high) / 2 : mid * 2;
    }
  }
  let mean = 0;
  for (const distance of distances) mean += distance;
  mean /= Math.max(distances.length, 1);
  return Math.max(mid, 1e-3 * mean, 1e-12);
}

// The package is CommonJS (`module.exports = louvain`) while its typings declare a default
// export, so under NodeNext the typings see the function one level down.
const louvain = louvainModule as unknown as typeof louvainModule.default;

export interface LouvainResult {
  /** Community of each sample, 0 = largest. */
  labels: Int32Array;
  modularity: number;
}

/**
 * Louvain community detection (graphology-communities-louvain 2.0) on the weighted sample
 * graph. Larger `resolution` gives more, smaller communities, as in scanpy's `tl.louvain`.
 */
export function louvainCommunities(edges: WeightedEdges, resolution: number, rng: Rng): LouvainResult {
  const graph = new UndirectedGraph({ multi: false, allowSelfLoops: false });
  for (let i = 0; i < edges.n; i++) graph.addNode(String(i));
  for (let e = 0; e < edges.sources.length; e++) {
    graph.addEdge(String(edges.sources[e]), String(edges.targets[e]), { weight: edges.weights[e] });
  }
  const detailed = louvain.detailed(graph, {
    resolution,
    getEdgeWeight: 'weight',
    rng: () => rng.uniform(),
  });
  const raw = Int32Array.from({ length: edges.n }, (_, i) => detailed.communities[String(i)]);
  return { labels: relabelBySize(raw), modularity: detailed.modularity };
}
