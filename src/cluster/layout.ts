import { findABParams } from 'umap-js/dist/umap.js';
import type { WeightedEdges } from './graph.js';

/** Settings of the UMAP layout optimisation, with umap-learn's names and defaults. */
export interface LayoutSettings {
  /** Passes over the edges. */
  nEpochs: number;
  /** Smallest distance between points in the layout; with `spread` it sets the curve parameters a and b. */
  minDist: number;
  /** Scale of the embedded points. Default 1. */
  spread?: number;
  /** Negative samples per positive edge sample. Default 5. */
  negativeSampleRate?: number;
  /** Initial learning rate, decayed linearly to 0. Default 1. */
  learningRate?: number;
  /** Weight of the repulsive (negative-sample) term. Default 1. */
  repulsionStrength?: number;
}

/** Largest gradient step per coordinate, as umap-learn clips it. */
const CLIP = 4;

function clip(value: number): number {
  if (value > CLIP) return CLIP;
  if (value < -CLIP) return -CLIP;
  return value;
}

/**
 * Lays the graph out in 2-D by UMAP's stochastic gradient descent, as umap-learn's
 * optimize_layout_euclidean (which umap-js 1.4 ports). Each edge pulls its two ends together as
 * often as its weight allows. Every pull comes with negative samples that push the head away
 * from random points. The layout starts from uniform random coordinates in [-10, 10], as umap-js does.
 *
 * Written over typed arrays because umap-js 1.4 keeps its graph in a sparse matrix keyed by
 * strings and builds a search graph for `transform` that the pipeline never uses: at 50,000
 * samples its setup took longer than this whole optimisation. The arithmetic is the same, so a
 * layout differs from umap-js's only through the order of random draws.
 *
 * Returns the embedding as n x 2 row-major coordinates.
 */
export function optimizeLayout(edges: WeightedEdges, settings: LayoutSettings, random: () => number): Float32Array {
  const { n } = edges;
  const nEpochs = settings.nEpochs;
  const negativeSampleRate = settings.negativeSampleRate ?? 5;
  const initialAlpha = settings.learningRate ?? 1;
  const gamma = settings.repulsionStrength ?? 1;
  const { a, b } = findABParams(settings.spread ?? 1, settings.minDist);

  // Each undirected edge is sampled in both directions, as umap-learn walks its symmetric matrix.
  // Edges too weak to be sampled once in nEpochs are dropped, as umap-learn does.
  let maxWeight = 0;
  for (const weight of edges.weights) if (weight > maxWeight) maxWeight = weight;
  const kept: number[] = [];
  for (let e = 0; e < edges.weights.length; e++) if (edges.weights[e] >= maxWeight / nEpochs) kept.push(e);
  const m = kept.length * 2;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const epochsPerSample = new Float64Array(m);
  kept.forEach((e, r) => {
    const period = maxWeight / edges.weights[e];
    head[2 * r] = edges.sources[e];
    tail[2 * r] = edges.targets[e];
    head[2 * r + 1] = edges.targets[e];
    tail[2 * r + 1] = edges.sources[e];
    epochsPerSample[2 * r] = period;
    epochsPerSample[2 * r + 1] = period;
  });
  const epochOfNextSample = Float64Array.from(epochsPerSample);
  const epochsPerNegativeSample = epochsPerSample.map((period) => period / negativeSampleRate);
  const epochOfNextNegativeSample = Float64Array.from(epochsPerNegativeSample);

  const embedding = new Float32Array(n * 2);
  for (let i = 0; i < embedding.length; i++) embedding[i] = random() * 20 - 10;

  for (let epoch = 0; epoch < nEpochs; epoch++) {
    // umap-learn lowers the rate after each epoch, so the first two epochs both use the initial rate.
    const alpha = initialAlpha * (1 - Math.max(0, epoch - 1) / nEpochs);
    for (let e = 0; e < m; e++) {
      if (epochOfNextSample[e] > epoch) continue;
      const j = head[e];
      const k = tail[e];
      let dx = embedding[2 * j] - embedding[2 * k];
      let dy = embedding[2 * j + 1] - embedding[2 * k + 1];
      let squared = dx * dx + dy * dy;
      if (squared > 0) {
        const coefficient = (-2 * a * b * Math.pow(squared, b - 1)) / (a * Math.pow(squared, b) + 1);
        const gx = clip(coefficient * dx) * alpha;
        const gy = clip(coefficient * dy) * alpha;
        embedding[2 * j] += gx;
        embedding[2 * j + 1] += gy;
        embedding[2 * k] -= gx;
        embedding[2 * k + 1] -= gy;
      }
      epochOfNextSample[e] += epochsPerSample[e];

      const nNegative = Math.floor((epoch - epochOfNextNegativeSample[e]) / epochsPerNegativeSample[e]);
      for (let p = 0; p < nNegative; p++) {
        const other = Math.floor(random() * n);
        dx = embedding[2 * j] - embedding[2 * other];
        dy = embedding[2 * j + 1] - embedding[2 * other + 1];
        squared = dx * dx + dy * dy;
        if (squared > 0) {
          const coefficient = (2 * gamma * b) / ((0.001 + squared) * (a * Math.pow(squared, b) + 1));
          embedding[2 * j] += clip(coefficient * dx) * alpha;
          embedding[2 * j + 1] += clip(coefficient * dy) * alpha;
        } else if (j !== other) {
          // Two distinct points on top of each other: umap-learn pushes by the full clip value.
          embedding[2 * j] += CLIP * alpha;
          embedding[2 * j + 1] += CLIP * alpha;
        }
      }
      epochOfNextNegativeSample[e] += nNegative * epochsPerNegativeSample[e];
    }
  }
  return embedding;
}
