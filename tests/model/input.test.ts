import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { denseToTable, writeTable } from '../../src/io/arrow.js';
import { readDenseColumn } from '../../src/model/input.js';

describe('readDenseColumn', () => {
  it('returns a view into the file bytes', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'genevae-input-')), 'X.arrow');
    const values = Float32Array.from({ length: 40 * 7 }, (_, i) => i / 3);
    writeTable(path, denseToTable({ nRows: 40, nCols: 7, data: values }, 'values'));
    const matrix = readDenseColumn(path, 'values');
    expect(matrix.nRows).toBe(40);
    expect(matrix.nCols).toBe(7);
    expect(Array.from(matrix.data)).toEqual(Array.from(values));
    // A view shares the buffer that holds the whole file, which is larger than the values.
    expect(matrix.data.buffer.byteLength).toBeGreaterThan(matrix.data.byteLength);
  });
});
