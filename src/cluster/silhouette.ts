import type { DenseMatrix } from '../matrix/dense.js';

/**
 * Mean silhouette coefficient with Euclidean distance, as scikit-learn's `silhouette_score`:
 * s(i) = (b - a) / max(a, b), where a is the mean distance to the other members of i's
 * cluster and b the smallest mean distance to another cluster; s(i) = 0 when i is alone in
 * its cluster. With `rows`, only those samples take part (distances among them only), which
 * is what scikit-learn's `sample_size` does.
 *
 * Cost is O(m^2 d) time and O(m k) memory for m samples, so callers subsample large cohorts.
 */
export function silhouetteScore(points: DenseMatrix, labels: ArrayLike<number>, rows?: ArrayLike<number>): number {
  const members = rows ? Int32Array.from(rows) : Int32Array.from({ length: points.nRows }, (_, i) => i);
  const m = members.length;
  const codes = new Map<number, number>();
  const group = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const label = labels[members[i]];
    if (!codes.has(label)) codes.set(label, codes.size);
    group[i] = codes.get(label)!;
  }
  const k = codes.size;
  if (k < 2 || k > m - 1) {
    throw new Error(`silhouette needs 2 <= clusters <= samples - 1, got ${k} clusters for ${m} samples`);
  }
  const sizes = new Int32Array(k);
  for (let i = 0; i < m; i++) sizes[group[i]] += 1;

  // sums[i * k + c]: total distance from sample i to the samples of cluster c.
  const sums = new Float64Array(m * k);
  const d = points.nCols;
  const data = points.data;
  for (let i = 0; i < m; i++) {
    const offsetI = members[i] * d;
    for (let j = i + 1; j < m; j++) {
      const offsetJ = members[j] * d;
      let squared = 0;
      for (let c = 0; c < d; c++) {
        const diff = data[offsetI + c] - data[offsetJ + c];
        squared += diff * diff;
      }
      const distance = Math.sqrt(squared);
      sums[i * k + group[j]] += distance;
      sums[j * k + group[i]] += distance;
    }
  }

  let total = 0;
  for (let i = 0; i < m; i++) {
    const own = group[i];
    if (sizes[own] === 1) continue;
    const a = sums[i * k + own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own) b = Math.min(b, sums[i * k + c] / sizes[c]);
    const denominator = Math.max(a, b);
    total += denominator > 0 ? (b - a) / denominator : 0;
  }
  return total / m;
}
