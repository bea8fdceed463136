import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable, tableToCsr } from '../../src/io/arrow.js';
import { CsrBatchBuilder, concatBatches, splitIntoBatches } from '../../src/io/csrBatches.js';
import { writeCsrBatchesAtomic } from '../../src/io/csrWriter.js';
import { csrFromDense, toDense } from '../../src/matrix/csr.js';
import { countsFixture, fixtureDir } from '../fixtures/matrices.js';

const fixture = countsFixture(23, 7, 5);
const dense = fixture.values.flat();

function build(rowsPerBatch: number) {
  const builder = new CsrBatchBuilder(7, rowsPerBatch);
  for (const row of fixture.values) {
    const cols: number[] = [];
    const values: number[] = [];
    row.forEach((v, j) => {
      if (v !== 0) {
        cols.push(j);
        values.push(v);
      }
    });
    builder.addRow(cols, values, cols.length);
  }
  return builder;
}

describe('CsrBatchBuilder', () => {
  it('splits rows into batches', () => {
    expect(build(5).finish().map((batch) => batch.nRows)).toEqual([5, 5, 5, 5, 3]);
  });

  it('ends a batch at the entry limit', () => {
    const builder = new CsrBatchBuilder(4, 100, 6);
    for (let r = 0; r < 5; r++) builder.addRow([0, 1, 2], [1, 2, 3], 3);
    expect(builder.finish().map((batch) => batch.nRows)).toEqual([2, 2, 1]);
  });

  it('counts rows and entries after finish', () => {
    const builder = build(5);
    builder.finish();
    expect([builder.nRows, builder.nnz]).toEqual([23, dense.filter((v) => v !== 0).length]);
  });

  it('concatenates to the dense values', () => {
    expect(Array.from(toDense(concatBatches(build(4).finish(), 7)))).toEqual(dense);
  });

  it('empty builder gives one empty batch', () => {
    expect(new CsrBatchBuilder(3).finish()).toHaveLength(1);
  });
});

describe('splitIntoBatches', () => {
  it('round trip', () => {
    const m = csrFromDense(23, 7, dense);
    expect(Array.from(toDense(concatBatches(splitIntoBatches(m, 6), 7)))).toEqual(dense);
  });
});

describe('writeCsrBatchesAtomic', () => {
  it('writes a table tableToCsr reads', async () => {
    const path = join(fixtureDir(), 'X.arrow');
    await writeCsrBatchesAtomic(path, build(4).finish());
    const m = tableToCsr(readTable(path));
    expect([m.nRows, m.nCols]).toEqual([23, 7]);
    expect(Array.from(toDense(m))).toEqual(dense);
  });
});
