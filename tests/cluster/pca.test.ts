import { describe, expect, it } from 'vitest';
import { principalComponents } from '../../src/cluster/pca.js';
import type { DenseMatrix } from '../../src/matrix/dense.js';
import { Rng } from '../../src/util/rng.js';
import { missingPython, noteSkip, runPython } from './python.js';

const missing = missingPython(['sklearn', 'numpy']);
noteSkip('pca', missing);

/** Low-rank signal plus noise, so the leading components are well separated. */
function lowRank(n: number, p: number, seed: number): DenseMatrix {
  const rng = new Rng(seed);
  const rank = 4;
  const u = Array.from({ length: n * rank }, () => rng.normal());
  const v = Array.from({ length: rank * p }, () => rng.normal());
  const data = new Float32Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      let value = 3 + 0.3 * rng.normal();
      for (let r = 0; r < rank; r++) value += (5 - r) * u[i * rank + r] * v[r * p + j];
      data[i * p + j] = value;
    }
  }
  return { nRows: n, nCols: p, data };
}

function rows(m: DenseMatrix): number[][] {
  return Array.from({ length: m.nRows }, (_, i) => Array.from(m.data.subarray(i * m.nCols, (i + 1) * m.nCols)));
}

function column(m: DenseMatrix, c: number): number[] {
  return Array.from({ length: m.nRows }, (_, i) => m.data[i * m.nCols + c]);
}

function absoluteCorrelation(a: number[], b: number[]): number {
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return Math.abs(ab / Math.sqrt(aa * bb));
}

const SCRIPT = `
import json, sys
import numpy as np
from sklearn.decomposition import PCA
d = json.load(sys.stdin)
pca = PCA(n_components=d['k'], svd_solver='full')
scores = pca.fit_transform(np.array(d['X'], dtype=np.float64))
print(json.dumps({'scores': scores.T.tolist(), 'ratio': pca.explained_variance_ratio_.tolist()}))
`;

describe('principal components', () => {
  const cases = [
    { name: 'exact, wide', x: lowRank(40, 120, 1), exactMaxSide: 1000, method: 'exact', k: 5 },
    { name: 'exact, tall', x: lowRank(150, 30, 2), exactMaxSide: 1000, method: 'exact', k: 5 },
    // The sketch has k + 10 columns, odd here, and 150 rows end in a short block of 2.
    { name: 'randomized', x: lowRank(150, 60, 3), exactMaxSide: 0, method: 'randomized', k: 5 },
    // An even sketch of 16 columns, and 151 rows ending in a block of 3.
    { name: 'randomized, even sketch', x: lowRank(151, 60, 6), exactMaxSide: 0, method: 'randomized', k: 6 },
  ];

  for (const c of cases) {
    it.skipIf(missing !== null)(`matches scikit-learn (${c.name})`, () => {
      const k = c.k;
      const result = principalComponents(c.x, { nComponents: k, exactMaxSide: c.exactMaxSide }, new Rng(4));
      expect(result.method).toBe(c.method);
      const reference = runPython<{ scores: number[][]; ratio: number[] }>(SCRIPT, { X: rows(c.x), k });
      for (let component = 0; component < 4; component++) {
        expect(result.explainedVarianceRatio[component], `ratio ${component}`).toBeCloseTo(reference.ratio[component], 4);
        expect(absoluteCorrelation(column(result.scores, component), reference.scores[component]), `scores ${component}`).toBeGreaterThan(0.9999);
      }
    });
  }

  it('caps components at samples - 1', () => {
    const result = principalComponents(lowRank(6, 20, 5), { nComponents: 50 }, new Rng(1));
    expect(result.scores.nCols).toBe(5);
  });
});
