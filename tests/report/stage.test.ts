import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_DEFAULTS, type ReportOptions } from '../../pipeline/report.js';
import { readFrame } from '../../src/io/arrow.js';
import { STAGE_DIRS } from '../../src/run/layout.js';
import { SECTION_IDS } from '../../src/report/build.js';
import { runReport, type ReportSummary } from '../../src/stages/report.js';
import { testContext } from '../helpers/context.js';
import { writeRunFixture, type RunFixtureOptions } from './fixture.js';

const NO_LEDGER = join(tmpdir(), 'genevae-no-ledger');

async function reportFor(fixture: RunFixtureOptions, options: Partial<ReportOptions> = {}) {
  const runDir = mkdtempSync(join(tmpdir(), 'genevae-report-'));
  writeRunFixture(runDir, fixture);
  const ctx = testContext('report', runDir);
  const result = await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir: NO_LEDGER, ...options });
  const html = readFileSync(join(ctx.outputDir, 'index.html'), 'utf8');
  return { runDir, outputDir: ctx.outputDir, html, summary: result.summary as unknown as ReportSummary };
}

function sectionStatus(html: string, id: string): string | null {
  return new RegExp(`<section id="${id}" data-section="${id}" data-status="(\\w+)"`).exec(html)?.[1] ?? null;
}

describe('runReport', () => {
  it('renders every section for a full run', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    for (const id of SECTION_IDS) expect(sectionStatus(html, id), id).toBe('rendered');
  });

  it('draws the expected plots', async () => {
    const { html, summary } = await reportFor({ nSamples: 60 });
    for (const plot of ['library-sizes', 'gene-selection', 'training-loss', 'training-epsilon', 'umap-kmeans', 'umap-labels', 'k-silhouette', 'resolution-silhouette', 'contingency-kmeans', 'markers-kmeans', 'markers-label', 'stability-kmeans', 'training-clipped', 'umap-louvain', 'confusion', 'roc', 'calibration', 'permutation-importance']) {
      expect(html, plot).toContain(`data-plot="${plot}"`);
    }
    expect(summary.plots).toBeGreaterThanOrEqual(13);
  });

  it('loads nothing from outside the file', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain(`content="default-src 'none'`);
  });

  it('marks stages that did not run as skipped', async () => {
    const { html } = await reportFor({ nSamples: 40, stages: ['ingest', 'normalize'] });
    expect(sectionStatus(html, 'input')).toBe('rendered');
    for (const id of ['training', 'privacy', 'clustering', 'classification']) expect(sectionStatus(html, id), id).toBe('skipped');
  });

  it('states loudly that a no-dp run protects nothing', async () => {
    const { html } = await reportFor({ nSamples: 40, dp: false });
    expect(html).toContain('Nothing in this run is differentially private');
  });

  it('states what DP does not cover', async () => {
    const { html } = await reportFor({ nSamples: 40 });
    expect(html).toContain('per-sample outputs for the training samples');
    expect(html).toContain('selection of highly variable genes');
  });

  it('states how outside statistics were protected', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'genevae-report-'));
    writeRunFixture(runDir, { nSamples: 40 });
    const path = join(runDir, STAGE_DIRS.normalize, 'summary.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.summary.protectedStatistics = 'genes were selected from a public reference list';
    writeFileSync(path, JSON.stringify(file));
    const ctx = testContext('report', runDir);
    await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir: NO_LEDGER });
    const html = readFileSync(join(ctx.outputDir, 'index.html'), 'utf8');
    expect(html).toContain('<strong>Statistics outside DP:</strong> genes were selected from a public reference list');
    expect(html).not.toContain('selection of highly variable genes.</li>');
  });

  it('reports the unlabelled sample count', async () => {
    const { html } = await reportFor({ nSamples: 200, unlabelledFraction: 0.2 });
    expect(html).toMatch(/<strong>\d+ unlabelled<\/strong>/);
  });

  it('skips classification without labels', async () => {
    const { html } = await reportFor({ nSamples: 40, labelled: false });
    expect(sectionStatus(html, 'classification')).toBe('skipped');
    expect(html).toContain('the cohort has no label column');
  });

  it('renders summaries with missing fields', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'genevae-report-'));
    writeRunFixture(runDir, { nSamples: 30 });
    for (const stage of ['ingest', 'normalize', 'train', 'cluster', 'classify'] as const) {
      const path = join(runDir, STAGE_DIRS[stage], 'summary.json');
      const file = JSON.parse(readFileSync(path, 'utf8'));
      file.summary = { status: 'done', clusterings: [{ column: 42 }], results: { odd: 'not an object' }, steps: 'not a list', history: [null, 3] };
      writeFileSync(path, JSON.stringify(file));
    }
    const ctx = testContext('report', runDir);
    await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir: NO_LEDGER });
    const html = readFileSync(join(ctx.outputDir, 'index.html'), 'utf8');
    expect(html).toContain('not available');
    expect(html).not.toContain('Rendering failed');
  });

  it('samples large scatter plots and says so', async () => {
    const { html, summary } = await reportFor({ nSamples: 3_000, nClusters: 6 }, { maxScatterPoints: 500 });
    expect(summary.scatter?.samples).toBe(3_000);
    expect(summary.scatter?.drawn).toBeLessThan(700);
    expect(html).toContain('<strong>Sampled:</strong>');
  });

  it('states the classify caps that applied', async () => {
    const note = 'The RBF SVM trained on a stratified, seeded subsample of about 5,000 rows <in every fit>.';
    const { html } = await reportFor({ nSamples: 60, classifyScalingNotes: [note] });
    expect(html).toContain('Settings for a large cohort');
    expect(html).toContain('subsample of about 5,000 rows &lt;in every fit&gt;.');
  });

  it('omits the caps callout when none applied', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    expect(html).not.toContain('Settings for a large cohort');
  });

  it('compares the latents with principal components', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    expect(html).toContain('Latents against principal components');
    expect(html).toMatch(/top \d+ principal components of the scaled genes \(as many as latent dimensions\)/);
    expect(html).toMatch(/The latents score 0\.05\d* lower in balanced accuracy/);
    expect(html).toContain('(latents − components: −0.050 ± 0.020 (corrected t = −2.50 on 14 degrees of freedom, p = 0.025): worse, mean ± standard error');
    expect(html).toContain('The model keeps less of the label signal than a linear summary of the genes.');
  });

  it('tabulates the resolution scan of both spaces', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    expect(html).toContain('Choice of the Louvain resolution');
    expect(html).toContain('Louvain at each resolution scanned');
    expect(html).toContain('PCA silhouette');
    expect(html).toContain('values at different resolutions are not comparable');
    expect(html).not.toContain('at the edge of the scanned range');
  });

  it('tests the ensembles against the best learner', async () => {
    const { html } = await reportFor({ nSamples: 60 });
    expect(html).toContain('<code>voting</code> − <code>logistic</code>: +0.020 ± 0.015 (corrected t = 1.33 on 14 degrees of freedom, p = 0.204): no significant difference');
    expect(html).toContain('<code>stacking</code> − <code>logistic</code>: +0.030 ± 0.010 (corrected t = 3.00 on 14 degrees of freedom, p = 0.012): better');
    expect(html).toContain('≥ best, not significant');
    expect(html).toContain('≥ best, significantly better');
    expect(html).toContain('two-sided at the 0.05 level');
  });

  it('uses the given title', async () => {
    const { html } = await reportFor({ nSamples: 30 }, { title: 'Cohort <A>' });
    expect(html).toContain('<title>Cohort &lt;A&gt;</title>');
  });
});

describe('report exports', () => {
  it('writes latents as TSV with a header', async () => {
    const { outputDir } = await reportFor({ nSamples: 30, latentDim: 4 });
    const lines = readFileSync(join(outputDir, 'exports', 'latent.tsv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('sample_id\tz_1\tz_2\tz_3\tz_4');
    expect(lines).toHaveLength(31);
  });

  it('writes latents as Arrow', async () => {
    const { outputDir } = await reportFor({ nSamples: 30, latentDim: 4 });
    const frame = readFrame(join(outputDir, 'exports', 'latent.arrow'));
    expect(Object.keys(frame)).toEqual(['sample_id', 'z_1', 'z_2', 'z_3', 'z_4']);
    expect(frame.z_1).toBeInstanceOf(Float32Array);
  });

  it('writes UMAP coordinates', async () => {
    const { outputDir } = await reportFor({ nSamples: 30 });
    const frame = readFrame(join(outputDir, 'exports', 'umap.arrow'));
    expect(Object.keys(frame)).toEqual(['sample_id', 'umap_1', 'umap_2']);
    expect(frame.sample_id).toHaveLength(30);
  });

  it('writes clusters with labels', async () => {
    const { outputDir } = await reportFor({ nSamples: 30 });
    const header = readFileSync(join(outputDir, 'exports', 'clusters.tsv'), 'utf8').split('\n')[0];
    expect(header).toBe('sample_id\tlabel\tkmeans\tlouvain\tpca_kmeans');
  });

  it('skips exports whose stage did not run', async () => {
    const { outputDir, summary } = await reportFor({ nSamples: 30, stages: ['ingest', 'normalize'] });
    expect(existsSync(join(outputDir, 'exports', 'latent.tsv'))).toBe(false);
    expect(summary.exportsSkipped).toHaveLength(3);
  });

  it('writes no exports when turned off', async () => {
    const { outputDir } = await reportFor({ nSamples: 30 }, { exports: false });
    expect(existsSync(join(outputDir, 'exports'))).toBe(false);
  });
});
