import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  csrToTable,
  denseToTable,
  readFrame,
  readTable,
  tableToCsr,
  tableToDense,
  writeFrame,
  writeTable,
} from '../../src/io/arrow.js';
import { csrFromDense, toDense } from '../../src/matrix/csr.js';

const dir = mkdtempSync(join(tmpdir(), 'genevae-arrow-'));

describe('arrow io', () => {
  it('round-trips a CSR matrix through X.arrow', () => {
    const dense = [0, 1.5, 0, 2, 0, 0, 0, 0, 3, 4, 0, 5];
    const m = csrFromDense(4, 3, dense);
    const path = join(dir, 'X.arrow');
    writeTable(path, csrToTable(m));
    const back = tableToCsr(readTable(path));
    expect(back.nRows).toBe(4);
    expect(back.nCols).toBe(3);
    expect(Array.from(toDense(back))).toEqual(dense);
  });

  it('splits large matrices into batches and reads them back', () => {
    const rows = 9000;
    const values = new Float32Array(rows * 2);
    for (let i = 0; i < values.length; i += 3) values[i] = i;
    const m = csrFromDense(rows, 2, values);
    const table = csrToTable(m);
    expect(table.batches.length).toBe(3);
    expect(Array.from(toDense(tableToCsr(table)))).toEqual(Array.from(values));
  });

  it('round-trips an empty matrix', () => {
    const m = csrFromDense(0, 5, []);
    const back = tableToCsr(csrToTable(m));
    expect(back.nRows).toBe(0);
    expect(back.nCols).toBe(5);
  });

  it('round-trips frames with mixed column types', () => {
    const path = join(dir, 'obs.arrow');
    writeFrame(path, {
      sample_id: ['a', 'b'],
      label: ['x', null],
      size: new Float64Array([1.5, 2]),
      flag: [true, false],
      count: new Int32Array([3, 4]),
    });
    const frame = readFrame(path);
    expect(frame.sample_id).toEqual(['a', 'b']);
    expect(frame.label).toEqual(['x', null]);
    expect(Array.from(frame.size as Float64Array)).toEqual([1.5, 2]);
    expect(frame.flag).toEqual([true, false]);
    expect(Array.from(frame.count as Int32Array)).toEqual([3, 4]);
  });

  it('round-trips a dense FixedSizeList column with ids', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const table = denseToTable({ nRows: 3, nCols: 2, data }, 'z', { name: 'sample_id', values: ['a', 'b', 'c'] });
    const path = join(dir, 'latent.arrow');
    writeTable(path, table);
    const back = readTable(path);
    expect(Array.from(tableToDense(back, 'z').data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.getChild('sample_id')!.toArray()).toEqual(['a', 'b', 'c']);
  });
});
