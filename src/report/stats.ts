/** Small descriptive statistics for the report's tables. */

/** Quantile by linear interpolation between order statistics (numpy's default); NaN for no values. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

export interface FiveNumbers {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  n: number;
}

/** Minimum, quartiles and maximum of the finite values. */
export function fiveNumbers(values: ArrayLike<number>): FiveNumbers {
  const finite = Float64Array.from(Array.from(values).filter((v) => Number.isFinite(v))).sort();
  return {
    min: finite.length ? finite[0] : NaN,
    q1: quantile(finite, 0.25),
    median: quantile(finite, 0.5),
    q3: quantile(finite, 0.75),
    max: finite.length ? finite[finite.length - 1] : NaN,
    n: finite.length,
  };
}

/** Counts of each distinct value, largest first, ties in first-seen order. */
export function countValues<T>(values: Iterable<T>): [T, number][] {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}
