import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CLUSTER_DEFAULTS } from '../../pipeline/cluster.js';
import { exportBiomarkers, sampleTable } from '../../src/cluster/export.js';
import { readFrame, writeFrame } from '../../src/io/arrow.js';
import { registerExport } from '../../src/cli/export.js';
import { runCluster } from '../../src/stages/cluster.js';
import { InputError } from '../../src/util/errors.js';
import { testContext } from '../helpers/context.js';
import { blobs, writeGeneLoadings, writeLatentRun, writeNormalizedRun } from './fixtures.js';

const OPTIONS = { ...CLUSTER_DEFAULTS, kMax: 5, kmeansRestarts: 2, umapEpochs: 30, stabilityResamples: 0, pcaComponents: 0, resolution: 0.5 };

async function clusteredRun(): Promise<string> {
  const { points, truth } = blobs([30, 25, 20], 3, 6, 8);
  const ctx = testContext('cluster');
  const ids = writeLatentRun(ctx.runDir, points, Array.from(truth, (c) => ['ALL', 'AML', 'CML'][c]));
  writeNormalizedRun(ctx.runDir, ids, truth, 12, 9);
  writeGeneLoadings(ctx.runDir, 12, 3);
  await runCluster(ctx, OPTIONS);
  writeFileSync(join(ctx.runDir, 'manifest.json'), JSON.stringify({ runId: 'test', seed: 0 }));
  return ctx.runDir;
}

function parseTsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((cell, i) => [names[i], cell])));
}

describe('biomarker export', () => {
  it('writes markers and latent genes with sources', async () => {
    const runDir = await clusteredRun();
    const result = exportBiomarkers(runDir, 'tsv', { top: 2, qMax: 0.05 });
    const rows = parseTsv(result.biomarkers);
    expect(Object.keys(rows[0])).toEqual(['gene_id', 'symbol', 'source', 'group', 'statistic', 'p', 'q', 'effect_size', 'direction', 'rank']);
    expect(new Set(rows.map((row) => row.source))).toEqual(new Set(['cluster:kmeans', 'cluster:louvain', 'label', 'latent']));
  });

  it('keeps top genes under the q cut-off', async () => {
    const runDir = await clusteredRun();
    const rows = parseTsv(exportBiomarkers(runDir, 'tsv', { top: 2, qMax: 0.01 }).biomarkers);
    const markers = rows.filter((row) => row.source !== 'latent');
    expect(markers.every((row) => Number(row.q) <= 0.01)).toBe(true);
    expect(markers.every((row) => Number(row.rank) <= 2)).toBe(true);
    const amlUp = markers.filter((row) => row.source === 'label' && row.group === 'AML' && row.direction === 'up');
    expect(amlUp.map((row) => row.gene_id).every((id) => ['ENSG3', 'ENSG4', 'ENSG5'].includes(id))).toBe(true);
  });

  it('marks down markers with negative effect', async () => {
    const runDir = await clusteredRun();
    const rows = parseTsv(exportBiomarkers(runDir, 'tsv', { top: 3, qMax: 1 }).biomarkers);
    const down = rows.filter((row) => row.direction === 'down');
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((row) => Number(row.statistic) < 0)).toBe(true);
  });

  it('leaves p and q empty for latent rows', async () => {
    const runDir = await clusteredRun();
    const latent = parseTsv(exportBiomarkers(runDir, 'tsv', { top: 1, qMax: 0.05 }).biomarkers).filter((row) => row.source === 'latent');
    expect(latent.map((row) => row.group)).toEqual(['z_1', 'z_2', 'z_3']);
    expect(latent[0].p).toBe('');
    expect(latent[0].direction).toMatch(/^(positive|negative)$/);
  });

  it('includes classifier importance when present', async () => {
    const runDir = await clusteredRun();
    writeFrame(join(runDir, '05-classify', 'importance.arrow'), {
      gene_id: ['ENSG1', 'ENSG2'],
      symbol: ['GENE1', 'GENE2'],
      score: Float64Array.from([0.1, 0.3]),
      rank: Int32Array.from([2, 1]),
      source: ['classifier-permutation', 'classifier-permutation'],
    });
    const rows = parseTsv(exportBiomarkers(runDir, 'tsv', { top: 5, qMax: 0.05 }).biomarkers);
    const importance = rows.filter((row) => row.source === 'classifier-permutation');
    expect(importance.map((row) => row.gene_id)).toEqual(['ENSG2', 'ENSG1']);
  });

  it('round-trips the arrow format', async () => {
    const runDir = await clusteredRun();
    const result = exportBiomarkers(runDir, 'arrow', { top: 2, qMax: 0.05 });
    const frame = readFrame(result.biomarkers);
    expect(frame.gene_id.length).toBe(result.biomarkerRows);
    expect(frame.statistic).toBeInstanceOf(Float64Array);
  });

  it('writes one sample row per latent', async () => {
    const runDir = await clusteredRun();
    const samples = sampleTable(runDir);
    expect(Object.keys(samples)).toEqual(['sample_id', 'label', 'z_1', 'z_2', 'z_3', 'umap_1', 'umap_2', 'kmeans', 'louvain']);
    expect(samples.sample_id.length).toBe(75);
  });

  it('quotes csv cells with commas', async () => {
    const runDir = await clusteredRun();
    writeFrame(join(runDir, '04-cluster', 'latent_genes.arrow'), {
      latent_dim: Int32Array.from([0]),
      gene_id: ['ENSG0'],
      symbol: ['A,B'],
      loading: Float32Array.from([1.5]),
      direction: ['positive'],
      rank: Int32Array.from([1]),
    });
    const text = readFileSync(exportBiomarkers(runDir, 'csv', { top: 1, qMax: 0.05 }).biomarkers, 'utf8');
    expect(text).toContain('ENSG0,"A,B",latent,z_1');
  });

  it('rejects a run without clusters', () => {
    const ctx = testContext('cluster');
    expect(() => exportBiomarkers(ctx.runDir, 'tsv', { top: 5, qMax: 0.05 })).toThrow(InputError);
  });

  it('runs from the command line', async () => {
    const runDir = await clusteredRun();
    const program = new Command().exitOverride();
    registerExport(program);
    await program.parseAsync(['node', 'genevae', 'export', 'biomarkers', runDir, '--format', 'csv', '--top', '3', '--out', join(runDir, 'out')]);
    const header = readFileSync(join(runDir, 'out', 'biomarkers.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('gene_id,symbol,source,group,statistic,p,q,effect_size,direction,rank');
  });
});
