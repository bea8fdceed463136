import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Command } from 'commander';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INGEST_DEFAULTS } from '../../pipeline/ingest.js';
import { readFrame } from '../../src/io/arrow.js';
import { toDense } from '../../src/matrix/csr.js';
import { addIngestOptions, ingestOptionsFrom, registerIngest } from '../../src/cli/ingest.js';
import { runIngest, type IngestSummary } from '../../src/stages/ingest.js';
import { countsFixture, fixtureDir, genesInRowsText, labelsText, samplesInRowsText, writeFixture } from '../fixtures/matrices.js';
import { ingest, inputErrorOf } from '../fixtures/ingest.js';
import { testContext } from '../helpers/context.js';

describe('runIngest on generated matrices', () => {
  const fixture = countsFixture(40, 25);

  it('writes X with the values as read', async () => {
    const dir = fixtureDir();
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', samplesInRowsText(fixture))] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
  });

  it('writes obs and var ids and statistics', async () => {
    const dir = fixtureDir();
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', samplesInRowsText(fixture))] });
    expect(result.obs.sample_id).toEqual(fixture.sampleIds);
    expect(result.vars.gene_id).toEqual(fixture.geneIds);
    expect(Array.from(result.obs.library_size as Float64Array)).toEqual(fixture.values.map((row) => row.reduce((a, b) => a + b, 0)));
    expect(Array.from(result.obs.n_genes_detected as Int32Array)).toEqual(fixture.values.map((row) => row.filter((v) => v !== 0).length));
    expect(Array.from(result.vars.n_samples_detected as Int32Array)).toEqual(fixture.geneIds.map((_, j) => fixture.values.filter((row) => row[j] !== 0).length));
    expect(Array.from(result.vars.total as Float64Array)).toEqual(fixture.geneIds.map((_, j) => fixture.values.reduce((sum, row) => sum + row[j], 0)));
  });

  it('summarizes shape, sparsity and values', async () => {
    const dir = fixtureDir();
    const { summary } = await ingest({ inputs: [writeFixture(dir, 'm.csv', samplesInRowsText(fixture))] });
    const nonzero = fixture.values.flat().filter((v) => v !== 0).length;
    expect(summary.nSamples).toBe(40);
    expect(summary.nGenes).toBe(25);
    expect(summary.nnz).toBe(nonzero);
    expect(summary.sparsity).toBeCloseTo(1 - nonzero / 1000, 12);
    expect(summary.values.min).toBe(0);
    expect(summary.values.max).toBe(Math.max(...fixture.values.flat()));
    expect(summary.values.allIntegers).toBe(true);
    expect(summary.values.anyNegative).toBe(false);
    expect(summary.files[0].samples).toBe(40);
  });

  it('reads genes in rows into the same matrix', async () => {
    const dir = fixtureDir();
    const rows = await ingest({ inputs: [writeFixture(dir, 'a.csv', samplesInRowsText(fixture))] });
    const transposed = await ingest({ inputs: [writeFixture(dir, 'b.csv', genesInRowsText(fixture))], genesInRows: true });
    expect(Array.from(toDense(transposed.X))).toEqual(Array.from(toDense(rows.X)));
    expect(transposed.obs.sample_id).toEqual(fixture.sampleIds);
  });

  it('reads gzip TSV detected by magic bytes', async () => {
    const dir = fixtureDir();
    const path = writeFixture(dir, 'counts.data', samplesInRowsText(fixture, { delimiter: '\t' }), true);
    const result = await ingest({ inputs: [path] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.summary.files[0].compression).toBe('gzip');
  });

  it('takes labels from a matrix column', async () => {
    const dir = fixtureDir();
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', samplesInRowsText(fixture, { labelColumn: 'disease' }))], labelColumn: 'disease' });
    expect(result.obs.label).toEqual(fixture.labels);
    expect(result.vars.gene_id).toEqual(fixture.geneIds);
    expect(result.summary.labels?.counts).toEqual({ control: 26, case: 14 });
  });

  it('takes labels from metadata via --label-column', async () => {
    const dir = fixtureDir();
    const result = await ingest({
      inputs: [writeFixture(dir, 'm.csv', samplesInRowsText(fixture))],
      metadata: writeFixture(dir, 'labels.csv', labelsText(fixture)),
      labelColumn: 'disease',
    });
    expect(result.obs.label).toEqual(fixture.labels);
  });

  it('joins two files with genes in another order', async () => {
    const dir = fixtureDir();
    const first = countsFixture(10, 6, 2);
    const second = countsFixture(8, 6, 3);
    second.sampleIds = second.sampleIds.map((id) => `T${id}`);
    const order = [5, 3, 1, 0, 2, 4];
    const reordered = { ...second, geneIds: order.map((j) => second.geneIds[j]), values: second.values.map((row) => order.map((j) => row[j])) };
    const result = await ingest({
      inputs: [writeFixture(dir, 'a.csv', samplesInRowsText(first)), writeFixture(dir, 'b.csv', samplesInRowsText(reordered))],
    });
    expect(result.summary.nSamples).toBe(18);
    expect(Array.from(toDense(result.X))).toEqual([...first.values.flat(), ...second.values.flat()]);
  });

  it('excludes columns by glob', async () => {
    const dir = fixtureDir();
    const text = 'sample,g1,call,g2,call.1,note\nS1,1,P,2,A,x\nS2,0,A,3,P,y\n';
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', text)], excludeColumns: ['call*', 'note'] });
    expect(result.vars.gene_id).toEqual(['g1', 'g2']);
    expect(result.summary.excluded[0].columns).toEqual(['call', 'call.1', 'note']);
  });

  it('keeps --obs-columns as sample metadata', async () => {
    const dir = fixtureDir();
    const text = 'sample,batch,g1,g2\nS1,b1,1,2\nS2,b2,0,3\n';
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', text)], obsColumns: ['batch'] });
    expect(result.obs.batch).toEqual(['b1', 'b2']);
    expect(result.vars.gene_id).toEqual(['g1', 'g2']);
  });

  it('writes symbols from --symbol-column', async () => {
    const dir = fixtureDir();
    const text = 'id,symbol,S1,S2\nENSG01,TP53,1,0\nENSG02,KRAS,0,2\n';
    const result = await ingest({ inputs: [writeFixture(dir, 'm.csv', text)], genesInRows: true, symbolColumn: 'symbol' });
    expect(result.vars.symbol).toEqual(['TP53', 'KRAS']);
  });

  it('reruns over an existing output directory', async () => {
    const dir = fixtureDir();
    const path = writeFixture(dir, 'm.csv', samplesInRowsText(fixture));
    const ctx = testContext('ingest');
    await runIngest(ctx, { ...INGEST_DEFAULTS, inputs: [path] });
    await runIngest(ctx, { ...INGEST_DEFAULTS, inputs: [path] });
    expect(readFrame(join(ctx.outputDir, 'obs.arrow')).sample_id).toEqual(fixture.sampleIds);
  });
});

const DATA = process.env.GENEVAE_DATA ?? '/work/shared/data';
const haveData = existsSync(join(DATA, 'golub_all_aml'));
if (!haveData) console.warn(`skipping real-cohort ingest tests: ${DATA} is missing (set GENEVAE_DATA)`);

describe.skipIf(!haveData)('runIngest on real cohorts', () => {
  const golub = join(DATA, 'golub_all_aml');

  it('golub_all_aml: both files, genes in rows, labels', async () => {
    const result = await ingest({
      inputs: [join(golub, 'data_set_ALL_AML_train.csv'), join(golub, 'data_set_ALL_AML_independent.csv')],
      genesInRows: true,
      idColumn: 'Gene Accession Number',
      excludeColumns: ['Gene Description', 'call*'],
      metadata: join(golub, 'actual.csv'),
      metadataLabelColumn: 'cancer',
    });
    expect([result.summary.nSamples, result.summary.nGenes]).toEqual([72, 7129]);
    expect(result.summary.labels?.counts).toEqual({ ALL: 47, AML: 25 });
    expect(result.summary.values.min).toBe(-28400);
    expect(result.summary.values.max).toBe(71369);
    // Sample columns are out of numeric order (…, 27, 34, …, 38, 28, …): labels follow the ids.
    const labelOf = new Map((result.obs.sample_id as string[]).map((id, s) => [id, (result.obs.label as string[])[s]]));
    expect([labelOf.get('28'), labelOf.get('34'), labelOf.get('39'), labelOf.get('52')]).toEqual(['AML', 'AML', 'ALL', 'AML']);
  });

  it('golub_all_aml: call columns without exclusion', async () => {
    const message = await inputErrorOf(
      ingest({
        inputs: [join(golub, 'data_set_ALL_AML_train.csv')],
        genesInRows: true,
        idColumn: 'Gene Accession Number',
        excludeColumns: ['Gene Description'],
      }),
    );
    expect(message).toContain("line 2, column 'call'");
    expect(message).toContain("'A' is not a number");
    expect(message).toContain("--exclude-columns 'call*'");
  });

  it('golub_all_aml: Broad TSVs with a trailing tab', async () => {
    const broad = join(golub, 'original_broad_tsv');
    const result = await ingest({
      inputs: [join(broad, 'data_set_ALL_AML_train.tsv.gz'), join(broad, 'data_set_ALL_AML_independent.tsv.gz')],
      genesInRows: true,
      idColumn: 'Gene Accession Number',
      excludeColumns: ['Gene Description', 'call*'],
      metadata: join(broad, 'table_ALL_AML_samples.txt.gz'),
      labelColumn: 'ALL/AML',
    });
    expect([result.summary.nSamples, result.summary.nGenes]).toEqual([72, 7129]);
    expect(result.summary.files[0].notes.join(' ')).toContain('empty last column');
  });

  it('srbct_khan2001: labels.csv', async () => {
    const srbct = join(DATA, 'srbct_khan2001');
    const result = await ingest({ inputs: [join(srbct, 'srbct_expression.csv')], metadata: join(srbct, 'labels.csv'), labelColumn: 'class' });
    expect([result.summary.nSamples, result.summary.nGenes]).toEqual([63, 2308]);
    expect(result.summary.labels?.counts).toEqual({ EWS: 23, RMS: 20, NB: 12, BL: 8 });
  });

  it('breast_tcga_pam50_mixomics: subtype labels', async () => {
    const breast = join(DATA, 'breast_tcga_pam50_mixomics');
    const result = await ingest({ inputs: [join(breast, 'mrna.csv')], metadata: join(breast, 'labels.csv'), metadataLabelColumn: 'subtype' });
    expect([result.summary.nSamples, result.summary.nGenes]).toEqual([220, 200]);
    expect(result.summary.labels?.counts).toEqual({ LumA: 110, Basal: 66, Her2: 44 });
    expect(result.summary.values.anyNegative).toBe(true);
    expect(result.obs.split).toHaveLength(220);
    expect(result.summary.orientation.suspicious).toBe(false);
  });

  it('pbmc68k_reduced: gzip counts and bulk_labels', async () => {
    const pbmc = join(DATA, 'pbmc68k_reduced');
    const result = await ingest({
      inputs: [join(pbmc, 'counts_cells_x_genes.csv.gz')],
      metadata: join(pbmc, 'cell_labels.csv'),
      labelColumn: 'bulk_labels',
    });
    expect([result.summary.nSamples, result.summary.nGenes, result.summary.nnz]).toEqual([700, 765, 174400]);
    expect(result.summary.values.allIntegers).toBe(true);
    expect(result.summary.labels?.nClasses).toBe(10);
    expect(result.summary.labels?.counts.Dendritic).toBe(240);
  });
});

/** Runs `genevae ingest <args>` through commander into a fresh run directory and returns its summary. */
async function ingestCommand(args: string[]): Promise<IngestSummary> {
  const runDir = join(mkdtempSync(join(tmpdir(), 'genevae-cli-')), 'run');
  const program = new Command().exitOverride();
  registerIngest(program);
  await program.parseAsync(['ingest', runDir, ...args], { from: 'user' });
  return (JSON.parse(readFileSync(join(runDir, '01-ingest', 'summary.json'), 'utf8')) as { summary: IngestSummary }).summary;
}

describe.skipIf(!haveData)('genevae ingest on real cohorts', () => {
  it('golub_all_aml', async () => {
    const g = join(DATA, 'golub_all_aml');
    const summary = await ingestCommand([
      join(g, 'data_set_ALL_AML_train.csv'),
      join(g, 'data_set_ALL_AML_independent.csv'),
      '--genes-in-rows',
      '--id-column', 'Gene Accession Number',
      '--exclude-columns', 'Gene Description',
      '--exclude-columns', 'call*',
      '--metadata', join(g, 'actual.csv'),
      '--metadata-label-column', 'cancer',
    ]);
    expect([summary.nSamples, summary.nGenes, summary.labels?.nClasses]).toEqual([72, 7129, 2]);
  });

  it('srbct_khan2001', async () => {
    const s = join(DATA, 'srbct_khan2001');
    const summary = await ingestCommand([join(s, 'srbct_expression.csv'), '--metadata', join(s, 'labels.csv'), '--label-column', 'class']);
    expect([summary.nSamples, summary.nGenes, summary.labels?.nClasses]).toEqual([63, 2308, 4]);
  });

  it('breast_tcga_pam50_mixomics', async () => {
    const b = join(DATA, 'breast_tcga_pam50_mixomics');
    const summary = await ingestCommand([join(b, 'mrna.csv'), '--metadata', join(b, 'labels.csv'), '--metadata-label-column', 'subtype']);
    expect([summary.nSamples, summary.nGenes, summary.labels?.nClasses]).toEqual([220, 200, 3]);
  });

  it('pbmc68k_reduced', async () => {
    const p = join(DATA, 'pbmc68k_reduced');
    const summary = await ingestCommand([join(p, 'counts_cells_x_genes.csv.gz'), '--metadata', join(p, 'cell_labels.csv'), '--label-column', 'bulk_labels']);
    expect([summary.nSamples, summary.nGenes, summary.labels?.nClasses]).toEqual([700, 765, 10]);
  });

  it('golub_all_aml without --exclude-columns', async () => {
    const g = join(DATA, 'golub_all_aml');
    const message = await inputErrorOf(
      ingestCommand([join(g, 'data_set_ALL_AML_train.csv'), '--genes-in-rows', '--id-column', 'Gene Accession Number', '--exclude-columns', 'Gene Description']),
    );
    expect(message).toContain("--exclude-columns 'call*'");
  });
});

describe('ingest command options', () => {
  it('maps flags to options', () => {
    const command = addIngestOptions(new Command().exitOverride());
    command.parse(
      ['--input-format', 'tsv', '--genes-in-rows', '--exclude-columns', 'a', '--exclude-columns', 'b*', '--na-values', 'n/a', '--missing', 'zero', '--make-unique'],
      { from: 'user' },
    );
    expect(ingestOptionsFrom(command.opts())).toEqual({
      format: 'tsv',
      genesInRows: true,
      excludeColumns: ['a', 'b*'],
      naValues: ['n/a'],
      missing: 'zero',
      makeUnique: true,
    });
  });

  it('leaves unset options out', () => {
    const command = addIngestOptions(new Command().exitOverride());
    command.parse([], { from: 'user' });
    expect(ingestOptionsFrom(command.opts())).toEqual({});
  });

  it('rejects an unknown missing policy', () => {
    const command = addIngestOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }));
    expect(() => command.parse(['--missing', 'drop'], { from: 'user' })).toThrow(/expected one of error, zero/);
  });
});
