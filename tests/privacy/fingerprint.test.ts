import { describe, expect, it } from 'vitest';
import { csrFromDense, selectRows, type CsrMatrix } from '../../src/matrix/csr.js';
import { datasetFingerprint } from '../../src/privacy/fingerprint.js';

const ids = ['p1', 'p2', 'p3'];
const matrix = (): CsrMatrix => csrFromDense(3, 4, [1, 0, 2, 0, 0, 3, 0, 0, 4, 5, 0, 6.5]);

describe('datasetFingerprint', () => {
  it('is stable across calls', () => {
    expect(datasetFingerprint(ids, matrix())).toBe(datasetFingerprint(ids, matrix()));
  });

  it('is a SHA-256 hex digest', () => {
    expect(datasetFingerprint(ids, matrix())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores the order of samples', () => {
    const reordered = selectRows(matrix(), [2, 0, 1]);
    expect(datasetFingerprint(['p3', 'p1', 'p2'], reordered)).toBe(datasetFingerprint(ids, matrix()));
  });

  it('changes when a value changes', () => {
    const changed = matrix();
    changed.data[0] = 1.0001;
    expect(datasetFingerprint(ids, changed)).not.toBe(datasetFingerprint(ids, matrix()));
  });

  it('changes when an id changes', () => {
    expect(datasetFingerprint(['p1', 'p2', 'p4'], matrix())).not.toBe(datasetFingerprint(ids, matrix()));
  });

  it('changes when a sample is dropped', () => {
    expect(datasetFingerprint(['p1', 'p2'], selectRows(matrix(), [0, 1]))).not.toBe(datasetFingerprint(ids, matrix()));
  });

  it('changes when ids swap rows', () => {
    expect(datasetFingerprint(['p2', 'p1', 'p3'], matrix())).not.toBe(datasetFingerprint(ids, matrix()));
  });

  it('changes when a gene column is added', () => {
    const wider = csrFromDense(3, 5, [1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 5, 0, 6.5, 0]);
    expect(datasetFingerprint(ids, wider)).not.toBe(datasetFingerprint(ids, matrix()));
  });

  it('ignores stored zeros', () => {
    const m = matrix();
    const withZero: CsrMatrix = {
      nRows: 3,
      nCols: 4,
      indptr: Float64Array.from([0, 3, 4, 7]),
      indices: Int32Array.from([0, 1, 2, 1, 0, 1, 3]),
      data: Float32Array.from([1, 0, 2, 3, 4, 5, 6.5]),
    };
    expect(datasetFingerprint(ids, withZero)).toBe(datasetFingerprint(ids, m));
  });

  it('rejects duplicate ids', () => {
    expect(() => datasetFingerprint(['p1', 'p1', 'p3'], matrix())).toThrow(/appears twice/);
  });

  it('rejects a count mismatch', () => {
    expect(() => datasetFingerprint(['p1'], matrix())).toThrow(/one sample id per matrix row/);
  });
});
