import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, rankGenesGroups, tiedRanks, twoSidedNormalP, type Grouping } from '../../src/cluster/markers.js';
import { csrFromDense } from '../../src/matrix/csr.js';
import { Rng } from '../../src/util/rng.js';
import { missingPython, noteSkip, runPython } from './python.js';

const missing = missingPython(['scipy', 'numpy']);
noteSkip('markers', missing);

/** Sparse log-scale expression with ties and a few marker genes for group 0 and group 2. */
function fixture(n: number, genes: number, seed: number, negative = false) {
  const rng = new Rng(seed);
  const codes = Int32Array.from({ length: n }, (_, i) => (i < 12 ? 0 : i < 40 ? 1 : 2));
  const dense = new Float32Array(n * genes);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < genes; g++) {
      const boost = (g < 3 && codes[i] === 0) || (g === 5 && codes[i] === 2) ? 2 : 0;
      const raw = rng.uniform() < 0.45 - boost * 0.2 ? 0 : Math.round((rng.uniform() * 3 + boost) * 4) / 4;
      dense[i * genes + g] = negative ? raw - 1.5 * (g % 2) : Math.log1p(raw);
    }
  }
  return { matrix: csrFromDense(n, genes, dense), dense, codes };
}

const SCRIPT = `
import json, sys
import numpy as np
from scipy.stats import mannwhitneyu
d = json.load(sys.stdin)
X = np.array(d['X'], dtype=np.float64).reshape(d['n'], d['genes'])
codes = np.array(d['codes'])
out = []
for group in sorted(set(codes.tolist())):
    inside = codes == group
    rows = []
    for g in range(d['genes']):
        x, y = X[inside, g], X[~inside, g]
        p = mannwhitneyu(x, y, alternative='two-sided', method='asymptotic', use_continuity=False).pvalue
        mean_in, mean_out = x.mean(), y.mean()
        lfc = np.log2((np.expm1(mean_in) + 1e-9) / (np.expm1(mean_out) + 1e-9)) if d['log1p'] else mean_in - mean_out
        rows.append([float(p), float(lfc), float((x != 0).mean()), float((y != 0).mean())])
    out.append(rows)
print(json.dumps(out))
`;

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('wilcoxon markers', () => {
  for (const variant of [
    { name: 'sparse log1p', negative: false, scale: 'log1p' as const },
    { name: 'log scale with negatives', negative: true, scale: 'log' as const },
  ]) {
    it.skipIf(missing !== null)(`matches scipy mannwhitneyu (${variant.name})`, () => {
      const n = 70;
      const genes = 8;
      const { matrix, dense, codes } = fixture(n, genes, 11, variant.negative);
      const grouping: Grouping = { name: 'cluster', groups: ['a', 'b', 'c'], codes };
      const results = rankGenesGroups(matrix, [grouping], variant.scale);
      const reference = runPython<number[][][]>(SCRIPT, {
        X: Array.from(dense),
        n,
        genes,
        codes: Array.from(codes),
        log1p: variant.scale === 'log1p',
      });
      results.forEach((result, group) => {
        for (let g = 0; g < genes; g++) {
          const [p, lfc, pctIn, pctOut] = reference[group][g];
          expect(relativeError(result.p[g], p), `p group ${group} gene ${g}`).toBeLessThan(1e-6);
          expect(result.logFoldChange[g], `lfc group ${group} gene ${g}`).toBeCloseTo(lfc, 6);
          expect(result.pctIn[g], `pct_in group ${group} gene ${g}`).toBeCloseTo(pctIn, 12);
          expect(result.pctOut[g], `pct_out group ${group} gene ${g}`).toBeCloseTo(pctOut, 12);
        }
      });
    });
  }

  it('ranks planted markers first', () => {
    const { matrix, codes } = fixture(90, 10, 3);
    const [first, , third] = rankGenesGroups(matrix, [{ name: 'c', groups: ['a', 'b', 'c'], codes }], 'log1p');
    const topOfFirst = [0, 1, 2].map((gene) => first.rank[gene]).sort();
    expect(topOfFirst).toEqual([1, 2, 3]);
    expect(third.rank[5]).toBe(1);
    expect(first.statistic[0]).toBeGreaterThan(0);
  });

  it('shares ranks across groupings', () => {
    const { matrix, codes } = fixture(60, 6, 4);
    const other = Int32Array.from(codes, (code) => (code === 0 ? 0 : 1));
    const together = rankGenesGroups(
      matrix,
      [
        { name: 'x', groups: ['a', 'b', 'c'], codes },
        { name: 'y', groups: ['a', 'rest'], codes: other },
      ],
      'log1p',
    );
    const alone = rankGenesGroups(matrix, [{ name: 'y', groups: ['a', 'rest'], codes: other }], 'log1p');
    expect(Array.from(together[3].p)).toEqual(Array.from(alone[0].p));
  });

  it('leaves out samples coded -1', () => {
    const { matrix, codes } = fixture(60, 6, 5);
    const partial = Int32Array.from(codes, (code, i) => (i % 7 === 0 ? -1 : code));
    const [result] = rankGenesGroups(matrix, [{ name: 'label', groups: ['a', 'b', 'c'], codes: partial }], 'log1p');
    const kept = partial.filter((code) => code >= 0).length;
    expect(result.nIn + result.nOut).toBe(kept);
  });

  it('rejects groupings over different samples', () => {
    const { matrix, codes } = fixture(30, 3, 6);
    const partial = Int32Array.from(codes, (code, i) => (i === 0 ? -1 : code));
    expect(() =>
      rankGenesGroups(
        matrix,
        [
          { name: 'x', groups: ['a', 'b', 'c'], codes },
          { name: 'y', groups: ['a', 'b', 'c'], codes: partial },
        ],
        'log1p',
      ),
    ).toThrow(/different samples/);
  });

  it('computes benjamini-hochberg q-values', () => {
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.2]);
    const expected = [0.04, 0.16 / 3, 0.16 / 3, 0.2];
    expected.forEach((value, i) => expect(q[i], `q ${i}`).toBeCloseTo(value, 12));
  });

  it('keeps tiny p-values in the normal tail', () => {
    expect(twoSidedNormalP(10)).toBeCloseTo(1.523970604832105e-23, 35);
    expect(twoSidedNormalP(0)).toBe(1);
  });
});

describe('tiedRanks', () => {
  /** Average ranks by counting: (values below + values at or below + 1) / 2. */
  function countedRanks(values: Float32Array): number[] {
    return Array.from(values, (v) => {
      let below = 0;
      let atOrBelow = 0;
      for (const w of values) {
        if (w < v) below++;
        if (w <= v) atOrBelow++;
      }
      return (below + atOrBelow + 1) / 2;
    });
  }

  it('matches counting with ties and negatives', () => {
    const rng = new Rng(3);
    const values = Float32Array.from({ length: 500 }, () => (rng.int(40) - 15) / 4 || 0.125);
    const ranks = new Float64Array(values.length);
    tiedRanks(values, ranks);
    expect(Array.from(ranks)).toEqual(countedRanks(values));
  });

  it('returns the tie term', () => {
    // Blocks of 3 and 2 equal values: (27 - 3) + (8 - 2).
    const values = Float32Array.from([0.5, 2, 0.5, -1, 2, 0.5, 7]);
    expect(tiedRanks(values, new Float64Array(values.length))).toBe(30);
  });

  it('orders values that differ in the last float32 bit', () => {
    const a = Math.fround(1.1);
    const b = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([a]).buffer)[0] + 1]).buffer)[0];
    const values = Float32Array.from([b, a, -b, -a]);
    const ranks = new Float64Array(4);
    tiedRanks(values, ranks);
    expect(Array.from(ranks)).toEqual([4, 3, 1, 2]);
  });
});
