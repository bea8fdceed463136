import { describe, expect, it } from 'vitest';
import { UMAP } from 'umap-js';
import { optimizeLayout } from '../../src/cluster/layout.js';
import { exactNeighbors, type NeighborGraph } from '../../src/cluster/neighbors.js';
import { defaultUmapEpochs, runUmap } from '../../src/cluster/umap.js';
import type { DenseMatrix } from '../../src/matrix/dense.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

/** Share of each sample's 10 nearest neighbours in `points` that are also among its 10 nearest in the layout. */
function neighbourPreservation(points: DenseMatrix, layout: Float32Array): number {
  const original = exactNeighbors(points, 11);
  const embedded = exactNeighbors({ nRows: points.nRows, nCols: 2, data: layout }, 11);
  let kept = 0;
  for (let i = 0; i < points.nRows; i++) {
    const truth = new Set(original.indices.subarray(i * 11 + 1, (i + 1) * 11));
    for (let r = 1; r < 11; r++) if (truth.has(embedded.indices[i * 11 + r])) kept++;
  }
  return kept / (points.nRows * 10);
}

/** Computes the layout with umap-js 1.4 on the same neighbours, as a reference. */
function umapJsLayout(points: DenseMatrix, graph: NeighborGraph, seed: number): Float32Array {
  const rng = new Rng(seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors: graph.k, minDist: 0.1, nEpochs: 200, random: () => rng.uniform() });
  const rows = (values: ArrayLike<number>) => Array.from({ length: graph.n }, (_, i) => Array.from({ length: graph.k }, (_, r) => values[i * graph.k + r]));
  umap.setPrecomputedKNN(rows(graph.indices), rows(graph.distances));
  const epochs = umap.initializeFit(Array.from({ length: points.nRows }, (_, i) => Array.from(points.data.subarray(i * points.nCols, (i + 1) * points.nCols))));
  for (let epoch = 0; epoch < epochs; epoch++) umap.step();
  return Float32Array.from(umap.getEmbedding().flat());
}

describe('UMAP layout', () => {
  const { points, truth } = blobs([120, 100, 80], 8, 3, 41);
  const graph = exactNeighbors(points, 15);

  it('keeps neighbours as well as umap-js', () => {
    const ours = runUmap(points, { nNeighbors: 15, minDist: 0.1, nEpochs: 200 }, new Rng(1), graph).embedding.data;
    const reference = umapJsLayout(points, graph, 2);
    expect(neighbourPreservation(points, ours)).toBeGreaterThan(neighbourPreservation(points, reference) - 0.05);
  });

  it('separates the blobs', () => {
    const layout = runUmap(points, { nNeighbors: 15, minDist: 0.1, nEpochs: 200 }, new Rng(3), graph).embedding.data;
    // Each sample's nearest layout neighbours come from its own blob.
    const embedded = exactNeighbors({ nRows: points.nRows, nCols: 2, data: layout }, 6);
    let same = 0;
    for (let i = 0; i < points.nRows; i++) for (let r = 1; r < 6; r++) if (truth[embedded.indices[i * 6 + r]] === truth[i]) same++;
    expect(same / (points.nRows * 5)).toBeGreaterThan(0.98);
  });

  it('repeats for a seed', () => {
    const first = runUmap(points, { nNeighbors: 15, minDist: 0.1, nEpochs: 50 }, new Rng(4), graph).embedding.data;
    const second = runUmap(points, { nNeighbors: 15, minDist: 0.1, nEpochs: 50 }, new Rng(4), graph).embedding.data;
    const other = runUmap(points, { nNeighbors: 15, minDist: 0.1, nEpochs: 50 }, new Rng(5), graph).embedding.data;
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('computes its own neighbours when none are given', () => {
    const result = runUmap(points, { nNeighbors: 10, minDist: 0.5, nEpochs: null }, new Rng(6));
    expect(result.used).toEqual({ nNeighbors: 10, minDist: 0.5, nEpochs: 500 });
    expect(result.embedding.data.every(Number.isFinite)).toBe(true);
  });

  it('rejects a graph with too few neighbours', () => {
    expect(() => runUmap(points, { nNeighbors: 20, minDist: 0.1, nEpochs: 10 }, new Rng(7), graph)).toThrow(/needs 20 neighbours/);
  });

  it('chooses epochs as umap-learn', () => {
    expect(defaultUmapEpochs(10_000)).toBe(500);
    expect(defaultUmapEpochs(10_001)).toBe(200);
  });

  it('drops edges too weak to be sampled', () => {
    // The edge 1-2 weighs less than max / nEpochs, so nothing ever moves point 2 from its start.
    const edges = { n: 3, sources: Int32Array.from([0, 1]), targets: Int32Array.from([1, 2]), weights: Float64Array.from([1, 1e-4]) };
    const draws = new Rng(8);
    const start = Array.from({ length: 6 }, () => Math.fround(draws.uniform() * 20 - 10));
    const random = new Rng(8);
    const layout = optimizeLayout(edges, { nEpochs: 100, minDist: 0.1 }, () => random.uniform());
    expect([layout[4], layout[5]]).toEqual([start[4], start[5]]);
    expect([layout[0], layout[1]]).not.toEqual([start[0], start[1]]);
  });
});
