import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLognormByGene } from '../../src/cluster/expression.js';
import { csrToTable, writeTable } from '../../src/io/arrow.js';
import { csrFromDense, selectRows, transpose, type CsrMatrix } from '../../src/matrix/csr.js';
import { Rng } from '../../src/util/rng.js';

/** Samples x genes with about half the values zero; 5,000 rows span two Arrow record batches. */
function sparseFixture(nSamples: number, nGenes: number, seed: number): CsrMatrix {
  const rng = new Rng(seed);
  const dense = Float32Array.from({ length: nSamples * nGenes }, () => (rng.uniform() < 0.5 ? 0 : Math.fround(rng.uniform() * 5)));
  return csrFromDense(nSamples, nGenes, dense);
}

function denseOf(m: CsrMatrix): number[][] {
  const out = Array.from({ length: m.nRows }, () => new Array<number>(m.nCols).fill(0));
  for (let r = 0; r < m.nRows; r++) for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[r][m.indices[k]] = m.data[k];
  return out;
}

describe('readLognormByGene', () => {
  const matrix = sparseFixture(5000, 7, 1);
  const path = join(mkdtempSync(join(tmpdir(), 'genevae-expression-')), 'lognorm.arrow');
  writeTable(path, csrToTable(matrix));

  it('transposes every row in order', () => {
    const rows = Int32Array.from({ length: 5000 }, (_, i) => i);
    const byGene = readLognormByGene(path, rows);
    expect(byGene.nRows).toBe(7);
    expect(byGene.nCols).toBe(5000);
    expect(denseOf(byGene)).toEqual(denseOf(transpose(matrix)));
  });

  it('reorders and leaves out rows', () => {
    const rows = new Rng(2).permutation(5000).subarray(0, 3000);
    expect(denseOf(readLognormByGene(path, rows))).toEqual(denseOf(transpose(selectRows(matrix, rows))));
  });
});
