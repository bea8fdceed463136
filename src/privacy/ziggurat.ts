import erfc from '@stdlib/math-base-special-erfc';

/**
 * Tables and slow paths of the ziggurat method for the standard normal distribution
 * (Marsaglia and Tsang 2000, "The Ziggurat Method for Generating Random Variables", J. Stat.
 * Softw. 5(8)), with the layer index drawn from bits independent of the uniform, as Doornik
 * (2005, "An Improved Ziggurat Method to Generate Normal Random Samples") recommends. The
 * method is exact: every path accepts a point uniform under the density, so its output is
 * Gaussian up to the floating-point rounding of the tables and of the uniforms.
 *
 * Written here rather than taken from @stdlib/random-base-improved-ziggurat, because that
 * package draws the layer index from an MT19937 seeded by the given generator, which would
 * put a non-cryptographic generator into DP-SGD's noise. It also draws one value per callback.
 */

/** Unnormalised standard normal density, as the ziggurat uses it: f(0) = 1. */
function density(x: number): number {
  return Math.exp(-0.5 * x * x);
}

/** Normal ziggurat of n equal-area layers: the base layer (rectangle plus tail) and n - 1 rectangles. */
export interface NormalZiggurat {
  /** Number of layers; a power of two, so that the low bits of a random word pick one. */
  layers: number;
  /** Start of the tail: the base rectangle covers [0, r] and the tail [r, ∞). */
  r: number;
  /** Area of every layer under the unnormalised density exp(-x²/2). */
  area: number;
  /**
   * Right edges, decreasing, length layers + 1: edges[0] = area / f(r) (the width the base
   * layer would have as a rectangle), edges[1] = r, ..., edges[layers] = 0. A point
   * u·edges[i] with u uniform in [0, 1) and below edges[i + 1] lies inside the density.
   */
  edges: Float64Array;
  /**
   * edges[i + 1] / edges[i]: u < innerRatios[i] puts u·edges[i] inside the density. Rounding the
   * ratio moves at most one 53-bit u per layer across the boundary, where the slow path would
   * accept it anyway with probability 1 - O(2^-53).
   */
  innerRatios: Float64Array;
  /** edges followed by their negatives, length 2·layers: the index's bit log2(layers) picks the sign. */
  signedEdges: Float64Array;
  /** f(edges[i]) = exp(-edges[i]² / 2): the bottom of layer i, and the top of layer i - 1. */
  heights: Float64Array;
  /** Relative error of the top layer's area after solving for r; tests check it is at rounding level. */
  topAreaError: number;
}

/**
 * Builds the right edges from the tail start r by stacking equal-area rectangles upward.
 * Returns null when r is too small: the layers then reach the peak before the last one.
 */
function stackLayers(layers: number, r: number, area: number): Float64Array | null {
  const edges = new Float64Array(layers + 1);
  edges[0] = area / density(r);
  edges[1] = r;
  for (let i = 1; i < layers - 1; i++) {
    // The rectangle above layer i spans [f(edges[i]), f(edges[i + 1])] in height and has width edges[i].
    const top = area / edges[i] + density(edges[i]);
    if (!(top < 1)) return null;
    edges[i + 1] = Math.sqrt(-2 * Math.log(top));
  }
  edges[layers] = 0;
  return edges;
}

/** Area of the base layer for tail start r: the rectangle r·f(r) plus ∫_r^∞ f = √(π/2)·erfc(r/√2). */
function baseArea(r: number): number {
  return r * density(r) + Math.sqrt(Math.PI / 2) * erfc(r * Math.SQRT1_2);
}

/**
 * Solves for the tail start r at which the top layer [0, edges[n-1]] × [f(edges[n-1]), 1] has
 * the same area as the others, by bisection to adjacent doubles. Too small an r makes the layers
 * reach the peak early (a top layer too small, or none), too large an r leaves the top layer
 * too large, so the residual rises monotonically in r.
 */
export function buildNormalZiggurat(layers: number): NormalZiggurat {
  if (!(Number.isInteger(layers) && layers >= 4 && (layers & (layers - 1)) === 0)) {
    throw new RangeError(`ziggurat layer count must be a power of two >= 4, got ${layers}`);
  }
  const topError = (r: number): number => {
    const area = baseArea(r);
    const edges = stackLayers(layers, r, area);
    if (edges === null) return -Infinity;
    const top = edges[layers - 1];
    return (top * (1 - density(top)) - area) / area;
  };
  let low = 1;
  let high = 10;
  while (true) {
    const middle = 0.5 * (low + high);
    if (middle <= low || middle >= high) break;
    if (topError(middle) < 0) low = middle;
    else high = middle;
  }
  const r = Math.abs(topError(low)) < Math.abs(topError(high)) ? low : high;
  const area = baseArea(r);
  const edges = stackLayers(layers, r, area)!;
  const heights = edges.map(density);
  const signedEdges = new Float64Array(2 * layers);
  for (let i = 0; i < layers; i++) {
    signedEdges[i] = edges[i];
    signedEdges[layers + i] = -edges[i];
  }
  const innerRatios = new Float64Array(layers);
  for (let i = 0; i < layers; i++) innerRatios[i] = edges[i + 1] / edges[i];
  return { layers, r, area, edges, innerRatios, signedEdges, heights, topAreaError: topError(r) };
}

/** The 256-layer ziggurat that SecureRandom.fillGaussian uses: 98.5% of draws take the rectangle fast path. */
export const NORMAL_ZIGGURAT = buildNormalZiggurat(256);

/** A source of uniform numbers in [0, 1). */
export interface UniformSource {
  uniform(): number;
}

/**
 * Finishes a draw x = u·edges[layer] that fell outside the rectangle inside the density. In the
 * base layer it returns a sample from the tail beyond r. In any other layer it returns x if a
 * uniform height under the layer's rectangle falls below f(x), and NaN when it rejects the
 * point, after which the caller draws again from a fresh layer.
 */
export function zigguratSlowPath(table: NormalZiggurat, layer: number, x: number, source: UniformSource): number {
  if (layer === 0) return sampleNormalTail(table.r, source);
  const bottom = table.heights[layer];
  const top = table.heights[layer + 1];
  return bottom + source.uniform() * (top - bottom) < density(x) ? x : NaN;
}

/**
 * Draws from the standard normal conditioned on exceeding r > 0, exactly: Marsaglia (1964,
 * "Generating a Variable from the Tail of the Normal Distribution", Technometrics 6(1)) accepts
 * r + t with t exponential of rate r when an independent unit exponential e has 2e > t².
 */
export function sampleNormalTail(r: number, source: UniformSource): number {
  for (;;) {
    // -log1p(-u) with u in [0, 1) is a unit exponential, finite because 1 - u > 0.
    const t = -Math.log1p(-source.uniform()) / r;
    const e = -Math.log1p(-source.uniform());
    if (e + e > t * t) return r + t;
  }
}
