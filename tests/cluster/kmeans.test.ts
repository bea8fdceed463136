import { describe, expect, it } from 'vitest';
import { fitKmeans, inertiaOf, relabelBySize, scanKmeans } from '../../src/cluster/kmeans.js';
import { adjustedRandIndex } from '../../src/cluster/metrics.js';
import { subsampleStability } from '../../src/cluster/stability.js';
import { kmeansRecluster } from '../../src/cluster/partition.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

describe('k-means', () => {
  const { points, truth } = blobs([80, 50, 30, 20], 3, 8, 4);
  const options = { kMin: 2, kMax: 7, restarts: 3, silhouetteSampleSize: 1000, scanSampleSize: 1000 };

  it('numbers clusters by decreasing size', () => {
    expect(Array.from(relabelBySize([5, 5, 2, 9, 9, 9]))).toEqual([1, 1, 2, 0, 0, 0]);
  });

  it('computes inertia around cluster means', () => {
    const square = { nRows: 4, nCols: 1, data: Float32Array.from([0, 2, 10, 14]) };
    expect(inertiaOf(square, [0, 0, 1, 1])).toBe(2 + 8);
  });

  it('keeps the restart with the lowest inertia', () => {
    const one = fitKmeans(points, 4, 1, new Rng(3));
    const many = fitKmeans(points, 4, 6, new Rng(3));
    expect(many.inertia).toBeLessThanOrEqual(one.inertia);
  });

  it('chooses the planted k by silhouette', () => {
    const scan = scanKmeans(points, options, new Rng(1));
    expect(scan.chosenK).toBe(4);
    expect(adjustedRandIndex(scan.best.labels, truth)).toBe(1);
  });

  it('scans a subsample of a large cohort', () => {
    const scan = scanKmeans(points, { ...options, scanSampleSize: 60, silhouetteSampleSize: 90 }, new Rng(1));
    expect(scan.chosenK).toBe(4);
    expect(scan.silhouetteSamples).toBe(90);
    expect(scan.best.labels).toHaveLength(180);
    expect(adjustedRandIndex(scan.best.labels, truth)).toBeGreaterThan(0.95);
  });

  it('rejects an empty k range', () => {
    const tiny = { nRows: 3, nCols: 1, data: Float32Array.from([0, 1, 2]) };
    expect(() => scanKmeans(tiny, { ...options, kMin: 3 }, new Rng(1))).toThrow(/empty/);
  });
});

describe('subsample stability', () => {
  it('scores separated blobs as stable', () => {
    const { points, truth } = blobs([40, 40], 2, 10, 6);
    const stability = subsampleStability(truth, kmeansRecluster(points, 2, 2), 5, 64, new Rng(2));
    expect(stability.map((cluster) => cluster.meanJaccard >= 0.99)).toEqual([true, true]);
    expect(stability[0].recovered).toBe(1);
  });

  it('scores an arbitrary split of noise as unstable', () => {
    const { points } = blobs([120], 2, 1, 7);
    // Four arbitrary groups of one Gaussian cloud: k-means never finds them again.
    const arbitrary = Int32Array.from({ length: 120 }, (_, i) => i % 4);
    const stability = subsampleStability(arbitrary, kmeansRecluster(points, 4, 2), 5, 96, new Rng(3));
    for (const cluster of stability) expect(cluster.meanJaccard, `cluster ${cluster.cluster}`).toBeLessThan(0.5);
  });
});
