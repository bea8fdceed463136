import { describe, expect, it } from 'vitest';
import { louvainCommunities, umapConnectivities } from '../../src/cluster/graph.js';
import { adjustedRandIndex } from '../../src/cluster/metrics.js';
import { approximateNeighbors, exactNeighbors, neighborRecall } from '../../src/cluster/neighbors.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

function bruteForce(points: { nRows: number; nCols: number; data: Float32Array }, i: number, k: number): number[] {
  const distances = [];
  for (let j = 0; j < points.nRows; j++) {
    let squared = 0;
    for (let c = 0; c < points.nCols; c++) squared += (points.data[i * points.nCols + c] - points.data[j * points.nCols + c]) ** 2;
    distances.push({ j, squared });
  }
  distances.sort((a, b) => a.squared - b.squared || a.j - b.j);
  return distances.slice(0, k).map((entry) => entry.j);
}

describe('nearest neighbours', () => {
  const { points, truth } = blobs([60, 50, 40], 5, 5, 3);

  it('lists self first then exact neighbours', () => {
    const graph = exactNeighbors(points, 8);
    for (const i of [0, 77, 149]) {
      expect(Array.from(graph.indices.subarray(i * 8, i * 8 + 8)), `row ${i}`).toEqual(bruteForce(points, i, 8));
    }
    expect(graph.distances[0]).toBe(0);
  });

  it('sorts distances ascending', () => {
    const graph = exactNeighbors(points, 8);
    for (let i = 0; i < graph.n; i++) {
      const row = Array.from(graph.distances.subarray(i * 8, i * 8 + 8));
      expect(row).toEqual([...row].sort((a, b) => a - b));
    }
  });

  it('approximate index recalls most neighbours', () => {
    const exact = exactNeighbors(points, 10);
    const approximate = approximateNeighbors(points, 10, new Rng(1));
    expect(neighborRecall(approximate, exact)).toBeGreaterThan(0.95);
    expect(approximate.indices[10 * 42]).toBe(42);
  });

  it('connectivities are symmetric in (0, 1]', () => {
    const edges = umapConnectivities(exactNeighbors(points, 10));
    expect(edges.weights.every((w) => w > 0 && w <= 1)).toBe(true);
    const seen = new Set<string>();
    for (let e = 0; e < edges.sources.length; e++) {
      expect(edges.sources[e]).toBeLessThan(edges.targets[e]);
      seen.add(`${edges.sources[e]}-${edges.targets[e]}`);
    }
    expect(seen.size).toBe(edges.sources.length);
  });

  it('louvain recovers separated blobs', () => {
    const edges = umapConnectivities(exactNeighbors(points, 15));
    const result = louvainCommunities(edges, 1, new Rng(2));
    expect(adjustedRandIndex(result.labels, truth)).toBeGreaterThan(0.95);
    expect(result.modularity).toBeGreaterThan(0.5);
  });

  it('louvain is reproducible for a seed', () => {
    const edges = umapConnectivities(exactNeighbors(points, 15));
    const first = louvainCommunities(edges, 2, new Rng(5)).labels;
    const second = louvainCommunities(edges, 2, new Rng(5)).labels;
    expect(Array.from(first)).toEqual(Array.from(second));
  });
});
