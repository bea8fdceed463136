import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_DEFAULTS } from '../../pipeline/cluster.js';
import { readFrame, readTable, tableToDense } from '../../src/io/arrow.js';
import { runCluster, type ClusterSummary } from '../../src/stages/cluster.js';
import { InputError } from '../../src/util/errors.js';
import { testContext } from '../helpers/context.js';
import { blobs, writeGeneLoadings, writeLatentRun, writeNormalizedRun } from '../cluster/fixtures.js';

const FAST = { ...CLUSTER_DEFAULTS, kMax: 6, kmeansRestarts: 3, umapEpochs: 50, stabilityResamples: 4, pcaComponents: 5, resolution: 0.5 };

async function clusterBlobs(labels: 'all' | 'some' | 'none', seed = 0, options = FAST) {
  const { points, truth } = blobs([40, 30, 20], 4, 6);
  const ctx = testContext('cluster', undefined, seed);
  const names = ['alpha', 'beta', 'gamma'];
  const labelValues =
    labels === 'none' ? null : Array.from(truth, (c, i) => (labels === 'some' && i % 10 === 0 ? null : names[c]));
  const ids = writeLatentRun(ctx.runDir, points, labelValues, truth);
  writeNormalizedRun(ctx.runDir, ids, truth, 12, 9);
  writeGeneLoadings(ctx.runDir, 12, 4);
  const result = await runCluster(ctx, options);
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

  it('chooses Louvain resolution by silhouette', async () => {
    const { summary } = await clusterBlobs('all', 0, { ...FAST, resolution: 'auto', resolutions: [0.2, 1, 3] });
    expect(summary.louvain.choice).toBe('auto');
    expect(summary.louvain.curve!.map((point) => point.resolution)).toEqual([0.2, 1, 3]);
    const best = summary.louvain.curve!.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
    expect(summary.louvain.resolution).toBe(best.resolution);
    const louvain = summary.clusterings.find((c) => c.column === 'louvain')!;
    expect(louvain.parameters.resolution).toBe(best.resolution);
    expect(louvain.nClusters).toBe(best.nClusters);
    expect(louvain.agreement!.ari).toBeCloseTo(1, 10);
    expect(summary.baseline!.resolutionCurve).toHaveLength(3);
    const baseline = summary.clusterings.find((c) => c.column === 'pca_louvain')!;
    expect(summary.baseline!.resolutionCurve!.map((point) => point.resolution)).toContain(baseline.parameters.resolution);
  });

  it('records a fixed resolution without a scan', async () => {
    const { summary } = await clusterBlobs('all');
    expect(summary.louvain).toEqual({ resolution: 0.5, choice: 'fixed', curve: null, silhouetteSamples: null });
    expect(summary.baseline!.resolutionCurve).toBeNull();
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

  it('writes every clustering column', async () => {
    const { ctx } = await clusterBlobs('all');
    const clusters = readFrame(join(ctx.outputDir, 'clusters.arrow'));
    expect(Object.keys(clusters)).toEqual(['sample_id', 'kmeans', 'louvain', 'pca_kmeans', 'pca_louvain']);
  });

  it('recovers blobs with louvain', async () => {
    const { summary } = await clusterBlobs('all');
    const louvain = summary.clusterings.find((c) => c.column === 'louvain')!;
    expect(louvain.agreement!.ari).toBeGreaterThan(0.95);
    expect(louvain.parameters.modularity).toBeGreaterThan(0.3);
  });

  it('reports the PCA baseline', async () => {
    const { ctx, ids, summary } = await clusterBlobs('all');
    const scores = readTable(join(ctx.outputDir, 'pca.arrow'));
    expect(Array.from(scores.getChild('sample_id')!, String)).toEqual(ids);
    expect(tableToDense(scores, 'z').nCols).toBe(5);
    expect(summary.baseline!.nComponents).toBe(5);
    expect(summary.baseline!.nGenes).toBe(9);
    const pcaKmeans = summary.clusterings.find((c) => c.column === 'pca_kmeans')!;
    expect(pcaKmeans.space).toBe('pca');
    expect(pcaKmeans.agreement!.ari).toBeGreaterThan(0.5);
  });

  it('finds separated blobs stable', async () => {
    const { summary } = await clusterBlobs('all');
    const stability = summary.clusterings[0].stability!;
    expect(stability).toHaveLength(3);
    for (const cluster of stability) {
      expect(cluster.meanJaccard, `cluster ${cluster.cluster}`).toBeGreaterThan(0.95);
      expect(cluster.resamples).toBe(4);
    }
  });

  it('compares mixture components with clusters', async () => {
    const { summary } = await clusterBlobs('all');
    const kmeans = summary.mixturePrior!.vsClusterings.find((c) => c.column === 'kmeans')!;
    expect(kmeans.ari).toBeCloseTo(1, 10);
    expect(summary.mixturePrior!.sizes).toEqual([40, 30, 20]);
  });

  it('ranks planted marker genes first', async () => {
    const { summary } = await clusterBlobs('all');
    const byLabel = summary.markers!.groupings.find((g) => g.grouping === 'label')!;
    const gamma = byLabel.groups.find((g) => g.group === 'gamma')!;
    expect(gamma.top.slice(0, 3).map((gene) => gene.geneId).sort()).toEqual(['ENSG6', 'ENSG7', 'ENSG8']);
    expect(gamma.top[0].symbol).toMatch(/^GENE[678]$/);
    expect(gamma.top[0].effect).toBeGreaterThan(1);
    expect(gamma.top[0].q).toBeLessThan(1e-6);
  });

  it('writes markers for every grouping and gene', async () => {
    const { ctx, summary } = await clusterBlobs('all');
    const markers = readFrame(join(ctx.outputDir, 'markers.arrow'));
    const groups = summary.clusterings[0].nClusters + summary.clusterings[1].nClusters + 3;
    expect(markers.gene_id.length).toBe(groups * 12);
    expect(new Set(markers.grouping as string[])).toEqual(new Set(['kmeans', 'louvain', 'label']));
    expect((markers.rank as Int32Array)[0]).toBe(1);
  });

  it('tests labels only on labelled samples', async () => {
    const { summary } = await clusterBlobs('some');
    const byLabel = summary.markers!.groupings.find((g) => g.grouping === 'label')!;
    const total = byLabel.groups.reduce((sum, group) => sum + group.size, 0);
    expect(total).toBe(81);
  });

  it('ranks latent genes by loading', async () => {
    const { summary, ctx } = await clusterBlobs('all');
    const first = summary.latentGenes![0];
    expect(first.top.slice(0, 3).map((gene) => gene.geneId)).toEqual(['ENSG8', 'ENSG4', 'ENSG0']);
    const table = readFrame(join(ctx.outputDir, 'latent_genes.arrow'));
    expect(table.direction[0]).toBe('positive');
    expect(table.symbol[0]).toBe('GENE8');
  });

  it('skips baseline and markers when turned off', async () => {
    const { summary, ctx } = await clusterBlobs('all', 0, { ...FAST, pcaComponents: 0, markers: false, stabilityResamples: 0 });
    expect(summary.baseline).toBeNull();
    expect(summary.markers).toBeNull();
    expect(summary.clusterings[0].stability).toBeNull();
    expect(existsSync(join(ctx.outputDir, 'markers.arrow'))).toBe(false);
  });

  it('rejects latents that collapsed to one point', async () => {
    const ctx = testContext('cluster');
    writeLatentRun(ctx.runDir, { nRows: 20, nCols: 3, data: new Float32Array(60).fill(0.5) }, null);
    await expect(runCluster(ctx, FAST)).rejects.toThrow(/same latent vector/);
  });

  it('clusters latents with duplicated points', async () => {
    const { points } = blobs([10, 10], 2, 6);
    const data = new Float32Array(points.data);
    data.set(data.subarray(0, 2), 2);
    const ctx = testContext('cluster');
    writeLatentRun(ctx.runDir, { ...points, data }, null);
    const summary = (await runCluster(ctx, FAST)).summary as unknown as ClusterSummary;
    expect(summary.clusterings[0].sizes.reduce((a, b) => a + b, 0)).toBe(20);
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
