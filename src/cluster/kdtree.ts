/**
 * Exact k-nearest-neighbour search with a kd-tree (Bentley 1975; Friedman, Bentley and Finkel
 * 1977), as scikit-learn's KDTree: median splits on the widest dimension, leaves of at most
 * `leafSize` points, and a depth-first search that visits the nearer child first and skips a
 * node whose bounding box is farther than the current k-th neighbour.
 *
 * The search is exact, and it breaks ties in distance by the lower row index, so it returns the
 * same neighbours, in the same order, as a brute-force scan that sorts by (distance, index).
 * It pays off in the low dimensions of a latent space. Above about 20 dimensions most boxes
 * overlap the search ball, and the search approaches a brute-force scan.
 * Written by hand because no maintained npm package offers an exact kd-tree over typed arrays
 * with this tie order (kd-tree-javascript and static-kdtree are unmaintained and box every point).
 */

/** Row-major points: row i is data[i * nCols .. (i + 1) * nCols). */
export interface PointSet {
  nRows: number;
  nCols: number;
  data: Float32Array | Float64Array;
}

/** Neighbours of one query: indices and squared Euclidean distances, nearest first. */
export interface NeighborList {
  indices: Int32Array;
  squared: Float64Array;
  /** Neighbours found: k, or fewer when the tree holds fewer points. */
  count: number;
}

const DEFAULT_LEAF_SIZE = 16;

export class KdTree {
  /** Row indices, permuted so that every node owns the contiguous range [start, end). */
  private readonly order: Int32Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  /** Children of each node; -1 for a leaf. */
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** Bounding box of each node's points, nodes x nCols. */
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  /** The points in tree order (row p is row order[p] of the input), so that a leaf is contiguous in memory. */
  private readonly ordered: Float64Array;
  /** Search stack of `query`: at most one pending sibling per level plus the current pair. */
  private readonly stackNode: Int32Array;
  private readonly stackBound: Float64Array;

  private constructor(
    readonly points: PointSet,
    order: Int32Array,
    nodes: { start: number[]; end: number[]; left: number[]; right: number[]; lower: Float64Array; upper: Float64Array },
  ) {
    this.order = order;
    this.start = Int32Array.from(nodes.start);
    this.end = Int32Array.from(nodes.end);
    this.left = Int32Array.from(nodes.left);
    this.right = Int32Array.from(nodes.right);
    this.lower = nodes.lower;
    this.upper = nodes.upper;
    let depth = 0;
    const levels = new Int32Array(this.start.length);
    for (let node = 0; node < this.start.length; node++) {
      if (this.left[node] >= 0) {
        levels[this.left[node]] = levels[node] + 1;
        levels[this.right[node]] = levels[node] + 1;
      }
      depth = Math.max(depth, levels[node]);
    }
    const d = points.nCols;
    this.ordered = new Float64Array(order.length * d);
    for (let p = 0; p < order.length; p++) {
      for (let c = 0; c < d; c++) this.ordered[p * d + c] = points.data[order[p] * d + c];
    }
    this.stackNode = new Int32Array(depth + 2);
    this.stackBound = new Float64Array(depth + 2);
  }

  /** Builds the tree over every row of `points` in O(n log n); the points are referenced, not copied. */
  static build(points: PointSet, leafSize = DEFAULT_LEAF_SIZE): KdTree {
    const { nRows: n, nCols: d, data } = points;
    if (!Number.isInteger(leafSize) || leafSize < 1) throw new Error(`kd-tree leaf size must be a positive integer, got ${leafSize}`);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    // Only nodes of more than leafSize points split, so every leaf holds at least
    // ceil((leafSize + 1) / 2) points, and a binary tree has fewer than twice as many nodes as leaves.
    const capacity = 2 * Math.ceil(n / Math.ceil((leafSize + 1) / 2)) + 1;
    const lower = new Float64Array(capacity * d);
    const upper = new Float64Array(capacity * d);
    const nodes = { start: [] as number[], end: [] as number[], left: [] as number[], right: [] as number[], lower, upper };

    const addNode = (from: number, to: number): number => {
      const node = nodes.start.length;
      nodes.start.push(from);
      nodes.end.push(to);
      nodes.left.push(-1);
      nodes.right.push(-1);
      for (let c = 0; c < d; c++) {
        let low = Infinity;
        let high = -Infinity;
        for (let p = from; p < to; p++) {
          const value = data[order[p] * d + c];
          if (value < low) low = value;
          if (value > high) high = value;
        }
        lower[node * d + c] = low;
        upper[node * d + c] = high;
      }
      return node;
    };

    const stack = [addNode(0, n)];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const from = nodes.start[node];
      const to = nodes.end[node];
      if (to - from <= leafSize) continue;
      let widest = 0;
      let width = -1;
      for (let c = 0; c < d; c++) {
        const spread = upper[node * d + c] - lower[node * d + c];
        if (spread > width) {
          width = spread;
          widest = c;
        }
      }
      // Identical points cannot be separated: the node stays a leaf, however large.
      if (width <= 0) continue;
      const middle = (from + to) >> 1;
      selectNth(order, from, to, middle, data, d, widest);
      nodes.left[node] = addNode(from, middle);
      nodes.right[node] = addNode(middle, to);
      stack.push(nodes.left[node], nodes.right[node]);
    }
    return new KdTree(points, order, nodes);
  }

  /**
   * Finds the k nearest rows of the tree to `query` (a vector of nCols values), ordered by
   * (squared distance, row index). With `self` >= 0 that row is listed first with distance 0,
   * whatever its true rank, and not again, as kNN graphs of a point set expect.
   * `out` is reused when given, so that a loop over many queries allocates nothing.
   */
  query(query: ArrayLike<number>, k: number, self = -1, out?: NeighborList): NeighborList {
    const d = this.points.nCols;
    const data = this.ordered;
    const result = out && out.indices.length >= k ? out : { indices: new Int32Array(k), squared: new Float64Array(k), count: 0 };
    const bestIndex = result.indices;
    const bestSquared = result.squared;
    let filled = 0;
    if (k <= 0) {
      result.count = 0;
      return result;
    }
    if (self >= 0) {
      bestIndex[0] = self;
      bestSquared[0] = -1;
      filled = 1;
    }

    const { order, start, end, left, right } = this;
    // Depth-first with an explicit stack of nodes and the squared distance to their boxes.
    const stackNode = this.stackNode;
    const stackBound = this.stackBound;
    let top = 0;
    stackNode[top] = 0;
    stackBound[top++] = this.boxSquared(0, query);
    while (top > 0) {
      const node = stackNode[--top];
      if (filled === k && stackBound[top] > bestSquared[k - 1]) continue;
      const leftChild = left[node];
      if (leftChild < 0) {
        for (let p = start[node]; p < end[node]; p++) {
          const j = order[p];
          if (j === self) continue;
          let squared = 0;
          const offset = p * d;
          for (let c = 0; c < d; c++) {
            const diff = query[c] - data[offset + c];
            squared += diff * diff;
          }
          if (filled === k && (squared > bestSquared[k - 1] || (squared === bestSquared[k - 1] && j > bestIndex[k - 1]))) continue;
          let at = filled < k ? filled++ : k - 1;
          while (at > 0 && (bestSquared[at - 1] > squared || (bestSquared[at - 1] === squared && bestIndex[at - 1] > j))) {
            bestSquared[at] = bestSquared[at - 1];
            bestIndex[at] = bestIndex[at - 1];
            at--;
          }
          bestSquared[at] = squared;
          bestIndex[at] = j;
        }
        continue;
      }
      const rightChild = right[node];
      const leftBound = this.boxSquared(leftChild, query);
      const rightBound = this.boxSquared(rightChild, query);
      // The nearer child is pushed last so that it is searched first, shrinking the k-th
      // distance before the farther child is tested.
      if (leftBound <= rightBound) {
        stackNode[top] = rightChild;
        stackBound[top++] = rightBound;
        stackNode[top] = leftChild;
        stackBound[top++] = leftBound;
      } else {
        stackNode[top] = leftChild;
        stackBound[top++] = leftBound;
        stackNode[top] = rightChild;
        stackBound[top++] = rightBound;
      }
    }
    if (self >= 0) bestSquared[0] = 0;
    result.count = filled;
    return result;
  }

  /** Squared distance from `query` to the bounding box of `node` (0 inside it). */
  private boxSquared(node: number, query: ArrayLike<number>): number {
    const d = this.points.nCols;
    let squared = 0;
    for (let c = 0; c < d; c++) {
      const value = query[c];
      const low = this.lower[node * d + c];
      const high = this.upper[node * d + c];
      const gap = value < low ? low - value : value > high ? value - high : 0;
      squared += gap * gap;
    }
    return squared;
  }
}

/**
 * Reorders order[from, to) so that order[nth] holds the row whose `column` value has that rank,
 * with no larger value before it and no smaller one after it (Hoare's quickselect).
 */
function selectNth(order: Int32Array, from: number, to: number, nth: number, data: ArrayLike<number>, d: number, column: number): void {
  let low = from;
  let high = to - 1;
  while (high > low) {
    const pivot = data[order[(low + high) >> 1] * d + column];
    let i = low;
    let j = high;
    while (i <= j) {
      while (data[order[i] * d + column] < pivot) i++;
      while (data[order[j] * d + column] > pivot) j--;
      if (i <= j) {
        const swap = order[i];
        order[i] = order[j];
        order[j] = swap;
        i++;
        j--;
      }
    }
    if (nth <= j) high = j;
    else if (nth >= i) low = i;
    else return;
  }
}
