import { describe, expect, it } from 'vitest';
import type { Features } from '../../src/classify/features.js';
import { growTree, presortColumns, type TreeOptions, type TreeState } from '../../src/classify/tree.js';
import { Rng } from '../../src/util/rng.js';
import { blobs } from './fixtures.js';

/** Bootstrap weights as the forest draws them: each draw adds the sample's class weight. */
function bootstrapWeights(y: Int32Array, classWeight: number[], seed: number): Float64Array {
  const rng = new Rng(seed);
  const weight = new Float64Array(y.length);
  for (let draw = 0; draw < y.length; draw++) {
    const i = rng.int(y.length);
    weight[i] += classWeight[y[i]];
  }
  return weight;
}

/** Features rounded to one decimal, so that many values tie. */
function rounded(x: Features): Features {
  return { ...x, data: x.data.map((v) => Math.round(v * 10) / 10) };
}

describe('classification tree', () => {
  const { x, y } = blobs([120, 90, 60], 6, 1.5, 21);
  const options: TreeOptions = { maxFeatures: 2, maxDepth: Infinity, minSamplesSplit: 2 };

  for (const [name, features] of [
    ['continuous features', x],
    ['tied features', rounded(x)],
  ] as const) {
    it(`equals sorting per node: ${name}`, () => {
      const weight = bootstrapWeights(y, [1, 1, 1], 5);
      const expected = growTreeBySorting(features, y, weight, 3, options, new Rng(9));
      const actual = growTree(features, y, weight, 3, options, new Rng(9));
      expect(actual.feature).toEqual(expected.feature);
      expect(actual.threshold).toEqual(expected.threshold);
      expect(actual.left).toEqual(expected.left);
      expect(actual.value).toEqual(expected.value);
    });
  }

  it('matches sorting per node with class weights', () => {
    const weight = bootstrapWeights(y, [0.75, 1, 1.5], 6);
    const expected = growTreeBySorting(x, y, weight, 3, options, new Rng(10));
    const actual = growTree(x, y, weight, 3, options, new Rng(10), presortColumns(x));
    expect(actual.feature).toEqual(expected.feature);
    expect(actual.threshold).toEqual(expected.threshold);
    actual.value.forEach((value, i) => expect(value, `value ${i}`).toBeCloseTo(expected.value[i], 12));
  });

  it('stops at the maximum depth', () => {
    const tree = growTree(x, y, new Float64Array(y.length).fill(1), 3, { ...options, maxDepth: 2 }, new Rng(11));
    expect(tree.feature.length).toBeLessThanOrEqual(7);
  });

  it('leaves out samples with zero weight', () => {
    const weight = Float64Array.from(y, (k) => (k === 2 ? 0 : 1));
    const tree = growTree(x, y, weight, 3, options, new Rng(12));
    for (let node = 0; node < tree.feature.length; node++) expect(tree.value[node * 3 + 2], `node ${node}`).toBe(0);
  });
});

/**
 * The previous implementation, which sorts the node's members for every candidate feature:
 * the reference the presorted tree must reproduce split for split.
 */
function growTreeBySorting(
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

