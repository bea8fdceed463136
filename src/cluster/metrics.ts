/**
 * Agreement between two partitions of the same samples: contingency table, adjusted Rand
 * index and normalized mutual information, with the definitions scikit-learn 1.2 uses
 * (`adjusted_rand_score`, `normalized_mutual_info_score` with the arithmetic mean).
 */

/** Counts of samples per pair of groups; groups are the distinct codes of each partition, ascending. */
export interface Contingency {
  /** Distinct codes of the first partition, ascending. */
  rows: number[];
  /** Distinct codes of the second partition, ascending. */
  columns: number[];
  /** counts[i][j]: samples with rows[i] in the first partition and columns[j] in the second. */
  counts: number[][];
}

export function contingency(a: ArrayLike<number>, b: ArrayLike<number>): Contingency {
  if (a.length !== b.length) throw new Error(`contingency: partitions have ${a.length} and ${b.length} samples`);
  const rows = [...new Set(Array.from(a))].sort((x, y) => x - y);
  const columns = [...new Set(Array.from(b))].sort((x, y) => x - y);
  const rowIndex = new Map(rows.map((code, i) => [code, i]));
  const columnIndex = new Map(columns.map((code, j) => [code, j]));
  const counts = rows.map(() => new Array<number>(columns.length).fill(0));
  for (let s = 0; s < a.length; s++) counts[rowIndex.get(a[s])!][columnIndex.get(b[s])!] += 1;
  return { rows, columns, counts };
}

function pairs(n: number): number {
  return (n * (n - 1)) / 2;
}

/** Adjusted Rand index (Hubert and Arabie 1985); 1 for identical partitions, about 0 for random ones. */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = contingency(a, b);
  let sumCells = 0;
  const rowSums = new Array<number>(table.rows.length).fill(0);
  const columnSums = new Array<number>(table.columns.length).fill(0);
  table.counts.forEach((row, i) =>
    row.forEach((count, j) => {
      sumCells += pairs(count);
      rowSums[i] += count;
      columnSums[j] += count;
    }),
  );
  const sumRows = rowSums.reduce((total, count) => total + pairs(count), 0);
  const sumColumns = columnSums.reduce((total, count) => total + pairs(count), 0);
  const expected = (sumRows * sumColumns) / pairs(n);
  const maximum = (sumRows + sumColumns) / 2;
  // Both partitions trivial (one group, or one sample per group): scikit-learn returns 1.
  if (maximum === expected) return 1;
  return (sumCells - expected) / (maximum - expected);
}

function entropy(counts: number[], n: number): number {
  let h = 0;
  for (const count of counts) if (count > 0) h -= (count / n) * Math.log(count / n);
  return h;
}

/** Mutual information in nats. */
export function mutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = contingency(a, b);
  const rowSums = table.counts.map((row) => row.reduce((x, y) => x + y, 0));
  const columnSums = table.columns.map((_, j) => table.counts.reduce((total, row) => total + row[j], 0));
  let mi = 0;
  table.counts.forEach((row, i) =>
    row.forEach((count, j) => {
      if (count > 0) mi += (count / n) * Math.log((count * n) / (rowSums[i] * columnSums[j]));
    }),
  );
  return Math.max(mi, 0);
}

/** Normalized mutual information, MI / mean(H(a), H(b)) with the arithmetic mean, as scikit-learn's default. */
export function normalizedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = contingency(a, b);
  // Both partitions trivial (one group each, or one sample per group): scikit-learn returns 1.
  if (
    (table.rows.length === 1 && table.columns.length === 1) ||
    (table.rows.length === n && table.columns.length === n)
  ) {
    return 1;
  }
  const rowSums = table.counts.map((row) => row.reduce((x, y) => x + y, 0));
  const columnSums = table.columns.map((_, j) => table.counts.reduce((total, row) => total + row[j], 0));
  const mi = mutualInformation(a, b);
  const normalizer = (entropy(rowSums, n) + entropy(columnSums, n)) / 2;
  if (normalizer < Number.EPSILON) return mi < Number.EPSILON ? 1 : 0;
  return mi / Math.max(normalizer, Number.EPSILON);
}

/** Jaccard similarity of two sets of sample indices (|A ∩ B| / |A ∪ B|); 0 when both are empty. */
export function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  let shared = 0;
  for (const item of a) if (b.has(item)) shared += 1;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}
