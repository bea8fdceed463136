import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_DEFAULTS } from '../../pipeline/cluster.js';
import { readFrame, readTable, tableToDense } from '../../src/io/arrow.js';
import { runCluster, type ClusterSummary } from '../../src/stages/cluster.js';
import { InputError } from '../../src/util/errors.js';
import { testContext } from '../helpers/context.js';
import { blobs, writeLatentRun } from '../cluster/fixtures.js';

const FAST = { ...CLUSTER_DEFAULTS, kMax: 6, kmeansRestarts: 3, umapEpochs: 50 };

async function clusterBlobs(labels: 'all' | 'some' | 'none', seed = 0) {
  const { points, truth } = blobs([40, 30, 20], 4, 6);
  const ctx = testContext('cluster', undefined, seed);
  const names = ['alpha', 'beta', 'gamma'];
  const labelValues =
    labels === 'none' ? null : Array.from(truth, (c, i) => (labels === 'some' && i % 10 === 0 ? null : names[c]));
  const ids = writeLatentRun(ctx.runDir, points, labelValues);
  const result = await runCluster(ctx, FAST);
  return { ctx, ids, truth, result, summary: result.summary as unknown as ClusterSummary };
}

describe('cluster stage', () => {
  it('finds three separated blobs', async () => {
    const { summary } = await clusterBlobs('all');
    expect(summary.kmeans.chosenK).toBe(3);
    expect(summary.clusterings[0].sizes).toEqual([40, 30, 20]);
  });

  it('records silhouette and inertia for every k', async () => {
    const { summary } = await clusterBlobs('all');
    expect(summary.kmeans.curve.map((point) => point.k)).toEqual([2, 3, 4, 5, 6]);
    const inertias = summary.kmeans.curve.map((point) => point.inertia);
    expect(inertias[1]).toBeLessThan(inertias[0]);
  });

  it('writes clusters and umap aligned with the latents', async () => {
    const { ctx, ids } = await clusterBlobs('all');
    const clusters = readFrame(join(ctx.outputDir, 'clusters.arrow'));
    expect(clusters.sample_id).toEqual(ids);
    expect(clusters.kmeans).toBeInstanceOf(Int32Array);
    const umapTable = readTable(join(ctx.outputDir, 'umap.arrow'));
    const umap = tableToDense(umapTable, 'umap');
    expect(umap.nCols).toBe(2);
    expect(umap.nRows).toBe(ids.length);
    expect(umap.data.every(Number.isFinite)).toBe(true);
  });

  it('reports perfect agreement with blob labels', async () => {
    const { summary } = await clusterBlobs('all');
    const agreement = summary.clusterings[0].agreement!;
    expect(agreement.ari).toBeCloseTo(1, 10);
    expect(agreement.nmi).toBeCloseTo(1, 10);
    expect(summary.labelClasses).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('leaves unlabelled samples out and counts them', async () => {
    const { summary, result } = await clusterBlobs('some');
    const agreement = summary.clusterings[0].agreement!;
    expect(agreement.nUnlabelled).toBe(9);
    expect(agreement.nLabelled).toBe(81);
    expect(agreement.counts.flat().reduce((a, b) => a + b, 0)).toBe(81);
    expect(result.warnings.some((w) => w.includes('9 of 90 samples have no label'))).toBe(true);
  });

  it('omits agreement without labels', async () => {
    const { summary } = await clusterBlobs('none');
    expect(summary.labelClasses).toBeNull();
    expect(summary.clusterings[0].agreement).toBeNull();
  });

  it('is reproducible for a seed', async () => {
    const first = await clusterBlobs('all', 7);
    const second = await clusterBlobs('all', 7);
    const a = readTable(join(first.ctx.outputDir, 'umap.arrow'));
    const b = readTable(join(second.ctx.outputDir, 'umap.arrow'));
    expect(Array.from(tableToDense(a, 'umap').data)).toEqual(Array.from(tableToDense(b, 'umap').data));
    expect(first.summary.kmeans.curve).toEqual(second.summary.kmeans.curve);
  });

  it('rejects a run without latents', async () => {
    const ctx = testContext('cluster');
    await expect(runCluster(ctx, FAST)).rejects.toThrow(InputError);
    expect(existsSync(join(ctx.outputDir, 'clusters.arrow'))).toBe(false);
  });

  it('caps k and neighbours for a tiny cohort', async () => {
    const { points } = blobs([3, 3], 2, 8);
    const ctx = testContext('cluster');
    writeLatentRun(ctx.runDir, points, null);
    const result = await runCluster(ctx, FAST);
    const summary = result.summary as unknown as ClusterSummary;
    expect(summary.kmeans.kMax).toBe(5);
    expect(summary.umap.nNeighbors).toBe(5);
  });
});
