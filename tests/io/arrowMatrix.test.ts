import { join } from 'node:path';
import { DateDay, Field, Float64, Int32, Struct, Table, tableFromArrays, vectorFromArray, makeTable } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { toDense } from '../../src/matrix/csr.js';
import { haveZstd, writeArrowTable, writeWideArrow } from '../fixtures/arrow.js';
import { ingest, inputErrorOf } from '../fixtures/ingest.js';
import { countsFixture, fixtureDir, labelsText, writeFixture } from '../fixtures/matrices.js';
import { testContext } from '../helpers/context.js';
import { runIngest } from '../../src/stages/ingest.js';
import { INGEST_DEFAULTS } from '../../pipeline/ingest.js';

const fixture = countsFixture(30, 12, 7);

describe('ingest of Arrow and Feather files', () => {
  it('pandas wide layout with __index_level_0__', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.feather', fixture, { idLast: true });
    const result = await ingest({ inputs: [path] });
    expect(result.obs.sample_id).toEqual(fixture.sampleIds);
    expect(result.vars.gene_id).toEqual(fixture.geneIds);
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
  });

  it('reset_index layout with an index column', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.feather', fixture, { idColumn: 'index' });
    const result = await ingest({ inputs: [path] });
    expect(result.obs.sample_id).toEqual(fixture.sampleIds);
    expect(result.summary.files[0].notes.join(' ')).toContain("stored index column 'index'");
  });

  it('first text column as id', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.arrow', fixture, { idColumn: 'barcode' });
    const result = await ingest({ inputs: [path] });
    expect(result.obs.sample_id).toEqual(fixture.sampleIds);
  });

  it('Int64 columns', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.feather', fixture, { int64: true });
    const result = await ingest({ inputs: [path] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.summary.values.allIntegers).toBe(true);
  });

  it('Arrow IPC stream', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.arrows', fixture, { stream: true });
    const result = await ingest({ inputs: [path] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
  });

  it('LZ4-compressed Feather', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.feather', fixture, { compression: 'lz4' });
    const result = await ingest({ inputs: [path] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
  });

  it.skipIf(!haveZstd())('zstd-compressed Feather', async () => {
    const path = writeWideArrow(fixtureDir(), 'm.feather', fixture, { compression: 'zstd' });
    const result = await ingest({ inputs: [path] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
  });

  it('label column and metadata', async () => {
    const dir = fixtureDir();
    const path = writeWideArrow(dir, 'm.feather', fixture, { extra: { disease: fixture.labels } });
    const fromColumn = await ingest({ inputs: [path], labelColumn: 'disease' });
    expect(fromColumn.obs.label).toEqual(fixture.labels);
    const plain = writeWideArrow(dir, 'p.feather', fixture);
    const fromMetadata = await ingest({ inputs: [plain], metadata: writeFixture(dir, 'l.csv', labelsText(fixture)), labelColumn: 'disease' });
    expect(fromMetadata.obs.label).toEqual(fixture.labels);
  });

  it('genes in rows', async () => {
    const table = tableFromArrays({
      gene: ['g1', 'g2', 'g3'],
      S1: Float64Array.from([1, 0, 2]),
      S2: Float64Array.from([0, 3, 0]),
    });
    const path = writeArrowTable(join(fixtureDir(), 'm.arrow'), table);
    const result = await ingest({ inputs: [path], genesInRows: true });
    expect(result.obs.sample_id).toEqual(['S1', 'S2']);
    expect(Array.from(toDense(result.X))).toEqual([1, 0, 2, 0, 3, 0]);
  });

  it('null cells follow --missing', async () => {
    const table = makeTable({ sample: vectorFromArray(['a', 'b']).data[0], g1: vectorFromArray([1.5, null], new Float64()).data[0] } as never);
    const path = writeArrowTable(join(fixtureDir(), 'm.arrow'), table as unknown as Table);
    const message = await inputErrorOf(ingest({ inputs: [path] }));
    expect(message).toContain("column 'g1', sample 'b': missing value");
    const result = await ingest({ inputs: [path], missing: 'zero' });
    expect(Array.from(toDense(result.X))).toEqual([1.5, 0]);
  });

  it('date column among genes', async () => {
    const table = tableFromArrays({ sample: ['a', 'b'], g1: Float64Array.from([1, 2]) });
    const withDate = table.assign(
      makeTable({ visit: vectorFromArray([new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2020, 0, 2))], new DateDay()).data[0] } as never) as never,
    );
    const path = writeArrowTable(join(fixtureDir(), 'm.arrow'), withDate as Table);
    const message = await inputErrorOf(ingest({ inputs: [path] }));
    expect(message).toContain("column 'visit' has type Date");
    expect(message).toContain("--exclude-columns 'visit'");
    const excluded = await ingest({ inputs: [path], excludeColumns: ['visit'] });
    expect(excluded.vars.gene_id).toEqual(['g1']);
  });

  it('struct column among genes', async () => {
    const struct = vectorFromArray(
      [{ x: 1 }, { x: 2 }],
      new Struct([new Field('x', new Int32())]),
    );
    const table = tableFromArrays({ sample: ['a', 'b'], g1: Float64Array.from([1, 2]) }).assign(makeTable({ pos: struct.data[0] } as never) as never);
    const path = writeArrowTable(join(fixtureDir(), 'm.arrow'), table as Table);
    const message = await inputErrorOf(ingest({ inputs: [path] }));
    expect(message).toContain("column 'pos' has type Struct");
  });

  it('text column among genes', async () => {
    const table = tableFromArrays({ sample: ['a', 'b'], g1: Float64Array.from([1, 2]), tissue: ['x', 'y'] });
    const path = writeArrowTable(join(fixtureDir(), 'm.arrow'), table);
    const message = await inputErrorOf(ingest({ inputs: [path] }));
    expect(message).toContain("column 'tissue' has type");
    expect(message).toContain('--obs-columns');
  });

  it('genevae CSR output read back', async () => {
    const dir = fixtureDir();
    const first = testContext('ingest');
    await runIngest(first, { ...INGEST_DEFAULTS, inputs: [writeWideArrow(dir, 'm.feather', fixture)] });
    const again = await ingest({ inputs: [join(first.outputDir, 'X.arrow')] });
    expect(again.obs.sample_id).toEqual(fixture.sampleIds);
    expect(Array.from(toDense(again.X))).toEqual(fixture.values.flat());
  });

  it('Feather v1 is rejected', async () => {
    const path = writeFixture(fixtureDir(), 'old.feather', 'FEA1\0\0\0\0rest');
    const message = await inputErrorOf(ingest({ inputs: [path] }));
    expect(message).toContain('Feather version 1');
  });
});
