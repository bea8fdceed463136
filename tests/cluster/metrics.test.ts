import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, contingency, jaccard, normalizedMutualInformation } from '../../src/cluster/metrics.js';
import { silhouetteScore } from '../../src/cluster/silhouette.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';
import { missingPython, noteSkip, runPython } from './python.js';

const missing = missingPython(['sklearn', 'numpy']);
noteSkip('cluster metrics', missing);

function randomPartition(n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(k));
}

const CASES = [
  { name: 'random', a: randomPartition(200, 4, 1), b: randomPartition(200, 5, 2) },
  { name: 'correlated', a: Int32Array.from({ length: 150 }, (_, i) => i % 3), b: Int32Array.from({ length: 150 }, (_, i) => (i % 7 === 0 ? 4 : i % 3)) },
  { name: 'one group', a: new Int32Array(30), b: randomPartition(30, 3, 3) },
  { name: 'singletons', a: Int32Array.from({ length: 20 }, (_, i) => i), b: randomPartition(20, 2, 4) },
];

describe('partition metrics', () => {
  it('scores identical partitions as 1', () => {
    const a = [0, 0, 1, 1, 2, 2];
    const renamed = [5, 5, 3, 3, 9, 9];
    expect(adjustedRandIndex(a, renamed)).toBe(1);
    expect(normalizedMutualInformation(a, renamed)).toBeCloseTo(1, 12);
  });

  it('scores both trivial partitions as 1', () => {
    expect(adjustedRandIndex([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(normalizedMutualInformation([0, 1, 2], [2, 1, 0])).toBe(1);
  });

  it('counts a contingency table', () => {
    const table = contingency([0, 0, 1, 1], [3, 4, 4, 4]);
    expect(table.rows).toEqual([0, 1]);
    expect(table.columns).toEqual([3, 4]);
    expect(table.counts).toEqual([
      [1, 1],
      [0, 2],
    ]);
  });

  it('computes jaccard of index sets', () => {
    expect(jaccard(new Set([1, 2, 3]), new Set([2, 3, 4]))).toBe(0.5);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });

  it.skipIf(missing !== null)('matches scikit-learn ARI and NMI', () => {
    const script = `
import json, sys
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
cases = json.load(sys.stdin)
print(json.dumps([[adjusted_rand_score(c['a'], c['b']), normalized_mutual_info_score(c['a'], c['b'])] for c in cases]))
`;
    const reference = runPython<number[][]>(script, CASES.map((c) => ({ a: Array.from(c.a), b: Array.from(c.b) })));
    CASES.forEach((c, i) => {
      expect(adjustedRandIndex(c.a, c.b), `ARI ${c.name}`).toBeCloseTo(reference[i][0], 12);
      expect(normalizedMutualInformation(c.a, c.b), `NMI ${c.name}`).toBeCloseTo(reference[i][1], 12);
    });
  });

  it.skipIf(missing !== null)('matches scikit-learn silhouette', () => {
    const { points, truth } = blobs([25, 15, 10], 3, 2, 5);
    const noisy = randomPartition(points.nRows, 4, 9);
    const rows = [];
    for (let i = 0; i < points.nRows; i++) rows.push(Array.from(points.data.subarray(i * 3, i * 3 + 3)));
    const script = `
import json, sys
import numpy as np
from sklearn.metrics import silhouette_score
d = json.load(sys.stdin)
X = np.array(d['X'], dtype=np.float64)
print(json.dumps([silhouette_score(X, d['truth']), silhouette_score(X, d['noisy']),
  silhouette_score(X[d['rows']], np.array(d['truth'])[d['rows']])]))
`;
    const subset = Array.from({ length: 20 }, (_, i) => i * 2 + 1);
    const reference = runPython<number[]>(script, { X: rows, truth: Array.from(truth), noisy: Array.from(noisy), rows: subset });
    expect(silhouetteScore(points, truth)).toBeCloseTo(reference[0], 10);
    expect(silhouetteScore(points, noisy)).toBeCloseTo(reference[1], 10);
    expect(silhouetteScore(points, truth, subset)).toBeCloseTo(reference[2], 10);
  });

  it('rejects a silhouette of one cluster', () => {
    const { points } = blobs([5], 2, 1);
    expect(() => silhouetteScore(points, new Int32Array(5))).toThrow(/2 <= clusters/);
  });
});
