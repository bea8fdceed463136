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
 * Grows a CART classification tree with the weighted Gini criterion, drawing `maxFeatures`
 * candidate features at each split as in Breiman's random forest and scikit-learn.
 * Samples with zero weight are left out (they are out of the bootstrap).
 */
export function growTree(
  x: Features,
  y: Int32Array,
  weight: Float64Array,
  nClasses: number,
  options: TreeOptions,
  rng: Rng,
): TreeState {
  const d = x.nCols;
  const tree: TreeState = { feature: [], threshold: [], left: [], right: [], value: [] };
  const members: number[] = [];
  for (let i = 0; i < y.length; i++) if (weight[i] > 0) members.push(i);
  const indices = Int32Array.from(members);

  const featureOrder = Int32Array.from({ length: d }, (_, j) => j);
  const leftCounts = new Float64Array(nClasses);
  const totalCounts = new Float64Array(nClasses);
  const sortBuffer: number[] = [];

  const addNode = (start: number, end: number): number => {
    const node = tree.feature.length;
    totalCounts.fill(0);
    for (let p = start; p < end; p++) totalCounts[y[indices[p]]] += weight[indices[p]];
    let total = 0;
    for (const c of totalCounts) total += c;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    for (let k = 0; k < nClasses; k++) tree.value.push(total > 0 ? totalCounts[k] / total : 1 / nClasses);
    return node;
  };

  type Task = { node: number; start: number; end: number; depth: number };
  const stack: Task[] = [{ node: addNode(0, indices.length), start: 0, end: indices.length, depth: 0 }];

  while (stack.length > 0) {
    const { node, start, end, depth } = stack.pop()!;
    const size = end - start;
    if (size < options.minSamplesSplit || depth >= options.maxDepth) continue;

    totalCounts.fill(0);
    for (let p = start; p < end; p++) totalCounts[y[indices[p]]] += weight[indices[p]];
    let total = 0;
    let parentScore = 0;
    let nonEmpty = 0;
    for (const c of totalCounts) {
      total += c;
      if (c > 0) nonEmpty++;
    }
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

      sortBuffer.length = 0;
      for (let p = start; p < end; p++) sortBuffer.push(indices[p]);
      sortBuffer.sort((a, b) => x.data[a * d + feature] - x.data[b * d + feature]);
      const lowest = x.data[sortBuffer[0] * d + feature];
      const highest = x.data[sortBuffer[size - 1] * d + feature];
      // A constant feature does not count towards maxFeatures, as in scikit-learn.
      if (highest <= lowest) continue;
      visited++;

      leftCounts.fill(0);
      let leftTotal = 0;
      for (let p = 0; p < size - 1; p++) {
        const i = sortBuffer[p];
        leftCounts[y[i]] += weight[i];
        leftTotal += weight[i];
        const current = x.data[i * d + feature];
        const next = x.data[sortBuffer[p + 1] * d + feature];
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

    // Partition indices[start, end) in place around the threshold.
    let split = start;
    for (let p = start; p < end; p++) {
      const i = indices[p];
      if (x.data[i * d + bestFeature] <= bestThreshold) {
        indices[p] = indices[split];
        indices[split] = i;
        split++;
      }
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
