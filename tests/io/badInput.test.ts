import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { toDense } from '../../src/matrix/csr.js';
import { countsFixture, fixtureDir, samplesInRowsText, writeFixture } from '../fixtures/matrices.js';
import { ingest, inputErrorOf } from '../fixtures/ingest.js';

/** Writes `text` as m.csv (or `name`) into a fresh directory and returns its path. */
function file(text: string | Uint8Array, name = 'm.csv'): string {
  return writeFixture(fixtureDir(), name, text);
}

describe('ingest of malformed files', () => {
  it('empty file', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('')] }));
    expect(message).toContain('the file is empty');
  });

  it('header only', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1,g2\n')] }));
    expect(message).toContain('has a header (3 columns) but no data rows');
  });

  it('ragged row names its line', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1,g2\nS1,1,2\nS2,3\nS3,4,5\n')] }));
    expect(message).toContain('line 3');
    expect(message).toContain('has 2 fields but the header has 3');
  });

  it('truncated gzip', async () => {
    const fixture = countsFixture(200, 50);
    const whole = gzipSync(Buffer.from(samplesInRowsText(fixture)));
    const message = await inputErrorOf(ingest({ inputs: [file(whole.subarray(0, Math.floor(whole.length / 2)), 'm.csv.gz')] }));
    expect(message).toContain('gzip stream is truncated or corrupt');
  });

  it('quote left open', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\n"S1,1\nS2,2\n')] }));
    expect(message).toContain('malformed quotes');
  });
});

describe('ingest of non-numeric cells', () => {
  it('n/a names line, column and sample', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1,g2\nS1,1,2\nS2,n/a,3\n')] }));
    expect(message).toContain("line 3, column 'g1', sample 'S2'");
    expect(message).toContain("'n/a' is not a number");
    expect(message).toContain("--na-values 'n/a'");
  });

  it('n/a declared missing with --missing zero', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2\nS1,1,2\nS2,n/a,3\n')], naValues: ['n/a'], missing: 'zero' });
    expect(Array.from(toDense(result.X))).toEqual([1, 2, 0, 3]);
    expect(result.summary.values.missingCells).toBe(1);
  });

  it('decimal comma in a TSV', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample\tg1\nS1\t1,5\n', 'm.tsv')] }));
    expect(message).toContain("'1,5' uses a decimal comma");
  });

  it('decimal comma in a CSV splits the row', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,2\nS2,1,5\n')] }));
    expect(message).toContain('decimal comma');
  });

  it('thousands separators', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample\tg1\nS1\t1,234,567\n', 'm.tsv')] }));
    expect(message).toContain('thousands separators');
  });

  it('NA is missing: error by default', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1,g2\nS1,NA,2\n')] }));
    expect(message).toContain("missing value ('NA')");
    expect(message).toContain('--missing zero');
  });

  it('empty cell is missing', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1,g2\nS1,,2\n')] }));
    expect(message).toContain('missing value (an empty cell)');
  });

  it('NA, empty and NaN stored as zero', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2,g3\nS1,NA,,NaN\nS2,1,2,3\n')], missing: 'zero' });
    expect(Array.from(toDense(result.X))).toEqual([0, 0, 0, 1, 2, 3]);
    expect(result.summary.values.missingCells).toBe(3);
    expect(result.warnings.join(' ')).toContain('3 missing cells were stored as 0');
  });

  it('NaN outside --na-values is rejected', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,NaN\n')], naValues: ['NA'] }));
    expect(message).toContain("'NaN' is not a number");
    expect(message).toContain("--na-values 'NaN'");
  });

  it('inf is rejected', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,inf\n')] }));
    expect(message).toContain("'inf' is not a finite number");
  });

  it('hexadecimal literal is rejected', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,0x1A\n')] }));
    expect(message).toContain('hexadecimal');
  });

  it('value beyond the Float32 range', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,1e39\n')] }));
    expect(message).toContain("column 'g1', sample 'S1': 1e+39 is outside the range of 32-bit floats");
  });

  it('value that underflows Float32 is a zero', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2\nS1,1e-50,2\n')] });
    expect(result.summary.nnz).toBe(1);
  });

  it('negative values are kept and counted', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2\nS1,-1.5,2\nS2,3,-4\n')] });
    expect(Array.from(toDense(result.X))).toEqual([-1.5, 2, 3, -4]);
    expect(result.summary.values.anyNegative).toBe(true);
    expect(result.summary.values.negativeCount).toBe(2);
    expect(result.summary.values.min).toBe(-4);
  });
});

describe('ingest of text encodings and layouts', () => {
  it('UTF-8 byte order mark', async () => {
    const result = await ingest({ inputs: [file('\uFEFFsample,g1\nS1,1\n')] });
    expect(result.vars.gene_id).toEqual(['g1']);
    expect(result.obs.sample_id).toEqual(['S1']);
    expect(result.summary.files[0].notes.join(' ')).toContain('byte order mark');
  });

  it('CRLF line ends', async () => {
    const fixture = countsFixture(5, 4);
    const result = await ingest({ inputs: [file(samplesInRowsText(fixture, { newline: '\r\n' }))] });
    expect(Array.from(toDense(result.X))).toEqual(fixture.values.flat());
    expect(result.vars.gene_id).toEqual(fixture.geneIds);
  });

  it('bare CR line ends', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\rS1,1\rS2,2\r')] }));
    expect(message).toContain('bare carriage return');
  });

  it('quoted headers and ids', async () => {
    const result = await ingest({ inputs: [file('"sample","gene A","gene ""B"""\n"S1",1,2\n')] });
    expect(result.vars.gene_id).toEqual(['gene A', 'gene "B"']);
    expect(result.obs.sample_id).toEqual(['S1']);
  });

  it('trailing delimiter on every line', async () => {
    const result = await ingest({ inputs: [file('sample\tg1\tg2\t\nS1\t1\t2\t\nS2\t3\t4\t\n', 'm.tsv')] });
    expect(result.vars.gene_id).toEqual(['g1', 'g2']);
    expect(Array.from(toDense(result.X))).toEqual([1, 2, 3, 4]);
    expect(result.summary.files[0].notes.join(' ')).toContain('empty last column');
  });

  it('trailing delimiter on data lines only', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2\nS1,1,2,\nS2,3,4,\n')] });
    expect(Array.from(toDense(result.X))).toEqual([1, 2, 3, 4]);
    expect(result.summary.files[0].notes.join(' ')).toContain('trailing delimiter');
  });

  it('R row-name layout', async () => {
    const result = await ingest({ inputs: [file('g1,g2\nS1,1,2\nS2,3,4\n')] });
    expect(result.obs.sample_id).toEqual(['S1', 'S2']);
    expect(result.vars.gene_id).toEqual(['g1', 'g2']);
  });

  it('quoted line break keeps physical line numbers', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,"gene\nA",g2\nS1,1,2\nS2,x,3\n')] }));
    expect(message).toContain("line 4, column 'gene\nA'");
  });

  it('blank lines keep line numbers', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\n\nS1,1\n\nS2,x\n')] }));
    expect(message).toContain('line 5');
  });
});

describe('ingest of ids', () => {
  it('duplicate sample ids are listed', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,1\nS2,2\nS1,3\nS2,4\nS3,5\n')] }));
    expect(message).toContain("duplicate sample ids: 'S1' (2 times), 'S2' (2 times)");
  });

  it('duplicate sample ids across files', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({ inputs: [writeFixture(dir, 'a.csv', 'sample,g1\nS1,1\n'), writeFixture(dir, 'b.csv', 'sample,g1\nS1,2\n')] }),
    );
    expect(message).toContain("duplicate sample ids: 'S1'");
    expect(message).toContain('inputs joined sample-wise share sample ids');
  });

  it('duplicate gene names stop by default', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,TP53,KRAS,TP53\nS1,1,2,3\n')] }));
    expect(message).toContain("duplicate gene names: 'TP53' (2 times)");
    expect(message).toContain('--make-unique');
  });

  it('duplicate gene names with --make-unique', async () => {
    const result = await ingest({ inputs: [file('sample,TP53,KRAS,TP53,TP53-1\nS1,1,2,3,4\n')], makeUnique: true });
    expect(result.vars.gene_id).toEqual(['TP53', 'KRAS', 'TP53-2', 'TP53-1']);
    expect(result.summary.genes.renamed).toEqual([{ from: 'TP53', to: 'TP53-2' }]);
  });

  it('gene lists that differ between files', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({ inputs: [writeFixture(dir, 'a.csv', 'sample,g1,g2\nS1,1,2\n'), writeFixture(dir, 'b.csv', 'sample,g1,g3\nS2,1,2\n')] }),
    );
    expect(message).toContain("1 genes of");
    expect(message).toContain("'g2'");
    expect(message).toContain("'g3'");
  });

  it('Ensembl ids with and without versions', async () => {
    const result = await ingest({ inputs: [file('sample,ENSG00000141510,ENSG00000141510.16,ENSG00000133703.12\nS1,1,2,3\n')] });
    expect(result.summary.genes.ensemblVersionConflicts).toEqual([{ base: 'ENSG00000141510', ids: ['ENSG00000141510', 'ENSG00000141510.16'] }]);
    expect(result.warnings.join(' ')).toContain('both with and without a version suffix');
  });

  it('empty sample id', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,1\n,2\n')] }));
    expect(message).toContain('line 3');
    expect(message).toContain('sample id is empty');
  });

  it('unknown id column suggests the closest', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('Sample,g1\nS1,1\n')], idColumn: 'sample' }));
    expect(message).toContain("did you mean 'Sample'?");
  });
});

describe('ingest of degenerate values', () => {
  it('all-zero genes and samples are counted', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2,g3\nS1,0,1,0\nS2,0,0,0\nS3,0,2,0\n')] });
    expect(result.summary.genes.allZero).toBe(2);
    expect(result.summary.samplesAllZero).toBe(1);
    expect(result.warnings.join(' ')).toContain('1 samples have only zeros');
  });

  it('single sample', async () => {
    const result = await ingest({ inputs: [file('sample,g1,g2\nS1,3,0\n')] });
    expect([result.summary.nSamples, result.summary.nGenes]).toEqual([1, 2]);
  });

  it('obs column missing from one file', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({
        inputs: [writeFixture(dir, 'a.csv', 'sample,batch_a,g1\nS1,x,1\n'), writeFixture(dir, 'b.csv', 'sample,batch_b,g1\nS2,y,2\n')],
        obsColumns: ['batch*'],
      }),
    );
    expect(message).toContain("column 'batch_a' (--obs-columns) is in some matrix files but not in all");
  });
});

describe('ingest orientation check', () => {
  it('genes × samples read as samples × genes', async () => {
    const genes = Array.from({ length: 30 }, (_, j) => `ENSG${String(100000 + j).padStart(11, '0')}`);
    const text = ['gene,P1,P2,P3', ...genes.map((g, j) => `${g},${j},1,2`)].join('\n') + '\n';
    const result = await ingest({ inputs: [file(text)] });
    expect(result.summary.orientation.suspicious).toBe(true);
    expect(result.warnings.join(' ')).toContain('add --genes-in-rows');
  });

  it('samples × genes read as genes × samples', async () => {
    const genes = Array.from({ length: 12 }, (_, j) => `${1000 + j}_at`);
    const text = ['sample,' + genes.join(','), ...['P1', 'P2', 'P3'].map((s) => `${s},${genes.map(() => 1).join(',')}`)].join('\n') + '\n';
    const result = await ingest({ inputs: [file(text)], genesInRows: true });
    expect(result.summary.orientation.suspicious).toBe(true);
    expect(result.warnings.join(' ')).toContain('drop --genes-in-rows');
  });

  it('plain layout is not flagged', async () => {
    const result = await ingest({ inputs: [file(samplesInRowsText(countsFixture(20, 10)))] });
    expect(result.summary.orientation.suspicious).toBe(false);
  });
});

describe('ingest of labels and metadata', () => {
  it('label column with one class', async () => {
    const result = await ingest({ inputs: [file('sample,disease,g1\nS1,x,1\nS2,x,2\n')], labelColumn: 'disease' });
    expect(result.warnings.join(' ')).toContain("single class ('x')");
  });

  it('labels missing for some samples', async () => {
    const result = await ingest({ inputs: [file('sample,disease,g1\nS1,a,1\nS2,,2\nS3,NA,3\nS4,b,4\n')], labelColumn: 'disease' });
    expect(result.obs.label).toEqual(['a', null, null, 'b']);
    expect(result.summary.labels?.nUnlabelled).toBe(2);
  });

  it('label column without values', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,disease,g1\nS1,,1\nS2,NA,2\n')], labelColumn: 'disease' }));
    expect(message).toContain("label column 'disease' has no values");
  });

  it('unknown label column lists the columns', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,Disease,g1\nS1,a,1\n')], labelColumn: 'diseases' }));
    expect(message).toContain("label column 'diseases' is not in the matrix");
    expect(message).toContain("did you mean 'Disease'?");
    expect(message).toContain("available columns: 'sample', 'Disease', 'g1'");
  });

  it('unknown metadata label column', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({
        inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\n')],
        metadata: writeFixture(dir, 'meta.csv', 'sample,subtype\nS1,a\n'),
        labelColumn: 'subtyp',
      }),
    );
    expect(message).toContain("did you mean 'subtype'?");
  });

  it('metadata ids that do not match', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({
        inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\nS2,2\n')],
        metadata: writeFixture(dir, 'meta.csv', 'id,patient,label\nP1,S1,a\nP2,S2,b\n'),
      }),
    );
    expect(message).toContain("none of the 2 sample ids of the matrix ('S1', 'S2')");
    expect(message).toContain("--metadata-id-column 'patient'");
  });

  it('metadata with partial overlap', async () => {
    const dir = fixtureDir();
    const result = await ingest({
      inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\nS2,2\nS3,3\n')],
      metadata: writeFixture(dir, 'meta.csv', 'sample,disease,age\nS1,a,40\nS3,b,\nS9,c,50\n'),
      metadataLabelColumn: 'disease',
    });
    expect(result.obs.label).toEqual(['a', null, 'b']);
    expect(Array.from(result.obs.age as Float64Array)).toEqual([40, NaN, NaN]);
    expect(result.summary.metadata?.unmatchedSamples).toEqual({ count: 1, examples: ['S2'] });
    expect(result.summary.metadata?.extraRows).toEqual({ count: 1, examples: ['S9'] });
    expect(result.warnings.join(' ')).toContain("1 of 3 samples have no row in meta.csv ('S2')");
  });

  it('metadata with BOM, CRLF and quotes', async () => {
    const dir = fixtureDir();
    const result = await ingest({
      inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\nS2,2\n')],
      metadata: writeFixture(dir, 'meta.csv', '\uFEFF"sample","disease"\r\n"S1","a, b"\r\nS2,c\r\n\r\n'),
      labelColumn: 'disease',
    });
    expect(result.obs.label).toEqual(['a, b', 'c']);
  });

  it('ragged metadata row', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({ inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\n')], metadata: writeFixture(dir, 'meta.csv', 'sample,d\nS1,a,b,c\n') }),
    );
    expect(message).toContain('meta.csv, line 2: the line has 4 fields but the header has 2');
  });

  it('metadata with repeated ids', async () => {
    const dir = fixtureDir();
    const message = await inputErrorOf(
      ingest({ inputs: [writeFixture(dir, 'm.csv', 'sample,g1\nS1,1\n')], metadata: writeFixture(dir, 'meta.csv', 'sample,d\nS1,a\nS1,b\n') }),
    );
    expect(message).toContain("sample ids repeat in column 'sample': 'S1' (2 times)");
  });

  it('label column given twice', async () => {
    const message = await inputErrorOf(ingest({ inputs: [file('sample,g1\nS1,1\n')], labelColumn: 'a', metadataLabelColumn: 'b' }));
    expect(message).toContain('give one');
  });
});
