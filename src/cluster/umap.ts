import type { DenseMatrix } from '../matrix/dense.js';
import type { Rng } from '../util/rng.js';
import { umapConnectivities } from './graph.js';
import { optimizeLayout } from './layout.js';
import { nearestNeighbors, type NeighborGraph } from './neighbors.js';
import { truncateNeighbors } from './partition.js';

export interface UmapSettings {
  /** Neighbours per sample, the sample itself included (umap-learn's convention). */
  nNeighbors: number;
  minDist: number;
  /** Optimisation epochs; null chooses as umap-learn does: 500 up to 10,000 samples, 200 above. */
  nEpochs: number | null;
}

export interface UmapResult {
  /** Row-major n x 2 coordinates. */
  embedding: DenseMatrix;
  /** Settings actually used (nNeighbors capped at n - 1, nEpochs resolved). */
  used: { nNeighbors: number; minDist: number; nEpochs: number };
}

/** Samples up to which umap-learn runs 500 epochs; larger cohorts get 200. */
const LONG_SCHEDULE_MAX_SAMPLES = 10_000;

/** umap-learn's default number of epochs for n samples. */
export function defaultUmapEpochs(n: number): number {
  return n <= LONG_SCHEDULE_MAX_SAMPLES ? 500 : 200;
}

/**
 * Returns a mulberry32 generator of uniforms in [0, 1). The layout draws a random number per
 * negative sample, and this 32-bit generator halves the epoch time against the Mersenne
 * Twister of Rng (measured at 20,000 samples). umap-learn uses a similar xorshift.
 */
function fastUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Embeds the samples in 2-D with UMAP: the fuzzy-union graph of the kNN graph (umap-learn's
 * fuzzy_simplicial_set), then the layout optimisation of {@link optimizeLayout}. Every random
 * number comes from a generator seeded by `rng`, so a seed reproduces the layout. `neighbors`
 * lets the caller share one kNN graph between UMAP and graph clustering; it must list at least
 * the capped nNeighbors per sample. Without it the graph is computed here.
 */
export function runUmap(points: DenseMatrix, settings: UmapSettings, rng: Rng, neighbors?: NeighborGraph): UmapResult {
  const n = points.nRows;
  if (n < 3) throw new Error(`UMAP needs at least 3 samples, got ${n}`);
  const nNeighbors = Math.min(settings.nNeighbors, n - 1);
  const graph = neighbors ?? nearestNeighbors(points, nNeighbors, Infinity, rng.fork('neighbors'));
  if (graph.k < nNeighbors) throw new Error(`UMAP needs ${nNeighbors} neighbours per sample, the graph has ${graph.k}`);
  const nEpochs = settings.nEpochs ?? defaultUmapEpochs(n);
  const edges = umapConnectivities(truncateNeighbors(graph, nNeighbors));
  const data = optimizeLayout(edges, { nEpochs, minDist: settings.minDist }, fastUniform(rng.int(2 ** 32)));
  return { embedding: { nRows: n, nCols: 2, data }, used: { nNeighbors, minDist: settings.minDist, nEpochs } };
}
