import { describe, expect, it } from 'vitest';
import { selectDenseColumns, topDispersionColumns } from '../../src/model/gene-subset.js';

describe('topDispersionColumns', () => {
  it('returns the top genes in column order', () => {
    expect(Array.from(topDispersionColumns([0.1, 3, -1, 2, 5], 3))).toEqual([1, 3, 4]);
  });

  it('ranks missing dispersions last', () => {
    expect(Array.from(topDispersionColumns([Number.NaN, -2, Number.NaN], 2))).toEqual([0, 1]);
    expect(Array.from(topDispersionColumns([Number.NaN, -2, 1], 1))).toEqual([2]);
  });

  it('breaks ties by column', () => {
    expect(Array.from(topDispersionColumns([1, 1, 1], 2))).toEqual([0, 1]);
  });

  it('caps the count at the columns', () => {
    expect(Array.from(topDispersionColumns([1, 2], 5))).toEqual([0, 1]);
  });
});

describe('selectDenseColumns', () => {
  it('copies the columns of every row', () => {
    const matrix = { nRows: 2, nCols: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const selected = selectDenseColumns(matrix, Int32Array.from([0, 2]));
    expect(selected.nCols).toBe(2);
    expect(Array.from(selected.data)).toEqual([1, 3, 4, 6]);
  });
});
