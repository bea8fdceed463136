import type { Rng } from '../util/rng.js';
import type { Features } from './features.js';

/**
 * A fitted classification tree in flat arrays. Node 0 is the root; a leaf has feature -1.
 * A sample goes left when its feature value is <= the threshold.
 */
export interface TreeState {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** Per node, the weighted class distribution (sums to 1), row-major nodes x classes; read at leaves. */
  value: number[];
}

export interface TreeOptions {
  /** Features drawn at each split (without replacement). */
  maxFeatures: number;
  /** Nodes deeper than this become leaves; Infinity grows until pure. */
  maxDepth: number;
  /** Minimum samples (with positive weight) in a node for it to be split. */
  minSamplesSplit: number;
}

/**
 * Row indices of `x` sorted by each column: element c is every row ordered by (x[row][c], row).
 * A forest computes this once and shares it between its trees.
 */
export function presortColumns(x: Features): Int32Array[] {
  const d = x.nCols;
  return Array.from({ length: d }, (_, c) => {
    const values = new Float64Array(x.nRows);
    for (let i = 0; i < x.nRows; i++) values[i] = x.data[i * d + c];
    return Int32Array.from({ length: x.nRows }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  });
}

/**
 * Grows a CART classification tree with the weighted Gini criterion, drawing `maxFeatures`
 * candidate features at each split as in Breiman's random forest and scikit-learn.
 * Samples with zero weight are left out (they are out of the bootstrap).
 *
 * The members of every node are kept sorted by each feature (`presorted`, from
 * {@link presortColumns}, restricted to the members), and a split partitions each feature's
 * order stably into the two children. A node then costs O(d * size) instead of a sort per
 * candidate feature, O(maxFeatures * size * log size).
 */
export function growTree(
  x: Features,
  y: Int32Array,
  weight: Float64Array,
  nClasses: number,
  options: TreeOptions,
  rng: Rng,
  presorted: Int32Array[] = presortColumns(x),
): TreeState {
  const d = x.nCols;
  const tree: TreeState = { feature: [], threshold: [], left: [], right: [], value: [] };
  let m = 0;
  for (let i = 0; i < y.length; i++) if (weight[i] > 0) m++;
  // sorted[c * m + p]: the p-th member in the order of feature c. Every node owns the same
  // range [start, end) of each feature's order.
  const sorted = new Int32Array(d * m);
  for (let c = 0; c < d; c++) {
    let at = c * m;
    for (const i of presorted[c]) if (weight[i] > 0) sorted[at++] = i;
  }
  const goesLeft = new Uint8Array(y.length);
  const spill = new Int32Array(m);

  const featureOrder = Int32Array.from({ length: d }, (_, j) => j);
  const leftCounts = new Float64Array(nClasses);
  const totalCounts = new Float64Array(nClasses);

  const countClasses = (start: number, end: number): number => {
    totalCounts.fill(0);
    for (let p = start; p < end; p++) totalCounts[y[sorted[p]]] += weight[sorted[p]];
    let total = 0;
    for (const c of totalCounts) total += c;
    return total;
  };

  const addNode = (start: number, end: number): number => {
    const node = tree.feature.length;
    const total = countClasses(start, end);
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    for (let k = 0; k < nClasses; k++) tree.value.push(total > 0 ? totalCounts[k] / total : 1 / nClasses);
    return node;
  };

  type Task = { node: number; start: number; end: number; depth: number };
  const stack: Task[] = [{ node: addNode(0, m), start: 0, end: m, depth: 0 }];

  while (stack.length > 0) {
    const { node, start, end, depth } = stack.pop()!;
    const size = end - start;
    if (size < options.minSamplesSplit || depth >= options.maxDepth) continue;

    const total = countClasses(start, end);
    let parentScore = 0;
    let nonEmpty = 0;
    for (const c of totalCounts) if (c > 0) nonEmpty++;
    if (nonEmpty <= 1) continue;
    for (const c of totalCounts) parentScore += (c * c) / total;

    // Minimizing the weighted Gini impurity of the children is maximizing
    // sum_k left_k^2 / left + sum_k right_k^2 / right.
    let bestScore = parentScore + 1e-12 * total;
    let bestFeature = -1;
    let bestThreshold = 0;
    let visited = 0;
    for (let f = 0; f < d && visited < options.maxFeatures; f++) {
      const pick = f + rng.int(d - f);
      const swap = featureOrder[f];
      featureOrder[f] = featureOrder[pick];
      featureOrder[pick] = swap;
      const feature = featureOrder[f];

      const base = feature * m;
      const lowest = x.data[sorted[base + start] * d + feature];
      const highest = x.data[sorted[base + end - 1] * d + feature];
      // A constant feature does not count towards maxFeatures, as in scikit-learn.
      if (highest <= lowest) continue;
      visited++;

      leftCounts.fill(0);
      let leftTotal = 0;
      for (let p = start; p < end - 1; p++) {
        const i = sorted[base + p];
        leftCounts[y[i]] += weight[i];
        leftTotal += weight[i];
        const current = x.data[i * d + feature];
        const next = x.data[sorted[base + p + 1] * d + feature];
        if (next <= current) continue;
        const rightTotal = total - leftTotal;
        let score = 0;
        for (let k = 0; k < nClasses; k++) {
          const right = totalCounts[k] - leftCounts[k];
          score += (leftCounts[k] * leftCounts[k]) / leftTotal + (right * right) / rightTotal;
        }
        if (score > bestScore) {
          bestScore = score;
          bestFeature = feature;
          bestThreshold = current + (next - current) / 2;
          // Guard against a midpoint that rounds up to `next`.
          if (bestThreshold >= next) bestThreshold = current;
        }
      }
    }
    if (bestFeature < 0) continue;

    // Partition every feature's order stably: left members first, each side still sorted.
    let split = start;
    for (let p = start; p < end; p++) {
      const i = sorted[p];
      const left = x.data[i * d + bestFeature] <= bestThreshold;
      goesLeft[i] = left ? 1 : 0;
      if (left) split++;
    }
    for (let c = 0; c < d; c++) {
      const base = c * m;
      let toLeft = base + start;
      let toSpill = 0;
      for (let p = base + start; p < base + end; p++) {
        const i = sorted[p];
        if (goesLeft[i]) sorted[toLeft++] = i;
        else spill[toSpill++] = i;
      }
      sorted.set(spill.subarray(0, toSpill), toLeft);
    }
    tree.feature[node] = bestFeature;
    tree.threshold[node] = bestThreshold;
    const left = addNode(start, split);
    const right = addNode(split, end);
    tree.left[node] = left;
    tree.right[node] = right;
    stack.push({ node: right, start: split, end, depth: depth + 1 });
    stack.push({ node: left, start, end: split, depth: depth + 1 });
  }
  return tree;
}

/** Adds the leaf distribution of each row of `x` into `out` (row-major rows x classes). */
export function accumulateTreeProba(tree: TreeState, x: Features, nClasses: number, out: Float64Array): void {
  const d = x.nCols;
  for (let i = 0; i < x.nRows; i++) {
    let node = 0;
    while (tree.feature[node] >= 0) {
      node = x.data[i * d + tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
    }
    for (let k = 0; k < nClasses; k++) out[i * nClasses + k] += tree.value[node * nClasses + k];
  }
}
