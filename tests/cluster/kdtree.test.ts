import { describe, expect, it } from 'vitest';
import { KdTree, type PointSet } from '../../src/cluster/kdtree.js';
import { Rng } from '../../src/util/rng.js';

/** Brute force: every row by (squared distance, index), `self` first when given. */
function bruteForce(points: PointSet, query: ArrayLike<number>, k: number, self = -1): { indices: number[]; squared: number[] } {
  const entries: { j: number; squared: number }[] = [];
  for (let j = 0; j < points.nRows; j++) {
    if (j === self) continue;
    let squared = 0;
    for (let c = 0; c < points.nCols; c++) squared += (query[c] - points.data[j * points.nCols + c]) ** 2;
    entries.push({ j, squared });
  }
  entries.sort((a, b) => a.squared - b.squared || a.j - b.j);
  const kept = entries.slice(0, self >= 0 ? k - 1 : k);
  if (self >= 0) kept.unshift({ j: self, squared: 0 });
  return { indices: kept.map((e) => e.j), squared: kept.map((e) => e.squared) };
}

/** Points on a coarse grid, so that many distances tie and some points coincide. */
function gridPoints(n: number, d: number, seed: number, Array: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): PointSet {
  const rng = new Rng(seed);
  const data = new Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(5) - 2;
  return { nRows: n, nCols: d, data };
}

function gaussianPoints(n: number, d: number, seed: number): PointSet {
  const rng = new Rng(seed);
  return { nRows: n, nCols: d, data: Float32Array.from({ length: n * d }, () => rng.normal()) };
}

describe('kd-tree', () => {
  const cases: { name: string; points: PointSet; k: number; leafSize: number }[] = [
    { name: 'gaussian, 3-D', points: gaussianPoints(400, 3, 1), k: 7, leafSize: 4 },
    { name: 'gaussian, 10-D', points: gaussianPoints(500, 10, 2), k: 15, leafSize: 16 },
    { name: 'grid with ties, 4-D', points: gridPoints(300, 4, 3), k: 10, leafSize: 2 },
    { name: 'grid with ties, float32', points: gridPoints(300, 2, 4, Float32Array), k: 12, leafSize: 8 },
    { name: 'leaf size 1', points: gaussianPoints(64, 2, 5), k: 5, leafSize: 1 },
  ];

  for (const { name, points, k, leafSize } of cases) {
    it(`matches brute force: ${name}`, () => {
      const tree = KdTree.build(points, leafSize);
      for (let i = 0; i < points.nRows; i += 7) {
        const query = points.data.subarray(i * points.nCols, (i + 1) * points.nCols);
        const found = tree.query(query, k);
        const expected = bruteForce(points, query, k);
        expect(Array.from(found.indices.subarray(0, found.count)), `row ${i} indices`).toEqual(expected.indices);
        expect(Array.from(found.squared.subarray(0, found.count)), `row ${i} distances`).toEqual(expected.squared);
      }
    });

    it(`lists self first: ${name}`, () => {
      const tree = KdTree.build(points, leafSize);
      for (let i = 0; i < points.nRows; i += 11) {
        const query = points.data.subarray(i * points.nCols, (i + 1) * points.nCols);
        const found = tree.query(query, k, i);
        expect(Array.from(found.indices.subarray(0, found.count)), `row ${i}`).toEqual(bruteForce(points, query, k, i).indices);
      }
    });
  }

  it('queries points outside the tree', () => {
    const points = gaussianPoints(300, 5, 6);
    const tree = KdTree.build(points, 8);
    const rng = new Rng(7);
    for (let q = 0; q < 20; q++) {
      const query = Float64Array.from({ length: 5 }, () => rng.normal(0, 3));
      expect(Array.from(tree.query(query, 6).indices), `query ${q}`).toEqual(bruteForce(points, query, 6).indices);
    }
  });

  it('returns fewer neighbours than k when short of points', () => {
    const tree = KdTree.build(gaussianPoints(4, 2, 8));
    const found = tree.query([0, 0], 10);
    expect(found.count).toBe(4);
  });

  it('keeps identical points in one leaf', () => {
    const points: PointSet = { nRows: 50, nCols: 3, data: new Float64Array(150).fill(1) };
    const found = KdTree.build(points, 4).query([1, 1, 1], 5);
    expect(Array.from(found.indices)).toEqual([0, 1, 2, 3, 4]);
  });

  it('handles an empty point set', () => {
    const found = KdTree.build({ nRows: 0, nCols: 2, data: new Float64Array(0) }).query([0, 0], 3);
    expect(found.count).toBe(0);
  });

  it('reuses the output buffers', () => {
    const points = gaussianPoints(100, 4, 9);
    const tree = KdTree.build(points);
    const out = { indices: new Int32Array(5), squared: new Float64Array(5), count: 0 };
    const found = tree.query(points.data.subarray(0, 4), 5, -1, out);
    expect(found).toBe(out);
  });
});
