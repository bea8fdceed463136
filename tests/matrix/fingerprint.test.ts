import { describe, expect, it } from 'vitest';
import { csrFromDense } from '../../src/matrix/csr.js';
import { rowFingerprints } from '../../src/matrix/fingerprint.js';

describe('rowFingerprints', () => {
  const genes = ['A', 'B', 'C'];
  const rows = [
    [1, 0, 2.5],
    [0, 3, 0],
    [0, 0, 0],
    [1, 0, 2.5],
  ];
  const fingerprints = rowFingerprints(csrFromDense(4, 3, rows.flat()), genes);

  it('matches equal samples', () => {
    expect(fingerprints[0]).toBe(fingerprints[3]);
  });

  it('separates different samples', () => {
    expect(fingerprints[0]).not.toBe(fingerprints[1]);
  });

  it('gives no fingerprint to an all-zero sample', () => {
    expect(fingerprints[2]).toBeNull();
  });

  it('ignores the gene order', () => {
    const reordered = rowFingerprints(csrFromDense(1, 3, [2.5, 1, 0]), ['C', 'A', 'B']);
    expect(reordered[0]).toBe(fingerprints[0]);
  });

  it('counts only the genes given', () => {
    const subset = rowFingerprints(csrFromDense(1, 2, [1, 2.5]), ['A', 'C'], new Set(['A', 'C']));
    const restricted = rowFingerprints(csrFromDense(4, 3, rows.flat()), genes, new Set(['A', 'C']));
    expect(restricted[0]).toBe(subset[0]);
    expect(restricted[1]).toBeNull();
  });

  it('tells a value moved to another gene apart', () => {
    const moved = rowFingerprints(csrFromDense(1, 3, [2.5, 0, 1]), genes);
    expect(moved[0]).not.toBe(fingerprints[0]);
  });
});
