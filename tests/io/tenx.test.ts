import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toDense } from '../../src/matrix/csr.js';
import { fingerprintFile } from '../../src/run/hash.js';
import { DATA_DIR } from '../e2e/cohorts.js';
import { ingest, inputErrorOf } from '../fixtures/ingest.js';
import { countsFixture, fixtureDir, labelsText, writeFixture, type CountsFixture } from '../fixtures/matrices.js';

/** The fixture as MatrixMarket text, genes × cells (Cell Ranger's orientation), 1-based. */
function matrixMarket(fixture: CountsFixture, field = 'integer'): string {
  const entries: string[] = [];
  fixture.geneIds.forEach((_, j) => {
    fixture.values.forEach((row, i) => {
      if (row[j] !== 0) entries.push(`${j + 1} ${i + 1} ${row[j]}`);
    });
  });
  return [
    `%%MatrixMarket matrix coordinate ${field} general`,
    '%metadata_json: {"format_version": 2}',
    `${fixture.geneIds.length} ${fixture.sampleIds.length} ${entries.length}`,
    ...entries,
  ].join('\n') + '\n';
}

/** Writes a Cell Ranger v3 directory (gzipped, three-column features) for the fixture. */
function cellRangerDir(fixture: CountsFixture, options: { matrix?: string; features?: string[]; gzip?: boolean } = {}): string {
  const dir = join(fixtureDir(), 'filtered_feature_bc_matrix');
  mkdirSync(dir);
  const gzip = options.gzip ?? true;
  const suffix = gzip ? '.gz' : '';
  const features = options.features ?? fixture.geneIds.map((id, j) => `ENSG${String(j).padStart(5, '0')}\t${id}\tGene Expression`);
  writeFixture(dir, `matrix.mtx${suffix}`, options.matrix ?? matrixMarket(fixture), gzip);
  writeFixture(dir, `features.tsv${suffix}`, features.join('\n') + '\n', gzip);
  writeFixture(dir, `barcodes.tsv${suffix}`, fixture.sampleIds.join('\n') + '\n', gzip);
  return dir;
}

describe('Cell Ranger matrices', () => {
  it('reads a v3 directory as cells × genes with Ensembl ids and symbols', async () => {
    const fixture = countsFixture(12, 7);
    const result = await ingest({ inputs: [cellRangerDir(fixture)] });
    expect(result.obs.sample_id).toEqual(fixture.sampleIds);
    expect(result.vars.gene_id).toEqual(fixture.geneIds.map((_, j) => `ENSG${String(j).padStart(5, '0')}`));
    expect(result.vars.symbol).toEqual(fixture.geneIds);
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.summary.files[0].format).toBe('mtx');
    expect(result.summary.files[0].compression).toBe('gzip');
  });

  it('reads a prefixed v2 .mtx file', async () => {
    const fixture = countsFixture(9, 5, 3);
    const text = matrixMarket(fixture).trim().split('\n');
    const shuffled = [...text.slice(0, 3), ...text.slice(3).reverse()].join('\n') + '\n';
    const dir = fixtureDir();
    const matrix = writeFixture(dir, 'GSM1_matrix.mtx', shuffled);
    writeFixture(dir, 'GSM1_genes.tsv', fixture.geneIds.map((id) => `${id}\t${id}`).join('\n') + '\n');
    writeFixture(dir, 'GSM1_barcodes.tsv', fixture.sampleIds.join('\n') + '\n');
    const labels = writeFixture(dir, 'labels.csv', labelsText(fixture));
    const result = await ingest({ inputs: [matrix], metadata: labels, labelColumn: 'disease' });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.vars.symbol).toBeUndefined();
    expect(result.obs.label).toEqual(fixture.labels);
  });

  it('keeps only Gene Expression features and says what it left out', async () => {
    const fixture = countsFixture(6, 4, 5);
    const features = fixture.geneIds.map((id, j) => `ID${j}\t${id}\t${j === 3 ? 'Antibody Capture' : 'Gene Expression'}`);
    const result = await ingest({ inputs: [cellRangerDir(fixture, { features })] });
    expect(result.vars.gene_id).toEqual(['ID0', 'ID1', 'ID2']);
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flatMap((row) => row.slice(0, 3)));
    expect(result.summary.files[0].notes.join(' ')).toContain('left out 1 Antibody Capture');
    expect(result.summary.files[0].excludedColumns).toEqual(['Antibody Capture (1 features)']);
  });

  it('reads a cells × genes matrix, as some tools write it', async () => {
    const fixture = countsFixture(5, 3, 2);
    const entries: string[] = [];
    fixture.values.forEach((row, i) => row.forEach((v, j) => v !== 0 && entries.push(`${i + 1} ${j + 1} ${v}`)));
    const matrix = ['%%MatrixMarket matrix coordinate real general', `5 3 ${entries.length}`, ...entries].join('\n') + '\n';
    const result = await ingest({ inputs: [cellRangerDir(fixture, { matrix, gzip: false })] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.summary.files[0].notes.join(' ')).toContain('cells × genes');
  });

  it.each([
    ['a truncated matrix', (m: string) => m.split('\n').slice(0, -3).join('\n') + '\n', /ends after \d+ of the \d+ entries/],
    ['an index outside the size line', (m: string) => m.replace(/\n(\d+) (\d+) (\d+)\n$/, '\n99 $2 $3\n'), /line \d+: row index '99' is outside 1\.\.4/],
    ['a dense array file', (m: string) => m.replace('coordinate', 'array'), /only the sparse 'coordinate'/],
    ['a non-numeric value', (m: string) => m.replace(/\n(\d+) (\d+) (\d+)\n$/, '\n$1 $2 x\n'), /the value 'x' is not a finite number/],
  ])('stops on %s with the line', async (_name, edit, message) => {
    const fixture = countsFixture(6, 4, 8);
    const error = await inputErrorOf(ingest({ inputs: [cellRangerDir(fixture, { matrix: edit(matrixMarket(fixture)), gzip: false })] }));
    expect(error).toMatch(/matrix\.mtx/);
    expect(error).toMatch(message);
  });

  it('joins two libraries with sample id prefixes', async () => {
    const first = countsFixture(4, 3, 11);
    const second = countsFixture(4, 3, 12);
    const inputs = [cellRangerDir(first), cellRangerDir(second)];
    expect(await inputErrorOf(ingest({ inputs }))).toMatch(/duplicate sample ids.*--sample-id-prefix/);
    const result = await ingest({ inputs, samplePrefixes: ['lib1', 'lib2'] });
    expect(result.obs.sample_id).toEqual([...first.sampleIds.map((id) => `lib1_${id}`), ...second.sampleIds.map((id) => `lib2_${id}`)]);
    expect(Array.from(toDense(result.X))).toEqual([...first.values.flat(), ...second.values.flat()]);
    expect(await inputErrorOf(ingest({ inputs, samplePrefixes: ['lib1'] }))).toMatch(/1 sample id prefixes were given for 2 inputs/);
  });

  it('warns about samples read twice', async () => {
    const fixture = countsFixture(4, 3, 11);
    const dir = cellRangerDir(fixture);
    const result = await ingest({ inputs: [dir, dir], samplePrefixes: ['a', 'b'] });
    expect(result.summary.samplesDuplicated).toBe(4);
    expect(result.warnings.join(' ')).toMatch(/4 samples have the same values as another sample \('b_S1' = 'a_S1'/);
  });

  it('stops on empty or repeated prefixes', async () => {
    const dir = cellRangerDir(countsFixture(4, 3));
    expect(await inputErrorOf(ingest({ inputs: [dir, dir], samplePrefixes: ['a', 'a'] }))).toMatch(/sample id prefixes repeat: 'a'/);
    expect(await inputErrorOf(ingest({ inputs: [dir, dir], samplePrefixes: ['a', ' '] }))).toMatch(/a sample id prefix is empty/);
  });

  it('stops on a negative count', async () => {
    const fixture = countsFixture(6, 4, 8);
    const matrix = matrixMarket(fixture).replace(/\n(\d+) (\d+) (\d+)\n$/, '\n$1 $2 -3\n');
    const error = await inputErrorOf(ingest({ inputs: [cellRangerDir(fixture, { matrix, gzip: false })] }));
    expect(error).toMatch(/line \d+: the count '-3' is negative/);
  });

  it('names a truncated barcode file', async () => {
    const dir = cellRangerDir(countsFixture(40, 3));
    const whole = readFileSync(join(dir, 'barcodes.tsv.gz'));
    writeFileSync(join(dir, 'barcodes.tsv.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    expect(await inputErrorOf(ingest({ inputs: [dir] }))).toMatch(/barcodes\.tsv\.gz: the gzip file is truncated or corrupt/);
  });

  it('stops on --metadata-label-column without metadata', async () => {
    const error = await inputErrorOf(ingest({ inputs: [cellRangerDir(countsFixture(4, 3))], metadataLabelColumn: 'cell_type' }));
    expect(error).toMatch(/--metadata-label-column names a column of the metadata file, but no --metadata was given/);
  });

  it('fingerprints only the files it reads', async () => {
    const dir = cellRangerDir(countsFixture(4, 3));
    const before = await fingerprintFile(dir);
    writeFixture(dir, 'README.txt', 'notes\n');
    expect((await fingerprintFile(dir)).sha256).toBe(before.sha256);
    expect((await fingerprintFile(join(dir, 'matrix.mtx.gz'))).sha256).toBe(before.sha256);
    writeFixture(dir, 'barcodes.tsv.gz', 'X1\nX2\nX3\nX4\n', true);
    expect((await fingerprintFile(dir)).sha256).not.toBe(before.sha256);
  });

  it('stops on a fraction in an integer matrix', async () => {
    const fixture = countsFixture(6, 4, 8);
    const matrix = matrixMarket(fixture).replace(/\n(\d+) (\d+) (\d+)\n$/, '\n$1 $2 2.5\n');
    const error = await inputErrorOf(ingest({ inputs: [cellRangerDir(fixture, { matrix, gzip: false })] }));
    expect(error).toMatch(/line \d+: the value '2\.5' is not an integer, but the header declares integer values/);
  });

  it('reads a GEO-prefixed directory', async () => {
    const fixture = countsFixture(5, 3, 4);
    const dir = fixtureDir();
    writeFixture(dir, 'GSM9_matrix.mtx.gz', matrixMarket(fixture), true);
    writeFixture(dir, 'GSM9_features.tsv.gz', fixture.geneIds.join('\n') + '\n', true);
    writeFixture(dir, 'GSM9_barcodes.tsv.gz', fixture.sampleIds.join('\n') + '\n', true);
    const result = await ingest({ inputs: [dir] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.summary.files[0].path).toBe(dir);
  });

  it('stops on a companion file given as the matrix', async () => {
    const dir = cellRangerDir(countsFixture(4, 3));
    const error = await inputErrorOf(ingest({ inputs: [join(dir, 'barcodes.tsv.gz')] }));
    expect(error).toMatch(/this is the barcode file of a Cell Ranger matrix, not a matrix; give the directory .* or its matrix\.mtx\.gz/);
  });

  it('stops on --label-column without metadata', async () => {
    const error = await inputErrorOf(ingest({ inputs: [cellRangerDir(countsFixture(4, 3))], labelColumn: 'cell_type' }));
    expect(error).toMatch(/label column 'cell_type' cannot be read from a Cell Ranger matrix.*--metadata/);
  });

  it('stops on mismatched or missing files', async () => {
    const fixture = countsFixture(6, 4, 9);
    const dir = cellRangerDir(fixture, { gzip: false });
    writeFixture(dir, 'barcodes.tsv', 'A\nB\n');
    expect(await inputErrorOf(ingest({ inputs: [dir] }))).toMatch(/the matrix is 4 × 6 but there are 4 genes in features\.tsv and 2 barcodes/);
    const lonely = fixtureDir();
    writeFixture(lonely, 'matrix.mtx', matrixMarket(fixture));
    expect(await inputErrorOf(ingest({ inputs: [lonely] }))).toMatch(/no gene file beside it \(looked for features\.tsv\.gz/);
  });

  it('stops on other directories and layout options', async () => {
    expect(await inputErrorOf(ingest({ inputs: [fixtureDir()] }))).toMatch(/neither a Cell Ranger matrix .* nor a GEO MINiML series/);
    const dir = cellRangerDir(countsFixture(4, 3));
    expect(await inputErrorOf(ingest({ inputs: [dir], genesInRows: true }))).toMatch(/--genes-in-rows applies to CSV, TSV and Arrow tables, not to a Cell Ranger matrix/);
  });

  const pbmc = join(DATA_DIR, 'pbmc68k_reduced');
  it.skipIf(!existsSync(join(pbmc, 'counts_10x_mtx')))('reads pbmc68k_reduced from its MatrixMarket copy as from its CSV', async () => {
    const fromMtx = await ingest({ inputs: [join(pbmc, 'counts_10x_mtx')] });
    const fromCsv = await ingest({ inputs: [join(pbmc, 'counts_cells_x_genes.csv.gz')] });
    expect(fromMtx.obs.sample_id).toEqual(fromCsv.obs.sample_id);
    expect(fromMtx.vars.gene_id).toEqual(fromCsv.vars.gene_id);
    expect(Array.from(fromMtx.X.data)).toEqual(Array.from(fromCsv.X.data));
    expect(Array.from(fromMtx.X.indptr)).toEqual(Array.from(fromCsv.X.indptr));
    expect(Array.from(fromMtx.X.indices)).toEqual(Array.from(fromCsv.X.indices));
  });

  const v3 = join(DATA_DIR, 'tenx_v3_format_fixture', 'filtered_feature_bc_matrix');
  it.skipIf(!existsSync(v3))('reads the Cell Ranger 3 fixture with its two comment lines', async () => {
    const result = await ingest({ inputs: [v3] });
    expect(result.summary.nSamples).toBe(1107);
    expect(result.summary.nGenes).toBe(507);
    expect(result.summary.nnz).toBe(23866);
    expect(result.summary.values.allIntegers).toBe(true);
    expect((result.vars.symbol as string[]).includes('S100B')).toBe(true);
  });
});
