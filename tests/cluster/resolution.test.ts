import { describe, expect, it } from 'vitest';
import { umapConnectivities } from '../../src/cluster/graph.js';
import { adjustedRandIndex } from '../../src/cluster/metrics.js';
import { exactNeighbors } from '../../src/cluster/neighbors.js';
import { scanResolutions } from '../../src/cluster/resolution.js';
import { silhouetteScore } from '../../src/cluster/silhouette.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

function blobGraph(sizes: number[], spread: number) {
  const { points, truth } = blobs(sizes, 4, spread);
  const edges = umapConnectivities(exactNeighbors(points, 15));
  return { points, truth, edges };
}

describe('scanResolutions', () => {
  it('keeps the resolution whose partition has the highest silhouette', () => {
    const { points, edges } = blobGraph([60, 50, 40], 6);
    const scan = scanResolutions(points, edges, [2, 0.05, 0.5, 1], 4000, new Rng(3));
    expect(scan.curve.map((point) => point.resolution)).toEqual([0.05, 0.5, 1, 2]);
    const best = Math.max(...scan.curve.map((point) => point.silhouette));
    const chosen = scan.curve.find((point) => point.resolution === scan.chosen)!;
    expect(chosen.silhouette).toBe(best);
    // Ties go to the lowest resolution reaching the best silhouette.
    expect(scan.curve.find((point) => point.silhouette === best)!.resolution).toBe(scan.chosen);
    expect(new Set(scan.labels).size).toBe(chosen.nClusters);
    expect(silhouetteScore(points, scan.labels)).toBeCloseTo(best, 10);
  });

  it('recovers separated blobs that a high resolution would split', () => {
    const { points, truth, edges } = blobGraph([60, 50, 40], 8);
    const scan = scanResolutions(points, edges, [0.2, 0.5, 1, 2, 4], 4000, new Rng(1));
    expect(adjustedRandIndex(scan.labels, truth)).toBeCloseTo(1, 10);
    const highest = scan.curve[scan.curve.length - 1];
    expect(highest.nClusters).toBeGreaterThan(3);
    expect(highest.silhouette).toBeLessThan(scan.curve.find((point) => point.resolution === scan.chosen)!.silhouette);
  });

  it('scores a single-cluster partition -1 and never prefers it to a split', () => {
    // One connected blob: a tiny resolution keeps it whole, resolution 1 splits it.
    const { points, edges } = blobGraph([110], 1);
    const scan = scanResolutions(points, edges, [0.0001, 1], 4000, new Rng(2));
    expect(scan.curve[0].nClusters).toBe(1);
    expect(scan.curve[0].silhouette).toBe(-1);
    expect(scan.chosen).toBe(1);
  });

  it('judges every resolution on one subsample above the sample size', () => {
    const { points, edges } = blobGraph([60, 50, 40], 6);
    const scan = scanResolutions(points, edges, [0.5, 1], 100, new Rng(4));
    expect(scan.silhouetteSamples).toBe(100);
    const again = scanResolutions(points, edges, [0.5, 1], 100, new Rng(4));
    expect(again.curve).toEqual(scan.curve);
  });

  it('needs at least one resolution', () => {
    const { points, edges } = blobGraph([20, 20], 6);
    expect(() => scanResolutions(points, edges, [], 4000, new Rng(0))).toThrow(/at least one resolution/);
  });
});
